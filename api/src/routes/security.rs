//! The Security tab: a user's own second factor (`/v1/me/2fa`), what
//! administrators do about others' (`/v1/users/{id}/2fa/reset`, `/unlock`,
//! `/allowed-networks`), support access to a customer tenant, and the
//! audit log.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    allowlist::NetworkChange,
    audit::{AuditAction, AuditFilter, TargetType},
    permission::Permission,
    ports::Store,
    values::Cidr,
};

use super::auth::TokenResponse;
use crate::{
    extract::{Auth, Enrolling, Fields, Json, OptionalJson, Query},
    problem::{ApiError, Problem},
    responses::{BadBody, BadQuery, Forbidden, ForeignTenantNotFound, TenantNotFound, Unauthenticated, UserNotFound},
    schema::{AuditActionCode, AuditTargetType, NetworkEntry},
    views::{AuditEventPage, AuditEventView},
};

/// What an authenticator app needs.
#[derive(Serialize, ToSchema)]
pub struct EnrolmentView {
    /// The TOTP secret, base32 (RFC 4648), for typing in by hand.
    #[schema(example = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")]
    pub secret: String,
    /// The `otpauth://totp/…` URI the QR code holds.
    pub otpauth_uri: String,
    /// A PNG of the QR code, as a `data:image/png;base64,…` URI.
    pub qr_code: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmTwoFactorBody {
    /// The current 6-digit code of the authenticator app.
    #[schema(pattern = r"^[0-9]{6}$", example = "123456")]
    pub code: String,
}

/// The recovery codes, shown this once.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodesView {
    /// Ten single-use codes that stand in for a TOTP code at sign-in.
    #[schema(example = json!(["k7qm-2vx9-plr4-tzw8"]))]
    pub recovery_codes: Vec<String>,
}

/// Proof that a signed-in user is who enrols.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartTwoFactorBody {
    /// The current password; required with an access token, not needed
    /// with an enrolment token.
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableTwoFactorBody {
    pub password: String,
    /// The current 6-digit code of the authenticator app.
    #[schema(pattern = r"^[0-9]{6}$", example = "123456")]
    pub code: String,
}

/// Enrol a second factor
///
/// Starts (or restarts) enrolment: answers a fresh TOTP secret (RFC 6238:
/// SHA-1, 6 digits, 30 s) with its `otpauth://` URI and QR code. Nothing
/// changes at sign-in until `POST /v1/me/2fa/confirm`. Accepts an access
/// token with the current `password` (a wrong one counts like a failed
/// sign-in), or the `enrolment_token` of a sign-in that answered
/// `two_factor_enrolment_required`, which works only until the password
/// changes; with it the body may be left out. Whether `password` is
/// required depends on the kind of token, which JSON Schema cannot state:
/// without it an access token answers 422.
#[utoipa::path(
    post, path = "/v1/me/2fa", tag = "me", operation_id = "start_two_factor",
    request_body = StartTwoFactorBody,
    responses(
        (status = 200, description = "Scan the QR code, then confirm with a code", body = EnrolmentView),
        (status = 403, description = "`verification_failed`: the password is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`two_factor_already_enabled`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, BadBody,
    ),
    security(("bearer" = [])),
)]
pub async fn start_two_factor<S: Store>(
    app: web::Data<Voxport<S>>,
    who: Enrolling,
    OptionalJson(body): OptionalJson<StartTwoFactorBody>,
) -> Result<web::Json<EnrolmentView>, ApiError> {
    let password = body.as_ref().and_then(|b| b.password.as_deref());
    let e = app.start_two_factor(who.0, password, Utc::now()).await?;
    Ok(web::Json(EnrolmentView { secret: e.secret, otpauth_uri: e.otpauth_uri, qr_code: e.qr_code }))
}

/// Confirm the second factor
///
/// Turns the second factor on with a current code of the new secret and
/// answers ten recovery codes, shown this once. From now on sign-in needs
/// a code, and every other session of the user ends. Accepts an access
/// token or an enrolment token.
#[utoipa::path(
    post, path = "/v1/me/2fa/confirm", tag = "me", operation_id = "confirm_two_factor",
    request_body = ConfirmTwoFactorBody,
    responses(
        (status = 200, description = "Enabled; keep the recovery codes safe", body = RecoveryCodesView),
        (status = 403, description = "`verification_failed`: the code is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`two_factor_not_enrolling` or `two_factor_already_enabled`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, BadBody,
    ),
    security(("bearer" = [])),
)]
pub async fn confirm_two_factor<S: Store>(
    app: web::Data<Voxport<S>>,
    who: Enrolling,
    Json(body): Json<ConfirmTwoFactorBody>,
) -> Result<web::Json<RecoveryCodesView>, ApiError> {
    let codes = app.confirm_two_factor(who.0, &body.code, Utc::now()).await?;
    Ok(web::Json(RecoveryCodesView { recovery_codes: codes.iter().map(|c| c.expose().to_owned()).collect() }))
}

