//! Portal users: the people who sign in to the portal, the web dialer and
//! the desktop app with one login and password.
//!
//! A user's status is derived, never stored (PRODUCT.md rule 6): switched
//! off by an admin it is `disabled`; past its expiration date `expired`;
//! before its activation date `pending`; otherwise `active`. Only active
//! users sign in.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    device::DeviceRef,
    extension::ExtensionRef,
    phone_number::PhoneNumberRef,
    role::Role,
    station::{Application, StationRef},
    values::{Cidr, Email, Language, Login, PersonName, Timezone},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Pending,
    Active,
    Expired,
    Disabled,
}

impl UserStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Disabled => "disabled",
        }
    }

    /// The status at `now` of an account with these settings. The order of
    /// the checks is the precedence: an admin's switch beats the calendar,
    /// and an account past its end never counts as pending.
    #[must_use]
    pub fn at(
        now: DateTime<Utc>,
        disabled: bool,
        activation_at: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        if disabled {
            Self::Disabled
        } else if expires_at.is_some_and(|end| end <= now) {
            Self::Expired
        } else if activation_at.is_some_and(|start| start > now) {
            Self::Pending
        } else {
            Self::Active
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub login: Login,
    pub email: Option<Email>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub role: Role,
    /// The station licence the user holds.
    pub station: Option<StationRef>,
    /// The desk phone the user holds.
    pub device: Option<DeviceRef>,
    /// The extensions that ring the user, by number.
    pub extensions: Vec<ExtensionRef>,
    /// The phone number (DID) that rings the user.
    pub phone_number: Option<PhoneNumberRef>,
    /// The applications enabled for the user: a subset of what their
    /// station unlocks (PRODUCT.md rule 9).
    pub applications: Vec<Application>,
    pub two_factor: TwoFactorStatus,
    /// The networks the user may sign in and call the API from; empty
    /// means anywhere.
    pub allowed_networks: Vec<Cidr>,
    pub disabled: bool,
    pub activation_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub timezone: Timezone,
    pub language: Language,
    /// What an identity provider's directory knows of the user (SCIM).
    pub directory: Directory,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an identity provider's directory knows of a user beyond the
/// portal's fields, kept as it sent them (SCIM, issue 14).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Directory {
    /// The directory's own id for the user (SCIM `externalId`), verbatim.
    #[serde(skip)]
    pub external_id: Option<String>,
    /// When the directory deactivated the user (SCIM `active=false`): what
    /// they hold stays theirs for the tenant's hold, then goes.
    #[serde(skip)]
    pub deprovisioned_at: Option<DateTime<Utc>>,
    /// The station pool whose licence the user gave back when deactivated,
    /// to take again when reactivated.
    #[serde(skip)]
    pub held_station_id: Option<Uuid>,
    /// The applications the user had enabled when they gave back that
    /// licence, to enable again with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_applications: Vec<crate::station::Application>,
    /// How the directory shows the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The addresses as the directory sent them; the user's email is the
    /// primary one, else the work one, else the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Contact>,
    /// Phone numbers to reach the user at: contact data only, never a
    /// phone number (DID) the user is given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<Contact>,
    /// Attributes the directory removed that the portal keeps a value for
    /// (`active`, `timezone`, …): unassigned to the directory, the
    /// portal's default to everyone else (RFC 7644 §3.5.2.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unassigned: Vec<String>,
}

impl Directory {
    /// Whether nothing is kept beyond the columns of its own (the external
    /// id, the deprovisioning).
    #[must_use]
    pub fn is_bare(&self) -> bool {
        self.display_name.is_none()
            && self.emails.is_empty()
            && self.phone_numbers.is_empty()
            && self.unassigned.is_empty()
            && self.held_applications.is_empty()
    }
}

/// An address or number of a directory's user (SCIM `emails`,
/// `phoneNumbers`), as it sent it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Contact {
    pub value: String,
    /// `work`, `mobile`, … as the directory labels it.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// The longest directory id or display name kept.
pub const MAX_DIRECTORY_TEXT: usize = 200;

/// The most addresses or numbers kept for a user.
pub const MAX_CONTACTS: usize = 10;

/// Which account: a user and the tenant they belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountId {
    pub tenant_id: Uuid,
    pub user_id: Uuid,
}

impl From<&User> for AccountId {
    fn from(user: &User) -> Self {
        Self { tenant_id: user.tenant_id, user_id: user.id }
    }
}

/// What every request checks of the user behind its token: who they are,
/// their role, whether they may sign in now and from where. Without what
/// they hold, so authenticating a request costs two queries.
#[derive(Debug, Clone)]
pub struct Principal {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub role: Role,
    pub disabled: bool,
    pub activation_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub allowed_networks: Vec<Cidr>,
}

impl Principal {
    #[must_use]
    pub fn status(&self, now: DateTime<Utc>) -> UserStatus {
        UserStatus::at(now, self.disabled, self.activation_at, self.expires_at)
    }
}

/// Where a user stands with the second factor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TwoFactorStatus {
    /// Enrolment is confirmed: sign-in needs a code.
    pub enabled: bool,
    /// An administrator demands it, for the user or their role.
    pub required: bool,
}

impl User {
    #[must_use]
    pub fn status(&self, now: DateTime<Utc>) -> UserStatus {
        UserStatus::at(now, self.disabled, self.activation_at, self.expires_at)
    }

