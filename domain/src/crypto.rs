//! Encryption at rest for secrets the service must read back: SIP secrets,
//! email bodies holding a set-password link, remembered idempotent answers.
//! (Passwords and tokens we only compare are hashed instead, never sealed.)
//!
//! XChaCha20-Poly1305 with a 256-bit key from configuration and a random
//! 192-bit nonce per message (large enough that random nonces never
//! collide). Each value is sealed with a *context*, its associated data
//! (e.g. `sip-secret:<extension id>`), so a sealed value copied into
//! another row or column fails to open instead of leaking there.
//!
//! Sealed form: `v1.` followed by base64url(nonce ‖ ciphertext ‖ tag).

use std::fmt;

use anyhow::{Context as _, anyhow};
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chacha20poly1305::{
    KeyInit as _, XChaCha20Poly1305, XNonce,
    aead::{Aead as _, Payload},
};
use rand::RngCore as _;

const VERSION: &str = "v1.";
const NONCE_BYTES: usize = 24;

/// The 32-byte at-rest key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AtRestKey([u8; 32]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 32 bytes in standard base64 (44 characters; `openssl rand -base64 32` makes one)")]
pub struct InvalidKey;

impl AtRestKey {
    /// A fresh key from the operating system's CSPRNG.
    #[must_use]
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self(key)
    }

    /// # Errors
    /// `InvalidKey` unless `encoded` is 32 bytes in standard base64.
    pub fn from_base64(encoded: &str) -> Result<Self, InvalidKey> {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| InvalidKey)?;
        bytes.try_into().map(Self).map_err(|_| InvalidKey)
    }

    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }
}

impl fmt::Debug for AtRestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AtRestKey(<redacted>)")
    }
}

/// Whether `value` has the sealed form (and is no value stored in the
/// clear before it was sealed).
#[must_use]
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(VERSION)
}

/// Seals and opens values with the at-rest key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl SecretBox {
    #[must_use]
    pub fn new(key: &AtRestKey) -> Self {
        Self { cipher: XChaCha20Poly1305::new(&key.0.into()) }
    }

    /// # Errors
    /// Only if the cipher refuses the input (longer than 256 GiB).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .map_err(|_| anyhow!("sealing a value for {context}"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// # Errors
    /// When the value is malformed, was sealed with another key or for
    /// another context, or was tampered with.
    pub fn open(&self, sealed: &str, context: &str) -> anyhow::Result<Vec<u8>> {
        let encoded = sealed.strip_prefix(VERSION).with_context(|| format!("a sealed value for {context}"))?;
        let bytes =
            URL_SAFE_NO_PAD.decode(encoded).with_context(|| format!("decoding a sealed value for {context}"))?;
        if bytes.len() < NONCE_BYTES {
            return Err(anyhow!("a sealed value for {context} is too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().with_context(|| format!("a sealed value for {context}"))?;
        self.cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: ciphertext, aad: context.as_bytes() })
            .map_err(|_| anyhow!("a sealed value for {context} does not open with the configured at-rest key"))
    }

    /// As [`Self::open`], for text.
    ///
    /// # Errors
    /// As [`Self::open`], or when the plaintext is not UTF-8.
    pub fn open_string(&self, sealed: &str, context: &str) -> anyhow::Result<String> {
        String::from_utf8(self.open(sealed, context)?).with_context(|| format!("a sealed value for {context}"))
    }
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let key = AtRestKey::generate();
        let sealed = SecretBox::new(&key).seal(b"s3cret", "sip-secret:1").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(SecretBox::new(&key).open(&sealed, "sip-secret:1").unwrap(), b"s3cret");
        assert!(SecretBox::new(&key).open(&sealed, "sip-secret:2").is_err(), "another row");
        assert!(SecretBox::new(&AtRestKey::generate()).open(&sealed, "sip-secret:1").is_err(), "another key");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(SecretBox::new(&key).open(&tampered, "sip-secret:1").is_err(), "tampered");
        assert!(SecretBox::new(&key).open("plain", "sip-secret:1").is_err(), "not sealed");
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let b = SecretBox::new(&AtRestKey::generate());
        assert_ne!(b.seal(b"x", "c").unwrap(), b.seal(b"x", "c").unwrap());
    }

    #[test]
    fn keys_round_trip_through_base64_and_never_print() {
        let key = AtRestKey::generate();
        assert_eq!(AtRestKey::from_base64(&key.to_base64()), Ok(key.clone()));
        assert_eq!(AtRestKey::from_base64("c2hvcnQ="), Err(InvalidKey));
        assert_eq!(AtRestKey::from_base64("not base64!"), Err(InvalidKey));
        assert!(!format!("{key:?} {:?}", SecretBox::new(&key)).contains(&key.to_base64()));
    }
}
