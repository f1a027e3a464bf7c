//! The HTTP edge of voxport: routes, extractors, problem+json errors and
//! the OpenAPI document. It depends on the domain only; the binary hands
//! it a `Voxport<S>` for a concrete store.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod client_ip;
pub mod extract;
pub mod idempotency;
pub mod import_worker;
pub mod metrics;
mod openapi_truths;
pub mod preconditions;
pub mod problem;
pub mod request;
pub mod responses;
pub mod routes;
pub mod schema;
pub mod scim;
pub mod views;

use std::sync::{Arc, OnceLock};

use actix_cors::Cors;
use actix_web::{
    HttpRequest, HttpResponse, Resource,
    http::{StatusCode, header},
    middleware::DefaultHeaders,
    web,
};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        PathItem,
        path::Operation,
        security::{
            ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityRequirement, SecurityScheme,
        },
    },
};
use utoipa_swagger_ui::SwaggerUi;
use voxport_domain::{Voxport, permission::Permission, ports::Store};

use crate::{
    extract::{Authenticator, MAX_JSON_BYTES},
    idempotency::Documented as IdempotencyKeysDocumented,
    openapi_truths::SchemaTruths,
    preconditions::Preconditions,
    problem::ApiError,
    routes::{
        api_clients, auth, claims, devices, emails, extensions, jobs, me, oauth, phone_numbers, provisioning, roles,
        scim_tokens, security, stations, system, tenants, users, webhooks,
    },
};

pub use client_ip::{ClientIp, ForwardedHeader, TrustedProxies};
pub use routes::system::Draining;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        // Every operation a permission opens takes an API client's token
        // too, with that permission as its scope.
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                let Some(needed) = required_permissions(operation) else { continue };
                if let Some(security) = operation.security.as_mut() {
                    security.push(SecurityRequirement::new("oauth2", needed));
                }
            }
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("An API client's id and secret (`client_secret_basic`)"))
                    .build(),
            ),
        );
        let scopes = Scopes::from_iter(Permission::ALL.iter().map(|p| (p.code(), p.description())));
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new("/v1/oauth/token", scopes))],
                "An API client's token: `POST /v1/oauth/token` with the client credentials grant",
            )),
        );
        components.add_security_scheme(
            "device_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("A desk phone's provisioning credentials"))
                    .build(),
            ),
        );
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch].into_iter().flatten()
}

