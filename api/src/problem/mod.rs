//! Errors as `application/problem+json` (RFC 9457).
//!
//! Every answer that is not a success carries `type`, `title`, `status`,
//! `detail` and a stable snake_case `code`; a 422 also lists the fields at
//! fault. Each domain error maps to one answer here, matched without a
//! wildcard, so a new domain variant does not compile until it has one.
//! 5xx bodies are generic; the cause chain goes to the log only.

use std::fmt;

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use voxport_domain::{errors::is_unavailable, idempotency::IdempotencyRefusal, permission::Permission};

mod auth;
mod devices;
mod emails;
mod extensions;
mod idempotency;
mod phone_numbers;
mod roles;
mod security;
mod stations;
mod telephony;
mod tenants;
mod users;

pub use auth::invalid_credentials;
pub use idempotency::{idempotency_in_progress, idempotency_key_reused};
pub(crate) use {
    devices::held_by,
    telephony::{extension_number_taken, out_of_range},
    users::{not_unlocked, weak_password},
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
    /// The problems of each refused row (422 `import_rejected` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub row_errors: Vec<RowError>,
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

/// What is wrong with one value of one row of an import.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// The record's line in a CSV file (the header is line 1), or its
    /// position from 1 in a JSON array.
    pub row: u32,
    /// The column (CSV) or field (JSON) at fault; empty for the row as a whole.
    #[schema(example = "extension")]
    pub column: String,
    /// The code `POST /v1/users` answers for the same fault, or
    /// `duplicate_in_file`.
    #[schema(example = "extension_number_taken")]
    pub code: String,
    pub message: String,
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
    /// The challenge of a 401, for `WWW-Authenticate`.
    www_authenticate: Option<&'static str>,
    row_errors: Vec<RowError>,
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

    /// What only a signed-in person may do, asked with an API client's token.
    pub fn person_only() -> Self {
        Self::new(StatusCode::FORBIDDEN, "person_only", "Only a signed-in person can do this, not an API client.")
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
        // A write found the request's idempotency key taken over.
        if let Some(refusal) = cause.chain().find_map(|e| e.downcast_ref::<IdempotencyRefusal>()) {
            return (*refusal).into();
        }
        let mut e = if cause.chain().any(|e| e.is::<voxport_domain::request::PreconditionFailed>()) {
            Self::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "The object changed since the version If-Match names; read it again and retry.",
            )
        } else if is_unavailable(&cause) {
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

    #[must_use]
    pub fn detail(&self) -> &str {
        &self.detail
    }

    #[must_use]
    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// An import that wrote nothing because of `rows`.
    pub fn import_rejected(rows: Vec<RowError>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_rejected",
            "Rows of the file were refused, so nothing was written (see row_errors).",
        );
        e.extra_mut().row_errors = rows;
        e
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
            row_errors: self.extra.as_ref().map(|x| x.row_errors.clone()).unwrap_or_default(),
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
        if let Some(challenge) = self.extra.as_ref().and_then(|x| x.www_authenticate) {
            response.insert_header((header::WWW_AUTHENTICATE, challenge));
        }
        response.json(self.problem())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(cause: anyhow::Error) -> Self {
        Self::internal(cause)
    }
}
