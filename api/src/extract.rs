//! Request extractors that answer bad input with problem+json:
//!
//! - [`Json`]: 415 unless the body is JSON, 413 past 64 KiB, 400 when the
//!   JSON is malformed, 422 naming the field when it is well-formed but
//!   wrong (unknown field, missing field, wrong type).
//! - [`Query`]: 422 naming the parameter.
//! - [`Auth`]: 401 unless a valid bearer token of a live session of an
//!   active user (or of an API client) comes with the request; it also
//!   claims the request's `Idempotency-Key` for the caller.

use std::{fmt, future::Future, net::IpAddr, pin::Pin, sync::Arc};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::StatusCode, http::header, web};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use voxport_domain::{
    Voxport, actor::Actor, errors::AuthenticateError, permission::Permission, ports::Store, services::Enrollee,
};

use crate::{
    client_ip::client_ip,
    problem::{ApiError, FieldError},
};

/// The largest JSON body accepted (SECURITY.md "HTTP hygiene").
pub const MAX_JSON_BYTES: usize = 64 * 1024;

type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// A JSON request body.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalFuture<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_bytes(req, payload);
        Box::pin(async move { parse_json(&body.await?).map(Json) })
    }
}

/// A JSON request body that may be left out altogether (no body, no
/// content type): then `None`. A body that is sent is read as [`Json`].
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalFuture<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let no_length = headers.get(header::CONTENT_LENGTH).is_none_or(|v| v.as_bytes() == b"0");
        if headers.get(header::CONTENT_TYPE).is_none() && no_length && headers.get(header::TRANSFER_ENCODING).is_none()
        {
            return Box::pin(async { Ok(OptionalJson(None)) });
        }
        let body = Json::<T>::from_request(req, payload);
        Box::pin(async move { Ok(OptionalJson(Some(body.await?.0))) })
    }
}

/// The bytes of a JSON body: 415 unless the content type is JSON, 413 past
/// [`MAX_JSON_BYTES`].
fn json_bytes(req: &HttpRequest, payload: &mut Payload) -> LocalFuture<Result<web::Bytes, ApiError>> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .is_some_and(|essence| essence == "application/json" || essence.ends_with("+json"));
    if !is_json {
        return Box::pin(async {
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json.",
            ))
        });
    }
    let bytes = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        bytes.await.map_err(|e| {
            if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("The body must be at most {MAX_JSON_BYTES} bytes."),
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "The request body could not be read.")
            }
        })
    })
}

/// 400 for a body that is not JSON at all.
fn malformed_json(e: &serde_json::Error) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("The body is not valid JSON: {e}"))
}

/// Every request body of the API is a JSON object; serde would otherwise
/// also read a struct from an array (`[null, null]`).
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Ok(_) => Err(ApiError::field("body", "must be a JSON object")),
            Err(e) => Err(malformed_json(&e)),
        };
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            // A type error in the first value of `{} {}` is still a malformed body.
            serde_json::error::Category::Data => match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Ok(_) => ApiError::validation(vec![field_error(&path, &inner.to_string())]),
                Err(syntax) => malformed_json(&syntax),
            },
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => malformed_json(&inner),
        }
    })?;
    de.end().map_err(|e| malformed_json(&e))?;
    Ok(value)
}

/// A field error from a serde message. `path` already ends with an
/// unknown field's name; a missing field is named inside backticks and
/// belongs to the object at `path`.
fn field_error(path: &str, message: &str) -> FieldError {
    let message = message.split(" at line ").next().unwrap_or(message);
    let named = message.split('`').nth(1).filter(|_| message.starts_with("missing field"));
    let field = match (path, named) {
        ("." | "", Some(name)) => name.to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        ("." | "", None) => "body".to_owned(),
        (path, None) => path.to_owned(),
    };
    let message = if message.starts_with("unknown field") {
        "is not a known field".to_owned()
    } else if message.starts_with("missing field") {
        "is required".to_owned()
    } else {
        message.to_owned()
    };
    FieldError { field, message }
}

/// Query parameters.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(req.query_string().as_bytes()));
        std::future::ready(serde_path_to_error::deserialize(de).map(Query).map_err(|err| {
            let path = err.path().to_string();
            ApiError::validation(vec![field_error(&path, &err.into_inner().to_string())])
        }))
    }
}

/// Collects field errors while a request body is turned into domain values,
/// so one answer names every field at fault.
#[derive(Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    /// Keeps the value, or records the error and answers `None`.
    pub fn check<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }

    /// Parses an optional value; `Some(None)` when absent, `None` when invalid.
    pub fn optional<T, E: fmt::Display>(
        &mut self,
        field: &str,
        value: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        match value {
            None => Some(None),
            Some(raw) => self.check(field, parse(raw)).map(Some),
        }
    }

    pub fn add(&mut self, field: &str, message: impl fmt::Display) {
        self.0.push(FieldError { field: field.to_owned(), message: message.to_string() });
    }

    /// The 422 answer for what was collected.
    #[must_use]
    pub fn into_error(self) -> ApiError {
        ApiError::validation(self.0)
    }

    /// # Errors
    /// The 422 answer when any field failed.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(self.into_error()) }
    }
}

type Authenticated<'a> = Pin<Box<dyn Future<Output = Result<Actor, AuthenticateError>> + 'a>>;
type Enrolled<'a> = Pin<Box<dyn Future<Output = Result<Enrollee, AuthenticateError>> + 'a>>;

/// Turns a bearer token into an actor; the API holds one as `dyn` so the
/// [`Auth`] extractor needs no type parameter.
pub trait Authenticator: Send + Sync {
    fn authenticate<'a>(&'a self, token: &'a str, ip: Option<IpAddr>, now: DateTime<Utc>) -> Authenticated<'a>;

