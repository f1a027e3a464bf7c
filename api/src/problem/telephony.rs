//! Problems of giving users telephony: stations, devices, extensions, numbers, applications.

use actix_web::http::StatusCode;
use voxport_domain::{device::TooManyPorts, errors::TelephonyError};

use super::{ApiError, PoolCounts, held_by, not_unlocked};

impl From<TelephonyError> for ApiError {
    fn from(e: TelephonyError) -> Self {
        match e {
            TelephonyError::UserNotFound => Self::not_found("user"),
            TelephonyError::PermissionNotHeld(missing) => Self::not_held(&missing),
            TelephonyError::StationNotFound => {
                Self::new(StatusCode::NOT_FOUND, "station_not_found", "No such station (station_id) in your tenant.")
            }
            TelephonyError::StationUnavailable { quantity, in_use } => {
                let mut e = Self::conflict(
                    "station_unavailable",
                    format!(
                        "All {quantity} licences of this station are in use; order more stations from your provider, \
                         or release one from another user."
                    ),
                );
                e.extra_mut().station =
                    Some(PoolCounts { quantity, in_use, available: quantity.saturating_sub(in_use) });
                e
            }
            TelephonyError::DeviceNotFound => {
                Self::new(StatusCode::NOT_FOUND, "device_not_found", "No such device (device_id) in your tenant.")
            }
            TelephonyError::DeviceAssigned(holder) => held_by("device_assigned", "The device already serves", holder),
            TelephonyError::TooManyPorts(TooManyPorts { max }) => {
                Self::conflict("ports_exceed_device", format!("The device has only {max} line ports."))
            }
            TelephonyError::ExtensionNotFound => Self::new(
                StatusCode::NOT_FOUND,
                "extension_not_found",
                "No such extension (extension_id) in your tenant.",
            ),
            TelephonyError::ExtensionAssigned(holder) => {
                held_by("extension_assigned", "The extension already rings", holder)
            }
            TelephonyError::ExtensionNumberTaken => extension_number_taken(),
            TelephonyError::ExtensionNumberOutOfRange { min, max } => out_of_range(min, max),
            TelephonyError::PhoneNumberNotFound => Self::new(
                StatusCode::NOT_FOUND,
                "phone_number_not_found",
                "No such phone number (phone_number_id) in your tenant.",
            ),
            TelephonyError::PhoneNumberAssigned(holder) => {
                held_by("phone_number_assigned", "The number already rings", holder)
            }
            TelephonyError::PhoneNumberResting(until) => Self::conflict(
                "phone_number_resting",
                format!(
                    "The number was a deleted user's and rests until {}; nobody is given it before.",
                    until.to_rfc3339()
                ),
            ),
            TelephonyError::ApplicationsNotUnlocked(apps) => not_unlocked(&apps),
            TelephonyError::Unknown(e) => Self::internal(e),
        }
    }
}

pub(crate) fn extension_number_taken() -> ApiError {
    ApiError::conflict("extension_number_taken", "Your tenant already has an extension with that number.")
}

/// A number the schema allows (1 to 15 digits) that the tenant's dial plan,
/// which its parent may change, does not: a conflict with the tenant's
/// current settings, like a number that is taken.
pub(crate) fn out_of_range(min: u8, max: u8) -> ApiError {
    ApiError::conflict(
        "extension_number_out_of_range",
        format!("Your tenant's extension numbers have {min} to {max} digits; your provider can change that."),
    )
}
