//! `/v1/tenants`: the customer (and reseller) tenants below the caller's.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    extension::ExtensionDigits,
    permission::Permission,
    ports::Store,
    services::CreateTenant,
    tenant::{TenantChanges, TenantKind},
    values::Secret,
    values::{Email, Login, PersonName, Slug, TenantName},
};

use super::{new_password, whole_number};
use crate::{
    extract::{Auth, Fields, Json, Query},
    problem::{ApiError, Problem},
    responses::{BadBody, BadQuery, Forbidden, TenantNotFound, Unauthenticated},
    views::{CreatedTenantView, CreatedUserView, TenantPage, TenantView},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantAdminBody {
    /// Defaults to the email address.
    #[schema(pattern = r"^[!-~]{1,64}$")]
    pub login: Option<String>,
    #[schema(format = Email, max_length = 254, example = "it@acme.example")]
    pub email: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Ada"
    )]
    pub first_name: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Admin"
    )]
    pub last_name: String,
    #[schema(value_type = Option<String>, min_length = 12, max_length = 128, example = "quiet-harbour-lights")]
    pub password: Option<Secret>,
    /// Generate the password and return it once.
    #[serde(default)]
    pub generate_password: bool,
    /// Write the administrator's welcome email (default true); without a
    /// password it carries the link to set one.
    pub send_welcome_email: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Acme Corporation", "slug": "acme",
    "admin": {"email": "it@acme.example", "first_name": "Ada", "last_name": "Admin", "generate_password": true}
}))]
pub struct CreateTenantBody {
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Acme Corporation"
    )]
    pub name: String,
    /// Lower-case letters, digits and single hyphens; unique on the platform.
    #[schema(min_length = 2, max_length = 63, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$", example = "acme")]
    pub slug: String,
    /// The owning tenant; defaults to the caller's. Must be the caller's
    /// tenant or a reseller below it.
    pub parent_id: Option<Uuid>,
    /// `customer` (default) or `reseller`.
    pub kind: Option<NewTenantKind>,
    /// The tenant's first administrator.
    pub admin: TenantAdminBody,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme Corp."}))]
pub struct UpdateTenantBody {
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Acme Corp."
    )]
    pub name: Option<String>,
    #[schema(min_length = 2, max_length = 63, pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    /// How many digits the tenant's new extension numbers have (1 to 15,
    /// `min` at most `max`); existing extensions keep theirs.
    pub extension_digits: Option<ExtensionDigitsBody>,
    /// Whether the tenant's own administrators may add and remove phone
    /// numbers.
    pub own_phone_numbers: Option<bool>,
}

/// A tenant's dial plan, as set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDigitsBody {
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 1, maximum = 15, example = 2)]
    pub min: u32,
    /// At least `min`.
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 1, maximum = 15, example = 6)]
    pub max: u32,
}

/// The kinds of tenant that can be created.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NewTenantKind {
    Customer,
    Reseller,
}

list_params! {
    pub struct TenantListParams {
        /// Matches name and slug, ignoring case.
        pub q: Option<String>,
    }
}

/// List tenants
///
/// Every tenant below the caller's (customers, resellers and their
/// customers), by slug. Needs `tenants:read`.
#[utoipa::path(
    get, path = "/v1/tenants", tag = "tenants", operation_id = "list_tenants",
    params(TenantListParams),
    responses(
        (status = 200, description = "One page of tenants", body = TenantPage),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("tenants:read"))),
)]
pub async fn list_tenants<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<TenantListParams>,
) -> Result<web::Json<TenantPage>, ApiError> {
    let actor = auth.require(Permission::TenantsRead)?;
    let page = params.page_request()?;
    let tenants = app.list_tenants(actor, params.q.as_deref(), page).await?;
    Ok(web::Json(TenantPage::new(tenants, |t| TenantView::new(t, app.sip_domain(t)))))
}

