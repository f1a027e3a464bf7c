//! Secrets machines present: a desk phone's provisioning password, an API
//! client's secret. They are random (256 bits) with a recognisable prefix,
//! so a SHA-256 digest stores them safely (a slow hash protects guessable
//! secrets, not random ones) and checking one costs no argon2 work.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// A machine's secret, as issued. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct MachineSecret(String);

impl MachineSecret {
    /// `prefix` and 32 bytes of the operating system's CSPRNG, base64url.
    #[must_use]
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The stored digest.
    #[must_use]
    pub fn digest(&self) -> String {
        Self::digest_of(&self.0)
    }

    /// The stored digest of a presented secret.
    #[must_use]
    pub fn digest_of(presented: &str) -> String {
        Sha256::digest(presented.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `presented` is the secret whose digest is `stored`, in time
    /// that does not depend on where they differ.
    #[must_use]
    pub fn matches(presented: &str, stored: &str) -> bool {
        let presented = Self::digest_of(presented);
        presented.len() == stored.len()
            && presented.bytes().zip(stored.bytes()).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
    }
}

impl fmt::Debug for MachineSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MachineSecret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_prefixed_and_match_only_themselves() {
        let a = MachineSecret::generate("vxt_");
        let b = MachineSecret::generate("vxt_");
        assert!(a.expose().starts_with("vxt_"));
        assert_eq!(a.expose().len(), 4 + 43);
        let stored = a.digest();
        assert!(MachineSecret::matches(a.expose(), &stored));
        assert!(!MachineSecret::matches(b.expose(), &stored));
        assert!(!MachineSecret::matches("", &stored));
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
