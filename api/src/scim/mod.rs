//! SCIM 2.0 (RFC 7643, RFC 7644; issue 14) under `/scim/v2`: identity
//! providers (Entra ID, Okta, OneLogin, Google) create, change and remove
//! the tenant's users, with what the one-call set-up gives them, and every
//! rule of `POST /v1/users` holds.
//!
//! Requests authenticate with a SCIM token (`/v1/scim-tokens`) or any
//! other token holding the `scim` permission (an API client's); the
//! tenant is the token's. Answers are `application/scim+json`; bodies may
//! be either JSON media type. Every answer that is not a success carries
//! the SCIM error body, whatever refused it (see [`scim_errors`]).
//!
//! The resource is the core User schema, trimmed to what voxport keeps,
//! and a flat telephony extension ([`discovery::EXTENSION`]). Groups,
//! bulk, sorting and ETags are not offered (`/ServiceProviderConfig`).

mod discovery;
mod error;
mod filter;
mod input;
mod patch;
mod resource;
mod users;

use actix_web::{
    HttpRequest, HttpResponse,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::Next,
    web,
};
use chrono::Utc;
use voxport_domain::{Voxport, actor::Actor, errors::AuthenticateError, permission::Permission, ports::Store};

pub use error::{ScimError, ScimType};

use crate::client_ip::client_ip;

/// The media type of every SCIM answer.
pub const SCIM_JSON: &str = "application/scim+json";
pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";

/// The largest SCIM body read.
pub const MAX_SCIM_BYTES: usize = 256 * 1024;

/// Registers `/scim/v2`.
pub fn configure<S: Store>(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/scim/v2")
            .wrap(actix_web::middleware::from_fn(scim_errors))
            .app_data(web::PayloadConfig::new(MAX_SCIM_BYTES))
            .service(
                method_resource("/ServiceProviderConfig", "GET")
                    .route(web::get().to(discovery::service_provider_config::<S>)),
            )
            .service(method_resource("/ResourceTypes", "GET").route(web::get().to(discovery::resource_types::<S>)))
            .service(method_resource("/ResourceTypes/{id}", "GET").route(web::get().to(discovery::resource_type::<S>)))
            .service(method_resource("/Schemas", "GET").route(web::get().to(discovery::schemas::<S>)))
            .service(method_resource("/Schemas/{id}", "GET").route(web::get().to(discovery::schema::<S>)))
            .service(
                method_resource("/Users", "GET, POST")
                    .route(web::get().to(users::list::<S>))
                    .route(web::post().to(users::create::<S>)),
            )
            .service(method_resource("/Users/.search", "POST").route(web::post().to(users::search::<S>)))
            .service(method_resource("/.search", "POST").route(web::post().to(users::search::<S>)))
            .service(
                method_resource("/Users/{id}", "GET, PUT, PATCH, DELETE")
                    .route(web::get().to(users::read::<S>))
                    .route(web::put().to(users::replace::<S>))
                    .route(web::patch().to(users::patch::<S>))
                    .route(web::delete().to(users::delete::<S>)),
            )
            .default_service(web::to(|req: HttpRequest| async move {
                Err::<HttpResponse, _>(ScimError::not_found(format!("No SCIM resource at {}.", req.path())))
            })),
    );
}

/// A resource that answers 405 with `Allow` for the methods it lacks.
fn method_resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        let mut response = actix_web::ResponseError::error_response(&ScimError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            format!("This resource answers {allow}."),
        ));
        response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static(allow));
        response
    }))
}

/// Turns any refusal under `/scim/v2` that is not already a SCIM error
/// (the framework's, a payload too large, a path that does not parse)
/// into one with the same status and headers.
async fn scim_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let status = res.status();
    let is_scim =
        res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(SCIM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_scim {
        return Ok(res.map_into_boxed_body());
    }
    let (req, res) = res.into_parts();
    let headers = res.headers().clone();
    let body = actix_web::body::to_bytes(res.into_body()).await.unwrap_or_default();
    let detail = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
    let scim_type = (status == StatusCode::BAD_REQUEST).then_some(ScimType::InvalidSyntax);
    let mut out = actix_web::ResponseError::error_response(&ScimError::new(status, scim_type, detail));
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = headers.get(&name) {
            out.headers_mut().insert(name, value.clone());
        }
    }
    Ok(ServiceResponse::new(req, out))
}

/// The caller of a SCIM request: a SCIM token, or any token holding the
/// `scim` permission; either must hold `needed` too (`users:read` to
/// read, `users:write` to change), as at `/v1/users`.
pub(crate) async fn caller<S: Store>(
    req: &HttpRequest,
    app: &Voxport<S>,
    needed: Permission,
) -> Result<Actor, ScimError> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(ScimError::unauthenticated)?;
    let actor = match app.authenticate_scim(bearer, client_ip(req), Utc::now()).await {
        Ok(actor) => actor,
        Err(AuthenticateError::InvalidToken) => return Err(ScimError::unauthenticated()),
        Err(AuthenticateError::IpNotAllowed) => {
            return Err(ScimError::new(StatusCode::FORBIDDEN, None, "The token may not be used from this address."));
        }
        Err(AuthenticateError::Unknown(e)) => return Err(e.into()),
    };
    for permission in [Permission::Scim, needed] {
        if !actor.can(permission) {
            return Err(ScimError::new(
                StatusCode::FORBIDDEN,
                None,
                format!("This needs the `{}` permission.", permission.code()),
            ));
        }
    }
    Ok(actor)
}

/// Where the SCIM service is, as the caller reached it, for `meta.location`.
pub(crate) fn base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/scim/v2", info.scheme(), info.host())
}

/// A SCIM answer.
pub(crate) fn scim_json(status: StatusCode, body: &serde_json::Value) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::CONTENT_TYPE, SCIM_JSON)).body(body.to_string())
}

/// Reads a JSON body whatever its declared media type: identity providers
/// send `application/scim+json`, `application/json`, or nothing.
pub(crate) fn json_body(body: &[u8]) -> Result<serde_json::Value, ScimError> {
    serde_json::from_slice(body)
        .map_err(|e| ScimError::bad(ScimType::InvalidSyntax, format!("The body is not valid JSON: {e}")))
}
