//! `ETag` and `If-Match` (RFC 9110 §8.8.3, §13.1.1; issue 9 "Safe
//! concurrent edits"). Every object under `/v1/<collection>/{id}` of a
//! versioned type carries a version, moved by each change recorded about
//! it (see `voxport_domain::request`). Its tag binds type, id and version,
//! so a tag of one object never matches another.
//!
//! - A single-object GET answers the version read *before* the handler
//!   reads the object: the tag is never newer than the body.
//! - A write answer (2xx of POST creating an object, PATCH/PUT/DELETE under
//!   an object) carries the version the write moved the object to.
//! - `If-Match` on PATCH, PUT and DELETE: the handler runs with the named
//!   version as a precondition that storage checks atomically in the
//!   write's transaction; a mismatch rolls it back and answers 412
//!   `precondition_failed`. A write that recorded no change about the
//!   object (nothing to change) is compared with the current version after
//!   it ran and answers 412 on a mismatch too. `*` matches any existing
//!   object. On a write whose path names no versioned object, no tag can
//!   match: only `*` proceeds. Authentication and tenant checks come first
//!   (401, 403 and 404 are answered as without `If-Match`).

use std::{future::Future, pin::Pin, sync::Arc};

use actix_web::{
    Error, ResponseError as _,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{ETAG, HeaderValue, IF_MATCH},
    },
    middleware::Next,
    web,
};
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    audit::TargetType,
    ports::Store,
    request::{self, Expected},
};

use crate::problem::ApiError;

/// Reads object versions for the middleware.
pub trait Versions: Send + Sync {
    fn version(&self, kind: TargetType, id: Uuid) -> Pin<Box<dyn Future<Output = anyhow::Result<i64>> + Send + '_>>;
}

impl<S: Store> Versions for Voxport<S> {
    fn version(&self, kind: TargetType, id: Uuid) -> Pin<Box<dyn Future<Output = anyhow::Result<i64>> + Send + '_>> {
        Box::pin(Voxport::version(self, kind, id))
    }
}

/// The collections whose objects carry versions; a new versioned type
/// adds its line.
const VERSIONED: &[(&str, TargetType)] = &[
    ("users", TargetType::User),
    ("roles", TargetType::Role),
    ("tenants", TargetType::Tenant),
    ("stations", TargetType::Station),
    ("devices", TargetType::Device),
    ("extensions", TargetType::Extension),
    ("phone-numbers", TargetType::PhoneNumber),
    ("api-clients", TargetType::ApiClient),
    ("webhooks", TargetType::Webhook),
];

/// The versioned types whose store reads an object together with its
/// version and notes it (`request::read`): a GET of one answers that
/// version, with no read of its own before the handler.
const READ_WITH_OBJECT: &[TargetType] = &[TargetType::User];

/// What a path is about: a collection, an object, or something under one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Target {
    kind: TargetType,
    id: Option<Uuid>,
    /// The path is the collection or the object itself.
    exact: bool,
}

fn target(pattern: &str, path: &str) -> Option<Target> {
    let segments: Vec<&str> = pattern.split('/').collect();
    let ["", "v1", collection, rest @ ..] = segments.as_slice() else { return None };
    let kind = VERSIONED.iter().find(|(name, _)| name == collection)?.1;
    match rest {
        [] => Some(Target { kind, id: None, exact: true }),
        [param, more @ ..] if param.starts_with('{') => {
            let id = path.split('/').nth(3)?.parse().ok()?;
            Some(Target { kind, id: Some(id), exact: more.is_empty() })
        }
        _ => None,
    }
}

/// A version no object is at: what a tag of another object names.
const NO_VERSION: i64 = -1;

/// Whether `pattern` is an object (or below one) of a versioned collection.
fn names_versioned_object(pattern: &str) -> bool {
    let segments: Vec<&str> = pattern.split('/').collect();
    matches!(segments.as_slice(), ["", "v1", collection, param, ..]
        if param.starts_with('{') && VERSIONED.iter().any(|(name, _)| name == collection))
}

/// The strong tag of `kind` `id` at `version`.
#[must_use]
pub fn tag(kind: TargetType, id: Uuid, version: i64) -> String {
    format!("\"{}.{}.{version}\"", kind.as_str(), id.simple())
}

