//! Brute-force protection (SECURITY.md "Brute force").
//!
//! Per account: after a number of free consecutive failures each further
//! failure locks the account one step longer than the last, up to a
//! ceiling; at the hard limit it stays locked until an administrator
//! unlocks it. A success resets the count. The numbers are
//! [`ThrottlePolicy`]'s (SECURITY.md gives the defaults, Keycloak's are
//! the reference). The counter is keyed by the login typed, known or not,
//! so an unknown login costs the same work as a known one and tells
//! nothing.
//!
//! Per source address (an IPv6 client by its /64, which one subscriber
//! holds whole): a number of failures (any accounts) per window, then 429
//! with `Retry-After` until the window ends: a password spray across many
//! accounts stops there.
//!
//! Every attempt is taken, counted as a failure, before the password is
//! checked, and given back when it matched: a burst of parallel guesses
//! gets no more tries than one after another, and attempts while locked
//! are refused without being counted, so nobody runs a victim's account up
//! to the hard lock in one burst.
//!
//! The counters live in the database (several replicas share them); the
//! rules are here, as pure functions of the stored counter and `now`.

use std::net::IpAddr;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest as _, Sha256};

use crate::values::Login;

/// Whose failures a counter counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleKey {
    /// The failures of one login, by a digest of its key: the table holds
    /// no login typed by a stranger.
    Account(String),
    Address(IpAddr),
    /// The password-reset emails of one login (by the same digest).
    ResetEmails(String),
}

impl ThrottleKey {
    /// The account counter of a login as typed at sign-in (or stored).
    #[must_use]
    pub fn account(login: &str) -> Self {
        Self::Account(digest(login))
    }

    /// The reset-email counter of a login as typed.
    #[must_use]
    pub fn reset_emails(login: &str) -> Self {
        Self::ResetEmails(digest(login))
    }

    /// The storage key.
    #[must_use]
    pub fn as_string(&self) -> String {
        match self {
            Self::Account(digest) => format!("login:{digest}"),
            Self::ResetEmails(digest) => format!("reset:{digest}"),
            Self::Address(ip) => match ip.to_canonical() {
                IpAddr::V4(v4) => format!("ip:{v4}"),
                IpAddr::V6(v6) => {
                    let network = u128::from(v6) & !(u128::MAX >> 64);
                    format!("ip:{}/64", std::net::Ipv6Addr::from(network))
                }
            },
        }
    }
}

fn digest(login: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(Login::key_of(login).as_bytes())[..18])
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
    /// Password-reset emails one login may be sent per window.
    pub reset_emails_max: u32,
    pub reset_emails_window: Duration,
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
            reset_emails_max: 3,
            reset_emails_window: Duration::hours(1),
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

/// The outcome of taking an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Counted as a failure in advance: the counter after it (closed when
    /// this very attempt locked it).
    Counted(Counter),
    /// Refused, and not counted.
    Closed(Option<DateTime<Utc>>),
}

impl ThrottlePolicy {
    /// Takes one attempt under `key` at `now`: refused while the counter is
    /// closed, else counted as a failure by the rule of the key's kind.
    #[must_use]
    pub fn take(&self, key: &ThrottleKey, before: Option<&Counter>, now: DateTime<Utc>) -> Taken {
        if let Verdict::Closed(until) = Self::verdict(before, now) {
            return Taken::Closed(until);
        }
        Taken::Counted(match key {
            ThrottleKey::Account(_) => self.account_failure(before, now),
            ThrottleKey::Address(_) => {
                Self::window_failure(before, now, self.address_window, self.address_max_failures)
            }
            ThrottleKey::ResetEmails(_) => {
                Self::window_failure(before, now, self.reset_emails_window, self.reset_emails_max)
            }
        })
    }

    /// The counter once an attempt taken under `key` turned out no failure.
    /// An account opens again, as a success would have left it; a window
    /// counter opens once below its limit.
    #[must_use]
    pub fn refunded(&self, key: &ThrottleKey, counter: &Counter) -> Counter {
        let failures = counter.failures.saturating_sub(1);
        let locked_until = match key {
            ThrottleKey::Account(_) => None,
            ThrottleKey::Address(_) => counter.locked_until.filter(|_| failures >= self.address_max_failures),
            ThrottleKey::ResetEmails(_) => counter.locked_until.filter(|_| failures >= self.reset_emails_max),
        };
        Counter {
            failures,
            locked_until,
            hard_locked: counter.hard_locked && failures >= self.account_hard_limit,
            ..counter.clone()
        }
    }

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

