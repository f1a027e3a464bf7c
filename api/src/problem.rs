//! Errors as `application/problem+json` (RFC 9457).
//!
//! Every answer that is not a success carries `type`, `title`, `status`,
//! `detail` and a stable snake_case `code`; a 422 also lists the fields at
//! fault. Each domain error maps to one answer here, matched without a
//! wildcard, so a new domain variant does not compile until it has one.
//! 5xx bodies are generic; the cause chain goes to the log only.

use std::fmt;

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use serde::Serialize;
use utoipa::ToSchema;
use voxport_domain::{
    error::is_unavailable,
    errors::{
        AuthenticateError, ChangePasswordError, CreateDeviceError, CreateExtensionError, CreatePhoneNumberError,
        CreateRoleError, CreateStationError, CreateTenantError, CreateUserError, DeleteDeviceError,
        DeleteExtensionError, DeletePhoneNumberError, DeleteRoleError, DeleteStationError, DeleteTenantError,
        DeleteUserError, LoginError, RefreshError, SecurityAdminError, SendEmailError, SetPasswordError,
        SupportAccessError, TelephonyError, TwoFactorError, UpdateDeviceError, UpdateExtensionError,
        UpdatePhoneNumberError, UpdateRoleError, UpdateStationError, UpdateTenantError, UpdateUserError,
    },
    permission::Permission,
    station::Application,
};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One field that failed validation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// The JSON path of the field, e.g. `admin.email` or `permissions[2]`.
    #[schema(example = "email")]
    pub field: String,
    #[schema(example = "is not a valid email address")]
    pub message: String,
}

/// An RFC 9457 problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[schema(example = "urn:voxport:problem:validation_failed")]
    #[serde(rename = "type")]
    pub type_: String,
    #[schema(example = "Unprocessable Entity")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    #[schema(example = "The request has invalid fields.")]
    pub detail: String,
    /// Stable machine-readable code; clients switch on this.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// The fields at fault (422 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Permissions the caller lacks (403 `permission_not_held` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_permissions: Vec<String>,
    /// The user a device, extension or number serves (409
    /// `device_assigned`, `device_in_use`, `extension_assigned`,
    /// `extension_in_use`, `phone_number_assigned` and
    /// `phone_number_in_use` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<crate::views::HolderView>,
    /// The pool's counts (409 `station_unavailable` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub station: Option<PoolCounts>,
    /// A token that only the second-factor enrolment endpoints accept
    /// (403 `two_factor_enrolment_required` only); it lasts 10 minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub enrolment_token: Option<Hidden>,
}

/// A string for the client's eyes: serialised as it is, hidden from
/// `Debug` (and so from any log line).
#[derive(Clone, Serialize)]
#[serde(transparent)]
pub struct Hidden(String);

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hidden(..)")
    }
}

/// How many licences a pool holds, gives out and has left.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct PoolCounts {
    pub quantity: u32,
    pub in_use: u32,
    pub available: u32,
}

pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    /// Members only some problems carry; boxed to keep results small.
    extra: Option<Box<Extra>>,
    cause: Option<anyhow::Error>,
}

