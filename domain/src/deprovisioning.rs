//! Deprovisioning a phone user (issue 14): what happens to what a user
//! holds when an identity provider deactivates or deletes them, as each
//! tenant decides.
//!
//! Deactivated (`active=false`), the user cannot sign in, their sessions
//! end and their extensions leave the registrar and the desk phones'
//! configuration (both follow the account's status), but their
//! extension, number and desk phone stay theirs for [`hold`] days, so that
//! a reactivation within that time restores all of it; their licence goes
//! back to the pool at once if the tenant says so, and is taken again on
//! reactivation. After the hold, housekeeping frees what they held.
//!
//! Deleted, a user's extension and licence are freed and the desk phone
//! goes back to the inventory at once; their number rests for
//! [`number_rest`] days before it can be given out again, so that calls
//! meant for them do not reach a stranger.
//!
//! [`hold`]: DeprovisionSettings::hold_days
//! [`number_rest`]: DeprovisionSettings::number_rest_days

use chrono::{DateTime, Duration, Utc};

/// A tenant's deprovisioning settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeprovisionSettings {
    /// How many days a deactivated user keeps their extension, number and
    /// desk phone.
    pub hold_days: u32,
    /// Whether a deactivated user's station licence goes back to the pool
    /// at once.
    pub release_station: bool,
    /// How many days a deleted user's phone number rests before it can be
    /// given out again.
    pub number_rest_days: u32,
}

/// The longest hold or rest a tenant may choose: ten years.
pub const MAX_DAYS: u32 = 3650;

impl Default for DeprovisionSettings {
    fn default() -> Self {
        Self { hold_days: 30, release_station: false, number_rest_days: 30 }
    }
}

impl DeprovisionSettings {
    /// When what a user deactivated at `at` holds is freed.
    #[must_use]
    pub fn hold_ends(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at + Duration::days(i64::from(self.hold_days))
    }

    /// Until when a number freed by a deletion at `now` rests.
    #[must_use]
    pub fn number_rests_until(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + Duration::days(i64::from(self.number_rest_days))
    }
}
