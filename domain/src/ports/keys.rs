//! The token-signing keys.

use chrono::{DateTime, Utc};

/// A signing key as stored: its id, its sealed form, and when it starts
/// signing.
#[derive(Clone)]
pub struct StoredKey {
    pub kid: String,
    pub sealed: String,
    pub not_before: DateTime<Utc>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("not_before", &self.not_before)
            .finish_non_exhaustive()
    }
}

pub trait KeyStore {
    /// Every stored signing key, by `not_before`.
    ///
    /// # Errors
    /// When storage fails.
    fn signing_keys(&self) -> impl Future<Output = anyhow::Result<Vec<StoredKey>>> + Send;

    /// Stores the installation's first key, unless another process stored
    /// one first (then nothing happens, and every replica signs with that
    /// one).
    ///
    /// # Errors
    /// When storage fails.
    fn add_first_signing_key(&self, candidate: &StoredKey) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Adds a key that signs from its `not_before` (a rotation).
    ///
    /// # Errors
    /// When storage fails.
    fn add_signing_key(&self, key: &StoredKey, now: DateTime<Utc>) -> impl Future<Output = anyhow::Result<()>> + Send;
}
