//! Brute-force protection that stops guessing, not offices (SECURITY.md
//! "Brute force"; PRODUCT.md rule 15).
//!
//! Failures count; successes and attempts waiting their turn do not. An
//! office of people behind one address signing in at once, or one account
//! open in several places, is never refused: a correct sign-in writes no
//! failure anywhere.
//!
//! Three counters watch every sign-in, keyed by a digest of the login typed
//! (known or not, so an unknown login costs the same and tells nothing) and
//! by the source address (an IPv6 client by its /64, which one subscriber
//! holds whole):
//!
//! - **The login from this address** ([`ThrottleKey::Pair`]): after some
//!   free failures each further failure locks that address out of that
//!   login one step longer than the last, up to a ceiling. A success
//!   clears it.
//! - **The login from unknown addresses** ([`ThrottleKey::Account`]): the
//!   hard stop (NIST SP 800-63B-4: at most 100 consecutive failures by
//!   default). It counts only failures from addresses the user has not
//!   signed in from lately, and stops only those; an administrator lifts it.
//! - **The address, any login** ([`ThrottleKey::Address`]): a password
//!   spray's limit per window, then 429. Logins known at the address are
//!   not held back by it.
//!
//! An address is *known* for a user once they signed in from it
//! successfully within the last [`ThrottlePolicy::known_for`]. Whoever
//! knows only a login can therefore lock out the addresses they try from,
//! never the ones its owner uses.
//!
//! A sign-in is judged when its hash starts (`PasswordHasher::slot`), and
//! its failure is counted when the hash has ended. Of a burst of parallel
//! wrong passwords no more get a hash than the limit plus the hashes that
//! run at once. Every hash that does not end in a sign-in counts against
//! someone: a right password refused for a missing code, a disabled
//! account or an address outside the allowlist too, so nobody makes the
//! server hash without limit.
//!
//! The counters live in the database (several replicas share them); the
//! rules are here, as pure functions of the stored counters and `now`.

use std::net::IpAddr;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest as _, Sha256};

use crate::values::Login;

/// Whose failures a counter counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleKey {
    /// One login (by digest) from one source address.
    Pair { login: String, address: String },
    /// One login (by digest) from addresses not known for it.
    Account(String),
    /// One source address, any login.
    Address(String),
    /// The password-reset emails of one login (by digest).
    ResetEmails(String),
    /// The password-reset requests of one source address.
    ResetRequests(String),
}

impl ThrottleKey {
    /// The hard-stop counter of a login as typed at sign-in (or stored).
    #[must_use]
    pub fn account(login: &str) -> Self {
        Self::Account(login_digest(login))
    }

    /// The counter of a login from an address.
    #[must_use]
    pub fn pair(login: &str, ip: Option<IpAddr>) -> Self {
        Self::Pair { login: login_digest(login), address: address_key(ip) }
    }

    #[must_use]
    pub fn address(ip: Option<IpAddr>) -> Self {
        Self::Address(address_key(ip))
    }

    /// The reset-email counter of a login as typed.
    #[must_use]
    pub fn reset_emails(login: &str) -> Self {
        Self::ResetEmails(login_digest(login))
    }

    /// The reset-request counter of an address.
    #[must_use]
    pub fn reset_requests(ip: Option<IpAddr>) -> Self {
        Self::ResetRequests(address_key(ip))
    }

    /// The storage key.
    #[must_use]
    pub fn as_string(&self) -> String {
        match self {
            Self::Pair { login, address } => format!("pair:{login}:{address}"),
            Self::Account(digest) => format!("login:{digest}"),
            Self::Address(address) => format!("ip:{address}"),
            Self::ResetEmails(digest) => format!("reset:{digest}"),
            Self::ResetRequests(address) => format!("reset-ip:{address}"),
        }
    }

    /// The storage keys of every counter of a login (its hard stop and its
    /// pairs), as a prefix and an exact key, for an administrator's unlock.
    #[must_use]
    pub fn of_login(login: &str) -> (String, String) {
        let digest = login_digest(login);
        (format!("pair:{digest}:"), format!("login:{digest}"))
    }
}

fn login_digest(login: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(Login::key_of(login).as_bytes())[..18])
}

