//! `/v1/api-clients`: integrators' OAuth2 clients of the caller's tenant
//! (issue 9). Tokens come from `POST /v1/oauth/token` (`super::oauth`).

use actix_web::{HttpResponse, http::header, web};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    actor::Actor,
    api_client::{ApiClientChanges, NewApiClient},
    permission::Permission,
    ports::Store,
    services::DEFAULT_SECRET_OVERLAP,
    values::{Cidr, Label},
};

use super::{nullable, roles::parse_permissions};
use crate::{
    extract::{Auth, Fields, Json, OptionalJson, Query},
    problem::{ApiError, Problem},
    responses::{BadBody, BadQuery, Forbidden, Unauthenticated},
    schema::{NetworkEntry, PermissionCode},
    views::{ApiClientPage, ApiClientView, ApiClientWithSecretView},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme CRM", "permissions": ["users:read", "extensions:read"], "allowed_networks": ["203.0.113.0/24"]}))]
pub struct CreateApiClientBody {
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Acme CRM"
    )]
    pub name: String,
    /// Permission codes from `GET /v1/permissions`, each one the caller
    /// holds; a token's `scope` is a subset of them.
    #[schema(value_type = Vec<PermissionCode>)]
    pub permissions: Vec<String>,
    /// Where the client may get and use tokens from: IPv4 or IPv6
    /// addresses or CIDR networks; empty or absent allows anywhere.
    #[serde(default)]
    #[schema(value_type = Vec<NetworkEntry>, max_items = 100)]
    pub allowed_networks: Vec<String>,
    /// When it stops working; never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled": true}))]
pub struct UpdateApiClientBody {
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: Option<String>,
    #[schema(value_type = Option<Vec<PermissionCode>>)]
    pub permissions: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<NetworkEntry>>, max_items = 100)]
    pub allowed_networks: Option<Vec<String>>,
    /// `null`: never expires.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    /// A disabled client gets no tokens, and its tokens stop working at once.
    pub disabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"old_secret_expires_at": "2026-12-03T09:00:00Z"}))]
pub struct RotateClientSecretBody {
    /// Until when the previous secret keeps working beside the new one
    /// (default: 24 hours from now; now or a past time ends it at once).
    pub old_secret_expires_at: Option<DateTime<Utc>>,
}

list_params! {
    pub struct ApiClientListParams {}
}

/// Who may create or change API clients: a signed-in person of the
/// tenant holding `api_clients:write`. Neither a client (its credentials
/// would outlive whoever made it) nor a support agent acting in a
/// customer (who would leave a credential behind in a tenant not theirs).
fn manager(auth: &Auth) -> Result<&Actor, ApiError> {
    super::credential_manager(auth, Permission::ApiClientsWrite, "API clients")
}

fn parse_networks(f: &mut Fields, field: &str, raw: &[String]) -> Option<Vec<Cidr>> {
    if raw.len() > 100 {
        f.add(field, "at most 100 networks");
        return None;
    }
    let parsed: Vec<Option<Cidr>> =
        raw.iter().enumerate().map(|(i, n)| f.check(&format!("{field}[{i}]"), Cidr::parse(n))).collect();
    parsed.into_iter().collect()
}

/// List API clients
///
/// Integrators' OAuth2 clients of the caller's tenant, by name; never a
/// secret. Needs `api_clients:read`.
#[utoipa::path(
    get, path = "/v1/api-clients", tag = "api-clients", operation_id = "list_api_clients",
    params(ApiClientListParams),
    responses(
        (status = 200, description = "One page of API clients", body = ApiClientPage),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("api_clients:read"))),
)]
pub async fn list_api_clients<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<ApiClientListParams>,
) -> Result<web::Json<ApiClientPage>, ApiError> {
    let actor = auth.require(Permission::ApiClientsRead)?;
    let page = params.page_request()?;
    let clients = app.list_api_clients(actor, page).await?;
    Ok(web::Json(ApiClientPage::new(clients, |c| ApiClientView::from(c))))
}

/// Create an API client
///
/// It holds a subset of the caller's permissions (PRODUCT.md rule 7). The
/// answer shows `client_id` and `client_secret`, the secret this once.
/// Needs `api_clients:write`, held by a signed-in person of the tenant
/// (not an API client, not a support session: 403 `person_only`,
/// `own_tenant_only`). Changing, rotating or deleting a client needs every
/// permission it holds.
#[utoipa::path(
    post, path = "/v1/api-clients", tag = "api-clients", operation_id = "create_api_client",
    request_body = CreateApiClientBody,
    responses(
        (status = 201, description = "The client, with its secret shown once", body = ApiClientWithSecretView),
        (status = 403, description = "`permission_denied`, `person_only`, `own_tenant_only`, or `permission_not_held` with `missing_permissions`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("api_clients:write"))),
)]
pub async fn create_api_client<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<CreateApiClientBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = manager(&auth)?;
    let mut f = Fields::default();
    let name = f.check("name", Label::parse(&body.name));
    let permissions = parse_permissions(&mut f, &body.permissions);
    let allowed_networks = parse_networks(&mut f, "allowed_networks", &body.allowed_networks);
    let (Some(name), Some(permissions), Some(allowed_networks)) = (name, permissions, allowed_networks) else {
        return Err(f.into_error());
    };
    let new = NewApiClient { name, permissions, allowed_networks, expires_at: body.expires_at };
    let created = app.create_api_client(actor, new, Utc::now()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/api-clients/{}", created.client.id)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ApiClientWithSecretView::from(&created)))
}

