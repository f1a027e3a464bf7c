//! Problems of desk phones.

use voxport_domain::errors::{CreateDeviceError, DeleteDeviceError, UpdateDeviceError};

use super::ApiError;

impl From<CreateDeviceError> for ApiError {
    fn from(e: CreateDeviceError) -> Self {
        match e {
            CreateDeviceError::MacTaken => {
                Self::conflict("mac_taken", "A device with that MAC address is already registered.")
            }
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
