//! Request metrics for the operator (issue 12 "An operator can see load
//! coming"): every answer counted by route, method and status, with its
//! latency. The route is the resource's pattern (`/v1/users/{id}`), never
//! the path itself, so ids do not make a series each.

use std::time::Instant;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};

/// Counts and times a request; wrap the app with
/// `actix_web::middleware::from_fn(voxport_api::metrics::record)`.
///
/// # Errors
/// Whatever the wrapped service answers.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let response = next.call(req).await?;
    // Known once the request was routed.
    let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16().to_string();
    let seconds = started.elapsed().as_secs_f64();
    metrics::counter!("voxport_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("voxport_http_request_duration_seconds", "route" => route, "method" => method).record(seconds);
    Ok(response)
}