/// The version an `If-Match` list names for `kind` `id`, if any of its tags
/// is one of that object's (weak tags never match, RFC 9110 §13.1.1).
fn named_version(header: &str, kind: TargetType, id: Uuid) -> Option<i64> {
    let prefix = format!("\"{}.{}.", kind.as_str(), id.simple());
    header.split(',').map(str::trim).find_map(|t| t.strip_prefix(&prefix)?.strip_suffix('"')?.parse().ok())
}

fn precondition_failed() -> actix_web::HttpResponse {
    ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        "The object changed since the version If-Match names; read it again and retry.",
    )
    .error_response()
}

/// Wrap the app with `from_fn(preconditions::versions)` inside
/// `request::context`, so that the request's context is set.
///
/// # Errors
/// Whatever the wrapped service answers.
pub async fn versions(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let method = req.method().clone();
    let target = req.match_pattern().and_then(|p| target(&p, req.path()));
    let store: Option<Arc<dyn Versions>> =
        req.app_data::<web::Data<dyn Versions>>().cloned().map(web::Data::into_inner);
    let writes = method == Method::PATCH || method == Method::PUT || method == Method::DELETE;
    let object = target.and_then(|t| t.id.map(|id| (t.kind, id)));
    let mut expected = None;
    // `/scim/v2` advertises no ETags (its own errors, its own rules).
    let versioned_api = req.path().starts_with("/v1/");
    if writes
        && versioned_api
        && let Some(header) = req.headers().get(IF_MATCH)
    {
        let header = header.to_str().unwrap_or_default().trim();
        let names_an_object = req.match_pattern().is_some_and(|p| names_versioned_object(&p));
        match object {
            Some((kind, id)) if header == "*" => request::expect(kind, id, Expected::Any),
            // A tag of another object, a made-up or a malformed one
            // matches no version (RFC 9110 §13.1.1: the condition is
            // false); the handler still runs first, so 401, 403 and 404
            // come before the 412.
            Some((kind, id)) => {
                let version = named_version(header, kind, id).unwrap_or(NO_VERSION);
                request::expect(kind, id, Expected::Version(version));
                expected = Some(version);
            }
            // Not an object id at all: the handler answers as it would.
            None if header == "*" || names_an_object => {}
            None => return Ok(req.into_response(precondition_failed()).map_into_right_body()),
        }
    }
    let read = |kind, id| {
        let store = store.clone();
        async move {
            match store {
                Some(store) => match store.version(kind, id).await {
                    Ok(version) => Some(version),
                    Err(e) => {
                        tracing::warn!(error = ?e, "an object's version could not be read");
                        None
                    }
                },
                None => None,
            }
        }
    };
    let before = match (method == Method::GET, target, object) {
        (true, Some(Target { exact: true, .. }), Some((kind, id))) if !READ_WITH_OBJECT.contains(&kind) => {
            read(kind, id).await
        }
        _ => None,
    };
    let mut response = next.call(req).await?;
    if request::has_failed_precondition() {
        let (req, _) = response.into_parts();
        return Ok(ServiceResponse::new(req, precondition_failed()).map_into_right_body());
    }
    // A replay answers exactly what the first request answered.
    if !response.status().is_success() || response.headers().contains_key(crate::idempotency::IDEMPOTENT_REPLAYED) {
        return Ok(response.map_into_left_body());
    }
    if let (Some(version), Some((kind, id))) = (expected, object)
        && request::written_version(kind, Some(id)).is_none()
        && read(kind, id).await != Some(version)
    {
        let (req, _) = response.into_parts();
        return Ok(ServiceResponse::new(req, precondition_failed()).map_into_right_body());
    }
    let tagged = match (target, object) {
        (Some(t), None) if method == Method::POST && t.exact => request::written_version(t.kind, None),
        (Some(t), Some((kind, id))) if method == Method::GET => before
            .or_else(|| request::read_version(kind, id))
            .filter(|_| t.exact)
            .map(|v| (id, v))
            .filter(|_| kind == t.kind),
        (Some(t), Some(_)) if method == Method::DELETE && t.exact => None,
        (Some(_), Some((kind, id))) if writes || method == Method::POST => {
            match request::written_version(kind, Some(id)) {
                Some(written) => Some(written),
                None => read(kind, id).await.map(|v| (id, v)),
            }
        }
        _ => None,
    };
    if let (Some(t), Some((id, version))) = (target, tagged)
        && let Ok(value) = HeaderValue::from_str(&tag(t.kind, id, version))
    {
        response.headers_mut().insert(ETAG, value);
    }
    Ok(response.map_into_left_body())
}

