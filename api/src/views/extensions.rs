//! Extensions and their SIP credentials.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use uuid::Uuid;

use super::HolderView;
use voxport_domain::{
    extension::{Extension, ExtensionType, SipCredentials},
    paging::Page,
};

/// How an extension rings: `sip` (softphone or desk phone) or `web`
/// (the browser only).
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionTypeView {
    Sip,
    Web,
}

impl From<ExtensionType> for ExtensionTypeView {
    fn from(t: ExtensionType) -> Self {
        match t {
            ExtensionType::Sip => Self::Sip,
            ExtensionType::Web => Self::Web,
        }
    }
}

impl From<ExtensionTypeView> for ExtensionType {
    fn from(t: ExtensionTypeView) -> Self {
        match t {
            ExtensionTypeView::Sip => Self::Sip,
            ExtensionTypeView::Web => Self::Web,
        }
    }
}

/// An extension.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionView {
    pub id: Uuid,
    #[schema(example = "204")]
    pub number: String,
    /// The display name, also the caller id name.
    #[schema(example = "Front desk")]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: ExtensionTypeView,
    /// Calls ring only while the holder is signed in to the portal.
    pub force_login: bool,
    pub voicemail_enabled: bool,
    /// The SIP username; the secret is at `/v1/extensions/{id}/sip-credentials`.
    #[schema(example = "vxk3m9x4q2ab7c")]
    pub sip_username: String,
    /// The user the extension rings, or null.
    pub user: Option<HolderView>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Extension> for ExtensionView {
    fn from(e: &Extension) -> Self {
        Self {
            id: e.id,
            number: e.number.as_str().to_owned(),
            name: e.name.as_ref().map(|n| n.as_str().to_owned()),
            kind: e.kind.into(),
            force_login: e.force_login,
            voicemail_enabled: e.voicemail_enabled,
            sip_username: e.sip_username.clone(),
            user: e.holder.as_ref().map(HolderView::from),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// What a softphone or desk phone needs to register an extension.
#[derive(Serialize, ToSchema)]
pub struct SipCredentialsView {
    /// The extension's id.
    pub extension_id: Uuid,
    /// The extension's number.
    #[schema(example = "204")]
    pub extension: String,
    #[schema(example = "vxk3m9x4q2ab7c")]
    pub username: String,
    #[schema(example = "Hq7ZtVb2mKp9XwR4cNs8Ld3F")]
    pub secret: String,
    /// The registrar: `<tenant slug>.<platform SIP domain>`.
    #[schema(example = "acme.sip.voxport.example")]
    pub domain: String,
}

impl From<SipCredentials> for SipCredentialsView {
    fn from(c: SipCredentials) -> Self {
        Self {
            extension_id: c.extension_id,
            extension: c.number,
            username: c.username,
            secret: c.secret.expose().to_owned(),
            domain: c.domain,
        }
    }
}

page_of!(ExtensionPage, ExtensionView);
