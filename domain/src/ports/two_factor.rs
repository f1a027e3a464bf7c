//! Second factors: TOTP enrolments and recovery codes.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::audit::AuditEvent;

/// A user's TOTP enrolment as stored.
#[derive(Clone)]
pub struct TotpRecord {
    pub sealed_secret: String,
    pub confirmed: bool,
    pub last_step: Option<u64>,
    pub failed_step: Option<u64>,
    pub failures: u32,
}

impl std::fmt::Debug for TotpRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRecord").field("confirmed", &self.confirmed).finish_non_exhaustive()
    }
}

pub trait TwoFactorStore {
    /// The user's TOTP enrolment, confirmed or not.
    ///
    /// # Errors
    /// When storage fails.
    fn totp(&self, user: Uuid) -> impl Future<Output = anyhow::Result<Option<TotpRecord>>> + Send;

    /// Stores a new, unconfirmed secret, replacing an unconfirmed one;
    /// false when enrolment is already confirmed.
    ///
    /// # Errors
    /// When storage fails.
    fn begin_enrolment(
        &self,
        user: Uuid,
        sealed_secret: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Confirms the enrolment with the first accepted `step` and stores the
    /// recovery codes (hashed), and ends every session of the user but
    /// `keep`; false when there was nothing to confirm or the step was
    /// used.
    ///
    /// # Errors
    /// When storage fails.
    fn confirm_enrolment(
        &self,
        user: Uuid,
        step: u64,
        recovery_hashes: &[String],
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Removes the secret and the recovery codes, and ends every session of
    /// the user but `keep` (none for an administrator's reset).
    ///
    /// # Errors
    /// When storage fails.
    fn remove_two_factor(
        &self,
        user: Uuid,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Accepts `step` for the user if it is later than the last accepted
    /// one, atomically: of two uses of one code exactly one passes.
    ///
    /// # Errors
    /// When storage fails.
    fn accept_step(&self, user: Uuid, step: u64) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Counts a wrong code in `step`; answers how many wrong codes that
    /// step has seen.
    ///
    /// # Errors
    /// When storage fails.
    fn count_wrong_code(&self, user: Uuid, step: u64) -> impl Future<Output = anyhow::Result<u32>> + Send;

    /// Spends an unused recovery code, recording `audit` with it; false
    /// when there is none such.
    ///
    /// # Errors
    /// When storage fails.
    fn use_recovery_code(
        &self,
        user: Uuid,
        hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}
