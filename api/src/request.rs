//! What every request passes through before routing: `HEAD` is served as
//! `GET` (RFC 9110 §9.3.2), and the request's id (the one
//! `tracing_actix_web::TracingLogger` puts in its log lines) is answered in
//! `X-Request-Id` and carried to the audit events it writes.

use actix_web::{
    Error, HttpMessage as _,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method,
        header::{HeaderName, HeaderValue},
    },
    middleware::Next,
};
use tracing_actix_web::RequestId;

/// The answer header that names the request.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Wrap the app with `from_fn(request::context)` inside `TracingLogger`,
/// so that the logger sees the method as sent and has made the id.
///
/// # Errors
/// Whatever the wrapped service answers.
pub async fn context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // Routes are declared for GET; actix's HTTP/1 codec remembers the
    // request was HEAD and sends the headers (Content-Length included)
    // without the body.
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let id = req.extensions().get::<RequestId>().map(|id| uuid::Uuid::from(*id));
    let Some(id) = id else {
        return next.call(req).await;
    };
    let mut response = voxport_domain::request::serve(id, next.call(req)).await?;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}