/// Declares `If-Match`, its 412 and the `ETag` answer header on the
/// operations of versioned objects (the paths [`VERSIONED`] names).
pub struct Preconditions;

impl utoipa::Modify for Preconditions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            HttpMethod, ObjectBuilder, RefOr, Required, ResponseBuilder, Type,
            header::Header,
            path::{ParameterBuilder, ParameterIn},
        };
        let text = || ObjectBuilder::new().schema_type(Type::String).build();
        for (path, item) in &mut openapi.paths.paths {
            // The document's paths are patterns: any id stands for `{id}`.
            let example: Vec<String> = path
                .split('/')
                .enumerate()
                .map(|(i, s)| if i == 3 && s.starts_with('{') { Uuid::nil().to_string() } else { s.to_owned() })
                .collect();
            let Some(t) = target(path, &example.join("/")) else { continue };
            let methods = [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Patch, &mut item.patch),
                (HttpMethod::Delete, &mut item.delete),
            ];
            let is_item = t.id.is_some();
            for (method, operation) in methods {
                let Some(operation) = operation.as_mut() else { continue };
                let writes = matches!(method, HttpMethod::Put | HttpMethod::Patch | HttpMethod::Delete);
                let tagged = match method {
                    HttpMethod::Get => t.exact && is_item,
                    HttpMethod::Post => true,
                    HttpMethod::Delete => !t.exact,
                    _ => is_item,
                };
                if writes && is_item {
                    operation.parameters.get_or_insert_with(Vec::new).push(
                        ParameterBuilder::new()
                            .name("If-Match")
                            .parameter_in(ParameterIn::Header)
                            .required(Required::False)
                            .description(Some(
                                "The object's `ETag` (or `*`): the write happens only while the object is at that version, else 412 `precondition_failed`.",
                            ))
                            .schema(Some(
                                utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String),
                            ))
                            .build()
                            .into(),
                    );
                    operation.responses.responses.insert(
                        "412".to_owned(),
                        RefOr::T(
                            ResponseBuilder::new()
                                .description(
                                    "The object changed since the version `If-Match` names (`precondition_failed`).",
                                )
                                .content(
                                    "application/problem+json",
                                    utoipa::openapi::ContentBuilder::new()
                                        .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
                                        .build(),
                                )
                                .build(),
                        ),
                    );
                }
                if !tagged || (!is_item && method != HttpMethod::Post) {
                    continue;
                }
                for (status, response) in &mut operation.responses.responses {
                    if !status.starts_with('2') {
                        continue;
                    }
                    if let RefOr::T(response) = response {
                        let mut header = Header::new(text());
                        header.description = Some("The object's version, for `If-Match`.".to_owned());
                        response.headers.insert("ETag".to_owned(), RefOr::T(header));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_object_paths_of_versioned_collections_name_an_object() {
        assert!(names_versioned_object("/v1/users/{id}/station"));
        assert!(!names_versioned_object("/v1/me"));
        assert!(!names_versioned_object("/v1/users"));
    }

    #[test]
    fn paths_name_their_object() {
        let id = Uuid::now_v7();
        assert_eq!(
            target("/v1/users/{id}", &format!("/v1/users/{id}")),
            Some(Target { kind: TargetType::User, id: Some(id), exact: true })
        );
        assert_eq!(
            target("/v1/users/{id}/station", &format!("/v1/users/{id}/station")),
            Some(Target { kind: TargetType::User, id: Some(id), exact: false })
        );
        assert_eq!(target("/v1/roles", "/v1/roles"), Some(Target { kind: TargetType::Role, id: None, exact: true }));
        assert_eq!(target("/v1/me", "/v1/me"), None);
        assert_eq!(target("/v1/permissions", "/v1/permissions"), None);
    }

    #[test]
    fn a_tag_matches_only_its_object() {
        let id = Uuid::now_v7();
        let mine = tag(TargetType::User, id, 3);
        assert_eq!(named_version(&mine, TargetType::User, id), Some(3));
        assert_eq!(named_version(&format!("\"x\", {mine}"), TargetType::User, id), Some(3));
        assert_eq!(named_version(&mine, TargetType::Role, id), None);
        assert_eq!(named_version(&mine, TargetType::User, Uuid::now_v7()), None);
        assert_eq!(named_version(&format!("W/{mine}"), TargetType::User, id), None);
    }
}
