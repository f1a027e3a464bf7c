//! Problems of `Idempotency-Key`.

use voxport_domain::idempotency::IdempotencyRefusal;

use super::ApiError;

/// A request with the same `Idempotency-Key` is still running.
pub fn idempotency_in_progress() -> ApiError {
    ApiError::conflict(
        "idempotency_key_in_progress",
        "A request with this Idempotency-Key is still being processed; retry shortly.",
    )
}

/// The `Idempotency-Key` was used with another body.
pub fn idempotency_key_reused() -> ApiError {
    ApiError::field("Idempotency-Key", "was used for a different request; use a new key for a new request")
}

impl From<IdempotencyRefusal> for ApiError {
    fn from(e: IdempotencyRefusal) -> Self {
        match e {
            IdempotencyRefusal::KeyReused => idempotency_key_reused(),
            IdempotencyRefusal::InProgress => idempotency_in_progress(),
            IdempotencyRefusal::Forgotten => ApiError::conflict(
                "idempotency_key_forgotten",
                "The answer to the first request with this Idempotency-Key can no longer be shown; \
                 check whether it took effect, and use a new key.",
            ),
        }
    }
}
