//! SCIM tokens.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    paging::Page,
    permission::Permission,
    scim_token::{ScimToken, ScimTokenWithSecret},
};

use crate::schema::PermissionCode;

/// A token an identity provider calls `/scim/v2` with (never the token).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScimTokenView {
    pub id: Uuid,
    #[schema(example = "Entra ID")]
    pub name: String,
    /// The token's first characters, to tell tokens apart.
    #[schema(example = "vxscim_kN3q")]
    pub hint: String,
    /// What requests with it may do: its maker's permissions when it was made.
    #[schema(value_type = Vec<PermissionCode>)]
    pub permissions: Vec<&'static str>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// When it was last used, to the minute; null if never.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<&ScimToken> for ScimTokenView {
    fn from(t: &ScimToken) -> Self {
        Self {
            id: t.id,
            name: t.name.as_str().to_owned(),
            hint: t.hint.clone(),
            permissions: t.permissions.iter().map(Permission::code).collect(),
            created_by: t.created_by,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
        }
    }
}

/// A token just made: the only time it is shown.
#[derive(Serialize, ToSchema)]
pub struct ScimTokenWithSecretView {
    #[serde(flatten)]
    pub view: ScimTokenView,
    /// Shown only now; voxport keeps a digest.
    #[schema(example = "vxscim_kN3q8-2ZtVb2mKp9XwR4cNs8Ld3FHq7ZtVb2mKp9XwR")]
    pub token: String,
}

impl From<&ScimTokenWithSecret> for ScimTokenWithSecretView {
    fn from(t: &ScimTokenWithSecret) -> Self {
        Self { view: ScimTokenView::from(&t.token), token: t.secret.expose().to_owned() }
    }
}

page_of!(ScimTokenPage, ScimTokenView);
