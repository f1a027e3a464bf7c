//! `/v1/claims`: desk phones and phone numbers a tenant tried to register
//! while another tenant held them, for the platform operator to settle.

use actix_web::web;
use chrono::Utc;
use uuid::Uuid;
use voxport_domain::{Voxport, permission::Permission, ports::Store};

use crate::{
    extract::{Auth, Query},
    problem::{ApiError, Problem},
    responses::{BadQuery, Forbidden, Unauthenticated},
    views::{ClaimPage, ClaimView},
};

list_params! {
    pub struct ClaimListParams {}
}

/// List claims
///
/// A MAC address or a phone number is unique on the whole platform, so a
/// tenant that registers another's first keeps it from them. When a tenant
/// tries to register one another tenant holds, its `409` names no tenant,
/// and the attempt is kept here, oldest first. Only the platform
/// operator, in their own tenant, sees claims (403
/// `platform_operator_only`). Needs `tenants:write`.
#[utoipa::path(
    get, path = "/v1/claims", tag = "tenants", operation_id = "list_claims",
    params(ClaimListParams),
    responses(
        (status = 200, description = "One page of open claims", body = ClaimPage),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("tenants:write"))),
)]
pub async fn list_claims<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<ClaimListParams>,
) -> Result<web::Json<ClaimPage>, ApiError> {
    let actor = auth.require(Permission::TenantsWrite)?;
    let page = params.page_request()?;
    let claims = app.list_claims(actor, page).await?;
    Ok(web::Json(ClaimPage::new(claims, |c| ClaimView::from(c))))
}

/// Grant a claim
///
/// Moves the desk phone or number to the claimant's tenant: it stops
/// serving the user it served, loses its label, and every claim on it is
/// dropped. Both tenants' audit logs record the move (`device.moved` or
/// `phone_number.moved`), naming neither tenant to the other. Needs
/// `tenants:write`, as the platform operator.
#[utoipa::path(
    post, path = "/v1/claims/{id}/grant", tag = "tenants", operation_id = "grant_claim",
    params(("id" = Uuid, Path, description = "The claim's id")),
    responses(
        (status = 200, description = "Granted: the object is the claimant's", body = ClaimView),
        (status = 404, description = "`not_found`: no such claim", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`claim_stale`: the object moved or went since; the claim is dropped", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("tenants:write"))),
)]
pub async fn grant_claim<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<ClaimView>, ApiError> {
    let actor = auth.require(Permission::TenantsWrite)?;
    let claim = app.grant_claim(actor, id.into_inner(), Utc::now()).await?;
    Ok(web::Json(ClaimView::from(&claim)))
}
