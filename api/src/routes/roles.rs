//! `/v1/roles` and `/v1/permissions`: named permission sets of a tenant,
//! and the catalog they draw from.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    paging::Page,
    permission::{Permission, PermissionSet},
    ports::Store,
    role::{NewRole, RoleChanges},
    values::Label,
};

use super::nullable;
use crate::{
    extract::{Auth, Fields, Json, Query},
    problem::{ApiError, Problem},
    responses::{BadBody, BadQuery, Forbidden, RoleNotFound, Unauthenticated},
    schema::PermissionCode,
    views::{PermissionPage, PermissionView, RolePage, RoleView},
};

const MAX_DESCRIPTION_CHARS: usize = 500;

list_params! {
    pub struct PageParams {}
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Receptionist", "description": "Front desk", "permissions": ["users:read", "call_records:read"]}))]
pub struct CreateRoleBody {
    /// Unique in the tenant, ignoring case.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Receptionist"
    )]
    pub name: String,
    #[schema(max_length = 500, pattern = r"^[^\u0000-\u0009\u000B-\u001F\u007F-\u009F]*$")]
    pub description: Option<String>,
    /// Permission codes from `GET /v1/permissions`.
    #[schema(value_type = Vec<PermissionCode>)]
    pub permissions: Vec<String>,
    /// Every holder must sign in with a second factor (default false).
    #[serde(default)]
    pub two_factor_required: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"permissions": ["users:read"]}))]
pub struct UpdateRoleBody {
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Receptionist"
    )]
    pub name: Option<String>,
    /// `null` removes the description.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^[^\u0000-\u0009\u000B-\u001F\u007F-\u009F]*$")]
    pub description: Option<Option<String>>,
    #[schema(value_type = Option<Vec<PermissionCode>>)]
    pub permissions: Option<Vec<String>>,
    /// Every holder must sign in with a second factor.
    pub two_factor_required: Option<bool>,
}

pub(crate) fn parse_permissions(f: &mut Fields, codes: &[String]) -> Option<PermissionSet> {
    let mut ok = true;
    let mut set = Vec::with_capacity(codes.len());
    for (i, code) in codes.iter().enumerate() {
        match Permission::parse(code) {
            Ok(p) => set.push(p),
            Err(e) => {
                f.add(&format!("permissions[{i}]"), e);
                ok = false;
            }
        }
    }
    ok.then(|| set.into_iter().collect())
}

fn parse_description(f: &mut Fields, raw: Option<String>) -> Option<Option<String>> {
    match raw.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()) {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_CHARS => {
            f.add("description", format!("must be at most {MAX_DESCRIPTION_CHARS} characters"));
            None
        }
        Some(d) if d.chars().any(|c| c.is_control() && c != '\n') => {
            f.add("description", "must not contain control characters");
            None
        }
        other => Some(other),
    }
}

/// List the permission catalog
///
/// Every permission a role can hold. Needs `roles:read`.
#[utoipa::path(
    get, path = "/v1/permissions", tag = "roles", operation_id = "list_permissions",
    params(PageParams),
    responses(
        (status = 200, description = "The catalog", body = PermissionPage),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("roles:read"))),
)]
pub async fn list_permissions(
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<web::Json<PermissionPage>, ApiError> {
    auth.require(Permission::RolesRead)?;
    let page = params.page_request()?;
    let all = Permission::ALL;
    let items: Vec<Permission> = all
        .iter()
        .copied()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(page.per_page()).unwrap_or(usize::MAX))
        .collect();
    let page = Page { items, total: all.len() as u64, page: page.page(), per_page: page.per_page() };
    Ok(web::Json(PermissionPage::new(page, |p| PermissionView {
        code: p.code().to_owned(),
        description: p.description().to_owned(),
    })))
}

