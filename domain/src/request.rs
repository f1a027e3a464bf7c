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
//!
//! The request's `Idempotency-Key` travels the same way (see
//! `crate::idempotency`): the edge asks for it, authentication claims it
//! for the caller, and every change the request writes marks the claimed
//! key committed in its own transaction.

use std::{
    future::Future,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use uuid::Uuid;

use crate::{
    audit::TargetType,
    idempotency::{Claim, IdempotencyRefusal, IdempotentRequest, InvalidIdempotencyKey},
};

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

/// Where the request's idempotency key stands.
#[derive(Debug, Clone, Default)]
enum Idempotency {
    /// The request carries no key (or it was taken to be claimed).
    #[default]
    None,
    /// The request carries a key, not yet claimed for a caller.
    Asked(Result<IdempotentRequest, InvalidIdempotencyKey>),
    /// This request holds the key.
    Claimed(Claim),
}

/// A request's context: its id, the precondition of its write, the
/// versions its writes moved objects to, and its idempotency key.
#[derive(Debug)]
pub struct Context {
    id: Uuid,
    precondition: Mutex<Option<Precondition>>,
    failed: AtomicBool,
    written: Mutex<Vec<(TargetType, Uuid, i64)>>,
    read: Mutex<Vec<(TargetType, Uuid, i64)>>,
    idempotency: Mutex<Idempotency>,
}

impl Context {
    #[must_use]
    pub fn new(id: Uuid) -> Self {
        Self {
            id,
            precondition: Mutex::new(None),
            failed: AtomicBool::new(false),
            written: Mutex::new(Vec::new()),
            read: Mutex::new(Vec::new()),
            idempotency: Mutex::new(Idempotency::None),
        }
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

/// Notes that `target_type` `target_id` was read at `version`, in the
/// same statement as the object itself (so the two agree). Outside a
/// request it does nothing.
pub fn read(target_type: TargetType, target_id: Uuid, version: i64) {
    let _ = CONTEXT.try_with(|c| {
        c.read.lock().unwrap_or_else(PoisonError::into_inner).push((target_type, target_id, version));
    });
}

/// The version `target_type` `target_id` was first read at by this
/// request, as [`read`] noted it.
#[must_use]
pub fn read_version(target_type: TargetType, target_id: Uuid) -> Option<i64> {
    CONTEXT
        .try_with(|c| {
            c.read
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .find(|(t, id, _)| *t == target_type && *id == target_id)
                .map(|(_, _, v)| *v)
        })
        .ok()
        .flatten()
}

fn with_idempotency<T>(f: impl FnOnce(&mut Idempotency) -> T) -> Option<T> {
    CONTEXT.try_with(|c| f(&mut c.idempotency.lock().unwrap_or_else(PoisonError::into_inner))).ok()
}

/// Notes the request's `Idempotency-Key` (or that it is malformed), for
/// authentication to claim. Outside a request it does nothing.
pub fn ask_idempotency(request: Result<IdempotentRequest, InvalidIdempotencyKey>) {
    with_idempotency(|i| *i = Idempotency::Asked(request));
}

/// The key the request asked for and nobody claimed yet; taking it means
/// the caller claims it now.
#[must_use]
pub fn take_idempotency_request() -> Option<Result<IdempotentRequest, InvalidIdempotencyKey>> {
    with_idempotency(|i| match std::mem::take(i) {
        Idempotency::Asked(request) => Some(request),
        other => {
            *i = other;
            None
        }
    })
    .flatten()
}

/// Notes that this request holds `claim`.
pub fn hold_claim(claim: Claim) {
    with_idempotency(|i| *i = Idempotency::Claimed(claim));
}

/// The idempotency key this request holds, if any.
#[must_use]
pub fn idempotency_claim() -> Option<Claim> {
    with_idempotency(|i| match i {
        Idempotency::Claimed(claim) => Some(claim.clone()),
        _ => None,
    })
    .flatten()
}

/// Notes that another request took this one's key over (its answer is not
/// this request's to store), and answers the error its transaction fails
/// with.
#[must_use]
pub fn lose_idempotency_claim() -> IdempotencyRefusal {
    with_idempotency(|i| *i = Idempotency::None);
    IdempotencyRefusal::InProgress
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

    #[tokio::test]
    async fn a_key_is_claimed_once_and_can_be_lost() {
        use crate::idempotency::IdempotencyKey;
        let key = IdempotencyKey::parse("k-1").unwrap();
        serve(Uuid::now_v7(), async {
            assert!(take_idempotency_request().is_none());
            ask_idempotency(Ok(IdempotentRequest { key: key.clone(), fingerprint: "f".to_owned() }));
            assert!(idempotency_claim().is_none(), "asked is not held");
            assert!(matches!(take_idempotency_request(), Some(Ok(r)) if r.key == key));
            assert!(take_idempotency_request().is_none(), "taken once");
            let claim = Claim { scope: Uuid::now_v7(), key: key.clone(), token: Uuid::now_v7() };
            hold_claim(claim.clone());
            assert_eq!(idempotency_claim().map(|c| c.token), Some(claim.token));
            assert_eq!(lose_idempotency_claim(), IdempotencyRefusal::InProgress);
            assert!(idempotency_claim().is_none());
        })
        .await;
        assert!(idempotency_claim().is_none());
    }
}