#[derive(Default)]
struct Extra {
    missing_permissions: Vec<String>,
    station: Option<PoolCounts>,
    holder: Option<voxport_domain::device::Holder>,
    enrolment_token: Option<String>,
    /// Seconds, for `Retry-After`.
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), errors: Vec::new(), extra: None, cause: None }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "The request has invalid fields.");
        e.errors = errors;
        e
    }

    pub fn field(field: impl Into<String>, message: impl fmt::Display) -> Self {
        Self::validation(vec![FieldError { field: field.into(), message: message.to_string() }])
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("No such {what}."))
    }

    /// A `tenant_id` that names no tenant at or below the caller's.
    pub fn tenant_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "tenant_not_found", "No such tenant (tenant_id) below yours.")
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "A valid bearer token is required.")
    }

    pub fn forbidden(permission: Permission) -> Self {
        let mut e = Self::new(
            StatusCode::FORBIDDEN,
            "permission_denied",
            format!("This needs the `{}` permission.", permission.code()),
        );
        e.extra_mut().missing_permissions = vec![permission.code().to_owned()];
        e
    }

    pub fn not_held(missing: &[Permission]) -> Self {
        let mut e = Self::new(
            StatusCode::FORBIDDEN,
            "permission_not_held",
            "Nobody grants or acts with permissions they do not hold themselves.",
        );
        e.extra_mut().missing_permissions = missing.iter().map(|p| p.code().to_owned()).collect();
        e
    }

    /// An unexpected failure: 503 when storage is unreachable, else 500.
    /// The cause is logged, never sent.
    pub fn internal(cause: anyhow::Error) -> Self {
        let mut e = if is_unavailable(&cause) {
            Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "The service is temporarily unavailable; try again shortly.",
            )
        } else {
            Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side.")
        };
        e.cause = Some(cause);
        e
    }

    #[must_use]
    pub fn code(&self) -> &'static str {
        self.code
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    pub(crate) fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:voxport:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_owned(),
            errors: self.errors.clone(),
            missing_permissions: self.extra.as_ref().map(|x| x.missing_permissions.clone()).unwrap_or_default(),
            station: self.extra.as_ref().and_then(|x| x.station),
            holder: self.extra.as_ref().and_then(|x| x.holder.as_ref()).map(crate::views::HolderView::from),
            enrolment_token: self.extra.as_ref().and_then(|x| x.enrolment_token.clone()).map(Hidden),
        }
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)?;
        if let Some(cause) = &self.cause {
            write!(f, "\ncaused by: {cause:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        if let Some(seconds) = self.extra.as_ref().and_then(|x| x.retry_after) {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(self.problem())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(cause: anyhow::Error) -> Self {
        Self::internal(cause)
    }
}

/// A body names a role (role_id) that the tenant does not have: the request
/// is well-formed, the reference is not there.
fn role_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "role_not_found", "No such role (role_id) in your tenant.")
}

fn weak_password(field: &str, e: &impl fmt::Display) -> ApiError {
    ApiError::field(field, e)
}

