//! Access tokens: JWTs signed with EdDSA over Ed25519 (RFC 8725; ASVS 5.0
//! 9.x). Verification pins the algorithm, requires `exp`, `nbf`, `iat`,
//! `iss`, `aud` and `sub`, allows at most 30 s of clock skew, and checks the
//! token's kind, so no other token of ours can stand in for an access token.
//! Integrators verify them with the public key published as a JWK Set.

use std::{
    collections::HashSet,
    fmt,
    sync::{Arc, RwLock},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use ed25519_dalek::{
    SigningKey,
    pkcs8::{EncodePrivateKey as _, KeypairBytes},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::crypto::{self, SecretBox};

/// The most clock skew tolerated between us and a token's verifier.
pub const LEEWAY_SECONDS: u64 = 30;

const ACCESS_KIND: &str = "access";

/// The kind of an API client's access token (OAuth2 client credentials).
const CLIENT_KIND: &str = "client_access";

/// A token that lets a user whose administrator requires a second factor
/// enrol one, and do nothing else.
const ENROLMENT_KIND: &str = "two_factor_enrolment";

/// How long an enrolment token works.
pub const ENROLMENT_LIFETIME_MINUTES: i64 = 10;

/// The installation's signing key as stored: its id and the 32-byte
/// Ed25519 seed. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeySeed {
    pub kid: String,
    pub seed: [u8; 32],
}

impl SigningKeySeed {
    /// A fresh key from the operating system's CSPRNG.
    #[must_use]
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        let kid = URL_SAFE_NO_PAD.encode(key_id(&SigningKey::from_bytes(&seed)));
        Self { kid, seed }
    }
}

/// A key id derived from the public key, so the same key always has the
/// same id (a cut-down RFC 7638 thumbprint).
fn key_id(key: &SigningKey) -> Vec<u8> {
    use sha2::{Digest as _, Sha256};
    Sha256::digest(key.verifying_key().as_bytes())[..12].to_vec()
}

impl SigningKeySeed {
    fn context(kid: &str) -> String {
        format!("signing-key:{kid}")
    }

    /// The stored form: sealed with the at-rest key, so a copy of the
    /// database alone signs no token.
    ///
    /// # Errors
    /// Only if sealing fails.
    pub fn sealed(&self, secrets: &SecretBox) -> anyhow::Result<String> {
        secrets.seal(&self.seed, &Self::context(&self.kid))
    }

    /// The key from its stored form, which must be sealed with the at-rest
    /// key: a key in the clear is refused, not adopted, because anyone who
    /// could write one into the database could then sign tokens (issue 11,
    /// finding 10).
    ///
    /// # Errors
    /// When the stored form is not sealed, does not open or is not 32
    /// bytes.
    pub fn from_stored(kid: String, stored: &str, secrets: &SecretBox) -> anyhow::Result<Self> {
        if !crypto::is_sealed(stored) {
            anyhow::bail!("the stored signing key {kid} is not sealed with the at-rest key; refusing it");
        }
        let bytes = secrets.open(stored, &Self::context(&kid))?;
        let seed: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("the stored signing key is not 32 bytes"))?;
        Ok(Self { kid, seed })
    }
}

impl fmt::Debug for SigningKeySeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeySeed").field("kid", &self.kid).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub access_lifetime: Duration,
}

/// A public key as a JWK (RFC 8037 for Ed25519).
#[derive(Debug, Clone, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user.
    pub sub: Uuid,
    /// The user's tenant.
    pub tid: Uuid,
    /// The session the token was issued in.
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: Uuid,
    /// The kind of token: `access`, or `two_factor_enrolment`.
    pub typ: String,
    /// An enrolment token's [`crate::auth::PasswordHash::stamp`]: it works
    /// only while the password it was issued for stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pwd: Option<String>,
    /// An API client's token: the client (RFC 9068 `client_id`; also `sub`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<Uuid>,
    /// An API client's token: the permissions it carries (RFC 9068 `scope`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl AccessClaims {
    /// Whether an API client's token (RFC 6749 client credentials).
    #[must_use]
    pub fn is_client(&self) -> bool {
        self.typ == CLIENT_KIND
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a valid access token: {0}")]
    Invalid(String),
}