/// How an address is counted: IPv4 as it is, IPv6 by its /64; `-` when
/// the address is not known.
#[must_use]
pub fn address_key(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let network = u128::from(v6) & !(u128::MAX >> 64);
            format!("{}/64", std::net::Ipv6Addr::from(network))
        }
        None => "-".to_owned(),
    }
}

/// The counters a sign-in of a login from an address reads and moves.
#[derive(Debug, Clone)]
pub struct SignInKeys {
    pub pair: ThrottleKey,
    pub account: ThrottleKey,
    pub address: ThrottleKey,
    /// The address as known addresses are stored.
    pub address_key: String,
}

impl SignInKeys {
    #[must_use]
    pub fn new(login: &str, ip: Option<IpAddr>) -> Self {
        Self {
            pair: ThrottleKey::pair(login, ip),
            account: ThrottleKey::account(login),
            address: ThrottleKey::address(ip),
            address_key: address_key(ip),
        }
    }

    /// The counters of a desk phone's provisioning username from an
    /// address. The login they are kept under starts with a control
    /// character, which no login has, so they never share a user's counters.
    #[must_use]
    pub fn device(username: &str, ip: Option<IpAddr>) -> Self {
        Self::new(&format!("\u{1}device:{username}"), ip)
    }

    /// The counters of an API client's id from an address; kept apart
    /// from users' counters as [`SignInKeys::device`] is.
    #[must_use]
    pub fn client(client_id: &str, ip: Option<IpAddr>) -> Self {
        Self::new(&format!("\u{1}client:{client_id}"), ip)
    }

    /// Every key, for one read.
    #[must_use]
    pub fn all(&self) -> [&ThrottleKey; 3] {
        [&self.pair, &self.account, &self.address]
    }
}

/// A stored counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub failures: u32,
    /// When the current counting window began (window counters).
    pub window_started_at: DateTime<Utc>,
    pub last_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    /// Locked until an administrator unlocks it.
    pub hard_locked: bool,
}

/// What a sign-in finds when its hash starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThrottleState {
    pub pair: Option<Counter>,
    pub account: Option<Counter>,
    pub address: Option<Counter>,
    /// When the user last signed in from this address, if within
    /// [`ThrottlePolicy::known_for`].
    pub known_since: Option<DateTime<Utc>>,
}

impl ThrottleState {
    /// Whether the address is known for the user.
    #[must_use]
    pub fn known(&self) -> bool {
        self.known_since.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures of a login from an address before the first lock.
    pub pair_free_failures: u32,
    /// How much longer each further lock lasts.
    pub pair_lock_step: Duration,
    pub pair_max_lock: Duration,
    /// Consecutive failures from unknown addresses that stop a login from
    /// unknown addresses until an administrator unlocks it.
    pub account_hard_limit: u32,
    pub address_max_failures: u32,
    pub address_window: Duration,
    /// How long after a successful sign-in its address stays known.
    pub known_for: Duration,
    /// Password-reset emails one login may be sent per window.
    pub reset_emails_max: u32,
    pub reset_emails_window: Duration,
    /// Password-reset requests one address may make per window.
    pub reset_requests_max: u32,
    pub reset_requests_window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            pair_free_failures: 5,
            pair_lock_step: Duration::minutes(1),
            pair_max_lock: Duration::minutes(15),
            account_hard_limit: 100,
            address_max_failures: 50,
            address_window: Duration::minutes(15),
            known_for: Duration::days(30),
            reset_emails_max: 3,
            reset_emails_window: Duration::hours(1),
            reset_requests_max: 20,
            reset_requests_window: Duration::hours(1),
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

/// How a sign-in is judged when its hash starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// Check the password.
    Open,
    /// Refused like a wrong password, after the same work.
    Locked,
    /// The address sprays: 429 until then, no hash.
    TooMany { until: DateTime<Utc> },
}

/// What a successful sign-in writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Success {
    /// Clear the login's counter at this address.
    pub clear_pair: bool,
    /// Reset the login's count of failures from unknown addresses.
    pub reset_account: bool,
    /// Remember (or refresh) the address as known.
    pub remember_address: bool,
}

