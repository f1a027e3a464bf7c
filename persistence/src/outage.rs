//! Connections that may have died with the database.
//!
//! A pooled connection is pinged before use only once it has been idle for
//! a while (a ping on every checkout is a round trip before each query).
//! When the database goes away, every idle connection dies with it, and
//! without more each would fail one request after the database is back.
//! So this process notes when it saw the database drop or refuse a
//! connection, and a connection that went idle before that is pinged
//! before use (and replaced if dead).

use std::{
    sync::{
        LazyLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

static START: LazyLock<Instant> = LazyLock::new(Instant::now);

/// When the database was last seen failing, in milliseconds after `START`,
/// plus one; 0 for never.
static LAST_SEEN: AtomicU64 = AtomicU64::new(0);

fn now_ms() -> u64 {
    u64::try_from(START.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Notes that the database just dropped or refused a connection.
pub(crate) fn seen() {
    LAST_SEEN.store(now_ms().saturating_add(1), Ordering::Relaxed);
}

/// Whether the database was seen failing since a connection idle for
/// `idle` went idle: it may be dead.
pub(crate) fn since_idle(idle: Duration) -> bool {
    let last = LAST_SEEN.load(Ordering::Relaxed);
    let idle = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
    last > 0 && last >= now_ms().saturating_sub(idle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_idle_since_before_an_outage_is_suspect_and_a_newer_one_is_not() {
        seen();
        assert!(since_idle(Duration::from_secs(60)), "idle since before it");
        std::thread::sleep(Duration::from_millis(20));
        assert!(!since_idle(Duration::from_millis(5)), "idle only since after it");
    }
}
