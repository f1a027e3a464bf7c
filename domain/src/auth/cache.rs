//! What authenticating a request reads, kept for a moment (issue 12 "A
//! fast read path").
//!
//! A request's bearer token names a session and a user. Checking the
//! signature and reading the session, the user, their role and their
//! allowlist is the same work for every request of that token, so the
//! result is kept per token for at most the cache's lifetime (half a
//! second by default). The rules are still applied to every request with
//! its own time and address: the session's end, the account's window, the
//! allowlist (see `services::authenticate`).
//!
//! What a change can do to a token shows at once on the replica that made
//! it (the change clears the cache: [`AuthCache::forget_all`]) and within
//! the lifetime on every other replica, as the product promises: revoking
//! a session, disabling an account, changing a role or an allowlist takes
//! effect everywhere within a second.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::{DateTime, Duration, Utc};

use crate::{
    api_client::{ApiClient, ClientToken},
    auth::{AccessClaims, Session},
    tenant::TenantKind,
    user::Principal,
};

/// The most tokens kept; past it, entries past their lifetime go first.
const MAX_ENTRIES: usize = 10_000;

/// What one token's authentication read.
#[derive(Debug, Clone)]
pub enum Authenticated {
    /// A person's token: their session and account.
    Person {
        claims: AccessClaims,
        session: Session,
        principal: Principal,
        /// The kind of the customer tenant a support session acts in.
        acting_in: Option<TenantKind>,
    },
    /// An API client's token: its row and the client.
    Client { claims: AccessClaims, token: ClientToken, client: ApiClient },
}

impl Authenticated {
    #[must_use]
    pub fn claims(&self) -> &AccessClaims {
        match self {
            Self::Person { claims, .. } | Self::Client { claims, .. } => claims,
        }
    }
}

struct Entry {
    value: Authenticated,
    read_at: DateTime<Utc>,
}

pub struct AuthCache {
    lifetime: Duration,
    /// Bumped by every [`AuthCache::forget_all`]: a read that began before
    /// is not kept.
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache").field("lifetime", &self.lifetime).finish_non_exhaustive()
    }
}

impl AuthCache {
    /// A cache keeping what it is given for `lifetime`; zero keeps nothing.
    #[must_use]
    pub fn new(lifetime: Duration) -> Self {
        Self { lifetime, generation: AtomicU64::new(0), entries: Mutex::new(HashMap::new()) }
    }

    /// What was read for `token` less than the lifetime before `now`.
    #[must_use]
    pub fn get(&self, token: &str, now: DateTime<Utc>) -> Option<Authenticated> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(token)?;
        (now - entry.read_at < self.lifetime).then(|| entry.value.clone())
    }

    /// Where the cache stands: give it back to [`Self::keep`] with what was
    /// read after asking.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps what was read for `token` at `now`, unless the cache was told
    /// to forget since `generation` (the read may predate the change).
    pub fn keep(&self, token: &str, value: Authenticated, generation: u64, now: DateTime<Utc>) {
        if self.lifetime <= Duration::zero() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else { return };
        if self.generation() != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| now - e.read_at < self.lifetime);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(token.to_owned(), Entry { value, read_at: now });
    }

    /// Forgets everything: something changed that can refuse a token.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}
