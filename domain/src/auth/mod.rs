//! Credentials and sessions: password hashing, access tokens, refresh
//! tokens. The rules come from SECURITY.md ("Credentials", "Tokens").

mod cache;
mod hasher;
mod link;
mod machine;
mod session;
mod tokens;
pub mod totp;

pub use cache::{AuthCache, Authenticated};
pub use hasher::{HashSlot, HashingParams, OWASP_MINIMUMS, PasswordHash, PasswordHasher};
pub use link::{LinkPurpose, LinkToken, NewLinkToken};
pub use machine::MachineSecret;
pub use session::{Client, RefreshToken, Session, SessionLifetimes};
pub use tokens::{
    AccessClaims, ENROLMENT_LIFETIME_MINUTES, Jwk, LEEWAY_SECONDS, SigningKeySeed, TokenError, TokenSettings,
    TokenSigner,
};
