//! `/v1/users`: the portal users of the caller's tenant.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    device::check_ports,
    idempotency::{ClaimOutcome, IdempotencyKey, StoredResponse, fingerprint},
    paging::{Direction, Sort},
    permission::Permission,
    ports::Store,
    services::{
        CreateOptions, CreateUser, CreatedUser, DeviceRequest, ExtensionRequest, NewPassword, Telephony, UpdateUser,
    },
    user::{UserChanges, UserFilter, UserSortKey, UserStatus},
    values::{Email, Language, Login, PersonName, Timezone},
};

use super::{extensions::CreateExtensionBody, nullable, page_request, stations::parse_applications, whole_number_opt};
use crate::{
    extract::{Auth, Fields, Json, JsonWithValue, Query},
    problem::{ApiError, Problem, idempotency_in_progress, idempotency_key_reused},
    responses::{BadBody, BadQuery, Forbidden, Unauthenticated},
    schema::{ApplicationName, LanguageTag, TimezoneName},
    views::{CreatedUserView, DryRunView, EmailPage, EmailView, Status, UserPage, UserView},
};

/// The extension of a new user: an existing one, or a new one to create
/// (which needs `extensions:write`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ExtensionChoice {
    Existing(ExistingExtension),
    New(CreateExtensionBody),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExistingExtension {
    /// An extension of the caller's tenant that rings nobody yet.
    pub id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceChoice {
    /// A desk phone of the caller's tenant that serves nobody.
    pub id: Uuid,
    /// The line ports the user gets; default all of the device's.
    #[serde(default, deserialize_with = "whole_number_opt")]
    #[schema(minimum = 1, maximum = 16)]
    pub ports: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CreateUserParams {
    /// Check everything (licence and device availability included) and
    /// answer what would be created, writing nothing.
    pub dry_run: Option<bool>,
}

/// The `Idempotency-Key` request header.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// Makes a retried creation answer what the first one answered instead
    /// of creating a second user. The same key with another body is a 422
    /// (`validation_failed`); while the first request still runs, a 409
    /// (`idempotency_key_in_progress`). Keys are kept for a day per caller.
    #[param(rename = "Idempotency-Key", pattern = r"^[!-~]{1,255}$", min_length = 1, max_length = 255)]
    pub idempotency_key: Option<String>,
}

/// Answers a remembered response again.
fn respond(stored: &StoredResponse, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    response.content_type("application/json");
    if let Some(location) = &stored.location {
        response.insert_header(("Location", location.as_str()));
    }
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    response.body(stored.body.clone())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "jsmith@example.com", "first_name": "John", "last_name": "Smith",
    "generate_password": true, "timezone": "Europe/Berlin", "language": "en"
}))]
pub struct CreateUserBody {
    /// 1 to 64 printable ASCII characters, unique on the platform whatever
    /// the case. Defaults to the email address.
    #[schema(pattern = r"^[!-~]{1,64}$", example = "jsmith")]
    pub login: Option<String>,
    #[schema(format = Email, max_length = 254, example = "jsmith@example.com")]
    pub email: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "John"
    )]
    pub first_name: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Smith"
    )]
    pub last_name: String,
    /// Defaults to the built-in User role.
    pub role_id: Option<Uuid>,
    /// The initial password; omit it (with an email) to let the user set
    /// one through the emailed link, or use `generate_password`. At least
    /// 12 characters (configurable), not a common password, and not the
    /// user's own login, email or name.
    #[schema(min_length = 12, max_length = 128, example = "quiet-harbour-lights")]
    pub password: Option<String>,
    /// Generate a password and return it once in the answer.
    #[serde(default)]
    pub generate_password: bool,
    #[serde(default)]
    pub disabled: bool,
    /// The user may sign in from this instant on.
    pub activation_at: Option<DateTime<Utc>>,
    /// The user may sign in until this instant.
    pub expires_at: Option<DateTime<Utc>>,
    /// IANA time zone; defaults to UTC.
    #[schema(value_type = Option<TimezoneName>)]
    pub timezone: Option<String>,
    /// BCP 47 tag from the supported list; defaults to `en`.
    #[schema(value_type = Option<LanguageTag>)]
    pub language: Option<String>,
    /// An existing extension (`{id}`) or a new one (`{number, type, …}`).
    pub extension: Option<ExtensionChoice>,
    /// A phone number of the tenant that rings nobody.
    pub phone_number_id: Option<Uuid>,
    /// The station licence the user takes from the tenant's pool.
    pub station_id: Option<Uuid>,
    /// The user's desk phone.
    pub device: Option<DeviceChoice>,
    /// Applications to enable; only what `station_id` unlocks.
    #[schema(value_type = Option<Vec<ApplicationName>>)]
    pub applications: Option<Vec<String>>,
    /// Write the welcome email (default true; only with an email address).
    pub send_welcome_email: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role_id": "0192f0c4-7a4e-7cc1-9a51-2c1d1c1e8a10", "expires_at": "2027-06-30T23:59:59Z"}))]
