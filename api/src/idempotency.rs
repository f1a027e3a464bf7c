//! `Idempotency-Key` on every POST (SECURITY.md "Reliability", issue 9;
//! the design is in `voxport_domain::idempotency`). One mechanism for
//! every operation that takes a bearer token:
//!
//! - [`remember`] (middleware) reads the key and fingerprints the request
//!   (method, path, query and body), then lets it run;
//! - the [`crate::extract::Auth`] extractor claims the key for the caller
//!   once the token is checked: a retry of a finished request answers the
//!   remembered answer there, with `Idempotent-Replayed: true`;
//! - every change the request writes marks the key committed in its own
//!   transaction;
//! - when the request is done, [`remember`] stores its answer (sealed) if
//!   it succeeded or committed anything, and otherwise lets the key go, so
//!   that a corrected retry may use it.
//!
//! Operations without a bearer token (signing in, desk-phone provisioning)
//! ignore the header, and so do the OAuth endpoints, whose RFCs say how a
//! retry behaves.

use std::{fmt, future::Future, pin::Pin, sync::Arc};

use actix_web::{
    Error, HttpMessage as _, HttpResponse, ResponseError,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{self, HeaderName, HeaderValue},
    },
    middleware::Next,
    web,
};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use voxport_domain::{
    Voxport,
    actor::Actor,
    idempotency::{
        Claim, IDEMPOTENCY_KEY_PATTERN, IdempotencyKey, IdempotencyRefusal, IdempotentRequest, InvalidIdempotencyKey,
        fingerprint,
    },
    ports::Store,
    request,
    services::{ClaimError, KeyClaim},
};

use crate::{extract::MAX_JSON_BYTES, problem::ApiError, routes::users::JOB_MAX_BYTES};

/// The request header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The answer header that marks a replay.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Claims and settles keys for the API; held as `dyn` so the extractor and
/// the middleware need no type parameter.
pub trait IdempotencyKeys: Send + Sync {
    fn claim<'a>(
        &'a self,
        actor: &'a Actor,
        request: &'a IdempotentRequest,
        now: DateTime<Utc>,
    ) -> Boxed<'a, Result<KeyClaim, ClaimError>>;

    fn settle<'a>(&'a self, claim: &'a Claim, answer: &'a [u8], succeeded: bool) -> Boxed<'a, anyhow::Result<()>>;
}

impl<S: Store> IdempotencyKeys for Voxport<S> {
    fn claim<'a>(
        &'a self,
        actor: &'a Actor,
        request: &'a IdempotentRequest,
        now: DateTime<Utc>,
    ) -> Boxed<'a, Result<KeyClaim, ClaimError>> {
        Box::pin(self.claim_idempotency_key(actor, request, now))
    }

    fn settle<'a>(&'a self, claim: &'a Claim, answer: &'a [u8], succeeded: bool) -> Boxed<'a, anyhow::Result<()>> {
        Box::pin(self.settle_idempotency_key(claim, answer, succeeded))
    }
}

/// The form answers are remembered in. A release that changes it bumps the
/// version: a retry across such a release is told its answer is gone
/// instead of answered wrongly.
const ANSWER_VERSION: u32 = 2;

/// An answer as remembered: status, headers and body.
#[derive(Serialize, Deserialize)]
struct Answer {
    version: u32,
    status: u16,
    headers: Vec<(String, String)>,
    /// Base64.
    body: String,
}

/// Headers of an answer that belong to the one response, not to what it
/// says.
fn per_response(name: &HeaderName) -> bool {
    name == header::DATE
        || name == header::CONTENT_LENGTH
        || name == header::TRANSFER_ENCODING
        || name == header::CONNECTION
        || name == crate::request::REQUEST_ID_HEADER
}

impl Answer {
    fn of(response: &HttpResponse<()>, body: &[u8]) -> Self {
        let headers = response
            .headers()
            .iter()
            .filter(|(name, _)| !per_response(name))
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect();
        Self { version: ANSWER_VERSION, status: response.status().as_u16(), headers, body: STANDARD.encode(body) }
    }

    /// The answer again, unless it was remembered in another form.
    fn replay(bytes: &[u8]) -> Option<Replay> {
        let answer: Self = serde_json::from_slice(bytes).ok().filter(|a: &Self| a.version == ANSWER_VERSION)?;
        let status = StatusCode::from_u16(answer.status).ok()?;
        let headers = answer
            .headers
            .into_iter()
            .map(|(name, value)| Some((HeaderName::try_from(name).ok()?, HeaderValue::try_from(value).ok()?)))
            .collect::<Option<_>>()?;
        Some(Replay { status, headers, body: STANDARD.decode(answer.body).ok()? })
    }
}

/// The remembered answer to an earlier request with the same key, answered
/// again.
pub struct Replay {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
}

impl fmt::Debug for Replay {
    // The body may hold a secret shown once.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replay").field("status", &self.status).finish_non_exhaustive()
    }
}

impl fmt::Display for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a replayed answer ({})", self.status)
    }
}

impl ResponseError for Replay {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::with_body(self.status, BoxBody::new(self.body.clone()));
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
        response
    }
}

