//! Problems of extensions.

use voxport_domain::errors::{CreateExtensionError, DeleteExtensionError, UpdateExtensionError};

use super::{ApiError, extension_number_taken, held_by, out_of_range};

impl From<CreateExtensionError> for ApiError {
    fn from(e: CreateExtensionError) -> Self {
        match e {
            CreateExtensionError::NumberTaken => extension_number_taken(),
            CreateExtensionError::NumberOutOfRange { min, max } => out_of_range(min, max),
            CreateExtensionError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<UpdateExtensionError> for ApiError {
    fn from(e: UpdateExtensionError) -> Self {
        match e {
            UpdateExtensionError::NotFound => Self::not_found("extension"),
            UpdateExtensionError::NumberTaken => extension_number_taken(),
            UpdateExtensionError::NumberOutOfRange { min, max } => out_of_range(min, max),
            UpdateExtensionError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<DeleteExtensionError> for ApiError {
    fn from(e: DeleteExtensionError) -> Self {
        match e {
            DeleteExtensionError::NotFound => Self::not_found("extension"),
            DeleteExtensionError::Assigned(holder) => held_by("extension_in_use", "The extension rings", holder),
            DeleteExtensionError::Unknown(e) => Self::internal(e),
        }
    }
}
