//! Problems of emails.

use voxport_domain::errors::SendEmailError;

use super::ApiError;

impl From<SendEmailError> for ApiError {
    fn from(e: SendEmailError) -> Self {
        match e {
            SendEmailError::UserNotFound => Self::not_found("user"),
            SendEmailError::PermissionNotHeld(missing) => Self::not_held(&missing),
            SendEmailError::NoEmail => {
                Self::conflict("no_email_address", "The user has no email address; give them one first.")
            }
            SendEmailError::Unknown(e) => Self::internal(e),
        }
    }
}