pub struct UpdateUserBody {
    #[schema(pattern = r"^[!-~]{1,64}$")]
    pub login: Option<String>,
    /// `null` removes the address.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "John"
    )]
    pub first_name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Smith"
    )]
    pub last_name: Option<String>,
    pub role_id: Option<Uuid>,
    pub disabled: Option<bool>,
    /// `null` removes the date.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub activation_at: Option<Option<DateTime<Utc>>>,
    /// `null` removes the date.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    #[schema(value_type = Option<TimezoneName>)]
    pub timezone: Option<String>,
    #[schema(value_type = Option<LanguageTag>)]
    pub language: Option<String>,
    /// Sets a new password; ends the user's sessions.
    #[schema(min_length = 12, max_length = 128, example = "quiet-harbour-lights")]
    pub password: Option<String>,
    /// The applications enabled for the user: the whole set, and only what
    /// their station unlocks.
    #[schema(value_type = Option<Vec<ApplicationName>>)]
    pub applications: Option<Vec<String>>,
    /// Require a second factor: the user must enrol one at their next
    /// sign-in. (Their role may require it too.)
    pub two_factor_required: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<u64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<u64>,
    /// The order; a leading `-` sorts descending. Default `login`.
    pub sort: Option<UserSort>,
    /// Matches login, names and email, ignoring case.
    pub q: Option<String>,
    /// Only users with this role.
    pub role: Option<Uuid>,
    /// Only users with this status.
    pub status: Option<Status>,
}

/// How `GET /v1/users` orders its items.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum UserSort {
    #[serde(rename = "login")]
    Login,
    #[serde(rename = "-login")]
    LoginDesc,
    #[serde(rename = "email")]
    Email,
    #[serde(rename = "-email")]
    EmailDesc,
    #[serde(rename = "first_name")]
    FirstName,
    #[serde(rename = "-first_name")]
    FirstNameDesc,
    #[serde(rename = "last_name")]
    LastName,
    #[serde(rename = "-last_name")]
    LastNameDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

impl From<UserSort> for Sort<UserSortKey> {
    fn from(s: UserSort) -> Self {
        use Direction::{Asc, Desc};
        let (key, direction) = match s {
            UserSort::Login => (UserSortKey::Login, Asc),
            UserSort::LoginDesc => (UserSortKey::Login, Desc),
            UserSort::Email => (UserSortKey::Email, Asc),
            UserSort::EmailDesc => (UserSortKey::Email, Desc),
            UserSort::FirstName => (UserSortKey::FirstName, Asc),
            UserSort::FirstNameDesc => (UserSortKey::FirstName, Desc),
            UserSort::LastName => (UserSortKey::LastName, Asc),
            UserSort::LastNameDesc => (UserSortKey::LastName, Desc),
            UserSort::CreatedAt => (UserSortKey::CreatedAt, Asc),
            UserSort::CreatedAtDesc => (UserSortKey::CreatedAt, Desc),
        };
        Sort { key, direction }
    }
}

