//! `/v1/scim-tokens`: the tokens identity providers call `/scim/v2` with
//! (issue 14). A token acts in the tenant with its maker's permissions at
//! the time it was made; several may be live at once, for rotation.
//! `/v1/scim-settings`: what deprovisioning does in the tenant.

use actix_web::{HttpResponse, http::header, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    actor::Actor,
    deprovisioning::{DeprovisionSettings, MAX_DAYS},
    permission::Permission,
    ports::Store,
    values::Label,
};

use crate::{
    extract::{Auth, Fields, Json, Query},
    problem::{ApiError, Problem},
    responses::{BadBody, BadQuery, Forbidden, Unauthenticated},
    views::{ScimTokenPage, ScimTokenView, ScimTokenWithSecretView},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Entra ID"}))]
pub struct CreateScimTokenBody {
    /// What the token is for, to tell tokens apart.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Entra ID"
    )]
    pub name: String,
}

list_params! {
    pub struct ScimTokenListParams {}
}

/// Who may make or revoke SCIM tokens: a signed-in person of the tenant
/// holding `scim` (not an API client, not a support session, who would
/// leave a credential behind in a tenant not theirs).
fn manager(auth: &Auth) -> Result<&Actor, ApiError> {
    super::credential_manager(auth, Permission::Scim, "SCIM tokens")
}

/// List SCIM tokens
///
/// The tenant's SCIM tokens, newest first; never a token. Needs `scim`.
#[utoipa::path(
    get, path = "/v1/scim-tokens", tag = "scim", operation_id = "list_scim_tokens",
    params(ScimTokenListParams),
    responses(
        (status = 200, description = "One page of SCIM tokens", body = ScimTokenPage),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("scim"))),
)]
pub async fn list_scim_tokens<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<ScimTokenListParams>,
) -> Result<web::Json<ScimTokenPage>, ApiError> {
    let actor = auth.require(Permission::Scim)?;
    let page = params.page_request()?;
    let tokens = app.list_scim_tokens(actor, page).await?;
    Ok(web::Json(ScimTokenPage::new(tokens, |t| ScimTokenView::from(t))))
}

/// Make a SCIM token
///
/// For an identity provider to call `/scim/v2` with, as `Authorization:
/// Bearer`. It holds the caller's permissions, so it never provisions a
/// role the caller could not grant. The answer shows the token this once.
/// Needs `scim`, held by a signed-in person of the tenant (403
/// `person_only`, `own_tenant_only`).
#[utoipa::path(
    post, path = "/v1/scim-tokens", tag = "scim", operation_id = "create_scim_token",
    request_body = CreateScimTokenBody,
    responses(
        (status = 201, description = "The token, shown once", body = ScimTokenWithSecretView),
        (status = 403, description = "`permission_denied`, `person_only`, `own_tenant_only`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("scim"))),
)]
pub async fn create_scim_token<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<CreateScimTokenBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = manager(&auth)?;
    let mut f = Fields::default();
    let Some(name) = f.check("name", Label::parse(&body.name)) else { return Err(f.into_error()) };
    let created = app.create_scim_token(actor, name, Utc::now()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/scim-tokens/{}", created.token.id)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ScimTokenWithSecretView::from(&created)))
}

/// Show a SCIM token
///
/// Needs `scim`.
#[utoipa::path(
    get, path = "/v1/scim-tokens/{id}", tag = "scim", operation_id = "get_scim_token",
    params(("id" = Uuid, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The token (never the token itself)", body = ScimTokenView),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("scim"))),
)]
pub async fn get_scim_token<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<ScimTokenView>, ApiError> {
    let actor = auth.require(Permission::Scim)?;
    let token = app.scim_token(actor, *id).await?.ok_or_else(|| ApiError::not_found("SCIM token"))?;
    Ok(web::Json(ScimTokenView::from(&token)))
}

/// Revoke a SCIM token
///
/// Requests with it fail from now on; the others keep working. Needs
/// `scim`, held by a signed-in person of the tenant.
#[utoipa::path(
    delete, path = "/v1/scim-tokens/{id}", tag = "scim", operation_id = "delete_scim_token",
    params(("id" = Uuid, Path, description = "The token's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "`permission_denied`, `person_only`, `own_tenant_only`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("scim"))),
)]
pub async fn delete_scim_token<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = manager(&auth)?;
    if !app.delete_scim_token(actor, *id, Utc::now()).await? {
        return Err(ApiError::not_found("SCIM token"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// What happens to a user an identity provider deactivates or deletes.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"hold_days": 30, "release_station": false, "number_rest_days": 30}))]
pub struct DeprovisioningBody {
    /// How many days a deactivated user keeps their extension, phone
    /// number and desk phone; reactivated within them, they get it all
    /// back. Default 30.
    #[schema(minimum = 0, maximum = 3650)]
    pub hold_days: u32,
    /// Whether a deactivated user's station licence goes back to the pool
    /// at once (taken again on reactivation, if one is left). Default false.
    pub release_station: bool,
    /// How many days a deleted user's phone number rests before anyone may
    /// be given it. Default 30.
    #[schema(minimum = 0, maximum = 3650)]
    pub number_rest_days: u32,
}

impl From<DeprovisionSettings> for DeprovisioningBody {
    fn from(s: DeprovisionSettings) -> Self {
        Self { hold_days: s.hold_days, release_station: s.release_station, number_rest_days: s.number_rest_days }
    }
}

/// Show the deprovisioning settings
///
/// What happens to a user an identity provider deactivates or deletes
/// through SCIM. Needs `scim`.
#[utoipa::path(
    get, path = "/v1/scim-settings", tag = "scim", operation_id = "get_scim_settings",
    responses(
        (status = 200, description = "The tenant's settings", body = DeprovisioningBody),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("scim"))),
)]
pub async fn get_scim_settings<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
) -> Result<web::Json<DeprovisioningBody>, ApiError> {
    let actor = auth.require(Permission::Scim)?;
    Ok(web::Json(app.deprovision_settings(actor).await?.into()))
}

/// Change the deprovisioning settings
///
/// They apply to users deactivated or deleted from now on, and to the
/// holds running. Needs `scim`, held by a signed-in person of the tenant.
#[utoipa::path(
    put, path = "/v1/scim-settings", tag = "scim", operation_id = "set_scim_settings",
    request_body = DeprovisioningBody,
    responses(
        (status = 200, description = "The tenant's settings", body = DeprovisioningBody),
        (status = 403, description = "`permission_denied`, `person_only`, `own_tenant_only`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("scim"))),
)]
pub async fn set_scim_settings<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<DeprovisioningBody>,
) -> Result<web::Json<DeprovisioningBody>, ApiError> {
    let actor = manager(&auth)?;
    let mut f = Fields::default();
    for (field, days) in [("hold_days", body.hold_days), ("number_rest_days", body.number_rest_days)] {
        if days > MAX_DAYS {
            f.add(field, format!("at most {MAX_DAYS} days"));
        }
    }
    f.finish()?;
    let settings = DeprovisionSettings {
        hold_days: body.hold_days,
        release_station: body.release_station,
        number_rest_days: body.number_rest_days,
    };
    Ok(web::Json(app.set_deprovision_settings(actor, settings, Utc::now()).await?.into()))
}
