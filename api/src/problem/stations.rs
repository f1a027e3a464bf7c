//! Problems of station licence pools.

use actix_web::http::StatusCode;
use voxport_domain::errors::{CreateStationError, DeleteStationError, UpdateStationError};

use super::ApiError;

impl From<CreateStationError> for ApiError {
    fn from(e: CreateStationError) -> Self {
        match e {
            CreateStationError::CodeTaken => {
                Self::conflict("station_code_taken", "The tenant already has a station with that code.")
            }
            CreateStationError::TenantNotFound => Self::tenant_not_found(),
            CreateStationError::NotTheParent => not_the_parent(),
            CreateStationError::Unknown(e) => Self::internal(e),
        }
    }
}

pub(crate) fn not_the_parent() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_the_parent",
        "Only the parent tenant (your reseller or the platform) changes your station pools; ask them to order more.",
    )
}

impl From<UpdateStationError> for ApiError {
    fn from(e: UpdateStationError) -> Self {
        match e {
            UpdateStationError::NotFound => Self::not_found("station"),
            UpdateStationError::NotTheParent => not_the_parent(),
            UpdateStationError::QuantityBelowInUse { in_use } => Self::conflict(
                "quantity_below_in_use",
                format!("{in_use} licences are in use; release some before lowering the quantity below that."),
            ),
            UpdateStationError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<DeleteStationError> for ApiError {
    fn from(e: DeleteStationError) -> Self {
        match e {
            DeleteStationError::NotFound => Self::not_found("station"),
            DeleteStationError::NotTheParent => not_the_parent(),
            DeleteStationError::InUse => Self::conflict("station_in_use", "Users still hold licences of this station."),
            DeleteStationError::Unknown(e) => Self::internal(e),
        }
    }
}
