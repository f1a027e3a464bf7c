//! Problems of roles.

use voxport_domain::errors::{CreateRoleError, DeleteRoleError, UpdateRoleError};

use super::ApiError;

impl From<CreateRoleError> for ApiError {
    fn from(e: CreateRoleError) -> Self {
        match e {
            CreateRoleError::NameTaken => role_name_taken(),
            CreateRoleError::PermissionNotHeld(missing) => Self::not_held(&missing),
            CreateRoleError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<UpdateRoleError> for ApiError {
    fn from(e: UpdateRoleError) -> Self {
        match e {
            UpdateRoleError::NotFound => Self::not_found("role"),
            UpdateRoleError::BuiltIn => Self::conflict("role_built_in", "Built-in roles cannot be changed."),
            UpdateRoleError::NameTaken => role_name_taken(),
            UpdateRoleError::PermissionNotHeld(missing) => Self::not_held(&missing),
            UpdateRoleError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<DeleteRoleError> for ApiError {
    fn from(e: DeleteRoleError) -> Self {
        match e {
            DeleteRoleError::NotFound => Self::not_found("role"),
            DeleteRoleError::BuiltIn => Self::conflict("role_built_in", "Built-in roles cannot be deleted."),
            DeleteRoleError::InUse => {
                Self::conflict("role_in_use", "Users still hold this role; give them another first.")
            }
            DeleteRoleError::Unknown(e) => Self::internal(e),
        }
    }
}

fn role_name_taken() -> ApiError {
    ApiError::conflict("role_name_taken", "The tenant already has a role of that name.")
}