    /// Whether the user counts towards the rule that a tenant keeps an
    /// active administrator (PRODUCT.md rule 7).
    #[must_use]
    pub fn is_active_admin(&self, now: DateTime<Utc>) -> bool {
        self.role.is_administrator() && self.status(now) == UserStatus::Active
    }

    /// What a new password of this user must not contain.
    #[must_use]
    pub fn personal_words(&self) -> Vec<&str> {
        let mut words = vec![self.login.as_str(), self.first_name.as_str(), self.last_name.as_str()];
        words.extend(self.email.as_ref().map(Email::as_str));
        words
    }
}

/// The sign-in window of an account; `expires_at` must come after
/// `activation_at` when both are set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be later than the activation date")]
pub struct ExpiresBeforeActivation;

/// # Errors
/// `ExpiresBeforeActivation` when the window is empty.
pub fn check_window(
    activation_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), ExpiresBeforeActivation> {
    match (activation_at, expires_at) {
        (Some(start), Some(end)) if end <= start => Err(ExpiresBeforeActivation),
        _ => Ok(()),
    }
}

/// A user about to be stored: everything parsed, the password hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub login: Login,
    pub email: Option<Email>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub role_id: Uuid,
    pub password_hash: Option<crate::auth::PasswordHash>,
    pub disabled: bool,
    pub activation_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub timezone: Timezone,
    pub language: Language,
    pub directory: Directory,
}

/// Changes to a user; `None` leaves a field alone, `Some(None)` clears a
/// field that may be empty.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub login: Option<Login>,
    pub email: Option<Option<Email>>,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub role_id: Option<Uuid>,
    pub disabled: Option<bool>,
    pub activation_at: Option<Option<DateTime<Utc>>>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub timezone: Option<Timezone>,
    pub language: Option<Language>,
    /// Must be a subset of what the user's station unlocks.
    pub applications: Option<Vec<Application>>,
    /// Demand a second factor of the user.
    pub two_factor_required: Option<bool>,
    /// What the directory knows, replaced as a whole.
    pub directory: Option<Directory>,
}

impl UserChanges {
    /// Whether these changes, with a new password or without, make the
    /// user's unused links moot: a link sent to the old address, or to set
    /// a password that has now been set, must not work any more.
    #[must_use]
    pub fn retires_links(&self, new_password: bool) -> bool {
        self.email.is_some() || new_password
    }

    /// Whether these changes change anything at all.
    #[must_use]
    pub fn touches_anything(&self) -> bool {
        self.login.is_some()
            || self.email.is_some()
            || self.first_name.is_some()
            || self.last_name.is_some()
            || self.role_id.is_some()
            || self.disabled.is_some()
            || self.activation_at.is_some()
            || self.expires_at.is_some()
            || self.timezone.is_some()
            || self.language.is_some()
            || self.applications.is_some()
            || self.two_factor_required.is_some()
            || self.directory.is_some()
    }

    /// Whether these changes could leave the tenant without an active
    /// administrator, so that the store must check it in the same
    /// transaction.
    #[must_use]
    pub fn may_remove_an_administrator(&self) -> bool {
        self.role_id.is_some()
            || self.disabled == Some(true)
            || matches!(self.expires_at, Some(Some(_)))
            || matches!(self.activation_at, Some(Some(_)))
    }
}

/// How a list of users is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSortKey {
    Login,
    Email,
    FirstName,
    LastName,
    CreatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Matches login, first name, last name and email, case-insensitively.
    pub q: Option<String>,
    pub role_id: Option<Uuid>,
    pub status: Option<UserStatus>,
    /// Exactly these (SCIM filters): the login case-insensitively, the
    /// directory's id case-exactly, the email address case-insensitively.
    pub exact: Vec<ExactMatch>,
    /// Only users whose login sorts after this one (compared as logins
    /// are): a walk of the whole list by login, page after page, that
    /// users added or removed behind it do not shift (an export).
    pub after_login: Option<String>,
}

/// A field a user must have exactly (SCIM's `eq`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExactMatch {
    Id(Uuid),
    /// Compared as logins are, without regard to case.
    Login(String),
    /// Case-exact, as the directory spells it.
    ExternalId(String),
    /// Without regard to case.
    Email(String),
    /// A filter nobody matches (an id that is not one).
    Nothing,
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn status_follows_the_documented_precedence() {
        let now = Utc::now();
        let past = Some(now - Duration::days(1));
        let future = Some(now + Duration::days(1));
        let cases = [
            (false, None, None, UserStatus::Active, "no dates"),
            (false, past, future, UserStatus::Active, "inside the window"),
            (false, future, None, UserStatus::Pending, "before activation"),
            (false, None, past, UserStatus::Expired, "after expiry"),
            (false, future, past, UserStatus::Expired, "expiry beats pending"),
            (true, None, None, UserStatus::Disabled, "switched off"),
            (true, None, past, UserStatus::Disabled, "switch beats expiry"),
            (false, Some(now), None, UserStatus::Active, "activation instant is active"),
            (false, None, Some(now), UserStatus::Expired, "expiry instant is expired"),
        ];
        for (disabled, start, end, want, why) in cases {
            assert_eq!(UserStatus::at(now, disabled, start, end), want, "{why}");
        }
    }

    #[test]
    fn an_empty_window_is_refused() {
        let now = Utc::now();
        assert!(check_window(Some(now), Some(now)).is_err());
        assert!(check_window(Some(now), Some(now - Duration::seconds(1))).is_err());
        assert!(check_window(Some(now), Some(now + Duration::seconds(1))).is_ok());
        assert!(check_window(None, Some(now)).is_ok());
    }
}
