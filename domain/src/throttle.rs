//! Brute-force protection (SECURITY.md "Brute force").
//!
//! Per account: after 5 consecutive failures each further failure locks
//! the account for a minute more than the last (1, 2, 3… minutes), at most
//! 15 minutes; at 100 consecutive failures it stays locked until an
//! administrator unlocks it. A success resets the count. Attempts while
//! locked are refused without being counted, so nobody can run a victim's
//! account up to the hard lock in one burst. Keycloak's defaults (30
//! failures, 1-minute steps, 15 minutes at most) are the reference.
//!
//! Per source address: at most 50 failures (any accounts) in a 15-minute
//! window, then 429 with `Retry-After` until the window ends: a password
//! spray across many accounts stops there.
//!
//! The counters live in the database (several replicas share them); the
//! rules are here, as pure functions of the stored counter and `now`.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Whose failures a counter counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleKey {
    Account(Uuid),
    Address(IpAddr),
}

impl ThrottleKey {
    /// The storage key.
    #[must_use]
    pub fn as_string(&self) -> String {
        match self {
            Self::Account(id) => format!("user:{id}"),
            Self::Address(ip) => format!("ip:{}", ip.to_canonical()),
        }
    }
}

/// A stored counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub failures: u32,
    /// When the current counting window began (source addresses).
    pub window_started_at: DateTime<Utc>,
    pub last_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    /// Locked until an administrator unlocks it.
    pub hard_locked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures before the first lock.
    pub account_free_failures: u32,
    /// How much longer each further lock lasts.
    pub account_lock_step: Duration,
    pub account_max_lock: Duration,
    /// Failures that lock an account until an administrator unlocks it.
    pub account_hard_limit: u32,
    pub address_max_failures: u32,
    pub address_window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account_free_failures: 5,
            account_lock_step: Duration::minutes(1),
            account_max_lock: Duration::minutes(15),
            account_hard_limit: 100,
            address_max_failures: 50,
            address_window: Duration::minutes(15),
        }
    }
}

/// What a counter says about the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Open,
    /// Refused until then (`None`: until an administrator unlocks).
    Closed(Option<DateTime<Utc>>),
}

impl ThrottlePolicy {
    /// The counter after one more failure of an account at `now`.
    #[must_use]
    pub fn account_failure(&self, before: Option<&Counter>, now: DateTime<Utc>) -> Counter {
        let failures = before.map_or(0, |c| c.failures).saturating_add(1);
        let over = failures.saturating_sub(self.account_free_failures);
        let locked_until = (over > 0).then(|| {
            now + self
                .account_lock_step
                .checked_mul(i32::try_from(over).unwrap_or(i32::MAX))
                .unwrap_or(self.account_max_lock)
                .min(self.account_max_lock)
        });
        Counter {
            failures,
            window_started_at: before.map_or(now, |c| c.window_started_at),
            last_failure_at: now,
            locked_until,
            hard_locked: failures >= self.account_hard_limit,
        }
    }

    /// The counter after one more failure from a source address at `now`:
    /// a new window once the last one ended.
    #[must_use]
    pub fn address_failure(&self, before: Option<&Counter>, now: DateTime<Utc>) -> Counter {
        let current = before.filter(|c| now < c.window_started_at + self.address_window);
        let failures = current.map_or(0, |c| c.failures).saturating_add(1);
        let window_started_at = current.map_or(now, |c| c.window_started_at);
        let window_end = window_started_at + self.address_window;
        Counter {
            failures,
            window_started_at,
            last_failure_at: now,
            locked_until: (failures >= self.address_max_failures).then_some(window_end),
            hard_locked: false,
        }
    }

    /// Whether a counter lets the next attempt through at `now`.
    #[must_use]
    pub fn verdict(counter: Option<&Counter>, now: DateTime<Utc>) -> Verdict {
        match counter {
            Some(c) if c.hard_locked => Verdict::Closed(None),
            Some(Counter { locked_until: Some(until), .. }) if *until > now => Verdict::Closed(Some(*until)),
            _ => Verdict::Open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(policy: &ThrottlePolicy, n: u32, now: DateTime<Utc>) -> Counter {
        let mut c = None;
        for _ in 0..n {
            c = Some(policy.account_failure(c.as_ref(), now));
        }
        c.unwrap()
    }

    #[test]
    fn five_failures_are_free_then_locks_grow_by_a_minute_up_to_fifteen() {
        let p = ThrottlePolicy::default();
        let now = Utc::now();
        assert_eq!(ThrottlePolicy::verdict(Some(&run(&p, 5, now)), now), Verdict::Open);
        let locks: Vec<i64> = [6, 7, 8, 19, 20, 21, 99]
            .iter()
            .map(|n| (run(&p, *n, now).locked_until.unwrap() - now).num_minutes())
            .collect();
        assert_eq!(locks, [1, 2, 3, 14, 15, 15, 15]);
        let sixth = run(&p, 6, now);
        assert_eq!(ThrottlePolicy::verdict(Some(&sixth), now), Verdict::Closed(Some(now + Duration::minutes(1))));
        assert_eq!(ThrottlePolicy::verdict(Some(&sixth), now + Duration::minutes(1)), Verdict::Open);
    }

    #[test]
    fn a_hundred_failures_lock_until_an_administrator_unlocks() {
        let p = ThrottlePolicy::default();
        let now = Utc::now();
        assert!(!run(&p, 99, now).hard_locked);
        let hundredth = run(&p, 100, now);
        assert!(hundredth.hard_locked);
        assert_eq!(ThrottlePolicy::verdict(Some(&hundredth), now + Duration::days(365)), Verdict::Closed(None));
    }

    #[test]
    fn a_source_address_gets_fifty_failures_per_window() {
        let p = ThrottlePolicy::default();
        let start = Utc::now();
        let mut c: Option<Counter> = None;
        for i in 0..49 {
            c = Some(p.address_failure(c.as_ref(), start + Duration::seconds(i)));
        }
        assert_eq!(ThrottlePolicy::verdict(c.as_ref(), start + Duration::seconds(50)), Verdict::Open);
        let fiftieth = p.address_failure(c.as_ref(), start + Duration::seconds(50));
        let window_end = start + Duration::minutes(15);
        assert_eq!(
            ThrottlePolicy::verdict(Some(&fiftieth), start + Duration::seconds(51)),
            Verdict::Closed(Some(window_end))
        );
        assert_eq!(ThrottlePolicy::verdict(Some(&fiftieth), window_end), Verdict::Open);
        // The next failure after the window starts a new one.
        let fresh = p.address_failure(Some(&fiftieth), window_end + Duration::seconds(1));
        assert_eq!(fresh.failures, 1);
    }

    #[test]
    fn keys_are_canonical() {
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(ThrottleKey::Address(mapped).as_string(), "ip:10.1.2.3");
        assert!(ThrottleKey::Account(Uuid::nil()).as_string().starts_with("user:"));
    }
}
