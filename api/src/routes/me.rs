//! `/v1/me`: the signed-in user's own profile and password. Any signed-in
//! user may use these; no permission is needed.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use voxport_domain::{
    Voxport,
    ports::Store,
    user::UserChanges,
    values::{Language, PersonName, Timezone},
};

use crate::{
    extract::{Auth, Fields, Json},
    problem::{ApiError, Problem},
    responses::{BadBody, Unauthenticated},
    schema::{LanguageTag, TimezoneName},
    views::{SipCredentialsView, UserView},
};

/// The signed-in user, with what their role allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    #[serde(flatten)]
    pub user: UserView,
    /// The tenant the user belongs to.
    pub tenant_id: uuid::Uuid,
    /// The permissions of the user's role, for showing and hiding features.
    #[schema(example = json!(["call_records:read_own"]))]
    pub permissions: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"first_name": "Hedy", "last_name": "Lamarr", "timezone": "America/New_York", "language": "en-US"}))]
pub struct UpdateMeBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Hedy"
    )]
    pub first_name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Lamarr"
    )]
    pub last_name: Option<String>,
    #[schema(value_type = Option<TimezoneName>)]
    pub timezone: Option<String>,
    #[schema(value_type = Option<LanguageTag>)]
    pub language: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    pub current_password: String,
    /// At least `password_min_length` characters, not a common password, and
    /// not one's own login, email or name.
    #[schema(min_length = 12, max_length = 128, example = "quiet-harbour-lights")]
    pub new_password: String,
}

fn me_view(auth: &Auth, user: &voxport_domain::user::User) -> MeView {
    MeView {
        user: UserView::new(user, Utc::now()),
        tenant_id: user.tenant_id,
        permissions: auth.actor.permissions.iter().map(|p| p.code().to_owned()).collect(),
    }
}

/// Show me
#[utoipa::path(
    get, path = "/v1/me", tag = "me", operation_id = "get_me",
    responses(
        (status = 200, description = "The signed-in user", body = MeView),
        Unauthenticated,
    ),
    security(("bearer" = [])),
)]
pub async fn get_me<S: Store>(app: web::Data<Voxport<S>>, auth: Auth) -> Result<web::Json<MeView>, ApiError> {
    let user = app.me(auth.person()?).await?;
    Ok(web::Json(me_view(&auth, &user)))
}

/// Change my profile
///
/// Names, time zone and language; everything else is an administrator's.
#[utoipa::path(
    patch, path = "/v1/me", tag = "me", operation_id = "update_me",
    request_body = UpdateMeBody,
    responses(
        (status = 200, description = "The changed profile", body = MeView),
        Unauthenticated, BadBody,
    ),
    security(("bearer" = [])),
)]
pub async fn update_me<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<UpdateMeBody>,
) -> Result<web::Json<MeView>, ApiError> {
    let mut f = Fields::default();
    let first_name = f.optional("first_name", body.first_name.as_deref(), PersonName::parse);
    let last_name = f.optional("last_name", body.last_name.as_deref(), PersonName::parse);
    let timezone = f.optional("timezone", body.timezone.as_deref(), Timezone::parse);
    let language = f.optional("language", body.language.as_deref(), Language::parse);
    let (Some(first_name), Some(last_name), Some(timezone), Some(language)) =
        (first_name, last_name, timezone, language)
    else {
        return Err(f.into_error());
    };
    let changes = UserChanges { first_name, last_name, timezone, language, ..UserChanges::default() };
    let user = app.update_me(auth.person()?, changes, Utc::now()).await?;
    Ok(web::Json(me_view(&auth, &user)))
}

/// Change my password
///
/// Needs the current password. Ends every other session of the user; the
/// one making the change stays signed in. A wrong current password counts
/// against the account like a failed sign-in, and a locked account is
/// refused like a wrong password.
#[utoipa::path(
    post, path = "/v1/me/password", tag = "me", operation_id = "change_my_password",
    request_body = ChangePasswordBody,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "`current_password_wrong`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The new password does not meet the policy", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, BadBody,
    ),
    security(("bearer" = [])),
)]
pub async fn change_password<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<ChangePasswordBody>,
) -> Result<HttpResponse, ApiError> {
    app.change_password(auth.person()?, &body.current_password, &body.new_password, Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// My SIP credentials
///
/// What the desktop app (or a softphone) needs to register each of the
/// signed-in user's extensions: username, secret and domain. Any signed-in
/// user reads their own.
#[utoipa::path(
    get, path = "/v1/me/sip-credentials", tag = "me", operation_id = "my_sip_credentials",
    responses(
        (status = 200, description = "One entry per extension the user holds", body = Vec<SipCredentialsView>),
        Unauthenticated,
    ),
    security(("bearer" = [])),
)]
pub async fn my_sip_credentials<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
) -> Result<web::Json<Vec<SipCredentialsView>>, ApiError> {
    let found = app.my_sip_credentials(auth.person()?, Utc::now()).await?;
    Ok(web::Json(found.into_iter().map(Into::into).collect()))
}
