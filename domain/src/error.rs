//! Errors shared by every operation.

/// Storage could not be reached (connection refused, pool exhausted,
/// database restarting). Adapters wrap such failures in this type inside
/// the `anyhow::Error` of an `Unknown` variant, so the edge can answer 503
/// instead of 500 without knowing which database is behind the port.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("storage is unavailable")]
pub struct Unavailable;

/// Whether `err` (or anything in its chain) says storage was unreachable.
/// `Unavailable` usually rides as context, which only a downcast of the
/// `anyhow::Error` itself finds (the chain shows context layers as other
/// types).
#[must_use]
pub fn is_unavailable(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Unavailable>().is_some() || err.chain().any(|cause| cause.is::<Unavailable>())
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn unavailable_is_found_under_any_context() {
        let err: anyhow::Error = anyhow::anyhow!("connection refused").context("loading a user").context(Unavailable);
        assert!(is_unavailable(&err));
        let wrapped = Err::<(), _>(err).context("signing in").unwrap_err();
        assert!(is_unavailable(&wrapped));
        assert!(!is_unavailable(&anyhow::anyhow!("a constraint failed")));
    }
}
