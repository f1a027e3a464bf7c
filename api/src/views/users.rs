//! Portal users as the API shows them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::ApplicationName;
use uuid::Uuid;

use super::ExtensionTypeView;
use voxport_domain::{
    paging::Page,
    services::CreatedUser,
    user::{User, UserStatus},
};

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Active,
    Expired,
    Disabled,
}

impl From<UserStatus> for Status {
    fn from(s: UserStatus) -> Self {
        match s {
            UserStatus::Pending => Self::Pending,
            UserStatus::Active => Self::Active,
            UserStatus::Expired => Self::Expired,
            UserStatus::Disabled => Self::Disabled,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleRef {
    pub id: Uuid,
    #[schema(example = "User")]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StationRef {
    pub id: Uuid,
    #[schema(example = "Standard")]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceRefView {
    pub id: Uuid,
    #[schema(example = "80:5e:c0:12:34:56")]
    pub mac: String,
    #[schema(example = "T54W")]
    pub model: String,
    /// The line ports the user has on it.
    #[schema(example = 1)]
    pub ports: u8,
}

/// An extension as a user view shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionRefView {
    pub id: Uuid,
    #[schema(example = "204")]
    pub number: String,
    #[serde(rename = "type")]
    pub kind: ExtensionTypeView,
    /// Calls ring only while the user is signed in to the portal.
    pub force_login: bool,
}

/// A phone number as a user view shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneNumberRefView {
    pub id: Uuid,
    #[schema(example = "+14155550100")]
    pub number: String,
}

/// Where a user stands with the second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct TwoFactorView {
    /// Sign-in needs a code from an authenticator app.
    pub enabled: bool,
    /// An administrator requires it, for the user or their role.
    pub required: bool,
}

/// A portal user as `GET /v1/users/{id}` shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    #[schema(example = "jsmith@example.com")]
    pub login: String,
    #[schema(example = "jsmith@example.com")]
    pub email: Option<String>,
    #[schema(example = "John")]
    pub first_name: String,
    #[schema(example = "Smith")]
    pub last_name: String,
    pub role: RoleRef,
    /// The station licence the user holds.
    pub station: Option<StationRef>,
    /// The desk phone the user holds.
    pub device: Option<DeviceRefView>,
    /// The extensions that ring the user, by number.
    pub extensions: Vec<ExtensionRefView>,
    /// The phone number (DID) that rings the user.
    pub phone_number: Option<PhoneNumberRefView>,
    /// The applications enabled for the user; always among those their
    /// station unlocks.
    #[schema(value_type = Vec<ApplicationName>)]
    pub applications: Vec<&'static str>,
    pub two_factor: TwoFactorView,
    /// Derived: `pending` before `activation_at`, `expired` from
    /// `expires_at`, `disabled` when switched off, else `active`.
    pub status: Status,
    pub disabled: bool,
    pub activation_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    #[schema(example = "en")]
    pub language: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    pub fn new(u: &User, now: DateTime<Utc>) -> Self {
        Self {
            id: u.id,
            login: u.login.as_str().to_owned(),
            email: u.email.as_ref().map(|e| e.as_str().to_owned()),
            first_name: u.first_name.as_str().to_owned(),
            last_name: u.last_name.as_str().to_owned(),
            role: RoleRef { id: u.role.id, name: u.role.name.as_str().to_owned() },
            station: u.station.as_ref().map(|s| StationRef { id: s.id, name: s.name.clone() }),
            device: u.device.as_ref().map(|d| DeviceRefView {
                id: d.id,
                mac: d.mac.clone(),
                model: d.model.clone(),
                ports: d.ports,
            }),
            extensions: u
                .extensions
                .iter()
                .map(|e| ExtensionRefView {
                    id: e.id,
                    number: e.number.clone(),
                    kind: e.kind.into(),
                    force_login: e.force_login,
                })
                .collect(),
            phone_number: u.phone_number.as_ref().map(|n| PhoneNumberRefView { id: n.id, number: n.number.clone() }),
            applications: u.applications.iter().map(|a| a.as_str()).collect(),
            two_factor: TwoFactorView { enabled: u.two_factor.enabled, required: u.two_factor.required },
            status: u.status(now).into(),
            disabled: u.disabled,
            activation_at: u.activation_at,
            expires_at: u.expires_at,
            timezone: u.timezone.as_str().to_owned(),
            language: u.language.as_str().to_owned(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A user just created: the user, plus the generated password, shown
/// this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedUserView {
    #[serde(flatten)]
    pub user: UserView,
    /// Present only when `generate_password` was set. It is shown this
    /// once (and to a retry with the same `Idempotency-Key`); nothing else
    /// shows it again.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "k7Qm2vX9pLr4TzW8nHc3")]
    pub password: Option<String>,
    /// Whether a welcome email was written to the outbox.
    pub welcome_email: bool,
}

impl CreatedUserView {
    #[must_use]
    pub fn new(created: &CreatedUser, now: DateTime<Utc>) -> Self {
        Self {
            user: UserView::new(&created.user, now),
            password: created.generated_password.as_ref().map(|p| p.expose().to_owned()),
            welcome_email: created.welcome_email,
        }
    }
}

/// What a dry run of `POST /v1/users` found: the user as they would be.
/// Nothing was written; the ids are not kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct DryRunView {
    /// Always true.
    pub dry_run: bool,
    pub user: UserView,
    /// Whether a welcome email would be written.
    pub welcome_email: bool,
}

page_of!(UserPage, UserView);