/// The permission names an operation declares in `x-required-permission`.
fn required_permissions(operation: &Operation) -> Option<Vec<String>> {
    let value = operation.extensions.as_ref()?.get("x-required-permission")?;
    match value {
        serde_json::Value::String(one) => Some(vec![one.clone()]),
        serde_json::Value::Array(many) => Some(many.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()),
        _ => None,
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "voxport",
        description = "Provisioning and identity for a cloud phone system: tenants, portal users, roles, extensions, phone numbers, station licences, desk phones and sign-in.\n\n\
            Errors are `application/problem+json` (RFC 9457) with a stable `code`. Lists answer \
            `{items, total, page, per_page}`. Operations say the permission they need in `x-required-permission` (a list when they need several).",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
        version = "0.1.0",
    ),
    paths(
        auth::login, auth::refresh, auth::logout, auth::set_password,
        auth::request_password_reset, auth::confirm_password_reset,
        me::get_me, me::update_me, me::change_password, me::my_sip_credentials,
        security::start_two_factor, security::confirm_two_factor, security::disable_two_factor,
        security::reset_two_factor, security::unlock_user,
        security::get_allowed_networks, security::set_allowed_networks,
        security::add_allowed_network, security::remove_allowed_network,
        security::start_support_access, security::list_audit_events,
        users::list_users, users::import_users, jobs::get_job, jobs::cancel_job, users::create_user, users::get_user, users::update_user, users::delete_user,
        emails::list_user_emails, emails::resend_welcome_email,
        roles::list_permissions, roles::list_roles, roles::create_role, roles::get_role, roles::update_role, roles::delete_role,
        claims::list_claims, claims::grant_claim,
        tenants::list_tenants, tenants::create_tenant, tenants::get_tenant, tenants::update_tenant, tenants::delete_tenant,
        stations::list_stations, stations::create_station, stations::get_station, stations::update_station, stations::delete_station,
        stations::assign_station, stations::release_station,
        devices::list_devices, devices::create_device, devices::get_device, devices::update_device, devices::delete_device,
        devices::assign_device, devices::release_device,
        provisioning::issue_provisioning_credentials, provisioning::yealink_config, provisioning::polycom_config,
        extensions::list_extensions, extensions::create_extension, extensions::get_extension,
        extensions::update_extension, extensions::delete_extension,
        extensions::get_sip_credentials, extensions::rotate_sip_secret,
        extensions::assign_extension, extensions::release_extension,
        phone_numbers::list_phone_numbers, phone_numbers::create_phone_number, phone_numbers::get_phone_number,
        phone_numbers::update_phone_number, phone_numbers::delete_phone_number,
        phone_numbers::assign_phone_number, phone_numbers::release_phone_number,
        api_clients::list_api_clients, api_clients::create_api_client, api_clients::get_api_client,
        api_clients::update_api_client, api_clients::delete_api_client, api_clients::rotate_client_secret,
        scim_tokens::list_scim_tokens, scim_tokens::create_scim_token, scim_tokens::get_scim_token, scim_tokens::delete_scim_token,
        scim_tokens::get_scim_settings, scim_tokens::set_scim_settings,
        webhooks::list_event_types, webhooks::list_webhooks, webhooks::create_webhook, webhooks::get_webhook,
        webhooks::update_webhook, webhooks::delete_webhook, webhooks::list_deliveries, webhooks::retry_delivery,
        oauth::token, oauth::revoke, oauth::introspect, oauth::metadata,
        system::livez, system::readyz, system::jwks,
    ),
    components(schemas(problem::Problem, problem::FieldError, routes::users::UserSort, routes::users::ImportModeParam)),
    modifiers(&BearerScheme, &SchemaTruths, &Preconditions, &IdempotencyKeysDocumented),
    tags(
        (name = "auth", description = "Sign in, refresh and sign out"),
        (name = "me", description = "The signed-in user"),
        (name = "users", description = "Portal users of the caller's tenant"),
        (name = "roles", description = "Roles and the permission catalog"),
        (name = "tenants", description = "Customer and reseller tenants"),
        (name = "stations", description = "Station licence pools"),
        (name = "devices", description = "Desk phones"),
        (name = "provisioning", description = "Configuration files desk phones fetch"),
        (name = "extensions", description = "Extensions and their SIP credentials"),
        (name = "phone-numbers", description = "Phone numbers (DIDs)"),
        (name = "audit", description = "The audit log"),
        (name = "api-clients", description = "Integrators' OAuth2 clients"),
        (name = "scim", description = "Tokens identity providers provision users with through SCIM 2.0 at `/scim/v2` (documented in docs/scim.md, not here)"),
        (name = "webhooks", description = "Events POSTed to integrators, signed by the Standard Webhooks specification"),
        (name = "oauth", description = "OAuth2 for integrators: tokens, revocation, introspection, metadata"),
        (name = "system", description = "Health and keys"),
    ),
)]
pub struct ApiDoc;

/// The OpenAPI document of every route.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `/openapi.json`: the document, serialized once per process. Each
/// worker holding its own copy (as `SwaggerUi::url` does) cost about
/// 10 MB of resident memory per worker.
async fn openapi_json() -> Result<HttpResponse, ApiError> {
    static JSON: OnceLock<web::Bytes> = OnceLock::new();
    let json = match JSON.get() {
        Some(json) => json.clone(),
        None => {
            let json = serde_json::to_vec(&openapi()).map_err(|e| ApiError::internal(e.into()))?;
            JSON.get_or_init(|| json.into()).clone()
        }
    };
    Ok(HttpResponse::Ok().content_type("application/json").body(json))
}

/// A resource that answers 405 with `Allow` for the methods it lacks;
/// `HEAD` is allowed wherever `GET` is (see [`request::context`]).
fn resource(path: &str, allow: &'static str) -> Resource {
    let allow = match allow.strip_prefix("GET") {
        Some(rest) => format!("GET, HEAD{rest}"),
        None => allow.to_owned(),
    };
    web::resource(path).default_service(web::to(move || {
        let allow = allow.clone();
        async move {
            let error = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("This resource answers {allow}."),
            );
            let mut response = actix_web::ResponseError::error_response(&error);
            if let Ok(value) = header::HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
    }))
}

