//! Rotating the token-signing key (issue 11, finding 10). Each key signs
//! from its `not_before` until the next key's, and verifies (and stays in
//! the JWK Set) until the tokens it signed have expired. A new key is
//! published before it signs, so that verifiers caching the JWK Set and
//! replicas reloading their keys know it by the time its first token
//! reaches them.

use chrono::{DateTime, Duration, Utc};

use super::Voxport;
use crate::{
    auth::{ENROLMENT_LIFETIME_MINUTES, LEEWAY_SECONDS, SigningKeySeed},
    crypto::SecretBox,
    ports::{KeyStore, Store, StoredKey},
};

/// How often every replica reloads the keys.
pub const KEY_RELOAD: Duration = Duration::seconds(60);

/// How many seconds after a rotation the new key starts signing, unless
/// told (`voxport keys rotate --activate-in`): the JWK Set may be cached
/// for 300 s (its `Cache-Control`), and replicas reload every
/// [`KEY_RELOAD`].
pub const KEY_ACTIVATION_SECONDS: u32 = 600;

/// The stored keys in use at `now`, as indexes into `keys` (sorted by
/// `not_before`): the one that signs (the latest whose time has come, or
/// the first when none has), and every one that verifies: that one, keys
/// still to come, and keys that stopped signing less than the longest
/// token's lifetime (an access token's `lifetime`, or an enrolment
/// token's), the leeway and a reload ago.
#[must_use]
fn keys_in_use(keys: &[StoredKey], now: DateTime<Utc>, lifetime: Duration) -> Option<(usize, Vec<usize>)> {
    let signing = keys.iter().rposition(|k| k.not_before <= now).or((!keys.is_empty()).then_some(0))?;
    // The longest-lived token a key signs: an access token, or an
    // enrolment token (whichever lives longer).
    let longest = lifetime.max(Duration::minutes(ENROLMENT_LIFETIME_MINUTES));
    let grace = longest + Duration::seconds(i64::try_from(LEEWAY_SECONDS).unwrap_or(30)) + KEY_RELOAD;
    let verifying = (0..keys.len())
        .filter(|&i| i >= signing || keys.get(i + 1).is_some_and(|next| next.not_before + grace > now))
        .collect();
    Some((signing, verifying))
}

/// The keys to sign and verify with at `now`, read from `store` (which
/// stores a fresh one on an empty database) and opened with `secrets`.
///
/// # Errors
/// When storage fails or a stored key is not sealed with `secrets`.
pub async fn load_signing_keys<K: KeyStore>(
    store: &K,
    secrets: &SecretBox,
    now: DateTime<Utc>,
    lifetime: Duration,
) -> anyhow::Result<(SigningKeySeed, Vec<SigningKeySeed>)> {
    let mut stored = store.signing_keys().await?;
    if stored.is_empty() {
        let first = SigningKeySeed::generate();
        store
            .add_first_signing_key(&StoredKey {
                kid: first.kid.clone(),
                sealed: first.sealed(secrets)?,
                not_before: now,
            })
            .await?;
        stored = store.signing_keys().await?;
    }
    let (signing, verifying) =
        keys_in_use(&stored, now, lifetime).ok_or_else(|| anyhow::anyhow!("no signing key is stored"))?;
    let open = |i: usize| -> anyhow::Result<SigningKeySeed> {
        let key = stored.get(i).ok_or_else(|| anyhow::anyhow!("signing key {i} vanished"))?;
        SigningKeySeed::from_stored(key.kid.clone(), &key.sealed, secrets)
    };
    let others = verifying.into_iter().filter(|&i| i != signing).map(open).collect::<anyhow::Result<Vec<_>>>()?;
    Ok((open(signing)?, others))
}

impl<S: Store> Voxport<S> {
    /// Reads the keys again, so a rotation reaches this replica.
    ///
    /// # Errors
    /// When storage fails or a stored key is refused; the keys in use stay.
    pub async fn reload_signing_keys(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let (signing, others) =
            load_signing_keys(&self.store, &self.secrets, now, self.tokens.access_lifetime()).await?;
        self.tokens.replace_keys(&signing, &others)
    }

    /// Adds a fresh signing key that signs from `not_before`; the key in
    /// use goes on verifying until its last tokens have expired. Answers
    /// the new key's id.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn rotate_signing_key(&self, not_before: DateTime<Utc>, now: DateTime<Utc>) -> anyhow::Result<String> {
        let key = SigningKeySeed::generate();
        let stored = StoredKey { kid: key.kid.clone(), sealed: key.sealed(&self.secrets)?, not_before };
        self.store.add_signing_key(&stored, now).await?;
        self.reload_signing_keys(now).await?;
        tracing::info!(kid = %key.kid, %not_before, "added a signing key");
        Ok(key.kid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, not_before: DateTime<Utc>) -> StoredKey {
        StoredKey { kid: kid.into(), sealed: String::new(), not_before }
    }

    #[test]
    fn a_new_key_verifies_before_it_signs_and_the_old_one_until_its_tokens_expire() {
        let t0 = Utc::now();
        let lifetime = Duration::minutes(15);
        let keys = [key("old", t0 - Duration::days(30)), key("new", t0 + Duration::minutes(10))];
        assert_eq!(keys_in_use(&keys, t0, lifetime), Some((0, vec![0, 1])), "published before it signs");
        let switched = t0 + Duration::minutes(10);
        assert_eq!(keys_in_use(&keys, switched, lifetime), Some((1, vec![0, 1])), "the old one still verifies");
        let grace = lifetime + Duration::seconds(30) + KEY_RELOAD;
        assert_eq!(keys_in_use(&keys, switched + grace - Duration::seconds(1), lifetime), Some((1, vec![0, 1])));
        assert_eq!(keys_in_use(&keys, switched + grace, lifetime), Some((1, vec![1])), "then it is gone");
        assert_eq!(keys_in_use(&[], t0, lifetime), None);
        // A short access lifetime still keeps the key for enrolment tokens.
        let short = Duration::seconds(60);
        let enrolment = Duration::minutes(10) + Duration::seconds(30) + KEY_RELOAD;
        assert_eq!(keys_in_use(&keys, switched + enrolment - Duration::seconds(1), short), Some((1, vec![0, 1])));
        assert_eq!(keys_in_use(&keys, switched + enrolment, short), Some((1, vec![1])));
    }
}
