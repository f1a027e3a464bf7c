//! API clients.

use crate::schema::PermissionCode;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    api_client::{ApiClient, ClientSecretInfo, ClientWithSecret},
    paging::Page,
    permission::Permission,
};

/// One of a client's secrets (never the secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientSecretView {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// When an old secret stops working after a rotation; null while it is
    /// the current one.
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<&ClientSecretInfo> for ClientSecretView {
    fn from(s: &ClientSecretInfo) -> Self {
        Self { id: s.id, created_at: s.created_at, expires_at: s.expires_at }
    }
}

/// An integrator's OAuth2 client.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiClientView {
    pub id: Uuid,
    /// The OAuth2 `client_id` (the same as `id`).
    pub client_id: String,
    #[schema(example = "Acme CRM")]
    pub name: String,
    #[schema(value_type = Vec<PermissionCode>)]
    pub permissions: Vec<&'static str>,
    /// Canonical CIDRs; empty means anywhere.
    #[schema(example = json!(["203.0.113.0/24"]))]
    pub allowed_networks: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub disabled: bool,
    /// The secrets that exist, newest first: two while a rotation overlaps.
    pub secrets: Vec<ClientSecretView>,
    /// The administrator who created it.
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it last got a token, and from where.
    pub last_used_at: Option<DateTime<Utc>>,
    #[schema(example = "203.0.113.7")]
    pub last_used_ip: Option<String>,
}

impl From<&ApiClient> for ApiClientView {
    fn from(c: &ApiClient) -> Self {
        Self {
            id: c.id,
            client_id: c.id.to_string(),
            name: c.name.as_str().to_owned(),
            permissions: c.permissions.iter().map(Permission::code).collect(),
            allowed_networks: c.allowed_networks.iter().map(ToString::to_string).collect(),
            expires_at: c.expires_at,
            disabled: c.disabled,
            secrets: c.secrets.iter().map(ClientSecretView::from).collect(),
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
            last_used_at: c.last_used_at,
            last_used_ip: c.last_used_ip.clone(),
        }
    }
}

/// A client with a secret just issued: the only time it is shown.
#[derive(Serialize, ToSchema)]
pub struct ApiClientWithSecretView {
    #[serde(flatten)]
    pub client: ApiClientView,
    /// Shown only now; voxport keeps a digest.
    #[schema(example = "vxcs_kN3q8-2ZtVb2mKp9XwR4cNs8Ld3FHq7ZtVb2mKp9XwR")]
    pub client_secret: String,
}

impl From<&ClientWithSecret> for ApiClientWithSecretView {
    fn from(c: &ClientWithSecret) -> Self {
        Self { client: ApiClientView::from(&c.client), client_secret: c.secret.expose().to_owned() }
    }
}

page_of!(ApiClientPage, ApiClientView);
