//! `/v1/auth`: sign in, refresh, sign out. The desktop app, the portal and
//! integrators all sign in with login and password alone (PRODUCT.md
//! rule 1).

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use voxport_domain::{
    Voxport,
    auth::{Client, LinkPurpose},
    ports::Store,
    services::{LoginAttempt, SignedIn},
};

use crate::{
    client_ip::ClientIp,
    extract::Json,
    problem::{ApiError, Problem},
    responses::BadBody,
    views::UserView,
};

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    #[default]
    Portal,
    Desktop,
    Api,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"login": "jsmith@example.com", "password": "correct horse battery", "client": "desktop"}))]
pub struct LoginBody {
    pub login: String,
    pub password: String,
    /// The code of the user's authenticator app, or one of their recovery
    /// codes, when they have a second factor.
    pub otp: Option<String>,
    /// Where the session is used: `portal` (default), `desktop` or `api`.
    #[serde(default)]
    pub client: ClientKind,
}

impl std::fmt::Debug for LoginBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the password nor the code is ever printed.
        f.debug_struct("LoginBody").field("login", &self.login).field("client", &self.client).finish_non_exhaustive()
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    pub refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// An EdDSA-signed JWT; verify it with `/.well-known/jwks.json`.
    pub access_token: String,
    /// Opaque and single-use: each refresh answers a new one.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 600)]
    pub expires_in: i64,
    pub user: UserView,
}

pub(crate) fn tokens(signed: SignedIn) -> TokenResponse {
    TokenResponse {
        access_token: signed.access_token,
        refresh_token: signed.refresh_token.expose().to_owned(),
        token_type: "Bearer",
        expires_in: signed.expires_in,
        user: UserView::new(&signed.user, Utc::now()),
    }
}

/// Sign in
///
/// Unknown logins, wrong passwords and accounts that may not sign in
/// (disabled, expired, not yet active, no password yet) all answer the
/// same 401 `invalid_credentials`, a locked account too. The answers
/// that follow come only after the password matched, so they tell a
/// stranger nothing:
///
/// - 403 `ip_not_allowed` from outside the user's IP allowlist;
/// - 401 `otp_required` for a user with a second factor who gave no
///   `otp`, 401 `otp_invalid` for a wrong, used or stale code (a recovery
///   code works once, in place of a code);
/// - 403 `two_factor_enrolment_required` when an administrator requires a
///   second factor the user has not enrolled, with an `enrolment_token`
///   for `POST /v1/me/2fa` and `POST /v1/me/2fa/confirm`;
/// - 403 `application_not_enabled` for `client: "desktop"` without the
///   `desktop_app` application.
///
/// After some failures in a row an account is locked for a while, a step
/// longer after each further failure, up to a ceiling; at a hard limit it
/// stays locked until an administrator unlocks it. Too many failures from
/// one address in a window answer 429 `too_many_attempts` with
/// `Retry-After`. The deployment configures the numbers (`lockout_*`,
/// `address_*`).
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth", operation_id = "login",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "`invalid_credentials`, `otp_required` or `otp_invalid`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ip_not_allowed`, `two_factor_enrolment_required` (with `enrolment_token`) or `application_not_enabled`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
        BadBody,
    ),
    security(()),
)]
pub async fn login<S: Store>(
    app: web::Data<Voxport<S>>,
    ip: ClientIp,
    Json(body): Json<LoginBody>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let client = match body.client {
        ClientKind::Portal => Client::Portal,
        ClientKind::Desktop => Client::Desktop,
        ClientKind::Api => Client::Api,
    };
    let attempt =
        LoginAttempt { login: &body.login, password: &body.password, otp: body.otp.as_deref(), client, ip: ip.0 };
    let signed = app.login(attempt, Utc::now()).await?;
    Ok(web::Json(tokens(signed)))
}

/// Refresh the tokens
///
/// Spends the refresh token and answers a new pair. Presenting a spent
/// refresh token again ends the whole session.
#[utoipa::path(
    post, path = "/v1/auth/refresh", tag = "auth", operation_id = "refresh",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "`invalid_refresh_token`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ip_not_allowed`", body = Problem, content_type = "application/problem+json"),
        BadBody,
    ),
    security(()),
)]
pub async fn refresh<S: Store>(
    app: web::Data<Voxport<S>>,
    ip: ClientIp,
    Json(body): Json<RefreshBody>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let signed = app.refresh(&body.refresh_token, ip.0, Utc::now()).await?;
    Ok(web::Json(tokens(signed)))
}