/// Turn my second factor off
///
/// Needs the password and a current code; refused while an administrator
/// requires a second factor for the user or their role. A wrong password
/// or code counts against the account like a failed sign-in, and a locked
/// account is refused like a wrong password. Every other session of the
/// user ends.
#[utoipa::path(
    delete, path = "/v1/me/2fa", tag = "me", operation_id = "disable_two_factor",
    request_body = DisableTwoFactorBody,
    responses(
        (status = 204, description = "Turned off; recovery codes are gone"),
        (status = 403, description = "`verification_failed`: the password or the code is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`two_factor_not_enabled` or `two_factor_required`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, BadBody,
    ),
    security(("bearer" = [])),
)]
pub async fn disable_two_factor<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<DisableTwoFactorBody>,
) -> Result<HttpResponse, ApiError> {
    app.disable_two_factor(auth.person()?, &body.password, &body.code, Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reset a user's second factor
///
/// The "Reset 2FA key" button: the secret and recovery codes are gone, the
/// user's sessions end, and they scan a new QR code (at their next sign-in
/// when a second factor is required). Needs `users:write` and every
/// permission the user holds. Nobody resets their own: they turn it off
/// with their password and a code (`DELETE /v1/me/2fa`).
#[utoipa::path(
    post, path = "/v1/users/{id}/2fa/reset", tag = "users", operation_id = "reset_two_factor",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Reset"),
        UserNotFound,
        (status = 409, description = "`cannot_reset_own_two_factor`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn reset_two_factor<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    app.reset_two_factor(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Unlock a user's account
///
/// Lifts every lock failed sign-ins put on the login: at any address, and
/// the hard stop that holds back unknown addresses.
/// Needs `users:write` and every permission the user holds.
#[utoipa::path(
    post, path = "/v1/users/{id}/unlock", tag = "users", operation_id = "unlock_user",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Unlocked"),
        UserNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn unlock_user<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    app.unlock(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A user's IP allowlist.
#[derive(Serialize, ToSchema)]
pub struct NetworksView {
    /// Canonical CIDRs; empty means anywhere.
    #[schema(example = json!(["192.0.2.0/24", "2001:db8::/32"]))]
    pub networks: Vec<String>,
}

impl NetworksView {
    fn new(list: &[Cidr]) -> Self {
        Self { networks: list.iter().map(ToString::to_string).collect() }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"networks": ["192.0.2.0/24", "2001:db8::/32"]}))]
pub struct NetworksBody {
    /// IPv4 or IPv6 addresses or CIDR networks; empty allows anywhere.
    #[schema(value_type = Vec<NetworkEntry>, max_items = 100)]
    pub networks: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"network": "203.0.113.7"}))]
