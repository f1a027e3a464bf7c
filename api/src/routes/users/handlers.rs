//! The handlers of `/v1/users`.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    permission::Permission,
    ports::Store,
    services::CreateOptions,
    user::{UserFilter, UserStatus},
};

use crate::routes::created;
use crate::{
    extract::{Auth, Json, Query},
    problem::{ApiError, Problem},
    responses::{BadBody, BadQuery, Forbidden, Unauthenticated, UserNotFound},
    views::{CreatedUserView, DryRunView, Status, UserPage, UserView},
};

use super::{
    bodies::{CreateUserBody, CreateUserParams, UpdateUserBody, UserListParams, UserSort},
    parse::{parse_create_user, parse_update_user},
};

/// List users
///
/// Needs `users:read`.
#[utoipa::path(
    get, path = "/v1/users", tag = "users", operation_id = "list_users",
    params(UserListParams),
    responses(
        (status = 200, description = "One page of users; with `Accept: text/csv`, every user the filters match (paging and sort ignored, by login) as a CSV file with the columns `POST /v1/users/import` takes, never a secret", content(
            (UserPage = "application/json"),
            (String = "text/csv", example = "login,email,first_name,last_name,role,password,extension,extension_type,phone_number,station,device_mac,device_ports,applications,timezone,language,activation_at,expires_at,send_welcome_email\nmary,mary@example.com,Mary,Major,User,,201,sip,,std,,,desktop_app,UTC,en,,,\n"),
        )),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:read"))),
)]
pub async fn list_users<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    req: actix_web::HttpRequest,
    Query(params): Query<UserListParams>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersRead)?;
    let page = params.page_request()?;
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
        exact: Vec::new(),
        after_login: None,
    };
    if super::import::wants_csv(&req) {
        return super::import::export_users(app, actor.clone(), filter).await;
    }
    let now = Utc::now();
    let users = app.list_users(actor, &filter, sort, page, now).await?;
    Ok(HttpResponse::Ok().json(UserPage::new(users, |u| UserView::new(u, now))))
}

/// Create a user, with telephony in one call
///
/// Creates a portal user in the caller's tenant. Give `login` or `email`
/// (the login defaults to the email). Give `password`, or set
/// `generate_password` to receive one once in the answer, or give neither
/// (with an email) so the user sets it through the welcome email's link.
/// Needs `users:write`, every permission of the role given, and
/// `extensions:write` to give an extension, new or existing (a free one
/// gets a fresh SIP secret).
///
/// Optionally sets the user up to make calls at the same time: an
/// extension, a phone number, a station licence, a desk phone and
/// applications. Telephony needs a phone number or an extension (PRODUCT.md
/// rule 4). All of it happens in one transaction, with the welcome email
/// written to the outbox, or none of it does.
///
/// Rules that span fields answer 422: `expires_at` must be later than
/// `activation_at` (JSON Schema cannot compare two fields); `password` and
/// `generate_password: true` exclude each other (the schema says so with
/// `not`); applications need a station that unlocks them.
#[utoipa::path(
    post, path = "/v1/users", tag = "users", operation_id = "create_user",
    params(CreateUserParams),
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
    Query(params): Query<CreateUserParams>,
    Json(body): Json<CreateUserBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let request = parse_create_user(body)?;
    let dry_run = params.dry_run.unwrap_or(false);
    let now = Utc::now();
    let user = app.create_user(actor, request, CreateOptions { dry_run }, now).await?;
    if dry_run {
        return Ok(HttpResponse::Ok().json(DryRunView {
            dry_run: true,
            user: UserView::new(&user.user, now),
            welcome_email: user.welcome_email,
        }));
    }
    Ok(created(format!("/v1/users/{}", user.user.id), CreatedUserView::new(&user, now)))
}

/// Show a user
///
/// Needs `users:read`. A user of another tenant is a 404.
#[utoipa::path(
    get, path = "/v1/users/{id}", tag = "users", operation_id = "get_user",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserView),
        UserNotFound,
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
/// administrator. One's own password changes at `POST /v1/me/password`,
/// which asks for the current one (409 `own_password_needs_current`
/// here), and nobody lifts their own expiry or required second factor
/// (409 `cannot_loosen_own_restrictions`): another administrator does. A role change, disabling, or a new password ends the
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
        (status = 409, description = "`login_taken`, `cannot_change_own_role`, `cannot_disable_self`, `own_password_needs_current`, `cannot_loosen_own_restrictions` or `last_administrator`", body = Problem, content_type = "application/problem+json"),
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
    let request = parse_update_user(body)?;
    let now = Utc::now();
    let user = app.update_user(actor, id.into_inner(), request, now).await?;
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
        UserNotFound,
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