/// Sign out
///
/// Ends the session the refresh token belongs to; its access tokens stop
/// working at once. Signing out twice is not an error.
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth", operation_id = "logout",
    request_body = RefreshBody,
    responses(
        (status = 204, description = "Signed out"),
        BadBody,
    ),
    security(()),
)]
pub async fn logout<S: Store>(
    app: web::Data<Voxport<S>>,
    ip: ClientIp,
    Json(body): Json<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    app.logout(&body.refresh_token, ip.0, Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordBody {
    /// The token from the emailed link (after `#token=`).
    pub token: String,
    /// At least `password_min_length` characters, not a common password, and
    /// not one's own login, email or name.
    #[schema(min_length = 12, max_length = 128, example = "quiet-harbour-lights")]
    pub password: String,
}

/// Set a password through an emailed link
///
/// For a user whose welcome email carried a set-password link. The link
/// works once and expires (`set_password_link_hours`); it also
/// ends every session of the user.
#[utoipa::path(
    post, path = "/v1/auth/set-password", tag = "auth", operation_id = "set_password",
    request_body = SetPasswordBody,
    responses(
        (status = 204, description = "The password is set; sign in with it"),
        (status = 401, description = "`invalid_link`: unknown, used or expired", body = Problem, content_type = "application/problem+json"),
        BadBody,
    ),
    security(()),
)]
pub async fn set_password<S: Store>(
    app: web::Data<Voxport<S>>,
    ip: ClientIp,
    Json(body): Json<SetPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    app.set_password_with_link(&body.token, LinkPurpose::SetPassword, &body.password, ip.0, Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetBody {
    /// The login (or the email address it defaults to).
    #[schema(example = "jsmith@example.com")]
    pub login: String,
}

/// Ask for a password reset link
///
/// Answers 202 at once, whether or not the login exists, so neither the
/// answer nor its time tells anybody which logins exist. An address asks
/// at most `reset_requests_max` times per window (429 with `Retry-After`
/// past it), and while 64 requests wait for their work a further one is
/// 503; neither depends on the login. When it does
/// (and the account is active and has an email address), a single-use
/// reset link goes out through the email outbox; it expires like a
/// set-password link. One login is sent at most a configured number of
/// reset emails per window (`reset_emails_*`); further requests send
/// nothing.
#[utoipa::path(
    post, path = "/v1/auth/password-reset", tag = "auth", operation_id = "request_password_reset",
    request_body = PasswordResetBody,
    responses(
        (status = 202, description = "If the login exists, a link is on its way"),
        BadBody,
        (status = 429, description = "`too_many_attempts`: the address asked too often; `Retry-After` says when to ask again", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`busy`: too many requests are waiting; `Retry-After` says when to ask again", body = Problem, content_type = "application/problem+json"),
    ),
    security(()),
)]
pub async fn request_password_reset<S: Store>(
    app: web::Data<Voxport<S>>,
    ip: ClientIp,
    Json(body): Json<PasswordResetBody>,
) -> Result<HttpResponse, ApiError> {
    // The work happens after the answer: its length depends on whether the
    // login exists. A failure is logged; the user asks again.
    let now = Utc::now();
    let admitted = app.admit_password_reset(ip.0, now).await?;
    let app = app.into_inner();
    actix_web::rt::spawn(async move {
        if let Err(e) = app.request_password_reset(admitted, &body.login, ip.0, now).await {
            tracing::error!(error = %format!("{e:#}"), "a password reset request failed");
        }
    });
    Ok(HttpResponse::Accepted().finish())
}

/// Reset a password through an emailed link
///
/// The link works once and expires; it ends every session of the user.
#[utoipa::path(
    post, path = "/v1/auth/password-reset/confirm", tag = "auth", operation_id = "confirm_password_reset",
    request_body = SetPasswordBody,
    responses(
        (status = 204, description = "The password is changed; sign in with it"),
        (status = 401, description = "`invalid_link`: unknown, used or expired", body = Problem, content_type = "application/problem+json"),
        BadBody,
    ),
    security(()),
)]
pub async fn confirm_password_reset<S: Store>(
    app: web::Data<Voxport<S>>,
    ip: ClientIp,
    Json(body): Json<SetPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    app.set_password_with_link(&body.token, LinkPurpose::ResetPassword, &body.password, ip.0, Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
