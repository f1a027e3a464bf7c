//! `Idempotency-Key` on every POST (SECURITY.md "Reliability", issue 9):
//! a retried request with the same key and body answers what the first one
//! answered instead of doing the work twice; the same key with another
//! request is a 422; a duplicate arriving while the first is still running
//! is a 409. One mechanism serves every operation: the HTTP edge asks for
//! it, authentication claims the key for the caller, and the answer is
//! remembered once the request is done.
//!
//! How: the first request *claims* the key (a committed row with a random
//! claim token and a short lease). Every change the request writes marks
//! the key committed in its own transaction, conditional on still holding
//! the claim (see [`crate::request`]): of two requests that both came to
//! hold a key, only one commits work. When the request is done its answer
//! is stored on the row, sealed at rest (it may hold a generated password
//! or a secret shown once). A request that failed without committing lets
//! the key go, so a retry runs again. A claim whose lease ran out without
//! a commit belongs to a request that died before changing anything; a
//! retry may take it over. Keys are scoped to the caller and forgotten
//! after their configured lifetime.

use std::fmt;

use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// The OpenAPI pattern of an idempotency key; keep it in step with `parse`.
pub const IDEMPOTENCY_KEY_PATTERN: &str = r"^[!-~]{1,255}$";

/// A client's idempotency key: 1 to 255 visible ASCII characters (a UUID
/// is the usual choice).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 255 visible ASCII characters, such as a UUID")]
pub struct InvalidIdempotencyKey;

impl IdempotencyKey {
    /// # Errors
    /// `InvalidIdempotencyKey` unless `raw` matches [`IDEMPOTENCY_KEY_PATTERN`].
    pub fn parse(raw: &str) -> Result<Self, InvalidIdempotencyKey> {
        let ok = (1..=255).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok { Ok(Self(raw.to_owned())) } else { Err(InvalidIdempotencyKey) }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdempotencyKey({})", self.0)
    }
}

/// What identifies "the same request": the hex SHA-256 of the operation
/// (method, path and query) and its body. A JSON body counts with object
/// keys sorted, so spacing and key order do not make two equal requests
/// differ; any other body counts byte for byte.
#[must_use]
pub fn fingerprint(operation: &str, body: &[u8]) -> String {
    fn canonical(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(k.clone()).to_string());
                    out.push(':');
                    if let Some(v) = map.get(k) {
                        canonical(v, out);
                    }
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut hash = Sha256::new();
    hash.update(operation.as_bytes());
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => {
            let mut text = String::new();
            canonical(&json, &mut text);
            hash.update(b"\njson\n");
            hash.update(text.as_bytes());
        }
        Err(_) => {
            hash.update(b"\nbytes\n");
            hash.update(body);
        }
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A request that carries an idempotency key: the key, and what makes two
/// requests the same ([`fingerprint`]).
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub key: IdempotencyKey,
    pub fingerprint: String,
}

/// Why a request with an idempotency key does not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyRefusal {
    /// The key was used for another request.
    #[error("the idempotency key was used for another request")]
    KeyReused,
    /// The first request with this key is still running (or another
    /// request took its claim over).
    #[error("a request with this idempotency key is still running")]
    InProgress,
    /// The first request committed its work, but what it answered cannot
    /// be shown: it was not stored (the server stopped in between), or in a
    /// form this release no longer reads.
    #[error("the answer remembered for this idempotency key can no longer be shown")]
    Forgotten,
}

/// The associated data the answer remembered for `key` of `scope` is
/// sealed with.
#[must_use]
pub fn sealing_context(scope: Uuid, key: &IdempotencyKey) -> String {
    format!("idempotency:{scope}:{}", key.as_str())
}

/// A key this request now holds; its answer must be stored with the work.
#[derive(Debug, Clone)]
pub struct Claim {
    pub scope: Uuid,
    pub key: IdempotencyKey,
    pub token: Uuid,
}

/// What storage found for a key.
#[derive(Debug, Clone)]
pub enum KeyState {
    /// The key was free (or its holder died before answering): it is ours.
    Claimed(Claim),
    /// The key is in use.
    Taken {
        fingerprint: String,
        /// Whether the first request's work committed.
        committed: bool,
        /// Whether its claim's lease ran out.
        lease_over: bool,
        /// The sealed answer, once the first request is done.
        response: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse("0192f0c4-7a4e-7cc1-9a51-2c1d1c1e8a10").is_ok());
        for bad in ["", "has space", "é", &"k".repeat(256)] {
            assert_eq!(IdempotencyKey::parse(bad), Err(InvalidIdempotencyKey), "{bad:?}");
        }
    }

    #[test]
    fn fingerprints_ignore_key_order_but_not_values_or_operation() {
        let print = |op: &str, body: serde_json::Value| fingerprint(op, body.to_string().as_bytes());
        let a = print("POST /v1/users", json!({"a": 1, "b": {"x": [1, 2], "y": null}}));
        let b = fingerprint(
            "POST /v1/users",
            br#" { "b": {"y": null, "x": [1,2]},
            "a": 1 } "#,
        );
        assert_eq!(a, b);
        assert_ne!(a, print("POST /v1/users", json!({"a": 2, "b": {"x": [1, 2], "y": null}})));
        assert_ne!(a, print("POST /v1/users", json!({"a": 1, "b": {"x": [2, 1], "y": null}})));
        assert_ne!(a, print("POST /v1/roles", json!({"a": 1, "b": {"x": [1, 2], "y": null}})));
    }

    #[test]
    fn other_bodies_count_byte_for_byte() {
        let csv = fingerprint("POST /v1/users/import", b"login,email\nmary,mary@acme.example\n");
        assert_eq!(csv, fingerprint("POST /v1/users/import", b"login,email\nmary,mary@acme.example\n"));
        assert_ne!(csv, fingerprint("POST /v1/users/import", b"login, email\nmary,mary@acme.example\n"));
        assert_ne!(fingerprint("POST /v1/x", b""), fingerprint("POST /v1/x", b"null"));
    }
}