/// Show an API client
///
/// Needs `api_clients:read`.
#[utoipa::path(
    get, path = "/v1/api-clients/{id}", tag = "api-clients", operation_id = "get_api_client",
    params(("id" = Uuid, Path, description = "The client's id (its `client_id`)")),
    responses(
        (status = 200, description = "The client", body = ApiClientView),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("api_clients:read"))),
)]
pub async fn get_api_client<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<ApiClientView>, ApiError> {
    let actor = auth.require(Permission::ApiClientsRead)?;
    let client = app.api_client(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("API client"))?;
    Ok(web::Json(ApiClientView::from(&client)))
}

/// Change an API client
///
/// Disabling it, or taking a permission away, applies to its tokens at
/// once. New permissions must be the caller's. Needs `api_clients:write`.
#[utoipa::path(
    patch, path = "/v1/api-clients/{id}", tag = "api-clients", operation_id = "update_api_client",
    params(("id" = Uuid, Path, description = "The client's id")),
    request_body = UpdateApiClientBody,
    responses(
        (status = 200, description = "The changed client", body = ApiClientView),
        (status = 403, description = "`permission_denied`, `person_only`, `own_tenant_only`, or `permission_not_held` with `missing_permissions`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("api_clients:write"))),
)]
pub async fn update_api_client<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateApiClientBody>,
) -> Result<web::Json<ApiClientView>, ApiError> {
    let actor = manager(&auth)?;
    let mut f = Fields::default();
    let name = f.optional("name", body.name.as_deref(), Label::parse);
    let permissions = match &body.permissions {
        None => Some(None),
        Some(codes) => parse_permissions(&mut f, codes).map(Some),
    };
    let allowed_networks = match &body.allowed_networks {
        None => Some(None),
        Some(raw) => parse_networks(&mut f, "allowed_networks", raw).map(Some),
    };
    let (Some(name), Some(permissions), Some(allowed_networks)) = (name, permissions, allowed_networks) else {
        return Err(f.into_error());
    };
    let changes =
        ApiClientChanges { name, permissions, allowed_networks, expires_at: body.expires_at, disabled: body.disabled };
    let changed = app.update_api_client(actor, id.into_inner(), changes, Utc::now()).await?;
    Ok(web::Json(ApiClientView::from(&changed)))
}

/// Delete an API client
///
/// Its tokens stop working at once. Needs `api_clients:write`.
#[utoipa::path(
    delete, path = "/v1/api-clients/{id}", tag = "api-clients", operation_id = "delete_api_client",
    params(("id" = Uuid, Path, description = "The client's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`permission_denied`, `person_only`, `own_tenant_only`, or `permission_not_held` with `missing_permissions`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("api_clients:write"))),
)]
pub async fn delete_api_client<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = manager(&auth)?;
    app.delete_api_client(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate an API client's secret
///
/// A new secret, shown this once; the previous one keeps working until
/// `old_secret_expires_at`, so the integrator switches without an outage.
/// At most two secrets work at once. The body may be left out. Needs
/// `api_clients:write`.
#[utoipa::path(
    post, path = "/v1/api-clients/{id}/rotate-secret", tag = "api-clients", operation_id = "rotate_client_secret",
    params(("id" = Uuid, Path, description = "The client's id")),
    request_body = RotateClientSecretBody,
    responses(
        (status = 200, description = "The client, with its new secret shown once", body = ApiClientWithSecretView),
        (status = 403, description = "`permission_denied`, `person_only`, `own_tenant_only`, or `permission_not_held` with `missing_permissions`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("api_clients:write"))),
)]
pub async fn rotate_client_secret<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    OptionalJson(body): OptionalJson<RotateClientSecretBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = manager(&auth)?;
    let now = Utc::now();
    let old_until = body.unwrap_or_default().old_secret_expires_at.unwrap_or(now + DEFAULT_SECRET_OVERLAP);
    let rotated = app.rotate_client_secret(actor, id.into_inner(), old_until, now).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(ApiClientWithSecretView::from(&rotated)))
}