/// Create a tenant
///
/// Creates a customer (or reseller) tenant with the four built-in roles and
/// its first administrator. Needs `tenants:write`, and every permission
/// the new tenant's Administrator role holds (403 `permission_not_held`
/// otherwise): whoever chooses that administrator's password could use
/// them. The administrator's `password` and `generate_password` exclude
/// each other (422).
#[utoipa::path(
    post, path = "/v1/tenants", tag = "tenants", operation_id = "create_tenant",
    request_body = CreateTenantBody,
    responses(
        (status = 201, description = "The tenant and its administrator", body = CreatedTenantView),
        (status = 404, description = "`tenant_not_found`: no such parent below the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`slug_taken`, `login_taken` or `parent_cannot_own_tenants`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("tenants:write"))),
)]
pub async fn create_tenant<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<CreateTenantBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::TenantsWrite)?;
    let mut f = Fields::default();
    let name = f.check("name", TenantName::parse(&body.name));
    let slug = f.check("slug", Slug::parse(&body.slug));
    let kind = Some(match body.kind.unwrap_or(NewTenantKind::Customer) {
        NewTenantKind::Customer => TenantKind::Customer,
        NewTenantKind::Reseller => TenantKind::Reseller,
    });
    let admin = body.admin;
    let email = f.check("admin.email", Email::parse(&admin.email));
    let login = match (&admin.login, &email) {
        (Some(raw), _) => f.check("admin.login", Login::parse(raw)),
        (None, Some(email)) => f.check("admin.email", Login::from_email(email)),
        (None, None) => None,
    };
    let first_name = f.check("admin.first_name", PersonName::parse(&admin.first_name));
    let last_name = f.check("admin.last_name", PersonName::parse(&admin.last_name));
    let password = new_password(&mut f, "admin.generate_password", admin.password, admin.generate_password);
    let (
        Some(name),
        Some(slug),
        Some(kind),
        Some(email),
        Some(login),
        Some(first_name),
        Some(last_name),
        Some(password),
    ) = (name, slug, kind, email, login, first_name, last_name, password)
    else {
        return Err(f.into_error());
    };
    let now = Utc::now();
    let created = app
        .create_tenant(
            actor,
            CreateTenant {
                parent_id: body.parent_id,
                kind,
                name,
                slug,
                admin_login: login,
                admin_email: email,
                admin_first_name: first_name,
                admin_last_name: last_name,
                admin_password: password,
                send_welcome_email: admin.send_welcome_email.unwrap_or(true),
            },
            now,
        )
        .await?;
    let view = CreatedTenantView {
        tenant: TenantView::new(&created.tenant, app.sip_domain(&created.tenant)),
        admin: CreatedUserView::new(&created.admin, now),
    };
    Ok(HttpResponse::Created().insert_header(("Location", format!("/v1/tenants/{}", created.tenant.id))).json(view))
}

/// Show a tenant
///
/// The caller's own tenant or one below it. Needs `tenants:read`.
#[utoipa::path(
    get, path = "/v1/tenants/{id}", tag = "tenants", operation_id = "get_tenant",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        TenantNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("tenants:read"))),
)]
pub async fn get_tenant<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<TenantView>, ApiError> {
    let actor = auth.require(Permission::TenantsRead)?;
    let tenant = app.tenant(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("tenant"))?;
    Ok(web::Json(TenantView::new(&tenant, app.sip_domain(&tenant))))
}

/// Change a tenant
///
/// Renames a tenant below the caller's, or changes its settings: the
/// length of its extension numbers and whether its administrators add
/// phone numbers themselves. Needs `tenants:write`.
///
/// A rule that spans fields, which JSON Schema cannot state, answers 422:
/// `extension_digits.min` must be at most `extension_digits.max`.
#[utoipa::path(
    patch, path = "/v1/tenants/{id}", tag = "tenants", operation_id = "update_tenant",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    request_body = UpdateTenantBody,
    responses(
        (status = 200, description = "The changed tenant", body = TenantView),
        TenantNotFound,
        (status = 409, description = "`slug_taken`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("tenants:write"))),
)]
pub async fn update_tenant<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateTenantBody>,
) -> Result<web::Json<TenantView>, ApiError> {
    let actor = auth.require(Permission::TenantsWrite)?;
    let mut f = Fields::default();
    let name = f.optional("name", body.name.as_deref(), TenantName::parse);
    let slug = f.optional("slug", body.slug.as_deref(), Slug::parse);
    let extension_digits = match &body.extension_digits {
        None => Some(None),
        Some(d) => f.check("extension_digits", ExtensionDigits::new(d.min, d.max)).map(Some),
    };
    let (Some(name), Some(slug), Some(extension_digits)) = (name, slug, extension_digits) else {
        return Err(f.into_error());
    };
    let changes = TenantChanges { name, slug, extension_digits, own_phone_numbers: body.own_phone_numbers };
    let tenant = app.update_tenant(actor, id.into_inner(), changes, Utc::now()).await?;
    Ok(web::Json(TenantView::new(&tenant, app.sip_domain(&tenant))))
}

/// Delete a tenant
///
/// Deletes a tenant below the caller's with its users and roles. A tenant
/// that still owns tenants cannot be deleted. Needs `tenants:write`.
#[utoipa::path(
    delete, path = "/v1/tenants/{id}", tag = "tenants", operation_id = "delete_tenant",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    responses(
        (status = 204, description = "The tenant is gone"),
        TenantNotFound,
        (status = 409, description = "`cannot_delete_own_tenant` or `tenant_has_children`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("tenants:write"))),
)]
pub async fn delete_tenant<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::TenantsWrite)?;
    app.delete_tenant(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