/// 404 for a path the API does not have.
fn no_resource(req: &HttpRequest) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("No resource at {}.", req.path()))
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(no_resource(&req))
}

/// Registers every route of the API and the documentation.
pub fn configure<S: Store>(
    voxport: Arc<Voxport<S>>,
    draining: Draining,
    trusted_proxies: TrustedProxies,
) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let authenticator: Arc<dyn Authenticator> = voxport.clone();
        let versions: Arc<dyn preconditions::Versions> = voxport.clone();
        let keys: Arc<dyn idempotency::IdempotencyKeys> = voxport.clone();
        cfg.app_data(web::Data::from(versions))
            .app_data(web::Data::from(keys))
            .app_data(web::Data::from(voxport))
            .app_data(web::Data::from(authenticator))
            .app_data(web::Data::new(draining))
            .app_data(web::Data::new(trusted_proxies))
            .app_data(web::PayloadConfig::new(MAX_JSON_BYTES))
            .app_data(web::PathConfig::default().error_handler(|_, req| no_resource(req).into()))
            .service(resource("/v1/auth/login", "POST").route(web::post().to(auth::login::<S>)))
            .service(resource("/v1/auth/refresh", "POST").route(web::post().to(auth::refresh::<S>)))
            .service(resource("/v1/auth/logout", "POST").route(web::post().to(auth::logout::<S>)))
            .service(resource("/v1/auth/set-password", "POST").route(web::post().to(auth::set_password::<S>)))
            .service(
                resource("/v1/auth/password-reset", "POST").route(web::post().to(auth::request_password_reset::<S>)),
            )
            .service(
                resource("/v1/auth/password-reset/confirm", "POST")
                    .route(web::post().to(auth::confirm_password_reset::<S>)),
            )
            .service(
                resource("/v1/me", "GET, PATCH")
                    .route(web::get().to(me::get_me::<S>))
                    .route(web::patch().to(me::update_me::<S>)),
            )
            .service(resource("/v1/me/password", "POST").route(web::post().to(me::change_password::<S>)))
            .service(resource("/v1/me/sip-credentials", "GET").route(web::get().to(me::my_sip_credentials::<S>)))
            .service(
                resource("/v1/me/2fa", "POST, DELETE")
                    .route(web::post().to(security::start_two_factor::<S>))
                    .route(web::delete().to(security::disable_two_factor::<S>)),
            )
            .service(resource("/v1/me/2fa/confirm", "POST").route(web::post().to(security::confirm_two_factor::<S>)))
            .service(
                resource("/v1/users/{id}/2fa/reset", "POST").route(web::post().to(security::reset_two_factor::<S>)),
            )
            .service(resource("/v1/users/{id}/unlock", "POST").route(web::post().to(security::unlock_user::<S>)))
            .service(
                resource("/v1/users/{id}/allowed-networks", "GET, PUT, POST, DELETE")
                    .route(web::get().to(security::get_allowed_networks::<S>))
                    .route(web::put().to(security::set_allowed_networks::<S>))
                    .route(web::post().to(security::add_allowed_network::<S>))
                    .route(web::delete().to(security::remove_allowed_network::<S>)),
            )
            .service(
                resource("/v1/tenants/{id}/access", "POST").route(web::post().to(security::start_support_access::<S>)),
            )
            .service(resource("/v1/audit-events", "GET").route(web::get().to(security::list_audit_events::<S>)))
            .service(
                resource("/v1/users", "GET, POST")
                    .route(web::get().to(users::list_users::<S>))
                    .route(web::post().to(users::create_user::<S>)),
            )
            .service(resource("/v1/users/import", "POST").route(web::post().to(users::import_users::<S>)))
            .service(
                resource("/v1/jobs/{id}", "GET, DELETE")
                    .route(web::get().to(jobs::get_job::<S>))
                    .route(web::delete().to(jobs::cancel_job::<S>)),
            )
            .service(
                resource("/v1/users/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(users::get_user::<S>))
                    .route(web::patch().to(users::update_user::<S>))
                    .route(web::delete().to(users::delete_user::<S>)),
            )
            .service(
                resource("/v1/users/{id}/station", "PUT, DELETE")
                    .route(web::put().to(stations::assign_station::<S>))
                    .route(web::delete().to(stations::release_station::<S>)),
            )
            .service(
                resource("/v1/users/{id}/device", "PUT, DELETE")
                    .route(web::put().to(devices::assign_device::<S>))
                    .route(web::delete().to(devices::release_device::<S>)),
            )
            .service(
                resource("/v1/users/{id}/extensions/{extension_id}", "PUT, DELETE")
                    .route(web::put().to(extensions::assign_extension::<S>))
                    .route(web::delete().to(extensions::release_extension::<S>)),
            )
            .service(
                resource("/v1/users/{id}/phone-number", "PUT, DELETE")
                    .route(web::put().to(phone_numbers::assign_phone_number::<S>))
                    .route(web::delete().to(phone_numbers::release_phone_number::<S>)),
            )
            .service(resource("/v1/users/{id}/emails", "GET").route(web::get().to(emails::list_user_emails::<S>)))
            .service(
                resource("/v1/users/{id}/welcome-email", "POST")
                    .route(web::post().to(emails::resend_welcome_email::<S>)),
            )
            .service(
                resource("/v1/extensions", "GET, POST")
                    .route(web::get().to(extensions::list_extensions::<S>))
                    .route(web::post().to(extensions::create_extension::<S>)),
            )
            .service(
                resource("/v1/extensions/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(extensions::get_extension::<S>))
                    .route(web::patch().to(extensions::update_extension::<S>))
                    .route(web::delete().to(extensions::delete_extension::<S>)),
            )
            .service(
                resource("/v1/extensions/{id}/sip-credentials", "GET")
                    .route(web::get().to(extensions::get_sip_credentials::<S>)),
            )
            .service(
                resource("/v1/extensions/{id}/rotate-secret", "POST")
                    .route(web::post().to(extensions::rotate_sip_secret::<S>)),
            )
            .service(
                resource("/v1/phone-numbers", "GET, POST")
                    .route(web::get().to(phone_numbers::list_phone_numbers::<S>))
                    .route(web::post().to(phone_numbers::create_phone_number::<S>)),
            )
            .service(
                resource("/v1/phone-numbers/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(phone_numbers::get_phone_number::<S>))
                    .route(web::patch().to(phone_numbers::update_phone_number::<S>))
                    .route(web::delete().to(phone_numbers::delete_phone_number::<S>)),
            )
            .service(
                resource("/v1/devices", "GET, POST")
                    .route(web::get().to(devices::list_devices::<S>))
                    .route(web::post().to(devices::create_device::<S>)),
            )
            .service(
                resource("/v1/devices/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(devices::get_device::<S>))
                    .route(web::patch().to(devices::update_device::<S>))
                    .route(web::delete().to(devices::delete_device::<S>)),
            )
            .service(
                resource("/v1/devices/{id}/provisioning-credentials", "POST")
                    .route(web::post().to(provisioning::issue_provisioning_credentials::<S>)),
            )
            .service(resource("/provisioning/{mac}.cfg", "GET").route(web::get().to(provisioning::yealink_config::<S>)))
            .service(resource("/provisioning/{mac}.xml", "GET").route(web::get().to(provisioning::polycom_config::<S>)))
            .service(
                resource("/v1/stations", "GET, POST")
                    .route(web::get().to(stations::list_stations::<S>))
                    .route(web::post().to(stations::create_station::<S>)),
            )
            .service(
                resource("/v1/stations/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(stations::get_station::<S>))
                    .route(web::patch().to(stations::update_station::<S>))
                    .route(web::delete().to(stations::delete_station::<S>)),
            )
            .service(resource("/v1/permissions", "GET").route(web::get().to(roles::list_permissions)))
            .service(
                resource("/v1/roles", "GET, POST")
                    .route(web::get().to(roles::list_roles::<S>))
                    .route(web::post().to(roles::create_role::<S>)),
            )
            .service(
                resource("/v1/roles/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(roles::get_role::<S>))
                    .route(web::patch().to(roles::update_role::<S>))
                    .route(web::delete().to(roles::delete_role::<S>)),
            )
            .service(
                resource("/v1/tenants", "GET, POST")
                    .route(web::get().to(tenants::list_tenants::<S>))
                    .route(web::post().to(tenants::create_tenant::<S>)),
            )
            .service(
                resource("/v1/tenants/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(tenants::get_tenant::<S>))
                    .route(web::patch().to(tenants::update_tenant::<S>))
                    .route(web::delete().to(tenants::delete_tenant::<S>)),
            )
            .service(resource("/v1/claims", "GET").route(web::get().to(claims::list_claims::<S>)))
            .service(resource("/v1/claims/{id}/grant", "POST").route(web::post().to(claims::grant_claim::<S>)))
            .service(
                resource("/v1/api-clients", "GET, POST")
                    .route(web::get().to(api_clients::list_api_clients::<S>))
                    .route(web::post().to(api_clients::create_api_client::<S>)),
            )
            .service(
                resource("/v1/api-clients/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(api_clients::get_api_client::<S>))
                    .route(web::patch().to(api_clients::update_api_client::<S>))
                    .route(web::delete().to(api_clients::delete_api_client::<S>)),
            )
            .service(
                resource("/v1/api-clients/{id}/rotate-secret", "POST")
                    .route(web::post().to(api_clients::rotate_client_secret::<S>)),
            )
            .service(
                resource("/v1/scim-tokens", "GET, POST")
                    .route(web::get().to(scim_tokens::list_scim_tokens::<S>))
                    .route(web::post().to(scim_tokens::create_scim_token::<S>)),
            )
            .service(
                resource("/v1/scim-tokens/{id}", "GET, DELETE")
                    .route(web::get().to(scim_tokens::get_scim_token::<S>))
                    .route(web::delete().to(scim_tokens::delete_scim_token::<S>)),
            )
            .service(
                resource("/v1/scim-settings", "GET, PUT")
                    .route(web::get().to(scim_tokens::get_scim_settings::<S>))
                    .route(web::put().to(scim_tokens::set_scim_settings::<S>)),
            )
            .configure(scim::configure::<S>)
            .service(resource("/v1/webhook-event-types", "GET").route(web::get().to(webhooks::list_event_types)))
            .service(
                resource("/v1/webhooks", "GET, POST")
                    .route(web::get().to(webhooks::list_webhooks::<S>))
                    .route(web::post().to(webhooks::create_webhook::<S>)),
            )
            .service(
                resource("/v1/webhooks/{id}", "GET, PATCH, DELETE")
                    .route(web::get().to(webhooks::get_webhook::<S>))
                    .route(web::patch().to(webhooks::update_webhook::<S>))
                    .route(web::delete().to(webhooks::delete_webhook::<S>)),
            )
            .service(
                resource("/v1/webhooks/{id}/deliveries", "GET").route(web::get().to(webhooks::list_deliveries::<S>)),
            )
            .service(
                resource("/v1/webhooks/{id}/deliveries/{delivery_id}/retry", "POST")
                    .route(web::post().to(webhooks::retry_delivery::<S>)),
            )
            .service(resource("/v1/oauth/token", "POST").route(web::post().to(oauth::token::<S>)))
            .service(resource("/v1/oauth/revoke", "POST").route(web::post().to(oauth::revoke::<S>)))
            .service(resource("/v1/oauth/introspect", "POST").route(web::post().to(oauth::introspect::<S>)))
            .service(
                resource("/.well-known/oauth-authorization-server", "GET").route(web::get().to(oauth::metadata::<S>)),
            )
            .service(resource("/livez", "GET").route(web::get().to(system::livez)))
            .service(resource("/readyz", "GET").route(web::get().to(system::readyz::<S>)))
            .service(resource("/.well-known/jwks.json", "GET").route(web::get().to(system::jwks::<S>)))
            .service(web::redirect("/docs", "/docs/"))
            .service(resource("/openapi.json", "GET").route(web::get().to(openapi_json)))
            .service(SwaggerUi::new("/docs/{_:.*}").config(utoipa_swagger_ui::Config::new(["/openapi.json"])))
            .default_service(web::to(not_found));
    }
}

/// Headers every response carries (SECURITY.md "HTTP hygiene"). Responses
/// that set their own `Cache-Control` (the public keys) keep it.
#[must_use]
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
}

/// CORS for the configured admin-app origins only; with none configured,
/// browsers get no cross-origin access at all.
pub fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("idempotent-replayed"),
            request::REQUEST_ID_HEADER,
        ])
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
