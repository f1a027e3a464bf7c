//! Problems of phone numbers.

use actix_web::http::StatusCode;
use voxport_domain::errors::{CreatePhoneNumberError, DeletePhoneNumberError, UpdatePhoneNumberError};

use super::{ApiError, held_by};

pub(crate) fn numbers_not_yours() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "not_the_parent",
        "Only the parent tenant (your reseller or the platform) adds and removes your phone numbers, \
         unless it allows you to.",
    )
}

impl From<CreatePhoneNumberError> for ApiError {
    fn from(e: CreatePhoneNumberError) -> Self {
        match e {
            CreatePhoneNumberError::NumberTaken => Self::conflict(
                "phone_number_taken",
                "That number is already on the platform. If it is yours and held elsewhere, your claim \
                     is on record: the platform operator can move it to you.",
            ),
            CreatePhoneNumberError::TenantNotFound => Self::tenant_not_found(),
            CreatePhoneNumberError::NotTheParent => numbers_not_yours(),
            CreatePhoneNumberError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<UpdatePhoneNumberError> for ApiError {
    fn from(e: UpdatePhoneNumberError) -> Self {
        match e {
            UpdatePhoneNumberError::NotFound => Self::not_found("phone number"),
            UpdatePhoneNumberError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<DeletePhoneNumberError> for ApiError {
    fn from(e: DeletePhoneNumberError) -> Self {
        match e {
            DeletePhoneNumberError::NotFound => Self::not_found("phone number"),
            DeletePhoneNumberError::NotTheParent => numbers_not_yours(),
            DeletePhoneNumberError::Assigned(holder) => held_by("phone_number_in_use", "The number rings", holder),
            DeletePhoneNumberError::Unknown(e) => Self::internal(e),
        }
    }
}
