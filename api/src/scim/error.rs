//! SCIM errors (RFC 7644 §3.12): every answer under `/scim/v2` that is not
//! a success carries the SCIM error body, whatever refused it (the SCIM
//! code, a domain rule, the framework's router).

use std::fmt;

use actix_web::{HttpResponse, ResponseError, http::StatusCode, http::header};
use serde_json::json;

use super::{ERROR_URN, SCIM_JSON};
use crate::problem::ApiError;

/// `scimType` values (RFC 7644 §3.12, table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
}

impl ScimType {
    fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
        }
    }
}

pub struct ScimError {
    status: StatusCode,
    scim_type: Option<ScimType>,
    detail: String,
    /// The refusal this came from, logged when it is a failure of ours.
    source: Option<ApiError>,
}

impl ScimError {
    pub fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self { status, scim_type, detail: detail.into(), source: None }
    }

    /// 400 with a `scimType`.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, None, "A valid SCIM bearer token is required.")
    }

    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl fmt::Debug for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SCIM {} {:?}: {}", self.status.as_u16(), self.scim_type, self.detail)?;
        if let Some(source) = &self.source {
            write!(f, "\nfrom: {source:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(error = ?self, "SCIM request failed");
        }
        let mut body = json!({
            "schemas": [ERROR_URN],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t.as_str());
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, SCIM_JSON));
        match self.status {
            StatusCode::UNAUTHORIZED => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"scim\""));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        response.body(body.to_string())
    }
}

/// The SCIM attribute a field of the portal's API is, for details.
fn attribute(field: &str) -> &str {
    match field {
        "login" => "userName",
        "email" => "emails",
        "first_name" => "name.givenName",
        "last_name" => "name.familyName",
        "timezone" => "timezone",
        "language" => "preferredLanguage",
        "role_id" => "roles",
        "password" => "password",
        other => other,
    }
}

impl From<ApiError> for ScimError {
    fn from(e: ApiError) -> Self {
        let status = ResponseError::status_code(&e);
        let (status, scim_type, detail) = match status {
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
                let fields: Vec<String> =
                    e.field_errors().iter().map(|f| format!("{} {}", attribute(&f.field), f.message)).collect();
                let detail = if fields.is_empty() { e.detail().to_owned() } else { fields.join("; ") };
                let kind = if e.code() == "malformed_json" { ScimType::InvalidSyntax } else { ScimType::InvalidValue };
                (StatusCode::BAD_REQUEST, Some(kind), detail)
            }
            StatusCode::CONFLICT if e.code() == "login_taken" => {
                (status, Some(ScimType::Uniqueness), "userName is taken.".to_owned())
            }
            s if s.is_server_error() => (s, None, e.detail().to_owned()),
            s => (s, None, e.detail().to_owned()),
        };
        Self { status, scim_type, detail, source: Some(e) }
    }
}

impl From<anyhow::Error> for ScimError {
    fn from(cause: anyhow::Error) -> Self {
        ApiError::internal(cause).into()
    }
}
