//! Problems of desk phones and API clients.

use actix_web::http::StatusCode;
use voxport_domain::errors::{
    ApiClientError, ClaimError, CreateDeviceError, DeleteDeviceError, ProvisioningRefused, UpdateDeviceError,
};

use super::ApiError;

impl From<CreateDeviceError> for ApiError {
    fn from(e: CreateDeviceError) -> Self {
        match e {
            CreateDeviceError::MacTaken => Self::conflict(
                "mac_taken",
                "A device with that MAC address is already registered. If it is yours and registered \
                 elsewhere, your claim is on record: the platform operator can move it to you.",
            ),
            CreateDeviceError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<UpdateDeviceError> for ApiError {
    fn from(e: UpdateDeviceError) -> Self {
        match e {
            UpdateDeviceError::NotFound => Self::not_found("device"),
            UpdateDeviceError::Unknown(e) => Self::internal(e),
        }
    }
}

pub(crate) fn held_by(code: &'static str, what: &str, holder: voxport_domain::device::Holder) -> ApiError {
    let mut e = ApiError::conflict(code, format!("{what} {} ({}); free it first.", holder.login, holder.user_id));
    e.extra_mut().holder = Some(holder);
    e
}

impl From<DeleteDeviceError> for ApiError {
    fn from(e: DeleteDeviceError) -> Self {
        match e {
            DeleteDeviceError::NotFound => Self::not_found("device"),
            DeleteDeviceError::Assigned(holder) => held_by("device_in_use", "The device serves", holder),
            DeleteDeviceError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<ClaimError> for ApiError {
    fn from(e: ClaimError) -> Self {
        match e {
            ClaimError::NotOperator => Self::new(
                StatusCode::FORBIDDEN,
                "platform_operator_only",
                "Only the platform operator, in their own tenant, handles claims.",
            ),
            ClaimError::NotFound => Self::not_found("claim"),
            ClaimError::Stale => Self::conflict(
                "claim_stale",
                "The claimed object moved or went since it was claimed; the claim is dropped.",
            ),
            ClaimError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<ProvisioningRefused> for ApiError {
    fn from(e: ProvisioningRefused) -> Self {
        match e {
            ProvisioningRefused::Unauthenticated => {
                let mut e = Self::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_credentials",
                    "Give the device's provisioning username and password (HTTP Basic).",
                );
                e.extra_mut().www_authenticate = Some(PROVISIONING_CHALLENGE);
                e
            }
            ProvisioningRefused::NotFound => Self::not_found("configuration for that MAC address"),
            ProvisioningRefused::TooMany { retry_after } => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    "Too many failed fetches from your address; wait and try again.",
                );
                e.extra_mut().retry_after = Some(retry_after);
                e
            }
            ProvisioningRefused::Unknown(e) => Self::internal(e),
        }
    }
}

/// The challenge of a provisioning 401 (RFC 7617).
pub(crate) const PROVISIONING_CHALLENGE: &str = "Basic realm=\"voxport provisioning\", charset=\"UTF-8\"";

impl From<ApiClientError> for ApiError {
    fn from(e: ApiClientError) -> Self {
        match e {
            ApiClientError::NotFound => Self::not_found("API client"),
            ApiClientError::PermissionNotHeld(missing) => Self::not_held(&missing),
            ApiClientError::Unknown(e) => Self::internal(e),
        }
    }
}