/// One key pair, ready to sign and verify.
struct KeyPair {
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Jwk,
}

impl KeyPair {
    fn new(key: &SigningKeySeed) -> anyhow::Result<Self> {
        let signing = SigningKey::from_bytes(&key.seed);
        // PKCS#8 v1 (seed only): the form jsonwebtoken reads everywhere.
        let der = KeypairBytes { secret_key: signing.to_bytes(), public_key: None }
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("encoding the signing key: {e}"))?;
        let x = URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes());
        Ok(Self {
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding: DecodingKey::from_ed_components(&x)?,
            jwk: Jwk { kty: "OKP", crv: "Ed25519", x, kid: key.kid.clone(), use_: "sig", alg: "EdDSA" },
        })
    }
}

/// The keys in use: the one that signs, and every key that verifies
/// (the signing one, one about to sign, and retired ones whose tokens may
/// still be live). All are published.
struct Keyring {
    signing: Arc<KeyPair>,
    verifying: Vec<Arc<KeyPair>>,
}

/// Signs and verifies tokens with the installation's keys. Verification
/// picks the key by the token's `kid`; the keys can be replaced while it
/// runs ([`TokenSigner::replace_keys`]), which is how a rotation reaches
/// every replica.
pub struct TokenSigner {
    keys: RwLock<Arc<Keyring>>,
    validation: Validation,
    settings: TokenSettings,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.keyring().signing.jwk.kid)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn keyring(signing: &SigningKeySeed, others: &[SigningKeySeed]) -> anyhow::Result<Keyring> {
    let signing = Arc::new(KeyPair::new(signing)?);
    let mut verifying = vec![signing.clone()];
    for key in others.iter().filter(|k| k.kid != signing.jwk.kid) {
        verifying.push(Arc::new(KeyPair::new(key)?));
    }
    Ok(Keyring { signing, verifying })
}

impl TokenSigner {
    /// Where clients reach the service (`public_base_url`): the tokens'
    /// issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// A signer with one key.
    ///
    /// # Errors
    /// When the key cannot be encoded (it always can for a 32-byte seed).
    pub fn new(key: &SigningKeySeed, settings: TokenSettings) -> anyhow::Result<Self> {
        Self::with_keys(key, &[], settings)
    }

    /// A signer that signs with `signing` and also verifies (and
    /// publishes) `others`.
    ///
    /// # Errors
    /// When a key cannot be encoded.
    pub fn with_keys(
        signing: &SigningKeySeed,
        others: &[SigningKeySeed],
        settings: TokenSettings,
    ) -> anyhow::Result<Self> {
        let keys = RwLock::new(Arc::new(keyring(signing, others)?));
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.algorithms = vec![Algorithm::EdDSA];
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.required_spec_claims =
            ["exp", "nbf", "iat", "iss", "aud", "sub"].into_iter().map(str::to_owned).collect::<HashSet<_>>();
        validation.set_issuer(&[settings.issuer.as_str()]);
        validation.set_audience(&[settings.audience.as_str()]);
        Ok(Self { keys, validation, settings })
    }

    /// Signs with `signing` from now on and verifies `others` too.
    ///
    /// # Errors
    /// When a key cannot be encoded; the keys in use stay.
    pub fn replace_keys(&self, signing: &SigningKeySeed, others: &[SigningKeySeed]) -> anyhow::Result<()> {
        let ring = Arc::new(keyring(signing, others)?);
        match self.keys.write() {
            Ok(mut keys) => *keys = ring,
            Err(poisoned) => *poisoned.into_inner() = ring,
        }
        Ok(())
    }