impl From<CreateUserError> for ApiError {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::LoginTaken => Self::conflict("login_taken", "That login is already in use."),
            CreateUserError::RoleNotFound => role_not_found(),
            CreateUserError::PermissionNotHeld(missing) => Self::not_held(&missing),
            CreateUserError::WeakPassword(e) => weak_password("password", &e),
            CreateUserError::PasswordRequired => Self::field(
                "password",
                "without an email address or the welcome email, nothing can carry a set-password link: \
                 give a password or generate one",
            ),
            CreateUserError::InvalidWindow(e) => Self::field("expires_at", e),
            CreateUserError::NeedsNumberOrExtension => {
                Self::field("extension", "setting up telephony needs a phone number (phone_number_id) or an extension")
            }
            CreateUserError::Telephony(e) => e.into(),
            CreateUserError::IdempotencyKeyLost => idempotency_in_progress(),
            CreateUserError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<UpdateUserError> for ApiError {
    fn from(e: UpdateUserError) -> Self {
        match e {
            UpdateUserError::NotFound => Self::not_found("user"),
            UpdateUserError::LoginTaken => Self::conflict("login_taken", "That login is already in use."),
            UpdateUserError::RoleNotFound => role_not_found(),
            UpdateUserError::PermissionNotHeld(missing) => Self::not_held(&missing),
            UpdateUserError::OwnRole => Self::conflict("cannot_change_own_role", "Nobody changes their own role."),
            UpdateUserError::OwnAccess => {
                Self::conflict("cannot_disable_self", "Nobody disables, ends or postpones their own account.")
            }
            UpdateUserError::LastAdministrator => {
                Self::conflict("last_administrator", "The tenant would be left without an active administrator.")
            }
            UpdateUserError::WeakPassword(e) => weak_password("password", &e),
            UpdateUserError::InvalidWindow(e) => Self::field("expires_at", e),
            UpdateUserError::ApplicationsNotUnlocked(apps) => not_unlocked(&apps),
            UpdateUserError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<DeleteUserError> for ApiError {
    fn from(e: DeleteUserError) -> Self {
        match e {
            DeleteUserError::NotFound => Self::not_found("user"),
            DeleteUserError::OwnAccount => Self::conflict("cannot_delete_self", "Nobody deletes their own account."),
            DeleteUserError::PermissionNotHeld(missing) => Self::not_held(&missing),
            DeleteUserError::LastAdministrator => {
                Self::conflict("last_administrator", "The tenant would be left without an active administrator.")
            }
            DeleteUserError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<CreateRoleError> for ApiError {
    fn from(e: CreateRoleError) -> Self {
        match e {
            CreateRoleError::NameTaken => {
                Self::conflict("role_name_taken", "The tenant already has a role of that name.")
            }
            CreateRoleError::PermissionNotHeld(missing) => Self::not_held(&missing),
            CreateRoleError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<UpdateRoleError> for ApiError {
    fn from(e: UpdateRoleError) -> Self {
        match e {
            UpdateRoleError::NotFound => Self::not_found("role"),
            UpdateRoleError::BuiltIn => Self::conflict("role_built_in", "Built-in roles cannot be changed."),
            UpdateRoleError::NameTaken => {
                Self::conflict("role_name_taken", "The tenant already has a role of that name.")
            }
            UpdateRoleError::PermissionNotHeld(missing) => Self::not_held(&missing),
            UpdateRoleError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<DeleteRoleError> for ApiError {
    fn from(e: DeleteRoleError) -> Self {
        match e {
            DeleteRoleError::NotFound => Self::not_found("role"),
            DeleteRoleError::BuiltIn => Self::conflict("role_built_in", "Built-in roles cannot be deleted."),
            DeleteRoleError::InUse => {
                Self::conflict("role_in_use", "Users still hold this role; give them another first.")
            }
            DeleteRoleError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<CreateTenantError> for ApiError {
    fn from(e: CreateTenantError) -> Self {
        match e {
            CreateTenantError::SlugTaken => Self::conflict("slug_taken", "Another tenant has that slug."),
            CreateTenantError::ParentNotFound => {
                Self::new(StatusCode::NOT_FOUND, "tenant_not_found", "No such parent tenant (parent_id) below yours.")
            }
            CreateTenantError::ParentIsCustomer => Self::conflict(
                "parent_cannot_own_tenants",
                "The parent (parent_id) is a customer; only resellers own tenants.",
            ),
            CreateTenantError::AdminLoginTaken => {
                Self::conflict("login_taken", "The administrator's login is already in use.")
            }
            CreateTenantError::WeakPassword(e) => weak_password("admin.password", &e),
            CreateTenantError::PasswordRequired => Self::field(
                "admin.password",
                "without the welcome email, nothing can carry a set-password link: give a password or generate one",
            ),
            CreateTenantError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<UpdateTenantError> for ApiError {
    fn from(e: UpdateTenantError) -> Self {
        match e {
            UpdateTenantError::NotFound => Self::not_found("tenant"),
            UpdateTenantError::SlugTaken => Self::conflict("slug_taken", "Another tenant has that slug."),
            UpdateTenantError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<DeleteTenantError> for ApiError {
    fn from(e: DeleteTenantError) -> Self {
        match e {
            DeleteTenantError::NotFound => Self::not_found("tenant"),
            DeleteTenantError::OwnTenant => {
                Self::conflict("cannot_delete_own_tenant", "Nobody deletes their own tenant.")
            }
            DeleteTenantError::HasChildren => {
                Self::conflict("tenant_has_children", "The tenant still owns other tenants; delete those first.")
            }
            DeleteTenantError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => invalid_credentials(),
            LoginError::ApplicationNotEnabled(app) => Self::new(
                StatusCode::FORBIDDEN,
                "application_not_enabled",
                format!("The {app} application is not enabled for this user; ask an administrator."),
            ),
            LoginError::TooManyAttempts { retry_after } => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    "Too many failed sign-ins from your address; wait and try again.",
                );
                e.extra_mut().retry_after = Some(retry_after);
                e
            }
            LoginError::IpNotAllowed => ip_not_allowed(),
            LoginError::OtpRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "otp_required",
                "Give the code of your authenticator app (otp), or a recovery code.",
            ),
            LoginError::OtpInvalid => Self::new(
                StatusCode::UNAUTHORIZED,
                "otp_invalid",
                "The one-time code is wrong, used or too old; wait for the next one.",
            ),
            LoginError::TwoFactorEnrolmentRequired { token } => {
                let mut e = Self::new(
                    StatusCode::FORBIDDEN,
                    "two_factor_enrolment_required",
                    "Your administrator requires a second factor: enrol one with the enrolment_token \
                     (POST /v1/me/2fa, then POST /v1/me/2fa/confirm), then sign in again.",
                );
                e.extra_mut().enrolment_token = Some(token.0);
                e
            }
            LoginError::Unknown(e) => Self::internal(e),
        }
    }
}

/// A right password or token from outside the user's IP allowlist.
fn ip_not_allowed() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "ip_not_allowed", "Your account may not be used from this address.")
}

/// The one answer for every failed sign-in.
pub fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "The login or password is wrong, or the account may not sign in.",
    )
}

impl From<RefreshError> for ApiError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::InvalidToken => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_refresh_token",
                "The refresh token is unknown, spent or expired; sign in again.",
            ),
            RefreshError::IpNotAllowed => ip_not_allowed(),
            RefreshError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<AuthenticateError> for ApiError {
    fn from(e: AuthenticateError) -> Self {
        match e {
            AuthenticateError::InvalidToken => Self::unauthenticated(),
            AuthenticateError::IpNotAllowed => ip_not_allowed(),
            AuthenticateError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<ChangePasswordError> for ApiError {
    fn from(e: ChangePasswordError) -> Self {
        match e {
            ChangePasswordError::WrongPassword => {
                Self::new(StatusCode::FORBIDDEN, "current_password_wrong", "The current password is wrong.")
            }
            ChangePasswordError::WeakPassword(e) => weak_password("new_password", &e),
            ChangePasswordError::Unknown(e) => Self::internal(e),
        }
    }
}

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

fn not_the_parent() -> ApiError {
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

fn held_by(code: &'static str, what: &str, holder: voxport_domain::device::Holder) -> ApiError {
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

/// 422 naming the applications a station does not unlock (rule 9).
fn not_unlocked(apps: &[Application]) -> ApiError {
    let names: Vec<&str> = apps.iter().map(|a| a.as_str()).collect();
    ApiError::field(
        "applications",
        format!("the user's station does not unlock {}; give them a station that does", names.join(", ")),
    )
}

/// A request with the same `Idempotency-Key` is still running.
pub fn idempotency_in_progress() -> ApiError {
    ApiError::conflict(
        "idempotency_key_in_progress",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
    )
}

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
            TelephonyError::TooManyPorts { max } => {
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
            TelephonyError::ApplicationsNotUnlocked(apps) => not_unlocked(&apps),
            TelephonyError::Unknown(e) => Self::internal(e),
        }
    }
}

fn extension_number_taken() -> ApiError {
    ApiError::conflict("extension_number_taken", "Your tenant already has an extension with that number.")
}

/// A number the schema allows (1 to 15 digits) that the tenant's dial plan,
/// which its parent may change, does not: a conflict with the tenant's
/// current settings, like a number that is taken.
fn out_of_range(min: u8, max: u8) -> ApiError {
    ApiError::conflict(
        "extension_number_out_of_range",
        format!("Your tenant's extension numbers have {min} to {max} digits; your provider can change that."),
    )
}

impl From<CreateExtensionError> for ApiError {
    fn from(e: CreateExtensionError) -> Self {
        match e {
            CreateExtensionError::NumberTaken => extension_number_taken(),
            CreateExtensionError::NumberOutOfRange { min, max } => out_of_range(min, max),
            CreateExtensionError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<UpdateExtensionError> for ApiError {
    fn from(e: UpdateExtensionError) -> Self {
        match e {
            UpdateExtensionError::NotFound => Self::not_found("extension"),
            UpdateExtensionError::NumberTaken => extension_number_taken(),
            UpdateExtensionError::NumberOutOfRange { min, max } => out_of_range(min, max),
            UpdateExtensionError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<DeleteExtensionError> for ApiError {
    fn from(e: DeleteExtensionError) -> Self {
        match e {
            DeleteExtensionError::NotFound => Self::not_found("extension"),
            DeleteExtensionError::Assigned(holder) => held_by("extension_in_use", "The extension rings", holder),
            DeleteExtensionError::Unknown(e) => Self::internal(e),
        }
    }
}

fn numbers_not_yours() -> ApiError {
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
            CreatePhoneNumberError::NumberTaken => {
                Self::conflict("phone_number_taken", "That number is already on the platform.")
            }
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

impl From<SetPasswordError> for ApiError {
    fn from(e: SetPasswordError) -> Self {
        match e {
            SetPasswordError::InvalidToken => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_link",
                "The link is unknown, used or expired; ask for a new one.",
            ),
            SetPasswordError::WeakPassword(e) => weak_password("password", &e),
            SetPasswordError::Unknown(e) => Self::internal(e),
        }
    }
}

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

/// The `Idempotency-Key` was used with another body.
pub fn idempotency_key_reused() -> ApiError {
    ApiError::field("Idempotency-Key", "was used for a different request; use a new key for a new request")
}

impl From<TwoFactorError> for ApiError {
    fn from(e: TwoFactorError) -> Self {
        match e {
            TwoFactorError::AlreadyEnabled => Self::conflict(
                "two_factor_already_enabled",
                "A second factor is already enabled; turn it off (or have it reset) first.",
            ),
            TwoFactorError::NotEnrolling => {
                Self::conflict("two_factor_not_enrolling", "Start enrolment first (POST /v1/me/2fa).")
            }
            TwoFactorError::NotEnabled => Self::conflict("two_factor_not_enabled", "No second factor is enabled."),
            TwoFactorError::WrongCode => Self::new(
                StatusCode::FORBIDDEN,
                "verification_failed",
                "The code (or the password) is wrong, used or too old.",
            ),
            TwoFactorError::Required => Self::conflict(
                "two_factor_required",
                "Your administrator requires a second factor; it cannot be turned off.",
            ),
            TwoFactorError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<SecurityAdminError> for ApiError {
    fn from(e: SecurityAdminError) -> Self {
        match e {
            SecurityAdminError::UserNotFound => Self::not_found("user"),
            SecurityAdminError::PermissionNotHeld(missing) => Self::not_held(&missing),
            SecurityAdminError::LocksOutSelf => Self::conflict(
                "allowlist_excludes_you",
                "The allowlist would shut out the address you are calling from.",
            ),
            SecurityAdminError::OwnSecondFactor => Self::conflict(
                "cannot_reset_own_two_factor",
                "Turn your own second factor off with your password and a code (DELETE /v1/me/2fa).",
            ),
            SecurityAdminError::Unknown(e) => Self::internal(e),
        }
    }
}

impl From<SupportAccessError> for ApiError {
    fn from(e: SupportAccessError) -> Self {
        match e {
            SupportAccessError::TenantNotFound => Self::not_found("tenant"),
            SupportAccessError::Unknown(e) => Self::internal(e),
        }
    }
}
