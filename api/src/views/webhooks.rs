//! Webhooks and their deliveries.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    paging::Page,
    webhook::{DeliveryAttempt, Webhook, WebhookDelivery, WebhookEventType, WebhookWithSecret},
};

/// An event type a webhook can subscribe to.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEventTypeView {
    #[schema(example = "user.created")]
    pub code: &'static str,
    pub description: &'static str,
}

impl From<WebhookEventType> for WebhookEventTypeView {
    fn from(t: WebhookEventType) -> Self {
        Self { code: t.code(), description: t.description() }
    }
}

/// Every event type, for `GET /v1/webhook-event-types`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEventTypeList {
    pub items: Vec<WebhookEventTypeView>,
}

/// A subscription of a URL to event types.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    #[schema(example = "https://crm.example.com/voxport/events")]
    pub url: String,
    #[schema(example = "Acme CRM sync")]
    pub description: Option<String>,
    #[schema(value_type = Vec<crate::schema::WebhookEventCode>)]
    pub event_types: Vec<&'static str>,
    /// Whether events are sent. voxport switches a webhook off that keeps
    /// failing (`disabled_reason` = `failing`).
    pub enabled: bool,
    /// Since when every attempt has failed; null while it works.
    pub failing_since: Option<DateTime<Utc>>,
    /// `failing` when voxport switched it off; null otherwise.
    #[schema(example = json!(null))]
    pub disabled_reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Webhook> for WebhookView {
    fn from(w: &Webhook) -> Self {
        Self {
            id: w.id,
            url: w.url.clone(),
            description: w.description.as_ref().map(|d| d.as_str().to_owned()),
            event_types: w.event_types.iter().map(|t| t.code()).collect(),
            enabled: w.enabled,
            failing_since: w.failing_since,
            disabled_reason: w.disabled_reason.clone(),
            created_by: w.created_by,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// A webhook just created, with its signing secret: the only time it is
/// shown.
#[derive(Serialize, ToSchema)]
pub struct WebhookWithSecretView {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The Standard Webhooks signing secret (`whsec_` and base64 of 32
    /// random bytes); give it to the receiver's `standardwebhooks` library.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYo=")]
    pub secret: String,
}

impl From<&WebhookWithSecret> for WebhookWithSecretView {
    fn from(w: &WebhookWithSecret) -> Self {
        Self { webhook: WebhookView::from(&w.webhook), secret: w.secret.expose().to_owned() }
    }
}

/// One try at a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttemptView {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    #[schema(example = 200)]
    pub status_code: Option<u16>,
    /// How long the attempt took, in milliseconds.
    pub duration_ms: u64,
    /// Why it failed (an answer outside 2xx, a timeout, a refused address).
    pub error: Option<String>,
    pub succeeded: bool,
}

impl From<&DeliveryAttempt> for DeliveryAttemptView {
    fn from(a: &DeliveryAttempt) -> Self {
        Self {
            attempted_at: a.attempted_at,
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            error: a.error.clone(),
            succeeded: a.succeeded,
        }
    }
}

/// One event for one webhook, with every attempt at it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryView {
    /// The delivery's id.
    pub id: Uuid,
    /// The `webhook-id` header the receiver sees, the same on every
    /// attempt: a receiver that has seen it already has the event.
    #[schema(example = "msg_0193d6b4e8a87c31b0e4f3c1a2b3c4d5")]
    pub message_id: String,
    #[schema(value_type = crate::schema::WebhookEventCode)]
    pub event_type: &'static str,
    /// `pending` (waiting for its first or next attempt), `delivered`, or
    /// `failed` (given up when its webhook was switched off).
    #[schema(example = "delivered")]
    pub state: &'static str,
    pub attempts: Vec<DeliveryAttemptView>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<&WebhookDelivery> for WebhookDeliveryView {
    fn from(d: &WebhookDelivery) -> Self {
        Self {
            id: d.id,
            message_id: format!("msg_{}", d.id.simple()),
            event_type: d.event_type.code(),
            state: d.state.as_str(),
            attempts: d.attempts.iter().map(DeliveryAttemptView::from).collect(),
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

page_of!(WebhookPage, WebhookView);
page_of!(WebhookDeliveryPage, WebhookDeliveryView);
