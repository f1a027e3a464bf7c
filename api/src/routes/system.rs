//! Health, readiness and the public keys.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use actix_web::{HttpResponse, http::StatusCode, web};
use serde::Serialize;
use utoipa::ToSchema;
use voxport_domain::{Voxport, auth::Jwk, ports::Store};

use crate::problem::{ApiError, Problem};

/// Set when the process is shutting down, so load balancers stop sending
/// new requests while in-flight ones finish.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    #[must_use]
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The JWK Set (RFC 7517) of the access-token signing keys.
#[derive(Serialize, ToSchema)]
pub struct JwkSet {
    #[schema(value_type = Vec<Object>, example = json!([{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "k1", "use": "sig", "alg": "EdDSA"}]))]
    pub keys: Vec<Jwk>,
}

/// Liveness
///
/// 200 while the process runs, whatever the database does.
#[utoipa::path(
    get, path = "/livez", tag = "system", operation_id = "livez",
    responses((status = 200, description = "The process is alive", body = Health)),
    security(()),
)]
pub async fn livez() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Readiness
///
/// 200 when the database answers and the process is not shutting down;
/// 503 otherwise.
#[utoipa::path(
    get, path = "/readyz", tag = "system", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready for traffic", body = Health),
        (status = 503, description = "Not ready", body = Problem, content_type = "application/problem+json"),
    ),
    security(()),
)]
pub async fn readyz<S: Store>(
    app: web::Data<Voxport<S>>,
    draining: web::Data<Draining>,
) -> Result<HttpResponse, ApiError> {
    if draining.is_draining() {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", "The process is shutting down."));
    }
    app.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database_unavailable", "The database does not answer.")
    })?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

/// Token signing keys
///
/// The public keys that verify access tokens, for integrators.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "system", operation_id = "jwks",
    responses((status = 200, description = "The JWK Set", body = JwkSet)),
    security(()),
)]
pub async fn jwks<S: Store>(app: web::Data<Voxport<S>>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(JwkSet { keys: app.tokens().jwks() })
}