impl Success {
    /// Whether there is anything to write.
    #[must_use]
    pub fn writes(&self) -> bool {
        self.clear_pair || self.reset_account || self.remember_address
    }
}

/// The outcome of taking an attempt of a counted action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Counted: the counter after it.
    Counted(Counter),
    /// Refused, and not counted.
    Closed(Option<DateTime<Utc>>),
}

impl ThrottlePolicy {
    /// Judges a sign-in when its hash starts.
    #[must_use]
    pub fn judge(&self, state: &ThrottleState, now: DateTime<Utc>) -> Judgement {
        let closed = |c: &Option<Counter>| matches!(Self::verdict(c.as_ref(), now), Verdict::Closed(_));
        let locked = closed(&state.pair) || (!state.known() && closed(&state.account));
        if let (Verdict::Closed(until), true) = (Self::verdict(state.address.as_ref(), now), !state.known() || locked) {
            return Judgement::TooMany { until: until.unwrap_or(now + self.address_window) };
        }
        if locked { Judgement::Locked } else { Judgement::Open }
    }

    /// The counters a failed sign-in moves: the login's at the address and
    /// the address's; the login's hard stop too when the address is not
    /// known. One refused while locked moves only the address's.
    #[must_use]
    pub fn failing<'k>(keys: &'k SignInKeys, state: &ThrottleState, judged: Judgement) -> Vec<&'k ThrottleKey> {
        match (judged, state.known()) {
            (Judgement::Open, true) => vec![&keys.pair, &keys.address],
            (Judgement::Open, false) => vec![&keys.pair, &keys.account, &keys.address],
            (Judgement::Locked | Judgement::TooMany { .. }, _) => vec![&keys.address],
        }
    }

    /// What a successful sign-in from a state writes; nothing when the
    /// counters are clear and the address was remembered lately.
    #[must_use]
    pub fn success(&self, state: &ThrottleState, now: DateTime<Utc>) -> Success {
        Success {
            clear_pair: state.pair.is_some(),
            reset_account: state.account.as_ref().is_some_and(|c| !c.hard_locked),
            remember_address: state.known_since.is_none_or(|at| now - at > Duration::days(1)),
        }
    }

    /// The counter after one more failure under `key` at `now`.
    #[must_use]
    pub fn failure(&self, key: &ThrottleKey, before: Option<&Counter>, now: DateTime<Utc>) -> Counter {
        match key {
            ThrottleKey::Pair { .. } => self.pair_failure(before, now),
            ThrottleKey::Account(_) => self.account_failure(before, now),
            ThrottleKey::Address(_) => {
                Self::window_failure(before, now, self.address_window, self.address_max_failures)
            }
            ThrottleKey::ResetEmails(_) => {
                Self::window_failure(before, now, self.reset_emails_window, self.reset_emails_max)
            }
            ThrottleKey::ResetRequests(_) => {
                Self::window_failure(before, now, self.reset_requests_window, self.reset_requests_max)
            }
        }
    }

    /// Takes one attempt of a counted action (a reset email): refused while
    /// the counter is closed, else counted.
    #[must_use]
    pub fn take(&self, key: &ThrottleKey, before: Option<&Counter>, now: DateTime<Utc>) -> Taken {
        match Self::verdict(before, now) {
            Verdict::Closed(until) => Taken::Closed(until),
            Verdict::Open => Taken::Counted(self.failure(key, before, now)),
        }
    }

    /// A login's counter at an address after one more failure: free
    /// failures, then locks one step longer each, up to the ceiling.
    #[must_use]
    pub fn pair_failure(&self, before: Option<&Counter>, now: DateTime<Utc>) -> Counter {
        let failures = before.map_or(0, |c| c.failures).saturating_add(1);
        let over = failures.saturating_sub(self.pair_free_failures);
        let locked_until = (over > 0).then(|| {
            now + self
                .pair_lock_step
                .checked_mul(i32::try_from(over).unwrap_or(i32::MAX))
                .unwrap_or(self.pair_max_lock)
                .min(self.pair_max_lock)
        });
        Counter {
            failures,
            window_started_at: before.map_or(now, |c| c.window_started_at),
            last_failure_at: now,
            locked_until,
            hard_locked: false,
        }
    }

    /// A login's count of consecutive failures from unknown addresses:
    /// closed for good at the hard limit.
    #[must_use]
    pub fn account_failure(&self, before: Option<&Counter>, now: DateTime<Utc>) -> Counter {
        let failures = before.map_or(0, |c| c.failures).saturating_add(1);
        Counter {
            failures,
            window_started_at: before.map_or(now, |c| c.window_started_at),
            last_failure_at: now,
            locked_until: None,
            hard_locked: before.is_some_and(|c| c.hard_locked) || failures >= self.account_hard_limit,
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

    fn now() -> DateTime<Utc> {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn run(policy: &ThrottlePolicy, key: &ThrottleKey, n: u32, at: DateTime<Utc>) -> Counter {
        let mut c = None;
        for _ in 0..n {
            c = Some(policy.failure(key, c.as_ref(), at));
        }
        c.unwrap()
    }

    fn state(pair: Option<Counter>, account: Option<Counter>, address: Option<Counter>, known: bool) -> ThrottleState {
        ThrottleState { pair, account, address, known_since: known.then(|| now() - Duration::days(2)) }
    }

    #[test]
    fn five_failures_at_an_address_are_free_then_locks_grow_by_a_minute_up_to_fifteen() {
        let p = ThrottlePolicy::default();
        let key = ThrottleKey::pair("ada@example.com", Some("192.0.2.1".parse().unwrap()));
        assert_eq!(ThrottlePolicy::verdict(Some(&run(&p, &key, 5, now())), now()), Verdict::Open);
        let locks: Vec<i64> = [6, 7, 8, 19, 20, 21, 500]
            .iter()
            .map(|n| (run(&p, &key, *n, now()).locked_until.unwrap() - now()).num_minutes())
            .collect();
        assert_eq!(locks, [1, 2, 3, 14, 15, 15, 15]);
        let sixth = run(&p, &key, 6, now());
        assert_eq!(ThrottlePolicy::verdict(Some(&sixth), now()), Verdict::Closed(Some(now() + Duration::minutes(1))));
        assert_eq!(ThrottlePolicy::verdict(Some(&sixth), now() + Duration::minutes(1)), Verdict::Open);
        assert!(!run(&p, &key, 500, now()).hard_locked, "an address is never locked for good");
    }

    #[test]
    fn a_hundred_failures_from_unknown_addresses_stop_them_until_an_administrator_unlocks() {
        let p = ThrottlePolicy::default();
        let key = ThrottleKey::account("ada@example.com");
        assert!(!run(&p, &key, 99, now()).hard_locked);
        let hundredth = run(&p, &key, 100, now());
        assert!(hundredth.hard_locked);
        let later = now() + Duration::days(365);
        assert_eq!(ThrottlePolicy::verdict(Some(&hundredth), later), Verdict::Closed(None));
        assert_eq!(p.judge(&state(None, Some(hundredth.clone()), None, false), later), Judgement::Locked);
        assert_eq!(p.judge(&state(None, Some(hundredth), None, true), later), Judgement::Open, "the owner's address");
    }

    #[test]
    fn an_address_gets_fifty_failures_per_window_except_for_logins_known_there() {
        let p = ThrottlePolicy::default();
        let key = ThrottleKey::address(Some("192.0.2.1".parse().unwrap()));
        let mut c: Option<Counter> = None;
        for i in 0..49 {
            c = Some(p.failure(&key, c.as_ref(), now() + Duration::seconds(i)));
        }
        assert_eq!(ThrottlePolicy::verdict(c.as_ref(), now() + Duration::seconds(50)), Verdict::Open);
        let fiftieth = p.failure(&key, c.as_ref(), now() + Duration::seconds(50));
        let window_end = now() + Duration::minutes(15);
        let at = now() + Duration::seconds(51);
        assert_eq!(
            p.judge(&state(None, None, Some(fiftieth.clone()), false), at),
            Judgement::TooMany { until: window_end }
        );
        assert_eq!(p.judge(&state(None, None, Some(fiftieth.clone()), true), at), Judgement::Open);
        assert_eq!(ThrottlePolicy::verdict(Some(&fiftieth), window_end), Verdict::Open);
        // The next failure after the window starts a new one.
        assert_eq!(p.failure(&key, Some(&fiftieth), window_end + Duration::seconds(1)).failures, 1);
    }

    #[test]
    fn a_known_login_locked_at_a_spraying_address_gets_no_hash() {
        let p = ThrottlePolicy::default();
        let pair = ThrottleKey::pair("ada@example.com", None);
        let address = ThrottleKey::address(None);
        let locked = run(&p, &pair, 6, now());
        let spraying = run(&p, &address, 50, now());
        assert_eq!(p.judge(&state(Some(locked.clone()), None, None, true), now()), Judgement::Locked);
        assert!(matches!(p.judge(&state(Some(locked), None, Some(spraying), true), now()), Judgement::TooMany { .. }));
    }

    #[test]
    fn failures_count_against_the_address_pair_and_from_unknown_addresses_the_login() {
        let keys = SignInKeys::new("ada@example.com", Some("192.0.2.1".parse().unwrap()));
        let known = state(None, None, None, true);
        let unknown = state(None, None, None, false);
        assert_eq!(ThrottlePolicy::failing(&keys, &known, Judgement::Open), vec![&keys.pair, &keys.address]);
        assert_eq!(
            ThrottlePolicy::failing(&keys, &unknown, Judgement::Open),
            vec![&keys.pair, &keys.account, &keys.address]
        );
        assert_eq!(ThrottlePolicy::failing(&keys, &unknown, Judgement::Locked), vec![&keys.address]);
    }

    #[test]
    fn a_success_writes_only_what_changed() {
        let p = ThrottlePolicy::default();
        let fresh = ThrottleState { known_since: Some(now() - Duration::hours(2)), ..ThrottleState::default() };
        assert!(!p.success(&fresh, now()).writes(), "a repeated sign-in writes nothing");
        let stale = ThrottleState { known_since: Some(now() - Duration::days(2)), ..ThrottleState::default() };
        assert_eq!(p.success(&stale, now()), Success { remember_address: true, ..Success::default() });
        let hard = Counter { hard_locked: true, ..run(&p, &ThrottleKey::account("a"), 3, now()) };
        let s = ThrottleState { pair: Some(hard.clone()), account: Some(hard), ..fresh };
        assert_eq!(
            p.success(&s, now()),
            Success { clear_pair: true, reset_account: false, remember_address: false },
            "the hard stop stays until an administrator lifts it"
        );
    }

    #[test]
    fn keys_are_canonical_and_hold_no_login() {
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(ThrottleKey::address(Some(mapped)).as_string(), "ip:10.1.2.3");
        let key = ThrottleKey::account(" Ada@Example.com").as_string();
        assert_eq!(key, ThrottleKey::account("ada@example.com").as_string(), "as sign-in matches logins");
        assert!(key.starts_with("login:") && !key.contains("ada"), "{key}");
        assert_ne!(ThrottleKey::reset_emails("ada@example.com").as_string(), key);
        let pair = ThrottleKey::pair("ada@example.com", Some(mapped)).as_string();
        let (prefix, account) = ThrottleKey::of_login("ADA@example.com");
        assert!(pair.starts_with(&prefix) && pair.ends_with(":10.1.2.3"), "{pair}");
        assert_eq!(account, key);
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        let key = |ip: &str| address_key(Some(ip.parse().unwrap()));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2:ffff:ffff:ffff:ffff"), key("2001:db8:1:2::7"));
        assert_ne!(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
    }

    #[test]
    fn a_login_gets_three_reset_emails_an_hour() {
        let p = ThrottlePolicy::default();
        let key = ThrottleKey::reset_emails("ada@example.com");
        let mut counter = None;
        for _ in 0..3 {
            let Taken::Counted(after) = p.take(&key, counter.as_ref(), now()) else { panic!() };
            counter = Some(after);
        }
        assert!(matches!(p.take(&key, counter.as_ref(), now()), Taken::Closed(_)));
        assert!(matches!(p.take(&key, counter.as_ref(), now() + Duration::hours(1)), Taken::Counted(_)));
    }
}
