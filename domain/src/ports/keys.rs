//! The token-signing key.

use chrono::{DateTime, Utc};

pub trait KeyStore {
    /// The installation's token-signing key as stored: its id and stored
    /// form. When none is stored yet, the candidate is stored (made at
    /// `now`) and answered; when another process stored one first, that one
    /// is answered, so every replica signs with one key.
    ///
    /// # Errors
    /// When storage fails.
    fn signing_key(
        &self,
        candidate_kid: &str,
        candidate: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<(String, String)>> + Send;

    /// Replaces the stored form of the key `kid` (sealing a key stored
    /// before keys were sealed).
    ///
    /// # Errors
    /// When storage fails.
    fn restore_signing_key(&self, kid: &str, stored: &str) -> impl Future<Output = anyhow::Result<()>> + Send;
}