/// List users
///
/// Needs `users:read`.
#[utoipa::path(
    get, path = "/v1/users", tag = "users", operation_id = "list_users",
    params(UserListParams),
    responses(
        (status = 200, description = "One page of users", body = UserPage),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:read"))),
)]
pub async fn list_users<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<UserListParams>,
) -> Result<web::Json<UserPage>, ApiError> {
    let actor = auth.require(Permission::UsersRead)?;
    let page = page_request(params.page, params.per_page)?;
    let sort = params.sort.unwrap_or(UserSort::Login).into();
    let filter = UserFilter {
        q: params.q,
        role_id: params.role,
        status: params.status.map(|s| match s {
            Status::Pending => UserStatus::Pending,
            Status::Active => UserStatus::Active,
            Status::Expired => UserStatus::Expired,
            Status::Disabled => UserStatus::Disabled,
        }),
    };
    let now = Utc::now();
    let users = app.list_users(actor, &filter, sort, page, now).await?;
    Ok(web::Json(UserPage::new(users, |u| UserView::new(u, now))))
}

/// Create a user, with telephony in one call
///
/// Creates a portal user in the caller's tenant. Give `login` or `email`
/// (the login defaults to the email). Give `password`, or set
/// `generate_password` to receive one once in the answer, or give neither
/// (with an email) so the user sets it through the welcome email's link.
/// Needs `users:write`, every permission of the role given, and
/// `extensions:write` to create an extension.
///
/// Optionally sets the user up to make calls at the same time: an
/// extension, a phone number, a station licence, a desk phone and
/// applications. Telephony needs a phone number or an extension (PRODUCT.md
/// rule 4). All of it happens in one transaction, with the welcome email
/// written to the outbox, or none of it does.
///
/// Rules that span fields answer 422: `expires_at` must be later than
/// `activation_at`; `password` and `generate_password` exclude each other;
/// applications need a station that unlocks them.
#[utoipa::path(
    post, path = "/v1/users", tag = "users", operation_id = "create_user",
    params(CreateUserParams, IdempotencyHeader),
    request_body = CreateUserBody,
    responses(
        (status = 201, description = "The user was created", body = CreatedUserView),
        (status = 200, description = "`dry_run=true`: what would be created; nothing was written", body = DryRunView),
        (status = 404, description = "No such role (`role_not_found`), extension (`extension_not_found`), phone number (`phone_number_not_found`), station (`station_not_found`) or device (`device_not_found`) in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`login_taken`, `station_unavailable` (with the pool's counts), `device_assigned`, `extension_assigned`, `phone_number_assigned` (with `holder`), `extension_number_taken`, `extension_number_out_of_range`, `ports_exceed_device` or `idempotency_key_in_progress`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn create_user<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    req: HttpRequest,
    Query(params): Query<CreateUserParams>,
    JsonWithValue(body, raw): JsonWithValue<CreateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let key =
        match req.headers().get("idempotency-key") {
            None => None,
            Some(v) => Some(v.to_str().ok().and_then(|k| IdempotencyKey::parse(k).ok()).ok_or_else(|| {
                ApiError::field("Idempotency-Key", voxport_domain::idempotency::InvalidIdempotencyKey)
            })?),
        };
    let request = parse_create_user(body)?;
    let dry_run = params.dry_run.unwrap_or(false);
    let now = Utc::now();
    let render = |created: &CreatedUser| -> anyhow::Result<StoredResponse> {
        let view = CreatedUserView {
            user: UserView::new(&created.user, now),
            password: created.generated_password.as_ref().map(|p| p.expose().to_owned()),
            welcome_email: created.welcome_email,
        };
        Ok(StoredResponse {
            status: 201,
            location: Some(format!("/v1/users/{}", created.user.id)),
            body: serde_json::to_string(&view)?,
        })
    };
    // A dry run writes nothing, so it needs no key.
    let claim = match key.filter(|_| !dry_run) {
        None => None,
        Some(key) => match app.claim_idempotency_key(actor, key, &fingerprint("create_user", &raw), now).await? {
            ClaimOutcome::Proceed(claim) => Some(claim),
            ClaimOutcome::Replay(stored) => return Ok(respond(&stored, true)),
            ClaimOutcome::KeyReused => return Err(idempotency_key_reused()),
            ClaimOutcome::InProgress => return Err(idempotency_in_progress()),
        },
    };
    let options = CreateOptions { dry_run, idempotency: claim.as_ref().map(|c| (c, &render as _)) };
    let created = match app.create_user(actor, request, options).await {
        Ok(created) => created,
        Err(e) => {
            if let Some(claim) = &claim {
                app.release_idempotency_key(claim).await?;
            }
            return Err(e.into());
        }
    };
    if dry_run {
        return Ok(HttpResponse::Ok().json(DryRunView {
            dry_run: true,
            user: UserView::new(&created.user, now),
            welcome_email: created.welcome_email,
        }));
    }
    Ok(respond(&render(&created)?, false))
}

/// Turns the body of `POST /v1/users` into a request, naming every field
/// at fault.
fn parse_create_user(body: CreateUserBody) -> Result<CreateUser, ApiError> {
    let mut f = Fields::default();
    let email = f.optional("email", body.email.as_deref(), Email::parse);
    let login = match (&body.login, &email) {
        (Some(raw), _) => f.check("login", Login::parse(raw)),
        (None, Some(Some(email))) => f.check("email", Login::from_email(email)),
        (None, Some(None)) => {
            f.add("login", "give a login or an email address");
            None
        }
        (None, None) => None,
    };
    let first_name = f.check("first_name", PersonName::parse(&body.first_name));
    let last_name = f.check("last_name", PersonName::parse(&body.last_name));
    let timezone = f.optional("timezone", body.timezone.as_deref(), Timezone::parse);
    let language = f.optional("language", body.language.as_deref(), Language::parse);
    let password = match (body.password, body.generate_password) {
        (Some(_), true) => {
            f.add("generate_password", "give a password or ask for one to be generated, not both");
            None
        }
        (Some(p), false) => Some(NewPassword::Given(p)),
        (None, true) => Some(NewPassword::Generate),
        (None, false) => Some(NewPassword::None),
    };
    let extension = match &body.extension {
        None => Some(None),
        Some(ExtensionChoice::Existing(e)) => Some(Some(ExtensionRequest::Existing(e.id))),
        Some(ExtensionChoice::New(new)) => new.parse(&mut f, "extension.").map(|n| Some(ExtensionRequest::New(n))),
    };
    let device = match &body.device {
        None => Some(None),
        Some(d) => match d.ports {
            None => Some(Some(DeviceRequest { id: d.id, ports: None })),
            Some(p) => {
                f.check("device.ports", check_ports(p)).map(|p| Some(DeviceRequest { id: d.id, ports: Some(p) }))
            }
        },
    };
    let applications = match &body.applications {
        None => Some(None),
        Some(codes) => parse_applications(&mut f, codes).map(Some),
    };
    let (
        Some(email),
        Some(login),
        Some(first_name),
        Some(last_name),
        Some(timezone),
        Some(language),
        Some(password),
        Some(extension),
        Some(device),
        Some(applications),
    ) = (email, login, first_name, last_name, timezone, language, password, extension, device, applications)
    else {
        return Err(f.into_error());
    };
    f.finish()?;
    Ok(CreateUser {
        login,
        email,
        first_name,
        last_name,
        role_id: body.role_id,
        password,
        disabled: body.disabled,
        activation_at: body.activation_at,
        expires_at: body.expires_at,
        timezone: timezone.unwrap_or(Timezone::UTC),
        language: language.unwrap_or(Language::ENGLISH),
        telephony: Telephony {
            extension,
            phone_number_id: body.phone_number_id,
            station_id: body.station_id,
            device,
            applications,
        },
        send_welcome_email: body.send_welcome_email.unwrap_or(true),
    })
}

/// Show a user
///
/// Needs `users:read`. A user of another tenant is a 404.
#[utoipa::path(
    get, path = "/v1/users/{id}", tag = "users", operation_id = "get_user",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        (status = 404, description = "No such user in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:read"))),
)]
pub async fn get_user<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<UserView>, ApiError> {
    let actor = auth.require(Permission::UsersRead)?;
    let user = app.user(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(web::Json(UserView::new(&user, Utc::now())))
}

/// Change a user
///
/// Only the fields given change. Needs `users:write` and every permission
/// the user's current and new role hold. Nobody changes their own role or
/// switches off their own account; a tenant keeps an active
/// administrator. A role change, disabling, or a new password ends the
/// user's sessions. `applications` replaces the set of enabled
/// applications, which must all be unlocked by the user's station (422
/// otherwise).
#[utoipa::path(
    patch, path = "/v1/users/{id}", tag = "users", operation_id = "update_user",
    params(("id" = Uuid, Path, description = "The user's id")),
    request_body = UpdateUserBody,
    responses(
        (status = 200, description = "The changed user", body = UserView),
        (status = 404, description = "No such user (`not_found`) or role (`role_not_found`) in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`login_taken`, `cannot_change_own_role`, `cannot_disable_self` or `last_administrator`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn update_user<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateUserBody>,
) -> Result<web::Json<UserView>, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let mut f = Fields::default();
    let login = f.optional("login", body.login.as_deref(), Login::parse);
    let email = match body.email {
        None => Some(None),
        Some(None) => Some(Some(None)),
        Some(Some(raw)) => f.check("email", Email::parse(&raw)).map(|e| Some(Some(e))),
    };
    let first_name = f.optional("first_name", body.first_name.as_deref(), PersonName::parse);
    let last_name = f.optional("last_name", body.last_name.as_deref(), PersonName::parse);
    let timezone = f.optional("timezone", body.timezone.as_deref(), Timezone::parse);
    let language = f.optional("language", body.language.as_deref(), Language::parse);
    let applications = match &body.applications {
        None => Some(None),
        Some(codes) => parse_applications(&mut f, codes).map(Some),
    };
    let (
        Some(login),
        Some(email),
        Some(first_name),
        Some(last_name),
        Some(timezone),
        Some(language),
        Some(applications),
    ) = (login, email, first_name, last_name, timezone, language, applications)
    else {
        return Err(f.into_error());
    };
    let changes = UserChanges {
        login,
        email,
        first_name,
        last_name,
        role_id: body.role_id,
        disabled: body.disabled,
        activation_at: body.activation_at,
        expires_at: body.expires_at,
        timezone,
        language,
        applications,
        two_factor_required: body.two_factor_required,
    };
    let now = Utc::now();
    let user = app.update_user(actor, id.into_inner(), UpdateUser { changes, password: body.password }, now).await?;
    Ok(web::Json(UserView::new(&user, now)))
}

/// Delete a user
///
/// Needs `users:write` and every permission the user holds. Nobody deletes
/// themselves or a tenant's last active administrator.
#[utoipa::path(
    delete, path = "/v1/users/{id}", tag = "users", operation_id = "delete_user",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "The user is gone"),
        (status = 404, description = "No such user in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`cannot_delete_self` or `last_administrator`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn delete_user<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    app.delete_user(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EmailListParams {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000, example = 1)]
    pub page: Option<u64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<u64>,
}

