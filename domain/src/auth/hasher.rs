//! Password hashing with argon2id (OWASP Password Storage; ASVS 5.0
//! 11.4.2) at the cost of [`HashingParams`] (OWASP's by default), a random
//! 16-byte salt, stored as a PHC string. Each hash holds its memory cost
//! and tens of milliseconds of a core, so hashing runs on the blocking pool
//! behind a semaphore: memory stays bounded and the async executor keeps
//! serving other requests.
//!
//! A sign-in for an unknown login verifies against a dummy hash made with
//! the same parameters, so it takes about as long as a real one (ASVS 5.0
//! 6.3.8).

use std::{fmt, sync::Arc};

use anyhow::Context as _;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::values::Password;

/// A stored password hash in PHC string format. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read back from storage.
    #[must_use]
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    #[must_use]
    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// The argon2id cost. The default is OWASP's recommendation; tests of the
/// HTTP layer may lower it, a unit test below pins the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashingParams {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    dummy: PasswordHash,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher").field("params", &self.params).finish_non_exhaustive()
    }
}

impl PasswordHasher {
    /// `concurrency` bounds how many hashes run at once (and so the memory
    /// they hold: `concurrency` × `memory_kib`).
    ///
    /// # Errors
    /// When argon2 refuses the parameters.
    pub fn new(params: HashingParams, concurrency: usize) -> anyhow::Result<Self> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32))
            .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let dummy = hash_now(&params, "voxport dummy password, never valid")?;
        Ok(Self { params, permits: Arc::new(Semaphore::new(concurrency.max(1))), dummy })
    }

    /// # Errors
    /// When the blocking pool is gone or argon2 fails.
    pub async fn hash(&self, password: &Password) -> anyhow::Result<PasswordHash> {
        let params = self.params.clone();
        let secret = password.clone();
        self.blocking(move || hash_now(&params, secret.expose())).await?
    }

    /// Whether `attempt` matches `hash`; with no hash (unknown login, or a
    /// user who never set a password) it checks a dummy and answers false.
    ///
    /// # Errors
    /// When the blocking pool is gone.
    pub async fn verify(&self, attempt: &str, hash: Option<&PasswordHash>) -> anyhow::Result<bool> {
        let (stored, real) = match hash {
            Some(h) => (h.clone(), true),
            None => (self.dummy.clone(), false),
        };
        let attempt = attempt.to_owned();
        let matches = self
            .blocking(move || Argon2::default().verify_password(attempt.as_bytes(), stored.as_phc()).is_ok())
            .await?;
        Ok(real && matches)
    }

    async fn blocking<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
        let _permit = self.permits.acquire().await.context("password hashing semaphore closed")?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(work))
            .instrument(tracing::debug_span!("argon2"))
            .await
            .context("password hashing task failed")
    }
}

fn hash_now(params: &Params, password: &str) -> anyhow::Result<PasswordHash> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes())
        .map(|phc| PasswordHash(phc.to_string()))
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::PasswordPolicy;

    #[tokio::test]
    async fn default_parameters_are_owasps_argon2id() {
        let hasher = PasswordHasher::new(HashingParams::default(), 2).unwrap();
        let pw = PasswordPolicy::default().generate();
        let hash = hasher.hash(&pw).await.unwrap();
        let phc = hash.as_phc();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        // 16-byte salt: 22 characters of unpadded base64.
        let salt = phc.split('$').nth(4).unwrap();
        assert_eq!(salt.len(), 22, "{phc}");
    }

    #[tokio::test]
    async fn verifies_the_right_password_only() {
        let hasher = PasswordHasher::new(HashingParams { memory_kib: 64, iterations: 1, parallelism: 1 }, 1).unwrap();
        let pw = PasswordPolicy::default().generate();
        let hash = hasher.hash(&pw).await.unwrap();
        assert!(hasher.verify(pw.expose(), Some(&hash)).await.unwrap());
        assert!(!hasher.verify("not the password", Some(&hash)).await.unwrap());
        assert!(!hasher.verify(pw.expose(), None).await.unwrap(), "no hash never matches");
    }

    #[test]
    fn debug_never_shows_the_hash() {
        let hash = PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
        assert!(!format!("{hash:?}").contains("argon2"));
    }
}
