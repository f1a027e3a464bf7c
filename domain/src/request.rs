//! The request being served, for what outlives its log lines: the audit
//! events it writes name it (issue 11 "Housekeeping"). The HTTP edge sets
//! it around each request; work outside a request has none.

use std::future::Future;

use uuid::Uuid;

tokio::task_local! {
    static REQUEST_ID: Uuid;
}

/// Runs `work` as part of the request `id`.
pub async fn serve<F: Future>(id: Uuid, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

/// The request this code runs for, if any.
#[must_use]
pub fn current() -> Option<Uuid> {
    REQUEST_ID.try_with(|id| *id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_id_holds_inside_the_request_only() {
        let id = Uuid::now_v7();
        assert_eq!(current(), None);
        assert_eq!(serve(id, async { current() }).await, Some(id));
        assert_eq!(current(), None);
    }
}