    fn keyring(&self) -> Arc<Keyring> {
        match self.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The public key that signs now.
    #[must_use]
    pub fn jwk(&self) -> Jwk {
        self.keyring().signing.jwk.clone()
    }

    /// Every public key that verifies, the signing one first: the JWK Set.
    #[must_use]
    pub fn jwks(&self) -> Vec<Jwk> {
        self.keyring().verifying.iter().map(|k| k.jwk.clone()).collect()
    }

    #[must_use]
    pub fn access_lifetime(&self) -> Duration {
        self.settings.access_lifetime
    }

    /// An access token of `session`.
    ///
    /// # Errors
    /// When signing fails.
    pub fn issue(&self, user: Uuid, tenant: Uuid, session: Uuid, now: DateTime<Utc>) -> anyhow::Result<String> {
        self.sign(ACCESS_KIND, user, tenant, session, None, now + self.settings.access_lifetime, now)
    }

    /// A token with which `user` may only enrol a second factor; it has no
    /// session, lasts [`ENROLMENT_LIFETIME_MINUTES`] and carries the
    /// `password_stamp` of the password that earned it.
    ///
    /// # Errors
    /// When signing fails.
    pub fn issue_enrolment(
        &self,
        user: Uuid,
        tenant: Uuid,
        password_stamp: String,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let end = now + Duration::minutes(ENROLMENT_LIFETIME_MINUTES);
        self.sign(ENROLMENT_KIND, user, tenant, Uuid::nil(), Some(password_stamp), end, now)
    }

    /// An access token of API client `client` of `tenant`: `token` is its
    /// row (the `sid`), `scope` the permissions it carries, `end` its end.
    ///
    /// # Errors
    /// When signing fails.
    pub fn issue_client(
        &self,
        client: Uuid,
        tenant: Uuid,
        token: Uuid,
        scope: String,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        self.sign_claims(AccessClaims {
            client_id: Some(client),
            scope: Some(scope),
            ..self.claims(CLIENT_KIND, client, tenant, token, None, end, now)
        })
    }

    #[allow(clippy::too_many_arguments, reason = "the claims of a token, each set by its caller")]
    fn sign(
        &self,
        kind: &str,
        user: Uuid,
        tenant: Uuid,
        session: Uuid,
        pwd: Option<String>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        self.sign_claims(self.claims(kind, user, tenant, session, pwd, end, now))
    }

    #[allow(clippy::too_many_arguments, reason = "the claims of a token, each set by its caller")]
    fn claims(
        &self,
        kind: &str,
        user: Uuid,
        tenant: Uuid,
        session: Uuid,
        pwd: Option<String>,
        end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> AccessClaims {
        AccessClaims {
            sub: user,
            tid: tenant,
            sid: session,
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: end.timestamp(),
            jti: Uuid::new_v4(),
            typ: kind.to_owned(),
            pwd,
            client_id: None,
            scope: None,
        }
    }

    fn sign_claims(&self, claims: AccessClaims) -> anyhow::Result<String> {
        let ring = self.keyring();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(ring.signing.jwk.kid.clone());
        header.typ = Some("at+jwt".to_owned());
        Ok(jsonwebtoken::encode(&header, &claims, &ring.signing.encoding)?)
    }

    /// Checks signature, algorithm, times, issuer, audience and that it is
    /// an access token.
    ///
    /// # Errors
    /// `Invalid` with the reason (for the log, not for the client).
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify_kind(token, Some(ACCESS_KIND))
    }

    /// As [`Self::verify`], for a person's access token or an API
    /// client's: what a bearer token of a request may be.
    ///
    /// # Errors
    /// `Invalid` with the reason.
    pub fn verify_bearer(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let claims = self.verify_kind(token, None)?;
        if claims.typ == ACCESS_KIND || claims.typ == CLIENT_KIND {
            Ok(claims)
        } else {
            Err(TokenError::Invalid(format!("token of kind {:?}", claims.typ)))
        }
    }

    /// As [`Self::verify`], for an enrolment token.
    ///
    /// # Errors
    /// `Invalid` with the reason.
    pub fn verify_enrolment(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify_kind(token, Some(ENROLMENT_KIND))
    }

    /// Whether claims that verified are still within their time at `now`,
    /// by the rule [`Self::verify`] applies (with its leeway), for a token
    /// whose signature was checked before.
    #[must_use]
    pub fn in_time(claims: &AccessClaims, now: DateTime<Utc>) -> bool {
        let leeway = i64::try_from(LEEWAY_SECONDS).unwrap_or(0);
        let now = now.timestamp();
        claims.nbf - leeway <= now && now <= claims.exp + leeway
    }

    fn verify_kind(&self, token: &str, kind: Option<&str>) -> Result<AccessClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let kid = header.kid.ok_or_else(|| TokenError::Invalid("no kid".to_owned()))?;
        let ring = self.keyring();
        let key = ring
            .verifying
            .iter()
            .find(|k| k.jwk.kid == kid)
            .ok_or_else(|| TokenError::Invalid(format!("unknown kid {kid:?}")))?;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &self.validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        if kind.is_some_and(|kind| data.claims.typ != kind) {
            return Err(TokenError::Invalid(format!("token of kind {:?}", data.claims.typ)));
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TokenSigner {
        let settings = TokenSettings {
            issuer: "https://pbx.example.com".into(),
            audience: "voxport".into(),
            access_lifetime: Duration::minutes(10),
        };
        TokenSigner::new(&SigningKeySeed::generate(), settings).unwrap()
    }

    fn forge(claims: &serde_json::Value, header: &serde_json::Value) -> String {
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let c = URL_SAFE_NO_PAD.encode(claims.to_string());
        format!("{h}.{c}.")
    }

    #[test]
    fn claims_stay_in_time_until_their_end_and_the_leeway() {
        let s = signer();
        let now = Utc::now();
        let claims = s.verify(&s.issue(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), now).unwrap()).unwrap();
        assert!(TokenSigner::in_time(&claims, now));
        assert!(TokenSigner::in_time(&claims, now + Duration::seconds(600 + 30)));
        assert!(!TokenSigner::in_time(&claims, now + Duration::seconds(600 + 31)));
        assert!(!TokenSigner::in_time(&claims, now - Duration::seconds(31)));
    }

    #[test]
    fn a_fresh_token_verifies_and_carries_its_session() {
        let s = signer();
        let (user, tenant, session) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let token = s.issue(user, tenant, session, Utc::now()).unwrap();
        let claims = s.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.tid, claims.sid), (user, tenant, session));
        assert_eq!(claims.exp - claims.iat, 600);
    }

    #[test]
    fn expired_tokens_fail_after_the_leeway_only() {
        let s = signer();
        let token =
            s.issue(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Utc::now() - Duration::seconds(600 + 20)).unwrap();
        assert!(s.verify(&token).is_ok(), "20 s past exp is within the 30 s leeway");
        let token =
            s.issue(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Utc::now() - Duration::seconds(600 + 45)).unwrap();
        assert!(s.verify(&token).is_err());
    }

    #[test]
    fn tokens_from_the_future_are_refused() {
        let s = signer();
        let token = s.issue(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Utc::now() + Duration::minutes(5)).unwrap();
        assert!(s.verify(&token).is_err());
    }

    #[test]
    fn access_and_enrolment_tokens_cannot_stand_in_for_each_other() {
        let s = signer();
        let (user, tenant) = (Uuid::new_v4(), Uuid::new_v4());
        let enrol = s.issue_enrolment(user, tenant, "stamp".into(), Utc::now()).unwrap();
        assert_eq!(s.verify_enrolment(&enrol).unwrap().sub, user);
        assert!(s.verify(&enrol).is_err(), "an enrolment token is no access token");
        let access = s.issue(user, tenant, Uuid::new_v4(), Utc::now()).unwrap();
        assert!(s.verify_enrolment(&access).is_err(), "an access token is no enrolment token");
        let stale = s.issue_enrolment(user, tenant, "stamp".into(), Utc::now() - Duration::minutes(11)).unwrap();
        assert!(s.verify_enrolment(&stale).is_err(), "enrolment tokens are short-lived");
    }

    #[test]
    fn signing_keys_are_stored_sealed_and_clear_ones_refused() {
        let secrets = SecretBox::new(&crate::crypto::AtRestKey::generate());
        let key = SigningKeySeed::generate();
        let sealed = key.sealed(&secrets).unwrap();
        assert!(sealed.starts_with("v1.") && !sealed.contains(&URL_SAFE_NO_PAD.encode(key.seed)));
        assert_eq!(SigningKeySeed::from_stored(key.kid.clone(), &sealed, &secrets).unwrap(), key.clone());
        let clear = base64::engine::general_purpose::STANDARD.encode(key.seed);
        assert!(SigningKeySeed::from_stored(key.kid.clone(), &clear, &secrets).is_err(), "a clear key");
        let elsewhere = SecretBox::new(&crate::crypto::AtRestKey::generate());
        assert!(SigningKeySeed::from_stored(key.kid, &sealed, &elsewhere).is_err(), "another at-rest key");
    }

    #[test]
    fn a_replaced_key_verifies_while_it_is_kept_and_not_after() {
        let s = signer();
        let (first, second) = (SigningKeySeed::generate(), SigningKeySeed::generate());
        s.replace_keys(&first, &[]).unwrap();
        let old = s.issue(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Utc::now()).unwrap();
        s.replace_keys(&second, std::slice::from_ref(&first)).unwrap();
        let new = s.issue(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Utc::now()).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&new).unwrap().kid.as_deref(), Some(second.kid.as_str()));
        assert!(s.verify(&old).is_ok() && s.verify(&new).is_ok());
        assert_eq!(s.jwks().iter().map(|k| k.kid.clone()).collect::<Vec<_>>(), [second.kid.clone(), first.kid]);
        s.replace_keys(&second, &[]).unwrap();
        assert!(s.verify(&old).is_err(), "a key no longer kept verifies nothing");
        assert!(s.verify(&new).is_ok());
    }

    #[test]
    fn another_keys_token_is_refused() {
        let token = signer().issue(Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Utc::now()).unwrap();
        assert!(signer().verify(&token).is_err());
    }

    #[test]
    fn forged_and_malformed_tokens_are_refused() {
        let s = signer();
        let now = Utc::now().timestamp();
        let good = serde_json::json!({
            "sub": Uuid::new_v4(), "tid": Uuid::new_v4(), "sid": Uuid::new_v4(),
            "iss": "https://pbx.example.com", "aud": "voxport",
            "exp": now + 600, "nbf": now, "iat": now, "jti": Uuid::new_v4(), "typ": "access"
        });
        let alg_none = forge(&good, &serde_json::json!({"alg": "none", "typ": "JWT"}));
        assert!(s.verify(&alg_none).is_err(), "alg none");
        let hs256 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &good,
            &EncodingKey::from_secret(s.jwk().x.as_bytes()),
        )
        .unwrap();
        assert!(s.verify(&hs256).is_err(), "HS256 keyed with the public key");
        for junk in ["", "abc", "a.b.c", "Bearer x.y.z"] {
            assert!(s.verify(junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn claims_of_the_wrong_shape_kind_or_audience_are_refused() {
        let s = signer();
        let now = Utc::now().timestamp();
        let sign = |claims: serde_json::Value| {
            let mut header = Header::new(Algorithm::EdDSA);
            header.kid = Some(s.jwk().kid.clone());
            jsonwebtoken::encode(&header, &claims, &s.keyring().signing.encoding).unwrap()
        };
        let base = serde_json::json!({
            "sub": Uuid::new_v4(), "tid": Uuid::new_v4(), "sid": Uuid::new_v4(),
            "iss": "https://pbx.example.com", "aud": "voxport",
            "exp": now + 600, "nbf": now, "iat": now, "jti": Uuid::new_v4(), "typ": "access"
        });
        assert!(s.verify(&sign(base.clone())).is_ok());
        let cases: [(&str, serde_json::Value); 6] = [
            ("exp as a string (CVE-2026-25537)", serde_json::json!((now - 3600).to_string())),
            ("typ of another kind", serde_json::json!("two_factor_enrolment")),
            ("aud of another service", serde_json::json!("someone-else")),
            ("iss of another issuer", serde_json::json!("https://evil.example")),
            ("nbf in the future", serde_json::json!(now + 3600)),
            ("exp in the past", serde_json::json!(now - 3600)),
        ];
        for (why, value) in cases {
            let field = match why {
                w if w.starts_with("exp") => "exp",
                w if w.starts_with("typ") => "typ",
                w if w.starts_with("aud") => "aud",
                w if w.starts_with("iss") => "iss",
                _ => "nbf",
            };
            let mut claims = base.clone();
            claims[field] = value;
            assert!(s.verify(&sign(claims)).is_err(), "{why}");
        }
        for missing in ["exp", "nbf", "iat", "iss", "aud", "sub"] {
            let mut claims = base.clone();
            claims.as_object_mut().unwrap().remove(missing);
            assert!(s.verify(&sign(claims)).is_err(), "missing {missing}");
        }
    }
}
