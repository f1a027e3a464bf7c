//! Roles and the permission catalog.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use uuid::Uuid;
use voxport_domain::{paging::Page, role::Role};

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    pub id: Uuid,
    #[schema(example = "Receptionist")]
    pub name: String,
    pub description: Option<String>,
    #[schema(example = json!(["users:read", "call_records:read_own"]))]
    pub permissions: Vec<String>,
    /// Built-in roles (Administrator, User, Call Center Admin,
    /// Transactions only) cannot be changed or deleted.
    pub builtin: bool,
    /// Every holder must sign in with a second factor.
    pub two_factor_required: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Role> for RoleView {
    fn from(r: &Role) -> Self {
        Self {
            id: r.id,
            name: r.name.as_str().to_owned(),
            description: r.description.clone(),
            permissions: r.permissions.iter().map(|p| p.code().to_owned()).collect(),
            builtin: r.builtin.is_some(),
            two_factor_required: r.two_factor_required,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionView {
    #[schema(example = "users:write")]
    pub code: String,
    pub description: String,
}

page_of!(RolePage, RoleView);
page_of!(PermissionPage, PermissionView);
