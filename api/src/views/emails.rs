//! Emails written for a user.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use uuid::Uuid;
use voxport_domain::{email::OutboxEmail, paging::Page};

/// Where an email is on its way out.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatusView {
    /// Waiting for its first or next attempt.
    Pending,
    Sent,
    /// Every attempt failed; resend it once the problem is fixed.
    Failed,
}

/// An email written for a user, with its delivery status.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailView {
    pub id: Uuid,
    /// `welcome` or `password_reset`.
    #[schema(example = "welcome")]
    pub kind: &'static str,
    #[schema(example = "jsmith@example.com")]
    pub to: String,
    #[schema(example = "Welcome to Acme")]
    pub subject: String,
    pub status: EmailStatusView,
    /// Attempts made so far.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<&OutboxEmail> for EmailView {
    fn from(e: &OutboxEmail) -> Self {
        use voxport_domain::email::EmailStatus;
        Self {
            id: e.id,
            kind: e.kind.as_str(),
            to: e.recipient.clone(),
            subject: e.subject.clone(),
            status: match e.status {
                EmailStatus::Pending => EmailStatusView::Pending,
                EmailStatus::Sent => EmailStatusView::Sent,
                EmailStatus::Failed => EmailStatusView::Failed,
            },
            attempts: e.attempts,
            last_error: e.last_error.clone(),
            next_attempt_at: e.next_attempt_at,
            created_at: e.created_at,
            sent_at: e.sent_at,
        }
    }
}

page_of!(EmailPage, EmailView);