    /// The counter after one more failure in a fixed window of `window`
    /// allowing `max`: a new window once the last one ended; closed until
    /// the window ends once `max` is reached.
    #[must_use]
    pub fn window_failure(before: Option<&Counter>, now: DateTime<Utc>, window: Duration, max: u32) -> Counter {
        let current = before.filter(|c| now < c.window_started_at + window);
        let failures = current.map_or(0, |c| c.failures).saturating_add(1);
        let window_started_at = current.map_or(now, |c| c.window_started_at);
        let window_end = window_started_at + window;
        Counter {
            failures,
            window_started_at,
            last_failure_at: now,
            locked_until: (failures >= max).then_some(window_end),
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

    fn address_failure(p: &ThrottlePolicy, before: Option<&Counter>, now: DateTime<Utc>) -> Counter {
        ThrottlePolicy::window_failure(before, now, p.address_window, p.address_max_failures)
    }

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
            c = Some(address_failure(&p, c.as_ref(), start + Duration::seconds(i)));
        }
        assert_eq!(ThrottlePolicy::verdict(c.as_ref(), start + Duration::seconds(50)), Verdict::Open);
        let fiftieth = address_failure(&p, c.as_ref(), start + Duration::seconds(50));
        let window_end = start + Duration::minutes(15);
        assert_eq!(
            ThrottlePolicy::verdict(Some(&fiftieth), start + Duration::seconds(51)),
            Verdict::Closed(Some(window_end))
        );
        assert_eq!(ThrottlePolicy::verdict(Some(&fiftieth), window_end), Verdict::Open);
        // The next failure after the window starts a new one.
        let fresh = address_failure(&p, Some(&fiftieth), window_end + Duration::seconds(1));
        assert_eq!(fresh.failures, 1);
    }

    #[test]
    fn keys_are_canonical_and_hold_no_login() {
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(ThrottleKey::Address(mapped).as_string(), "ip:10.1.2.3");
        let key = ThrottleKey::account(" Ada@Example.com").as_string();
        assert_eq!(key, ThrottleKey::account("ada@example.com").as_string(), "as sign-in matches logins");
        assert!(key.starts_with("login:") && !key.contains("ada"), "{key}");
        assert_ne!(ThrottleKey::reset_emails("ada@example.com").as_string(), key);
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let key = |ip: &str| ThrottleKey::Address(ip.parse().unwrap()).as_string();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "ip:2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), key("2001:db8:1:2::7"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }

    #[test]
    fn attempts_are_counted_in_advance_and_refused_uncounted_once_closed() {
        let p = ThrottlePolicy::default();
        let now = Utc::now();
        let key = ThrottleKey::account("ada@example.com");
        let mut counter = None;
        for n in 1..=6 {
            let Taken::Counted(after) = p.take(&key, counter.as_ref(), now) else { panic!("attempt {n} refused") };
            assert_eq!(after.failures, n);
            counter = Some(after);
        }
        // The sixth attempt locked the account: the seventh is not counted.
        assert_eq!(p.take(&key, counter.as_ref(), now), Taken::Closed(Some(now + Duration::minutes(1))));
        // The sixth was the right password after all: back to five, open.
        let back = p.refunded(&key, counter.as_ref().unwrap());
        assert_eq!((back.failures, ThrottlePolicy::verdict(Some(&back), now)), (5, Verdict::Open));
    }

    #[test]
    fn a_given_back_attempt_reopens_a_window_below_its_limit() {
        let p = ThrottlePolicy { address_max_failures: 2, ..ThrottlePolicy::default() };
        let now = Utc::now();
        let key = ThrottleKey::Address("192.0.2.1".parse().unwrap());
        let Taken::Counted(one) = p.take(&key, None, now) else { panic!() };
        let Taken::Counted(two) = p.take(&key, Some(&one), now) else { panic!() };
        assert!(matches!(p.take(&key, Some(&two), now), Taken::Closed(Some(_))));
        let back = p.refunded(&key, &two);
        assert_eq!((back.failures, back.window_started_at), (1, two.window_started_at));
        assert_eq!(ThrottlePolicy::verdict(Some(&back), now), Verdict::Open);
    }

    #[test]
    fn a_login_gets_three_reset_emails_an_hour() {
        let p = ThrottlePolicy::default();
        let now = Utc::now();
        let key = ThrottleKey::reset_emails("ada@example.com");
        let mut counter = None;
        for _ in 0..3 {
            let Taken::Counted(after) = p.take(&key, counter.as_ref(), now) else { panic!() };
            counter = Some(after);
        }
        assert!(matches!(p.take(&key, counter.as_ref(), now), Taken::Closed(_)));
        assert!(matches!(p.take(&key, counter.as_ref(), now + Duration::hours(1)), Taken::Counted(_)));
    }
}
