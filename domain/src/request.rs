//! The request being served, for what outlives its log lines: the audit
//! events it writes name it (issue 11 "Housekeeping"), and the version its
//! `If-Match` names travels with it to the transaction that must check it
//! (issue 9 "Safe concurrent edits"). The HTTP edge sets it around each
//! request; work outside a request has none.
//!
//! The precondition is checked where the change is written, not before:
//! storage moves the object's version only from the expected one, in the
//! transaction of the change (see the audit adapter), so of two writes made
//! from the same `ETag` exactly one commits and the other fails with
//! [`PreconditionFailed`].

use std::{
    future::Future,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use uuid::Uuid;

use crate::audit::TargetType;

tokio::task_local! {
    static CONTEXT: Arc<Context>;
}

/// What `If-Match` asks of the object a write is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// `*`: any current version.
    Any,
    /// Exactly this version.
    Version(i64),
}

/// The object a write must find at a version, and whether the write has
/// checked it yet.
#[derive(Debug, Clone, Copy)]
struct Precondition {
    target_type: TargetType,
    target_id: Uuid,
    expected: Expected,
    checked: bool,
}

/// A request's context: its id, the precondition of its write, and the
/// versions its writes moved objects to.
#[derive(Debug)]
pub struct Context {
    id: Uuid,
    precondition: Mutex<Option<Precondition>>,
    failed: AtomicBool,
    written: Mutex<Vec<(TargetType, Uuid, i64)>>,
}

impl Context {
    #[must_use]
    pub fn new(id: Uuid) -> Self {
        Self { id, precondition: Mutex::new(None), failed: AtomicBool::new(false), written: Mutex::new(Vec::new()) }
    }
}

/// The change could not be made: the object is no longer at the version
/// the request's `If-Match` named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the object changed since the version the request names")]
pub struct PreconditionFailed;

/// Runs `work` as part of the request `id`.
pub async fn serve<F: Future>(id: Uuid, work: F) -> F::Output {
    CONTEXT.scope(Arc::new(Context::new(id)), work).await
}

/// The request this code runs for, if any.
#[must_use]
pub fn current() -> Option<Uuid> {
    CONTEXT.try_with(|c| c.id).ok()
}

/// Makes the request's writes about `target_type` `target_id` conditional
/// on `expected`. Outside a request it does nothing.
pub fn expect(target_type: TargetType, target_id: Uuid, expected: Expected) {
    let _ = CONTEXT.try_with(|c| {
        *c.precondition.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(Precondition { target_type, target_id, expected, checked: false });
    });
}

/// The version a change about `target_type` `target_id` must find, when
/// the request names one and has not checked it yet.
#[must_use]
pub fn expected_version(target_type: TargetType, target_id: Uuid) -> Option<i64> {
    CONTEXT
        .try_with(|c| {
            let guard = c.precondition.lock().unwrap_or_else(PoisonError::into_inner);
            match *guard {
                Some(Precondition {
                    target_type: t,
                    target_id: id,
                    expected: Expected::Version(v),
                    checked: false,
                }) if t == target_type && id == target_id => Some(v),
                _ => None,
            }
        })
        .ok()
        .flatten()
}

/// Notes that a change moved `target_type` `target_id` to `version`;
/// it satisfies a precondition about that object.
pub fn wrote(target_type: TargetType, target_id: Uuid, version: i64) {
    let _ = CONTEXT.try_with(|c| {
        if let Some(p) = c.precondition.lock().unwrap_or_else(PoisonError::into_inner).as_mut()
            && p.target_type == target_type
            && p.target_id == target_id
        {
            p.checked = true;
        }
        c.written.lock().unwrap_or_else(PoisonError::into_inner).push((target_type, target_id, version));
    });
}

/// Notes that the request's precondition failed, and answers the error
/// its transaction fails with.
#[must_use]
pub fn precondition_failed() -> PreconditionFailed {
    let _ = CONTEXT.try_with(|c| c.failed.store(true, Ordering::SeqCst));
    PreconditionFailed
}

/// Whether a write of this request found its object at another version.
#[must_use]
pub fn has_failed_precondition() -> bool {
    CONTEXT.try_with(|c| c.failed.load(Ordering::SeqCst)).unwrap_or(false)
}

/// The last version this request's writes moved an object of
/// `target_type` (and, when given, `target_id`) to.
#[must_use]
pub fn written_version(target_type: TargetType, target_id: Option<Uuid>) -> Option<(Uuid, i64)> {
    CONTEXT
        .try_with(|c| {
            c.written
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .rev()
                .find(|(t, id, _)| *t == target_type && target_id.is_none_or(|want| want == *id))
                .map(|(_, id, v)| (*id, *v))
        })
        .ok()
        .flatten()
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

    #[tokio::test]
    async fn a_precondition_is_asked_of_its_object_until_a_write_checks_it() {
        let user = Uuid::now_v7();
        let other = Uuid::now_v7();
        serve(Uuid::now_v7(), async {
            assert_eq!(expected_version(TargetType::User, user), None);
            expect(TargetType::User, user, Expected::Version(3));
            assert_eq!(expected_version(TargetType::User, user), Some(3));
            assert_eq!(expected_version(TargetType::User, other), None);
            assert_eq!(expected_version(TargetType::Role, user), None);
            wrote(TargetType::User, other, 1);
            assert_eq!(expected_version(TargetType::User, user), Some(3));
            wrote(TargetType::User, user, 4);
            assert_eq!(expected_version(TargetType::User, user), None);
            assert_eq!(written_version(TargetType::User, Some(user)), Some((user, 4)));
            assert_eq!(written_version(TargetType::User, None), Some((user, 4)));
            assert!(!has_failed_precondition());
            let _ = precondition_failed();
            assert!(has_failed_precondition());
        })
        .await;
        assert!(!has_failed_precondition());
    }

    #[tokio::test]
    async fn a_wildcard_asks_for_no_version() {
        let user = Uuid::now_v7();
        serve(Uuid::now_v7(), async {
            expect(TargetType::User, user, Expected::Any);
            assert_eq!(expected_version(TargetType::User, user), None);
        })
        .await;
    }
}