pub struct NetworkBody {
    #[schema(value_type = NetworkEntry)]
    pub network: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NetworkParam {
    /// The entry to remove.
    #[param(value_type = NetworkEntry)]
    pub network: String,
}

fn parse_network(field: &str, raw: &str) -> Result<Cidr, ApiError> {
    Cidr::parse(raw).map_err(|e| ApiError::field(field, e))
}

/// Show a user's IP allowlist
///
/// Needs `users:read`.
#[utoipa::path(
    get, path = "/v1/users/{id}/allowed-networks", tag = "users", operation_id = "get_allowed_networks",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The allowlist; empty means anywhere", body = NetworksView),
        UserNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:read"))),
)]
pub async fn get_allowed_networks<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<NetworksView>, ApiError> {
    let actor = auth.require(Permission::UsersRead)?;
    let user = app.user(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(web::Json(NetworksView::new(&user.allowed_networks)))
}

/// Replace a user's IP allowlist
///
/// With any entry, the user signs in, refreshes and calls the API only
/// from those networks (403 `ip_not_allowed`); an empty list allows
/// anywhere. The user's sessions end. Nobody shuts out the address they
/// call from (409 `allowlist_excludes_you`), nor widens their own list
/// (409 `cannot_loosen_own_restrictions`). Needs `users:write` and
/// every permission the user holds.
#[utoipa::path(
    put, path = "/v1/users/{id}/allowed-networks", tag = "users", operation_id = "set_allowed_networks",
    params(("id" = Uuid, Path, description = "The user's id")),
    request_body = NetworksBody,
    responses(
        (status = 200, description = "The allowlist as stored", body = NetworksView),
        UserNotFound,
        (status = 409, description = "`allowlist_excludes_you` or `cannot_loosen_own_restrictions`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn set_allowed_networks<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<NetworksBody>,
) -> Result<web::Json<NetworksView>, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    if body.networks.len() > 100 {
        return Err(ApiError::field("networks", "must have at most 100 entries"));
    }
    let mut f = Fields::default();
    let list: Vec<Option<Cidr>> =
        body.networks.iter().enumerate().map(|(i, raw)| f.check(&format!("networks[{i}]"), Cidr::parse(raw))).collect();
    f.finish()?;
    let list = list.into_iter().flatten().collect();
    let stored = app.change_networks(actor, id.into_inner(), NetworkChange::Replace(list), Utc::now()).await?;
    Ok(web::Json(NetworksView::new(&stored)))
}

/// Add an entry to a user's IP allowlist
///
/// As replacing the list: the user's sessions end; nobody adds to their
/// own list. Needs `users:write`.
#[utoipa::path(
    post, path = "/v1/users/{id}/allowed-networks", tag = "users", operation_id = "add_allowed_network",
    params(("id" = Uuid, Path, description = "The user's id")),
    request_body = NetworkBody,
    responses(
        (status = 200, description = "The allowlist as stored", body = NetworksView),
        UserNotFound,
        (status = 409, description = "`allowlist_excludes_you` or `cannot_loosen_own_restrictions`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn add_allowed_network<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<NetworkBody>,
) -> Result<web::Json<NetworksView>, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let net = parse_network("network", &body.network)?;
    let stored = app.change_networks(actor, id.into_inner(), NetworkChange::Add(net), Utc::now()).await?;
    Ok(web::Json(NetworksView::new(&stored)))
}

/// Remove an entry from a user's IP allowlist
///
/// `network` names the entry (any spelling of it). Removing the last entry
/// allows anywhere again, so nobody removes their own last entry. The
/// user's sessions end. Needs `users:write`.
#[utoipa::path(
    delete, path = "/v1/users/{id}/allowed-networks", tag = "users", operation_id = "remove_allowed_network",
    params(("id" = Uuid, Path, description = "The user's id"), NetworkParam),
    responses(
        (status = 200, description = "The allowlist as stored", body = NetworksView),
        UserNotFound,
        (status = 409, description = "`allowlist_excludes_you` or `cannot_loosen_own_restrictions`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn remove_allowed_network<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Query(param): Query<NetworkParam>,
) -> Result<web::Json<NetworksView>, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let net = parse_network("network", &param.network)?;
    let stored = app.change_networks(actor, id.into_inner(), NetworkChange::Remove(net), Utc::now()).await?;
    Ok(web::Json(NetworksView::new(&stored)))
}

/// Act in a customer tenant
///
/// For a parent's support agent (the "Access CAP" button of the seed
/// article): answers tokens of a session inside the customer tenant, with
/// at most what the customer's own administrators may do there. Everything
/// done in it is audited with both identities (PRODUCT.md rule 11). Needs
/// `tenants:write`.
#[utoipa::path(
    post, path = "/v1/tenants/{id}/access", tag = "tenants", operation_id = "start_support_access",
    params(("id" = Uuid, Path, description = "The customer tenant's id")),
    responses(
        (status = 200, description = "A session inside the customer tenant", body = TokenResponse),
        TenantNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("tenants:write"))),
)]
pub async fn start_support_access<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    auth.person()?;
    let actor = auth.require(Permission::TenantsWrite)?;
    let signed = app.start_support_access(actor, id.into_inner(), Utc::now()).await?;
    Ok(web::Json(super::auth::tokens(signed)))
}

list_params! {
    pub struct AuditParams {
        /// The events of this tenant below the caller's; default the caller's own.
        pub tenant_id: Option<Uuid>,
        /// Only what this user did.
        pub actor: Option<Uuid>,
        #[param(value_type = Option<AuditActionCode>)]
        pub action: Option<String>,
        #[param(value_type = Option<AuditTargetType>)]
        pub target_type: Option<String>,
        pub target_id: Option<Uuid>,
        /// From this instant on.
        pub from: Option<DateTime<Utc>>,
        /// Before this instant.
        pub to: Option<DateTime<Utc>>,
    }
}

/// Read the audit log
///
/// Sign-ins and their failures, lockouts, refresh-token reuse, second
/// factor and allowlist changes, and every change an administrator made:
/// who (and on whose behalf), what, which object, when, from which
/// address. Newest first; append-only. The platform's log also holds
/// sign-ins with unknown logins. Needs `audit:read`.
#[utoipa::path(
    get, path = "/v1/audit-events", tag = "audit", operation_id = "list_audit_events",
    params(AuditParams),
    responses(
        (status = 200, description = "One page of events", body = AuditEventPage),
        ForeignTenantNotFound,
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("audit:read"))),
)]
pub async fn list_audit_events<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<AuditParams>,
) -> Result<web::Json<AuditEventPage>, ApiError> {
    let actor = auth.require(Permission::AuditRead)?;
    let page = params.page_request()?;
    let mut f = Fields::default();
    let action =
        f.optional("action", params.action.as_deref(), |a| AuditAction::parse(a).ok_or("is not an audit action"));
    let target_type = f
        .optional("target_type", params.target_type.as_deref(), |t| TargetType::parse(t).ok_or("is not a target type"));
    let (Some(action), Some(target_type)) = (action, target_type) else { return Err(f.into_error()) };
    let filter = AuditFilter {
        actor_user_id: params.actor,
        action,
        target_type,
        target_id: params.target_id,
        from: params.from,
        to: params.to,
    };
    let events =
        app.audit_events(actor, params.tenant_id, &filter, page).await?.ok_or_else(ApiError::tenant_not_found)?;
    Ok(web::Json(AuditEventPage::new(events, |e| AuditEventView::from(e))))
}