/// List a user's emails
///
/// Every email written for the user, newest first, with its delivery
/// status. Needs `users:read`.
#[utoipa::path(
    get, path = "/v1/users/{id}/emails", tag = "users", operation_id = "list_user_emails",
    params(("id" = Uuid, Path, description = "The user's id"), EmailListParams),
    responses(
        (status = 200, description = "One page of emails", body = EmailPage),
        (status = 404, description = "No such user in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:read"))),
)]
pub async fn list_user_emails<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Query(params): Query<EmailListParams>,
) -> Result<web::Json<EmailPage>, ApiError> {
    let actor = auth.require(Permission::UsersRead)?;
    let page = page_request(params.page, params.per_page)?;
    let emails = app.emails_of(actor, id.into_inner(), page).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(web::Json(EmailPage::new(emails, |e| EmailView::from(e))))
}

/// Send the welcome email again
///
/// Writes it to the outbox anew; while the user has no password it
/// carries a new set-password link, and earlier links stop working. Needs
/// `users:write` and every permission the user holds.
#[utoipa::path(
    post, path = "/v1/users/{id}/welcome-email", tag = "users", operation_id = "resend_welcome_email",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 202, description = "The email is on its way", body = EmailView),
        (status = 404, description = "No such user in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`no_email_address`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn resend_welcome_email<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let email = app.resend_welcome_email(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::Accepted().json(EmailView::from(&email)))
}
