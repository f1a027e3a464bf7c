//! Problems of tenants.

use actix_web::http::StatusCode;
use voxport_domain::errors::{CreateTenantError, DeleteTenantError, UpdateTenantError};

use super::{ApiError, weak_password};

impl From<CreateTenantError> for ApiError {
    fn from(e: CreateTenantError) -> Self {
        match e {
            CreateTenantError::SlugTaken => slug_taken(),
            CreateTenantError::ParentNotFound => {
                Self::new(StatusCode::NOT_FOUND, "tenant_not_found", "No such parent tenant (parent_id) below yours.")
            }
            CreateTenantError::ParentIsCustomer => Self::conflict(
                "parent_cannot_own_tenants",
                "The parent (parent_id) is a customer; only resellers own tenants.",
            ),
            CreateTenantError::PermissionNotHeld(missing) => Self::not_held(&missing),
            CreateTenantError::AdminLoginTaken => {
                Self::conflict("login_taken", "The administrator's login is already in use.")
            }
            CreateTenantError::WeakPassword(e) => weak_password("admin.password", &e),
            CreateTenantError::PasswordRequired => Self::field(
                "admin.password",
                "without the welcome email, nothing can carry a set-password link: give a password or generate one",
            ),
            CreateTenantError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<UpdateTenantError> for ApiError {
    fn from(e: UpdateTenantError) -> Self {
        match e {
            UpdateTenantError::NotFound => Self::not_found("tenant"),
            UpdateTenantError::SlugTaken => slug_taken(),
            UpdateTenantError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<DeleteTenantError> for ApiError {
    fn from(e: DeleteTenantError) -> Self {
        match e {
            DeleteTenantError::NotFound => Self::not_found("tenant"),
            DeleteTenantError::OwnTenant => {
                Self::conflict("cannot_delete_own_tenant", "Nobody deletes their own tenant.")
            }
            DeleteTenantError::HasChildren => {
                Self::conflict("tenant_has_children", "The tenant still owns other tenants; delete those first.")
            }
            DeleteTenantError::Unknown(e) => Self::internal(e),
        }
    }
}

fn slug_taken() -> ApiError {
    ApiError::conflict("slug_taken", "Another tenant has that slug.")
}
