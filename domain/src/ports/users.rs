//! Portal users: reads, changes, deletion, and what sign-in checks.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    auth::PasswordHash,
    errors::*,
    paging::{Page, PageRequest, Sort},
    user::{Principal, User, UserChanges, UserFilter, UserSortKey},
};

pub trait UserStore {
    /// The user `id` of `tenant`, with everything they hold.
    ///
    /// # Errors
    /// When storage fails.
    fn user(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<User>>> + Send;

    /// What every request checks of user `id` of `tenant`.
    ///
    /// # Errors
    /// When storage fails.
    fn principal(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Principal>>> + Send;

    /// Whose a login typed at sign-in is (matched case-insensitively on the
    /// whole platform), with their password hash if they have one: one
    /// indexed read, the same work whether or not the login exists.
    ///
    /// # Errors
    /// When storage fails.
    fn login_credentials(
        &self,
        login_key: &str,
    ) -> impl Future<Output = anyhow::Result<Option<LoginCredentials>>> + Send;

    /// The password hash of a user, for checks that need the current password.
    ///
    /// # Errors
    /// When storage fails.
    fn password_hash(&self, user_id: Uuid) -> impl Future<Output = anyhow::Result<Option<PasswordHash>>> + Send;

    /// The users of `tenant` that `filter` lets through (statuses at `now`), in `sort` order.
    ///
    /// # Errors
    /// When storage fails.
    fn list_users(
        &self,
        tenant: Uuid,
        filter: &UserFilter,
        sort: Sort<UserSortKey>,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Page<User>>> + Send;

    /// Applies the update in one transaction; when it could leave the
    /// tenant without an active administrator, checks that in the same
    /// transaction. New applications are checked against the user's
    /// station in the same transaction.
    ///
    /// # Errors
    /// `NotFound`, `LoginTaken`, `LastAdministrator`, `ApplicationsNotUnlocked`.
    fn update_user(
        &self,
        tenant: Uuid,
        id: Uuid,
        update: UserUpdate,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<User, UpdateUserError>> + Send;

    /// Deletes the user and, in the same transaction, frees their station
    /// licence, phone number, device and extensions (PRODUCT.md rule 10).
    ///
    /// # Errors
    /// `NotFound`; `LastAdministrator` when the user is the tenant's last
    /// active administrator.
    fn delete_user(
        &self,
        tenant: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
        number_rests_until: Option<DateTime<Utc>>,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeleteUserError>> + Send;

    /// Stores a new password hash and revokes every session of the user
    /// but `keep` in the same transaction.
    ///
    /// # Errors
    /// When storage fails.
    fn set_password(
        &self,
        user_id: Uuid,
        hash: PasswordHash,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Replaces the hash `old` of the same password with `new` (made with
    /// raised settings); nothing happens when the password changed
    /// meanwhile. No session ends: the password is the same.
    ///
    /// # Errors
    /// When storage fails.
    fn rehash_password(
        &self,
        user_id: Uuid,
        old: &PasswordHash,
        new: &PasswordHash,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}

/// What an update writes to a user.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub changes: UserChanges,
    /// A new password hash.
    pub password: Option<PasswordHash>,
    /// End the user's sessions with the change.
    pub end_sessions: Option<EndSessions>,
    /// Retire the user's unused set-password and reset links.
    pub retire_links: bool,
}

/// Which of a user's sessions a change ends: all but `keep`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndSessions {
    pub keep: Option<Uuid>,
}

/// Whose a login is, what their password must match, and whether the
/// account may sign in at all (read with it, so that refusing a disabled,
/// pending or expired account takes no more work than a wrong password).
#[derive(Debug, Clone)]
pub struct LoginCredentials {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub hash: Option<PasswordHash>,
    pub disabled: bool,
    pub activation_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl LoginCredentials {
    #[must_use]
    pub fn status(&self, now: DateTime<Utc>) -> crate::user::UserStatus {
        crate::user::UserStatus::at(now, self.disabled, self.activation_at, self.expires_at)
    }
}