/// Claims the request's key, if it carries one, for the caller the
/// [`crate::extract::Auth`] extractor just authenticated.
///
/// # Errors
/// 422 naming `Idempotency-Key` when it is malformed or was used for
/// another request; 409 while the first request runs; the replay when it
/// is done.
pub(crate) async fn claim(keys: Option<Arc<dyn IdempotencyKeys>>, actor: &Actor) -> Result<(), Error> {
    let Some(asked) = request::take_idempotency_request() else { return Ok(()) };
    let asked = asked.map_err(|e| ApiError::field("Idempotency-Key", e))?;
    let keys = keys.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no idempotency keys configured")))?;
    match keys.claim(actor, &asked, Utc::now()).await {
        Ok(KeyClaim::Ours(claim)) => {
            request::hold_claim(claim);
            Ok(())
        }
        Ok(KeyClaim::Answered(bytes)) => match Answer::replay(&bytes) {
            Some(replay) => Err(replay.into()),
            None => Err(ApiError::from(IdempotencyRefusal::Forgotten).into()),
        },
        Err(ClaimError::Refused(refusal)) => Err(ApiError::from(refusal).into()),
        Err(ClaimError::Internal(e)) => Err(ApiError::internal(e).into()),
    }
}

/// Whether `path` takes an `Idempotency-Key` on POST: not the OAuth
/// endpoints (their RFCs say how a retry behaves), nor SCIM (RFC 7644 has
/// no such header; a directory retries by its own `externalId`).
fn takes_keys(path: &str) -> bool {
    !path.starts_with("/v1/oauth/") && !path.starts_with("/scim/")
}

/// How large a body may be buffered for its fingerprint: what the
/// operation itself accepts.
fn body_limit(path: &str) -> usize {
    if path == "/v1/users/import" { JOB_MAX_BYTES } else { MAX_JSON_BYTES }
}

/// Wrap the app with `from_fn(idempotency::remember)` inside
/// `request::context` (it needs the request's context) and outside
/// `preconditions::versions` (the remembered answer is the final one).
///
/// # Errors
/// Whatever the wrapped service answers.
pub async fn remember(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let asks = req.method() == Method::POST && takes_keys(req.path());
    let Some(raw) = req.headers().get(IDEMPOTENCY_KEY).filter(|_| asks) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let key = raw.to_str().map_err(|_| InvalidIdempotencyKey).and_then(IdempotencyKey::parse);
    let limit = body_limit(req.path());
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > limit {
            let too_large = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("The body must be at most {limit} bytes."),
            );
            return Ok(req.error_response(too_large));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let operation = format!("POST {}", req.uri().path_and_query().map_or_else(|| req.path(), |p| p.as_str()));
    request::ask_idempotency(key.map(|key| IdempotentRequest { key, fingerprint: fingerprint(&operation, &body) }));
    req.set_payload(actix_web::dev::Payload::from(body));
    let keys: Option<Arc<dyn IdempotencyKeys>> =
        req.app_data::<web::Data<dyn IdempotencyKeys>>().cloned().map(web::Data::into_inner);
    let response = next.call(req).await?;
    let (Some(claim), Some(keys)) = (request::idempotency_claim(), keys) else {
        return Ok(response.map_into_boxed_body());
    };
    let succeeded = response.status().is_success();
    let (req, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let body = actix_web::body::to_bytes(body).await.map_err(|e| {
        actix_web::error::ErrorInternalServerError(format!("reading an answer to remember: {}", e.into()))
    })?;
    let answer = serde_json::to_vec(&Answer::of(&head, &body)).map_err(actix_web::error::ErrorInternalServerError)?;
    if let Err(e) = keys.settle(&claim, &answer, succeeded).await {
        // The key runs out with its lease; a retry then learns the answer
        // is gone when the work committed, or runs again when it did not.
        tracing::warn!(error = ?e, "an idempotency key could not be settled");
    }
    Ok(ServiceResponse::new(req, head.set_body(BoxBody::new(body))))
}

/// Declares `Idempotency-Key` on every POST that takes a bearer token, with
/// its 409 and 422.
pub struct Documented;

impl utoipa::Modify for Documented {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            ContentBuilder, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type,
            path::{ParameterBuilder, ParameterIn},
        };
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/problem+json",
                        ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                    )
                    .build(),
            )
        };
        for (path, item) in &mut openapi.paths.paths {
            let Some(operation) = item.post.as_mut().filter(|_| takes_keys(path)) else { continue };
            let bearer = operation
                .security
                .iter()
                .flatten()
                .any(|s| serde_json::to_value(s).is_ok_and(|v| v.get("bearer").is_some()));
            if !bearer {
                continue;
            }
            operation.parameters.get_or_insert_with(Vec::new).push(
                ParameterBuilder::new()
                    .name("Idempotency-Key")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "Makes a retry safe: a request with the key of an earlier one from the same caller, \
                         same path and same body, answers what the first one answered (with \
                         `Idempotent-Replayed: true`) instead of doing the work again. The same key with another \
                         request is a 422 naming `Idempotency-Key`; while the first request runs, a 409 \
                         `idempotency_key_in_progress`. A request that failed without changing anything leaves \
                         the key free. Keys are kept per caller for `VOXPORT_IDEMPOTENCY_KEY_HOURS`.",
                    ))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .pattern(Some(IDEMPOTENCY_KEY_PATTERN))
                            .min_length(Some(1))
                            .max_length(Some(255)),
                    ))
                    .build()
                    .into(),
            );
            let responses = &mut operation.responses.responses;
            responses.entry("409".to_owned()).or_insert_with(|| {
                problem("`idempotency_key_in_progress`: a request with this `Idempotency-Key` is still running.")
            });
            responses.entry("422".to_owned()).or_insert_with(|| {
                problem("`validation_failed` naming `Idempotency-Key`: malformed, or used for another request.")
            });
        }
    }
}