/// List roles
///
/// The tenant's built-in and custom roles, by name. Needs `roles:read`.
#[utoipa::path(
    get, path = "/v1/roles", tag = "roles", operation_id = "list_roles",
    params(PageParams),
    responses(
        (status = 200, description = "One page of roles", body = RolePage),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("roles:read"))),
)]
pub async fn list_roles<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<PageParams>,
) -> Result<web::Json<RolePage>, ApiError> {
    let actor = auth.require(Permission::RolesRead)?;
    let page = params.page_request()?;
    let roles = app.list_roles(actor, page).await?;
    Ok(web::Json(RolePage::new(roles, |r| RoleView::from(r))))
}

/// Create a custom role
///
/// Needs `roles:write` and every permission the role grants.
#[utoipa::path(
    post, path = "/v1/roles", tag = "roles", operation_id = "create_role",
    request_body = CreateRoleBody,
    responses(
        (status = 201, description = "The role was created", body = RoleView),
        (status = 409, description = "`role_name_taken`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("roles:write"))),
)]
pub async fn create_role<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<CreateRoleBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::RolesWrite)?;
    let mut f = Fields::default();
    let name = f.check("name", Label::parse(&body.name));
    let description = parse_description(&mut f, body.description);
    let permissions = parse_permissions(&mut f, &body.permissions);
    let (Some(name), Some(description), Some(permissions)) = (name, description, permissions) else {
        return Err(f.into_error());
    };
    let role = app
        .create_role(
            actor,
            NewRole { name, description, permissions, two_factor_required: body.two_factor_required },
            Utc::now(),
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/roles/{}", role.id)))
        .json(RoleView::from(&role)))
}

/// Show a role
///
/// Needs `roles:read`.
#[utoipa::path(
    get, path = "/v1/roles/{id}", tag = "roles", operation_id = "get_role",
    params(("id" = Uuid, Path, description = "The role's id")),
    responses(
        (status = 200, description = "The role", body = RoleView),
        RoleNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("roles:read"))),
)]
pub async fn get_role<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<RoleView>, ApiError> {
    let actor = auth.require(Permission::RolesRead)?;
    let role = app.role(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("role"))?;
    Ok(web::Json(RoleView::from(&role)))
}

/// Change a custom role
///
/// Built-in roles cannot be changed. Needs `roles:write` and every
/// permission the role would grant.
#[utoipa::path(
    patch, path = "/v1/roles/{id}", tag = "roles", operation_id = "update_role",
    params(("id" = Uuid, Path, description = "The role's id")),
    request_body = UpdateRoleBody,
    responses(
        (status = 200, description = "The changed role", body = RoleView),
        RoleNotFound,
        (status = 409, description = "`role_built_in` or `role_name_taken`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("roles:write"))),
)]
pub async fn update_role<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateRoleBody>,
) -> Result<web::Json<RoleView>, ApiError> {
    let actor = auth.require(Permission::RolesWrite)?;
    let mut f = Fields::default();
    let name = f.optional("name", body.name.as_deref(), Label::parse);
    let description = match body.description {
        None => Some(None),
        Some(raw) => parse_description(&mut f, raw).map(Some),
    };
    let permissions = match &body.permissions {
        None => Some(None),
        Some(codes) => parse_permissions(&mut f, codes).map(Some),
    };
    let (Some(name), Some(description), Some(permissions)) = (name, description, permissions) else {
        return Err(f.into_error());
    };
    let changes = RoleChanges { name, description, permissions, two_factor_required: body.two_factor_required };
    let role = app.update_role(actor, id.into_inner(), changes, Utc::now()).await?;
    Ok(web::Json(RoleView::from(&role)))
}

/// Delete a custom role
///
/// Built-in roles and roles still held by users cannot be deleted. Needs
/// `roles:write`.
#[utoipa::path(
    delete, path = "/v1/roles/{id}", tag = "roles", operation_id = "delete_role",
    params(("id" = Uuid, Path, description = "The role's id")),
    responses(
        (status = 204, description = "The role is gone"),
        RoleNotFound,
        (status = 409, description = "`role_built_in` or `role_in_use`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("roles:write"))),
)]
pub async fn delete_role<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::RolesWrite)?;
    app.delete_role(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
