//! The request bodies and query parameters of `/v1/users`.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use voxport_domain::{
    paging::{Direction, Sort},
    user::UserSortKey,
    values::Secret,
};

use crate::routes::{extensions::CreateExtensionBody, nullable, whole_number_opt};
use crate::{
    schema::{ApplicationName, LanguageTag, TimezoneName},
    views::Status,
};

/// The extension of a new user: an existing one, or a new one to create
/// (either needs `extensions:write`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ExtensionChoice {
    Existing(ExistingExtension),
    New(CreateExtensionBody),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExistingExtension {
    /// An extension of the caller's tenant that rings nobody yet.
    pub id: Uuid,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceChoice {
    /// A desk phone of the caller's tenant that serves nobody.
    pub id: Uuid,
    /// The line ports the user gets; default all of the device's.
    #[serde(default, deserialize_with = "whole_number_opt")]
    #[schema(minimum = 1, maximum = 16)]
    pub ports: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CreateUserParams {
    /// Check everything (licence and device availability included) and
    /// answer what would be created, writing nothing.
    pub dry_run: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "jsmith@example.com", "first_name": "John", "last_name": "Smith",
    "generate_password": true, "timezone": "Europe/Berlin", "language": "en"
}))]
pub struct CreateUserBody {
    /// 1 to 64 printable ASCII characters, unique on the platform whatever
    /// the case. Defaults to the email address.
    #[schema(pattern = r"^[!-~]{1,64}$", example = "jsmith")]
    pub login: Option<String>,
    #[schema(format = Email, max_length = 254, example = "jsmith@example.com")]
    pub email: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "John"
    )]
    pub first_name: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Smith"
    )]
    pub last_name: String,
    /// Defaults to the built-in User role.
    pub role_id: Option<Uuid>,
    /// The initial password; omit it (with an email) to let the user set
    /// one through the emailed link, or use `generate_password`. At least
    /// `password_min_length` characters, not a common password, and not
    /// the user's own login, email or name.
    #[schema(value_type = Option<String>, min_length = 12, max_length = 128, example = "quiet-harbour-lights")]
    pub password: Option<Secret>,
    /// Generate a password and return it once in the answer.
    #[serde(default)]
    pub generate_password: bool,
    #[serde(default)]
    pub disabled: bool,
    /// The user may sign in from this instant on.
    pub activation_at: Option<DateTime<Utc>>,
    /// The user may sign in until this instant.
    pub expires_at: Option<DateTime<Utc>>,
    /// IANA time zone; defaults to UTC.
    #[schema(value_type = Option<TimezoneName>)]
    pub timezone: Option<String>,
    /// BCP 47 tag from the supported list; defaults to `en`.
    #[schema(value_type = Option<LanguageTag>)]
    pub language: Option<String>,
    /// An existing extension (`{id}`) or a new one (`{number, type, …}`).
    pub extension: Option<ExtensionChoice>,
    /// A phone number of the tenant that rings nobody.
    pub phone_number_id: Option<Uuid>,
    /// The station licence the user takes from the tenant's pool.
    pub station_id: Option<Uuid>,
    /// The user's desk phone.
    pub device: Option<DeviceChoice>,
    /// Applications to enable; only what `station_id` unlocks.
    #[schema(value_type = Option<Vec<ApplicationName>>)]
    pub applications: Option<Vec<String>>,
    /// Write the welcome email (default true; only with an email address).
    pub send_welcome_email: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role_id": "0192f0c4-7a4e-7cc1-9a51-2c1d1c1e8a10", "expires_at": "2027-06-30T23:59:59Z"}))]
pub struct UpdateUserBody {
    #[schema(pattern = r"^[!-~]{1,64}$")]
    pub login: Option<String>,
    /// `null` removes the address.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "John"
    )]
    pub first_name: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Smith"
    )]
    pub last_name: Option<String>,
    pub role_id: Option<Uuid>,
    pub disabled: Option<bool>,
    /// `null` removes the date.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub activation_at: Option<Option<DateTime<Utc>>>,
    /// `null` removes the date.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    #[schema(value_type = Option<TimezoneName>)]
    pub timezone: Option<String>,
    #[schema(value_type = Option<LanguageTag>)]
    pub language: Option<String>,
    /// Sets a new password; ends the user's sessions.
    #[schema(value_type = Option<String>, min_length = 12, max_length = 128, example = "quiet-harbour-lights")]
    pub password: Option<Secret>,
    /// The applications enabled for the user: the whole set, and only what
    /// their station unlocks.
    #[schema(value_type = Option<Vec<ApplicationName>>)]
    pub applications: Option<Vec<String>>,
    /// Require a second factor: the user must enrol one at their next
    /// sign-in. (Their role may require it too.)
    pub two_factor_required: Option<bool>,
}

list_params! {
    pub struct UserListParams {
        /// The order; a leading `-` sorts descending. Default `login`.
        pub sort: Option<UserSort>,
        /// Matches login, names and email, ignoring case.
        pub q: Option<String>,
        /// Only users with this role.
        pub role: Option<Uuid>,
        /// Only users with this status.
        pub status: Option<Status>,
    }
}

/// How `GET /v1/users` orders its items.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum UserSort {
    #[serde(rename = "login")]
    Login,
    #[serde(rename = "-login")]
    LoginDesc,
    #[serde(rename = "email")]
    Email,
    #[serde(rename = "-email")]
    EmailDesc,
    #[serde(rename = "first_name")]
    FirstName,
    #[serde(rename = "-first_name")]
    FirstNameDesc,
    #[serde(rename = "last_name")]
    LastName,
    #[serde(rename = "-last_name")]
    LastNameDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

impl From<UserSort> for Sort<UserSortKey> {
    fn from(s: UserSort) -> Self {
        use Direction::{Asc, Desc};
        let (key, direction) = match s {
            UserSort::Login => (UserSortKey::Login, Asc),
            UserSort::LoginDesc => (UserSortKey::Login, Desc),
            UserSort::Email => (UserSortKey::Email, Asc),
            UserSort::EmailDesc => (UserSortKey::Email, Desc),
            UserSort::FirstName => (UserSortKey::FirstName, Asc),
            UserSort::FirstNameDesc => (UserSortKey::FirstName, Desc),
            UserSort::LastName => (UserSortKey::LastName, Asc),
            UserSort::LastNameDesc => (UserSortKey::LastName, Desc),
            UserSort::CreatedAt => (UserSortKey::CreatedAt, Asc),
            UserSort::CreatedAtDesc => (UserSortKey::CreatedAt, Desc),
        };
        Sort { key, direction }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::tenants::CreateTenantBody;

    /// SECURITY.md: secrets never reach a log line, `Debug` included.
    #[test]
    fn bodies_with_a_password_keep_it_out_of_debug_output() {
        let password = "quiet-harbour-lights-42";
        let create: CreateUserBody = serde_json::from_value(serde_json::json!({
            "email": "a@example.com", "first_name": "A", "last_name": "B", "password": password
        }))
        .unwrap();
        let update: UpdateUserBody = serde_json::from_value(serde_json::json!({"password": password})).unwrap();
        let tenant: CreateTenantBody = serde_json::from_value(serde_json::json!({
            "name": "Acme", "slug": "acme",
            "admin": {"email": "it@acme.example", "first_name": "Ada", "last_name": "Admin", "password": password}
        }))
        .unwrap();
        for shown in [format!("{create:?}"), format!("{update:?}"), format!("{tenant:?}")] {
            assert!(!shown.contains(password), "{shown}");
            assert!(shown.contains("redacted"), "{shown}");
        }
    }
}
