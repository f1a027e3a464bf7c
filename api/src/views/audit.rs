//! The audit log.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::{AuditActionCode, AuditTargetType};
use uuid::Uuid;
use voxport_domain::{audit::AuditEvent, paging::Page};

/// Who did something.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActorView {
    /// The person; null when an API client acted.
    pub user_id: Option<Uuid>,
    /// The API client or SCIM token that acted, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<Uuid>,
    /// The actor's own tenant.
    pub tenant_id: Option<Uuid>,
}

/// What an event is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTargetView {
    #[serde(rename = "type")]
    #[schema(value_type = AuditTargetType)]
    pub kind: &'static str,
    pub id: Option<Uuid>,
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    /// The tenant it happened in; null for a sign-in with an unknown login.
    pub tenant_id: Option<Uuid>,
    /// Null for an anonymous caller or the system.
    pub actor: Option<AuditActorView>,
    /// The customer tenant a parent's support agent acted in.
    pub on_behalf_of: Option<Uuid>,
    #[schema(value_type = AuditActionCode)]
    pub action: &'static str,
    pub target: Option<AuditTargetView>,
    /// The client address.
    #[schema(example = "203.0.113.9")]
    pub ip: Option<String>,
    /// The request that caused it: the `X-Request-Id` its answer carried.
    pub request_id: Option<Uuid>,
    /// What changed or why; never a secret.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

impl From<&AuditEvent> for AuditEventView {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
            tenant_id: e.tenant_id,
            actor: (e.actor_user_id.is_some() || e.actor_client_id.is_some()).then_some(AuditActorView {
                user_id: e.actor_user_id,
                client_id: e.actor_client_id,
                tenant_id: e.actor_tenant_id,
            }),
            on_behalf_of: e.on_behalf_of,
            action: e.action.code(),
            target: e.target_type.map(|t| AuditTargetView { kind: t.as_str(), id: e.target_id }),
            ip: e.ip.map(|ip| ip.to_string()),
            request_id: e.request_id,
            details: e.details.clone(),
        }
    }
}

page_of!(AuditEventPage, AuditEventView);