    /// The user behind a two-factor enrolment token.
    fn enrollee<'a>(&'a self, token: &'a str, ip: Option<IpAddr>, now: DateTime<Utc>) -> Enrolled<'a>;
}

impl<S: Store> Authenticator for Voxport<S> {
    fn authenticate<'a>(&'a self, token: &'a str, ip: Option<IpAddr>, now: DateTime<Utc>) -> Authenticated<'a> {
        Box::pin(Voxport::authenticate(self, token, ip, now))
    }

    fn enrollee<'a>(&'a self, token: &'a str, ip: Option<IpAddr>, now: DateTime<Utc>) -> Enrolled<'a> {
        Box::pin(Voxport::authenticate_enrolment(self, token, ip, now))
    }
}

fn authenticator(req: &HttpRequest) -> Result<Arc<dyn Authenticator>, ApiError> {
    req.app_data::<web::Data<dyn Authenticator>>()
        .cloned()
        .map(web::Data::into_inner)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no authenticator configured")))
}

/// The authenticated caller.
pub struct Auth {
    pub actor: Actor,
}

impl Auth {
    /// # Errors
    /// 403 `permission_denied` when the caller's role lacks `permission`.
    pub fn require(&self, permission: Permission) -> Result<&Actor, ApiError> {
        if self.actor.can(permission) { Ok(&self.actor) } else { Err(ApiError::forbidden(permission)) }
    }

    /// The signed-in person, for what only a person has (a profile, a
    /// password, a second factor, a session).
    ///
    /// # Errors
    /// 403 `person_only` for an API client's token.
    pub fn person(&self) -> Result<&Actor, ApiError> {
        if self.actor.person().is_some() { Ok(&self.actor) } else { Err(ApiError::person_only()) }
    }
}

/// Authenticates the bearer token, then claims the request's
/// `Idempotency-Key` for the caller (see [`crate::idempotency`]): a retry of
/// a finished request is answered its first answer here.
impl FromRequest for Auth {
    type Error = actix_web::Error;
    type Future = LocalFuture<Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let ip = client_ip(req);
        let authenticator = authenticator(req);
        let keys =
            req.app_data::<web::Data<dyn crate::idempotency::IdempotencyKeys>>().cloned().map(web::Data::into_inner);
        Box::pin(async move {
            let token = token.ok_or_else(ApiError::unauthenticated)?;
            let actor = authenticator?.authenticate(&token, ip, Utc::now()).await.map_err(ApiError::from)?;
            crate::idempotency::claim(keys, &actor).await?;
            Ok(Auth { actor })
        })
    }
}

/// Whoever may enrol a second factor: a signed-in user, or one holding the
/// short-lived enrolment token a sign-in answered when an administrator
/// requires a second factor they have not enrolled.
pub struct Enrolling(pub Enrollee);

impl FromRequest for Enrolling {
    type Error = ApiError;
    type Future = LocalFuture<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let ip = client_ip(req);
        let authenticator = authenticator(req);
        Box::pin(async move {
            let token = token.ok_or_else(ApiError::unauthenticated)?;
            let authenticator = authenticator?;
            let now = Utc::now();
            match authenticator.authenticate(&token, ip, now).await {
                Ok(actor) if actor.person().is_none() => Err(ApiError::person_only()),
                Ok(actor) => Ok(Enrolling(Enrollee::from(&actor))),
                Err(AuthenticateError::InvalidToken) => Ok(Enrolling(authenticator.enrollee(&token, ip, now).await?)),
                Err(e) => Err(e.into()),
            }
        })
    }
}

/// The credentials of an `Authorization: Basic` header (RFC 7617):
/// `None` without an `Authorization` header, `Some(None)` for one that is
/// not valid Basic.
pub fn basic_credentials(req: &HttpRequest) -> Option<Option<(String, String)>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    Some((|| {
        let (scheme, encoded) = value.to_str().ok()?.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (username, password) = decoded.split_once(':')?;
        Some((username.to_owned(), password.to_owned()))
    })())
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "fields are read by the deserializer only")]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "fields are read by the deserializer only")]
    struct Inner {
        count: u8,
    }

    fn problem(body: &str) -> (u16, String, Vec<(String, String)>) {
        let e = parse_json::<Body>(body.as_bytes()).unwrap_err();
        let p = e.problem();
        (p.status, p.code, p.errors.into_iter().map(|f| (f.field, f.message)).collect())
    }

    #[test]
    fn malformed_json_is_a_400() {
        for body in ["", "{", "{\"name\": }", "[1,", "{\"name\":\"a\"} trailing"] {
            let (status, code, _) = problem(body);
            assert_eq!((status, code.as_str()), (400, "malformed_json"), "{body:?}");
        }
    }

    #[test]
    fn wrong_fields_are_a_422_naming_the_field() {
        let cases = [
            (r#"{"name":"a","extra":1}"#, "extra", "is not a known field"),
            (r#"{}"#, "name", "is required"),
            (r#"{"name":5}"#, "name", "invalid type: integer `5`, expected a string"),
            (r#"{"name":"a","inner":{"count":300}}"#, "inner.count", "invalid value: integer `300`, expected u8"),
            (r#"{"name":"a","inner":{"bogus":1}}"#, "inner.bogus", "is not a known field"),
            (r#"5"#, "body", "must be a JSON object"),
            (r#"["a", null]"#, "body", "must be a JSON object"),
        ];
        for (body, field, message) in cases {
            let (status, code, errors) = problem(body);
            assert_eq!((status, code.as_str()), (422, "validation_failed"), "{body}");
            assert_eq!(errors, vec![(field.to_owned(), message.to_owned())], "{body}");
        }
    }
}
