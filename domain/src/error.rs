//! Errors shared by every operation.

/// Storage could not be reached (connection refused, pool exhausted,
/// database restarting). Adapters wrap such failures in this type inside
/// the `anyhow::Error` of an `Unknown` variant, so the edge can answer 503
/// instead of 500 without knowing which database is behind the port.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("storage is unavailable")]
pub struct Unavailable;

/// Whether `err` (or anything in its chain) says storage was unreachable.
#[must_use]
pub fn is_unavailable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.is::<Unavailable>())
}
