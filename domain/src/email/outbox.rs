//! The outbox model (PRODUCT.md rule 5; SECURITY.md "Reliability").
//!
//! An email is written to the outbox in the transaction of the change that
//! causes it, so it is never lost and never sent for a change that rolled
//! back. A worker delivers it later, at least once; the body is sealed at
//! rest because it may carry a single-use set-password link.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A message ready for a mail transport.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailMessage {
    /// The recipient's address.
    pub to: String,
    /// The recipient's display name.
    pub to_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The bodies may hold a single-use link: never in a log line.
        f.debug_struct("EmailMessage").field("to", &self.to).field("subject", &self.subject).finish_non_exhaustive()
    }
}

impl EmailMessage {
    /// The associated data the body of outbox row `id` is sealed with.
    #[must_use]
    pub fn context(id: Uuid) -> String {
        format!("outbox:{id}")
    }
}

/// Why an email was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    Welcome,
    PasswordReset,
    /// A webhook was switched off for failing (to the tenant's webhook admins).
    WebhookDisabled,
}

impl EmailKind {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welcome => "welcome",
            Self::PasswordReset => "password_reset",
            Self::WebhookDisabled => "webhook_disabled",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "welcome" => Some(Self::Welcome),
            "password_reset" => Some(Self::PasswordReset),
            "webhook_disabled" => Some(Self::WebhookDisabled),
            _ => None,
        }
    }
}

/// Where an email is on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailStatus {
    /// Waiting for its first or next attempt.
    Pending,
    Sent,
    /// Every attempt failed; no more are made.
    Failed,
}

impl EmailStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "sent" => Some(Self::Sent),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// An outbox row about to be written, its body sealed.
#[derive(Debug, Clone)]
pub struct NewOutboxEmail {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: EmailKind,
    pub recipient: String,
    pub subject: String,
    pub sealed_body: String,
    pub created_at: DateTime<Utc>,
}

/// An outbox row as `GET /v1/users/{id}/emails` shows it.
#[derive(Debug, Clone)]
pub struct OutboxEmail {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: EmailKind,
    pub recipient: String,
    pub subject: String,
    pub status: EmailStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl OutboxEmail {
    /// How a row just written looks.
    #[must_use]
    pub fn queued(new: &NewOutboxEmail) -> Self {
        Self {
            id: new.id,
            user_id: new.user_id,
            kind: new.kind,
            recipient: new.recipient.clone(),
            subject: new.subject.clone(),
            status: EmailStatus::Pending,
            attempts: 0,
            last_error: None,
            next_attempt_at: Some(new.created_at),
            created_at: new.created_at,
            sent_at: None,
        }
    }
}

/// A row a worker has leased for sending.
#[derive(Debug, Clone)]
pub struct ClaimedEmail {
    pub id: Uuid,
    /// Attempts made before this one.
    pub attempts: u32,
    pub sealed_body: String,
}

/// What became of one attempt.
#[derive(Debug, Clone)]
pub enum Delivery {
    Sent {
        at: DateTime<Utc>,
    },
    /// Failed; tried again at `next_at`.
    Retry {
        error: String,
        next_at: DateTime<Utc>,
    },
    /// Failed for the last time.
    GaveUp {
        error: String,
    },
}
