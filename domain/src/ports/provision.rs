//! The one-call set-up's unit of work, which also changes an existing
//! user with what they hold at once (a directory's replace, SCIM).

use uuid::Uuid;

use super::{QueuedEmail, UserUpdate};

use crate::{
    audit::AuditEvent,
    errors::*,
    extension::NewExtension,
    station::{Application, Station},
    user::{NewUser, User},
};

/// One write transaction in which a user is set up with everything at once
/// (issue 3 "Set up a user in one call"). It ends with `commit` or
/// `rollback` (a dry run); dropped, it rolls back.
pub trait ProvisionTx: Send {
    /// Inserts the user with the applications the domain enables, which
    /// [`Self::assign_station`] then proves unlocked.
    ///
    /// # Errors
    /// `LoginTaken`, `RoleNotFound`.
    fn insert_user(
        &mut self,
        user: &NewUser,
        applications: &[Application],
    ) -> impl Future<Output = Result<(), CreateUserError>> + Send;

    /// Creates an extension that rings the new `user`.
    ///
    /// # Errors
    /// `ExtensionNumberTaken`.
    fn create_extension(
        &mut self,
        tenant: Uuid,
        extension: &NewExtension,
        user: Uuid,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;

    /// # Errors
    /// As [`ExtensionStore::assign_extension`].
    fn assign_extension(
        &mut self,
        tenant: Uuid,
        user: Uuid,
        extension: Uuid,
        fresh_secret: &crate::extension::StoredSipSecret,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;

    /// # Errors
    /// As [`PhoneNumberStore::assign_phone_number`].
    fn assign_phone_number(
        &mut self,
        tenant: Uuid,
        user: Uuid,
        number: Uuid,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;

    /// Gives the new `user` a licence of `station` (they hold none yet).
    ///
    /// # Errors
    /// As [`StationStore::assign_station`].
    fn assign_station(
        &mut self,
        tenant: Uuid,
        user: Uuid,
        station: Uuid,
    ) -> impl Future<Output = Result<Station, TelephonyError>> + Send;

    /// # Errors
    /// As [`DeviceStore::assign_device`].
    fn assign_device(
        &mut self,
        tenant: Uuid,
        user: Uuid,
        device: Uuid,
        ports: Option<u8>,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;

    /// Locks an existing user (and, when `tenant_too`, their tenant first)
    /// for the rest of the transaction, before it changes them; false when
    /// there is no such user.
    ///
    /// # Errors
    /// When storage fails.
    fn lock_user(
        &mut self,
        tenant: Uuid,
        user: Uuid,
        tenant_too: bool,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Locks the station pools `stations` of `tenant`, one after the other
    /// in the order given, for the rest of the transaction; a pool that is
    /// not there is skipped (taking from it says so).
    ///
    /// # Errors
    /// When storage fails.
    fn lock_stations(&mut self, tenant: Uuid, stations: &[Uuid]) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Takes `extension` from `user`; the rest of what they hold stays.
    ///
    /// # Errors
    /// When storage fails.
    fn release_extension(&mut self, user: Uuid, extension: Uuid) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Takes from `user` their phone number, licence or desk phone.
    ///
    /// # Errors
    /// When storage fails.
    fn release(&mut self, user: Uuid, what: Holding) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// As [`UserStore::update_user`], in this transaction (with the user
    /// locked by [`Self::lock_user`] first).
    ///
    /// # Errors
    /// As [`UserStore::update_user`].
    fn update_user(
        &mut self,
        tenant: Uuid,
        id: Uuid,
        update: UserUpdate,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<User, UpdateUserError>> + Send;

    /// The user `id` of `tenant`, with everything they hold.
    ///
    /// # Errors
    /// When storage fails.
    fn user(&mut self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<User>>> + Send;

    /// Writes an email (and its link) with the rest.
    ///
    /// # Errors
    /// When storage fails.
    fn queue_email(&mut self, email: QueuedEmail) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Writes an audit event with the rest.
    ///
    /// # Errors
    /// When storage fails.
    fn record(&mut self, event: &AuditEvent) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Marks where one part of a larger provisioning (one row of an
    /// import) begins, so that its failure can be undone alone.
    ///
    /// # Errors
    /// When storage fails.
    fn begin_part(&mut self) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Ends the part begun last: kept, or undone (everything it wrote is
    /// forgotten, the rest of the transaction stays).
    ///
    /// # Errors
    /// When storage fails.
    fn end_part(&mut self, keep: bool) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Moves an import job on to `checkpoint`, adding `counts`, with this
    /// transaction; false when the job is no longer running under the
    /// checkpoint's lease (cancelled, or taken over), and then nothing may
    /// commit.
    ///
    /// # Errors
    /// When storage fails.
    fn advance_job(
        &mut self,
        checkpoint: &crate::job::JobCheckpoint,
        counts: super::JobCounts,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Makes everything written in the transaction visible at once.
    ///
    /// # Errors
    /// [`TelephonyError::StationUnavailable`] when a licence was taken
    /// from a pool this transaction did not lock
    /// ([`Self::lock_stations`]) and others took its last licences
    /// meanwhile; `Unknown` when storage fails.
    fn commit(self) -> impl Future<Output = Result<(), TelephonyError>> + Send;

    /// Forgets everything written in the transaction (a dry run).
    ///
    /// # Errors
    /// When storage fails.
    fn rollback(self) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// One thing a user holds alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holding {
    PhoneNumber,
    Station,
    Device,
}
