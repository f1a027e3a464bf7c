//! How a new account gets its password, for every way an account is made
//! (a user, a tenant's first administrator, the first operator): a given
//! one that meets the policy, a generated one shown once, or none yet, set
//! through the emailed link.

use crate::{
    auth::PasswordHash,
    errors::{CreateTenantError, CreateUserError},
    ports::Store,
    values::{InvalidPassword, Password, Secret},
};

use super::Voxport;

/// How a new account gets a password.
#[derive(Debug, Clone)]
pub enum NewPassword {
    /// An administrator typed one; it must meet the policy.
    Given(Secret),
    /// Generate one and show it once in the answer.
    Generate,
    /// None yet: the user sets it through the emailed link.
    ByLink,
    /// None yet, and no link: an identity provider's user without an
    /// address, who cannot sign in until one is set (SCIM).
    Unset,
}

/// The password a new account starts with.
#[derive(Debug)]
pub(super) struct ChosenPassword {
    /// What storage keeps; `None` for a link, or when nothing is hashed (a
    /// dry run).
    pub hash: Option<PasswordHash>,
    /// The generated password, to show once.
    pub generated: Option<Password>,
    /// The user sets the password through a link.
    pub by_link: bool,
}

/// Why a new account cannot have the password asked for.
#[derive(Debug, thiserror::Error)]
pub(super) enum PasswordChoiceError {
    #[error("the password does not meet the policy: {0}")]
    Weak(InvalidPassword),
    /// Nothing would carry a set-password link.
    #[error("the account needs a password: nothing would carry a set-password link")]
    NoLink,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

impl From<PasswordChoiceError> for CreateUserError {
    fn from(e: PasswordChoiceError) -> Self {
        match e {
            PasswordChoiceError::Weak(e) => Self::WeakPassword(e),
            PasswordChoiceError::NoLink => Self::PasswordRequired,
            PasswordChoiceError::Unknown(e) => Self::Unknown(e),
        }
    }
}

impl From<PasswordChoiceError> for CreateTenantError {
    fn from(e: PasswordChoiceError) -> Self {
        match e {
            PasswordChoiceError::Weak(e) => Self::WeakPassword(e),
            PasswordChoiceError::NoLink => Self::PasswordRequired,
            PasswordChoiceError::Unknown(e) => Self::Unknown(e),
        }
    }
}

impl<S: Store> Voxport<S> {
    /// Applies `choice` for a new account known by `personal` (its login,
    /// email and names, which the password must not contain). `link` says
    /// whether an email can carry a set-password link; with `hash` false (a
    /// dry run) the policy is checked, but no time is spent hashing.
    pub(super) async fn choose_password(
        &self,
        choice: &NewPassword,
        personal: &[&str],
        link: bool,
        hash: bool,
    ) -> Result<ChosenPassword, PasswordChoiceError> {
        let (password, generated) = match choice {
            NewPassword::Given(raw) => {
                (self.policy.check(raw.expose(), personal).map_err(PasswordChoiceError::Weak)?, false)
            }
            NewPassword::Generate => (self.policy.generate(), true),
            NewPassword::ByLink if link => {
                return Ok(ChosenPassword { hash: None, generated: None, by_link: true });
            }
            NewPassword::ByLink => return Err(PasswordChoiceError::NoLink),
            NewPassword::Unset => return Ok(ChosenPassword { hash: None, generated: None, by_link: false }),
        };
        let hash = if hash { Some(self.hasher.hash(&password).await?) } else { None };
        Ok(ChosenPassword { hash, generated: generated.then_some(password), by_link: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::users::UpdateUser;

    /// SECURITY.md: secrets never reach a log line, `Debug` included.
    #[test]
    fn passwords_on_their_way_to_the_hasher_stay_out_of_debug_output() {
        let password = "quiet-harbour-lights-42";
        let given = NewPassword::Given(Secret::new(password.to_owned()));
        let update = UpdateUser { password: Some(Secret::new(password.to_owned())), ..UpdateUser::default() };
        let chosen = ChosenPassword {
            hash: None,
            generated: Some(crate::values::PasswordPolicy::default().generate()),
            by_link: false,
        };
        let generated = chosen.generated.as_ref().map(|p| p.expose().to_owned()).unwrap();
        for shown in [format!("{given:?}"), format!("{update:?}")] {
            assert!(!shown.contains(password), "{shown}");
        }
        assert!(!format!("{chosen:?}").contains(&generated));
    }
}
