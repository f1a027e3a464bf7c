//! SCIM tokens (issue 14): how an identity provider (Entra ID, Okta,
//! OneLogin, Google) authenticates to `/scim/v2`. A tenant administrator
//! creates a named token; it acts in that tenant with the administrator's
//! permissions at the time (PRODUCT.md rule 7), so a token never
//! provisions a role its maker could not grant. Several may be live
//! at once so that an IdP's token can be rotated without an outage; each
//! is revoked by deleting it, and records when it was last used.
//!
//! The token is a [`MachineSecret`] (256 random bits behind
//! [`SCIM_TOKEN_PREFIX`]), stored as a digest and compared in constant
//! time. The tenant comes from the token, never from the URL.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{auth::MachineSecret, permission::PermissionSet, values::Label};

/// What a SCIM token starts with, so that secret scanners and people
/// recognise one.
pub const SCIM_TOKEN_PREFIX: &str = "vxscim_";

#[derive(Debug, Clone)]
pub struct ScimToken {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: Label,
    /// What requests with it may do.
    pub permissions: PermissionSet,
    /// The first characters of the token, to tell tokens apart in a list.
    pub hint: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token as created: the token itself, shown this once.
#[derive(Debug)]
pub struct ScimTokenWithSecret {
    pub token: ScimToken,
    pub secret: MachineSecret,
}

/// A token about to be stored.
#[derive(Debug, Clone)]
pub struct NewScimToken {
    pub name: Label,
    pub permissions: PermissionSet,
    pub hint: String,
    pub digest: String,
}

/// How many characters of a token its hint shows: the prefix and four
/// random ones (24 of its 256 bits).
pub const HINT_CHARS: usize = SCIM_TOKEN_PREFIX.len() + 4;
