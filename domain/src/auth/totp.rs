//! Time-based one-time passwords (RFC 6238; SECURITY.md "Second factor"):
//! SHA-1, 6 digits, 30-second steps, at most one step of clock skew either
//! way, a 160-bit secret from the operating system's CSPRNG, sealed at
//! rest. A code is accepted once: [`matching_step`] tells which step a code
//! belongs to and storage accepts it only if that step is later than the
//! last one accepted, with one conditional update.
//!
//! Recovery codes: ten, 80 bits each, shown once, stored as SHA-256, spent
//! on use.

use std::fmt;

use anyhow::anyhow;
use chrono::{DateTime, Utc};
use rand::{Rng as _, RngCore as _};
use totp_rs::{Algorithm, Secret, Totp};
use uuid::Uuid;

use super::RefreshToken;

/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

/// A TOTP secret in the clear. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl TotpSecret {
    /// 160 random bits.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 20];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    #[must_use]
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// A secret as an authenticator app is given it (RFC 4648 base32).
    #[must_use]
    pub fn from_base32(encoded: &str) -> Option<Self> {
        Secret::try_from_base32(encoded).ok().map(|s| Self(s.as_bytes().to_vec()))
    }

    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// What an authenticator app is given: RFC 4648 base32, unpadded.
    #[must_use]
    pub fn to_base32(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    /// The associated data the secret of `user` is sealed with.
    #[must_use]
    pub fn context(user: Uuid) -> String {
        format!("totp:{user}")
    }

    fn totp(&self, account: &str, issuer: &str) -> anyhow::Result<Totp> {
        // `:` separates issuer and account in the otpauth label.
        let clean = |s: &str| s.replace(':', "-");
        totp_rs::Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(6)
            .with_skew(1)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.0.clone())
            .with_account_name(clean(account))
            .with_issuer(Some(clean(issuer)))
            .build()
            .map_err(|e| anyhow!("building a TOTP: {e}"))
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// What a user needs to add the secret to an authenticator app.
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
    /// A PNG of the QR code, as a `data:` URI.
    pub qr_code: String,
}

impl fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Enrolment(<redacted>)")
    }
}

/// The enrolment of `secret` for `account` at `issuer`.
///
/// # Errors
/// When the QR code cannot be drawn.
pub fn enrolment(secret: &TotpSecret, account: &str, issuer: &str) -> anyhow::Result<Enrolment> {
    let totp = secret.totp(account, issuer)?;
    let qr = totp.to_qr_base64().map_err(|e| anyhow!("drawing a QR code: {e}"))?;
    Ok(Enrolment {
        secret: secret.to_base32(),
        otpauth_uri: totp.to_url().map_err(|e| anyhow!("writing an otpauth URI: {e}"))?,
        qr_code: format!("data:image/png;base64,{qr}"),
    })
}

/// The time step `code` belongs to at `now`, within one step either side;
/// `None` when it belongs to none.
#[must_use]
pub fn matching_step(secret: &TotpSecret, code: &str, now: DateTime<Utc>) -> Option<u64> {
    let time = u64::try_from(now.timestamp()).ok()?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    secret.totp("", "voxport").ok()?.check(code, time)
}

/// The step `now` is in.
#[must_use]
pub fn current_step(now: DateTime<Utc>) -> u64 {
    u64::try_from(now.timestamp()).unwrap_or(0) / STEP_SECONDS
}

/// The code of `secret` at `now` (what an authenticator app shows).
///
/// # Errors
/// Never for a secret of [`TotpSecret::generate`].
pub fn code_at(secret: &TotpSecret, now: DateTime<Utc>) -> anyhow::Result<String> {
    let time = u64::try_from(now.timestamp()).map_err(|_| anyhow!("a time before 1970"))?;
    Ok(secret.totp("", "voxport")?.generate(time).to_string())
}

/// A recovery code as handed out, once: `xxxx-xxxx-xxxx-xxxx` from an
/// alphabet without look-alikes. Never printed.
pub struct RecoveryCode(String);

const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

impl RecoveryCode {
    #[must_use]
    pub fn generate() -> Self {
        let mut rng = rand::rng();
        let groups: Vec<String> = (0..4)
            .map(|_| {
                (0..4).map(|_| char::from(RECOVERY_ALPHABET[rng.random_range(0..RECOVERY_ALPHABET.len())])).collect()
            })
            .collect();
        Self(groups.join("-"))
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What storage keeps; spacing, dashes and case do not matter.
    #[must_use]
    pub fn hash_of(presented: &str) -> String {
        let normal: String =
            presented.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
        RefreshToken::hash_of(&normal)
    }

    /// Whether `presented` looks like a recovery code rather than a TOTP code.
    #[must_use]
    pub fn looks_like(presented: &str) -> bool {
        presented.chars().filter(char::is_ascii_alphanumeric).count() == 16
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        let now = DateTime::from_timestamp(1_234_567_890, 0).unwrap();
        let code = code_at(&secret, now).unwrap();
        let step = current_step(now);
        assert_eq!(matching_step(&secret, &code, now), Some(step));
        for skew in [-30, 30] {
            assert_eq!(matching_step(&secret, &code, now + Duration::seconds(skew)), Some(step), "{skew} s");
        }
        for far in [-90, -60, 60, 90] {
            assert_eq!(matching_step(&secret, &code, now + Duration::seconds(far)), None, "{far} s");
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
        assert_eq!(matching_step(&TotpSecret::from_bytes(b"another secret of 20".to_vec()), &code, now), None);
    }

    #[test]
    fn rfc_6238_test_vectors_pass() {
        // RFC 6238 appendix B, SHA-1, seed "12345678901234567890", 6 digits.
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        for (t, code) in
            [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        {
            let at = DateTime::from_timestamp(t, 0).unwrap();
            assert_eq!(code_at(&secret, at).unwrap(), code, "t = {t}");
            assert_eq!(matching_step(&secret, code, at), Some(u64::try_from(t).unwrap() / 30));
        }
    }

    #[test]
    fn enrolment_gives_base32_an_otpauth_uri_and_a_png() {
        let secret = TotpSecret::generate();
        let e = enrolment(&secret, "jsmith@acme.example", "Acme: voxport").unwrap();
        assert_eq!(e.secret.len(), 32, "160 bits in base32");
        assert!(e.otpauth_uri.starts_with("otpauth://totp/"), "{}", e.otpauth_uri);
        assert!(e.otpauth_uri.contains(&format!("secret={}", e.secret)));
        assert!(e.qr_code.starts_with("data:image/png;base64,iVBOR"));
        assert_eq!(TotpSecret::from_base32(&e.secret), Some(secret.clone()));
        assert!(!format!("{secret:?} {e:?}").contains(&e.secret));
    }

    #[test]
    fn recovery_codes_are_random_and_hash_alike_however_typed() {
        let code = RecoveryCode::generate();
        assert_eq!(code.expose().len(), 19);
        assert!(RecoveryCode::looks_like(code.expose()));
        assert!(!RecoveryCode::looks_like("123456"));
        assert_ne!(code.expose(), RecoveryCode::generate().expose());
        let typed = code.expose().to_uppercase().replace('-', " ");
        assert_eq!(RecoveryCode::hash_of(&typed), RecoveryCode::hash_of(code.expose()));
        assert!(!format!("{code:?}").contains(code.expose()));
    }
}
