//! The ports: what the domain needs from storage. `persistence/` implements
//! them for SQLite and PostgreSQL through sea-orm.
//!
//! Every method that writes does so in one transaction. Every query takes
//! the tenant it is scoped to; an object of another tenant is reported as
//! missing, never as forbidden. Connection failures surface as
//! `crate::error::Unavailable` in the error chain.

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    audit::{AuditEvent, AuditFilter},
    auth::{LinkPurpose, NewLinkToken, PasswordHash, Session},
    device::{Device, DeviceChanges, NewDevice},
    email::{ClaimedEmail, Delivery, NewOutboxEmail, OutboxEmail},
    errors::*,
    extension::{Extension, ExtensionChanges, ExtensionFilter, NewExtension},
    idempotency::{Claim, IdempotencyKey, KeyState},
    paging::{Page, PageRequest, Sort},
    phone_number::{NewPhoneNumber, PhoneNumber, PhoneNumberChanges},
    role::{BuiltinRole, NewRole, Role, RoleChanges},
    station::{Application, NewStation, Station, StationChanges},
    tenant::{NewTenant, Tenant, TenantChanges},
    throttle::{Taken, ThrottleKey, ThrottlePolicy},
    user::{NewUser, Principal, User, UserChanges, UserFilter, UserSortKey},
    values::{Cidr, Slug},
};

/// An email to write to the outbox with the change that causes it, and
/// the single-use link it carries, if any.
#[derive(Debug, Clone)]
pub struct QueuedEmail {
    pub email: NewOutboxEmail,
    /// Replaces the user's unused links of the same purpose.
    pub link: Option<NewLinkToken>,
}

pub trait TenantStore {
    /// The tenant `id` when `viewer` is its parent, an ancestor of its
    /// parent, or the tenant itself.
    fn tenant_visible_to(&self, viewer: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Tenant>>> + Send;

    /// The tenants below `ancestor` (children, grandchildren, ...), ordered by slug.
    fn list_tenants_below(
        &self,
        ancestor: Uuid,
        q: Option<&str>,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<Tenant>>> + Send;

    /// Creates the tenant, its built-in roles and its first administrator
    /// (with their welcome email, if any) in one transaction.
    ///
    /// # Errors
    /// `SlugTaken` when another tenant has the slug; `AdminLoginTaken` when
    /// the administrator's login is in use anywhere on the platform.
    fn create_tenant(
        &self,
        tenant: NewTenant,
        admin: NewUser,
        welcome: Option<QueuedEmail>,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(Tenant, User), CreateTenantError>> + Send;

    /// # Errors
    /// `NotFound` when the tenant does not exist; `SlugTaken` when another
    /// tenant has the new slug.
    fn update_tenant(
        &self,
        id: Uuid,
        changes: TenantChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Tenant, UpdateTenantError>> + Send;

    /// Deletes the tenant with its users, roles and sessions.
    ///
    /// # Errors
    /// `NotFound` when it does not exist; `HasChildren` when tenants still
    /// hang below it.
    fn delete_tenant(&self, id: Uuid, audit: &AuditEvent)
    -> impl Future<Output = Result<(), DeleteTenantError>> + Send;

    /// The platform tenant, if the installation has been bootstrapped.
    fn platform_tenant(&self) -> impl Future<Output = anyhow::Result<Option<Tenant>>> + Send;

    /// Creates the platform tenant with its roles and first operator,
    /// unless another process got there first (then answers `None`).
    fn bootstrap_platform(
        &self,
        slug: Slug,
        admin: NewUser,
    ) -> impl Future<Output = anyhow::Result<Option<User>>> + Send;
}

pub trait RoleStore {
    fn list_roles(&self, tenant: Uuid, page: PageRequest) -> impl Future<Output = anyhow::Result<Page<Role>>> + Send;

    fn role(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Role>>> + Send;

    fn builtin_role(
        &self,
        tenant: Uuid,
        which: BuiltinRole,
    ) -> impl Future<Output = anyhow::Result<Option<Role>>> + Send;

    /// # Errors
    /// `NameTaken` when the tenant has a role of that name (any case).
    fn create_role(
        &self,
        tenant: Uuid,
        role: NewRole,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Role, CreateRoleError>> + Send;

    /// # Errors
    /// `NotFound`, `BuiltIn` for the four product roles, `NameTaken`.
    fn update_role(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: RoleChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Role, UpdateRoleError>> + Send;

    /// # Errors
    /// `NotFound`, `BuiltIn`, `InUse` while any user holds the role.
    fn delete_role(
        &self,
        tenant: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeleteRoleError>> + Send;
}

pub trait UserStore {
    fn user(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<User>>> + Send;

    /// What every request checks of user `id` of `tenant`.
    fn principal(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Principal>>> + Send;

    /// Whose a login typed at sign-in is (matched case-insensitively on the
    /// whole platform), with their password hash if they have one: one
    /// indexed read, the same work whether or not the login exists.
    fn login_credentials(
        &self,
        login_key: &str,
    ) -> impl Future<Output = anyhow::Result<Option<LoginCredentials>>> + Send;

    /// The password hash of a user, for checks that need the current password.
    fn password_hash(&self, user_id: Uuid) -> impl Future<Output = anyhow::Result<Option<PasswordHash>>> + Send;

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
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeleteUserError>> + Send;

    /// Stores a new password hash and revokes every session of the user
    /// but `keep` in the same transaction.
    fn set_password(
        &self,
        user_id: Uuid,
        hash: PasswordHash,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// What an update writes to a user.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub changes: UserChanges,
    /// A new password hash.
    pub password: Option<PasswordHash>,
    /// End the user's sessions with the change.
    pub end_sessions: Option<EndSessions>,
}

/// Which of a user's sessions a change ends: all but `keep`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndSessions {
    pub keep: Option<Uuid>,
}

/// What became of a refresh token presented for rotation.
#[derive(Debug, Clone)]
pub enum RefreshUse {
    /// First use: it is now spent, and belongs to this session.
    Fresh {
        session: Session,
        expires_at: DateTime<Utc>,
    },
    /// It had been spent before: someone replays it.
    Replayed {
        session_id: Uuid,
    },
    NotFound,
}

pub trait SessionStore {
    /// Stores a new session with its first refresh token.
    fn create_session(
        &self,
        session: &Session,
        refresh_hash: &str,
        refresh_expires_at: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    fn session(&self, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Session>>> + Send;

    /// Spends the refresh token with this hash, atomically: of two
    /// concurrent uses exactly one sees `Fresh`.
    fn use_refresh_token(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<RefreshUse>> + Send;

    fn add_refresh_token(
        &self,
        session_id: Uuid,
        hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    fn revoke_session(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The session a refresh token belongs to, spent or not.
    fn session_of_refresh_token(&self, hash: &str) -> impl Future<Output = anyhow::Result<Option<Uuid>>> + Send;
}

pub trait StationStore {
    /// The pools of `tenant`, by name.
    fn list_stations(
        &self,
        tenant: Uuid,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<Station>>> + Send;

    /// The station `id` when it belongs to `viewer` or a tenant below it.
    fn station_visible_to(
        &self,
        viewer: Uuid,
        id: Uuid,
    ) -> impl Future<Output = anyhow::Result<Option<Station>>> + Send;

    /// # Errors
    /// `CodeTaken` when the tenant has a station with the code.
    fn create_station(
        &self,
        tenant: Uuid,
        station: NewStation,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Station, CreateStationError>> + Send;

    /// # Errors
    /// `NotFound`; `QuantityBelowInUse` when the new quantity is below the
    /// licences in use at the moment of the write.
    fn update_station(
        &self,
        id: Uuid,
        changes: StationChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Station, UpdateStationError>> + Send;

    /// # Errors
    /// `NotFound`; `InUse` while any licence is in use.
    fn delete_station(
        &self,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeleteStationError>> + Send;

    /// Gives `user` of `tenant` one licence of `station`, releasing the one
    /// they held, in one transaction; the user's applications shrink to
    /// what the new station unlocks. Of concurrent requests for the last
    /// licence exactly one succeeds.
    ///
    /// # Errors
    /// `UserNotFound`, `StationNotFound`, `StationUnavailable` with the
    /// pool's counts when it has no free licence.
    fn assign_station(
        &self,
        tenant: Uuid,
        user: Uuid,
        station: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Station, TelephonyError>> + Send;

    /// Releases the licence `user` holds, if any, and with it their
    /// applications; answers whether the user exists.
    fn release_station(
        &self,
        tenant: Uuid,
        user: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}

pub trait DeviceStore {
    /// The desk phones of `tenant` by MAC; with `available`, only those
    /// serving nobody.
    fn list_devices(
        &self,
        tenant: Uuid,
        available: bool,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<Device>>> + Send;

    fn device(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Device>>> + Send;

    /// # Errors
    /// `MacTaken` when the MAC address is registered anywhere on the platform.
    fn create_device(
        &self,
        tenant: Uuid,
        device: NewDevice,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Device, CreateDeviceError>> + Send;

    /// # Errors
    /// `NotFound`.
    fn update_device(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: DeviceChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Device, UpdateDeviceError>> + Send;

    /// # Errors
    /// `NotFound`; `Assigned` naming the holder while the device serves a user.
    fn delete_device(
        &self,
        tenant: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeleteDeviceError>> + Send;

    /// Gives `user` the device on `ports` line ports (default: all of
    /// them), replacing the device they held, in one transaction.
    ///
    /// # Errors
    /// `UserNotFound`, `DeviceNotFound`, `DeviceAssigned` naming the holder
    /// when the device serves another user, `TooManyPorts`.
    fn assign_device(
        &self,
        tenant: Uuid,
        user: Uuid,
        device: Uuid,
        ports: Option<u8>,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Device, TelephonyError>> + Send;

    /// Frees the device `user` holds, if any; answers whether the user exists.
    fn release_device(
        &self,
        tenant: Uuid,
        user: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}

pub trait ExtensionStore {
    fn list_extensions(
        &self,
        tenant: Uuid,
        filter: &ExtensionFilter,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<Extension>>> + Send;

    fn extension(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<Extension>>> + Send;

    /// # Errors
    /// `NumberTaken` when the tenant has an extension with the number.
    fn create_extension(
        &self,
        tenant: Uuid,
        extension: &NewExtension,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Extension, CreateExtensionError>> + Send;

    /// # Errors
    /// `NotFound`, `NumberTaken`.
    fn update_extension(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: ExtensionChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Extension, UpdateExtensionError>> + Send;

    /// # Errors
    /// `NotFound`; `Assigned` naming the holder while it rings a user.
    fn delete_extension(
        &self,
        tenant: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeleteExtensionError>> + Send;

    /// The extensions of `tenant` with their sealed SIP secrets: the one
    /// `id`, or those `user` holds.
    fn sealed_sip_secrets(
        &self,
        tenant: Uuid,
        of: SecretsOf,
    ) -> impl Future<Output = anyhow::Result<Vec<(Extension, String)>>> + Send;

    /// Replaces the sealed SIP secret; answers whether the extension exists.
    fn set_sip_secret(
        &self,
        tenant: Uuid,
        id: Uuid,
        sealed: &str,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Makes `extension` ring `user` too.
    ///
    /// # Errors
    /// `UserNotFound`, `ExtensionNotFound`, `ExtensionAssigned` naming the
    /// holder when it rings another user.
    fn assign_extension(
        &self,
        tenant: Uuid,
        user: Uuid,
        extension: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Extension, TelephonyError>> + Send;

    /// Stops `extension` ringing `user`; nothing happens when it rings
    /// someone else or nobody.
    ///
    /// # Errors
    /// `UserNotFound`, `ExtensionNotFound`.
    fn release_extension(
        &self,
        tenant: Uuid,
        user: Uuid,
        extension: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;
}

/// Which extensions' secrets to read.
#[derive(Debug, Clone, Copy)]
pub enum SecretsOf {
    Extension(Uuid),
    User(Uuid),
}

pub trait PhoneNumberStore {
    /// The numbers of `tenant` in E.164 order; with `available`, only free
    /// ones; `q` matches digits anywhere in the number.
    fn list_phone_numbers(
        &self,
        tenant: Uuid,
        available: bool,
        q: Option<&str>,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<PhoneNumber>>> + Send;

    /// The number `id` when it belongs to `viewer` or a tenant below it.
    fn phone_number_visible_to(
        &self,
        viewer: Uuid,
        id: Uuid,
    ) -> impl Future<Output = anyhow::Result<Option<PhoneNumber>>> + Send;

    /// # Errors
    /// `NumberTaken` when the number is anywhere on the platform.
    fn create_phone_number(
        &self,
        tenant: Uuid,
        number: NewPhoneNumber,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<PhoneNumber, CreatePhoneNumberError>> + Send;

    /// # Errors
    /// `NotFound`.
    fn update_phone_number(
        &self,
        id: Uuid,
        changes: PhoneNumberChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<PhoneNumber, UpdatePhoneNumberError>> + Send;

    /// # Errors
    /// `NotFound`; `Assigned` naming the holder while it rings a user.
    fn delete_phone_number(
        &self,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeletePhoneNumberError>> + Send;

    /// Gives `user` the number, replacing the one they held.
    ///
    /// # Errors
    /// `UserNotFound`, `PhoneNumberNotFound`, `PhoneNumberAssigned` naming
    /// the holder when it rings another user.
    fn assign_phone_number(
        &self,
        tenant: Uuid,
        user: Uuid,
        number: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<PhoneNumber, TelephonyError>> + Send;

    /// Frees the number `user` holds, if any; answers whether the user exists.
    fn release_phone_number(
        &self,
        tenant: Uuid,
        user: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}

pub trait OutboxStore {
    /// The emails written for `user` of `tenant`, newest first.
    fn emails_of(
        &self,
        tenant: Uuid,
        user: Uuid,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<OutboxEmail>>> + Send;

    /// Writes an email (and its link) in one transaction.
    fn queue_email(&self, email: QueuedEmail, audit: &AuditEvent) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Leases up to `limit` emails due at `now` until `lease_until` under
    /// the token `lease`. Concurrent workers (other replicas) never lease
    /// the same row: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock
    /// on SQLite.
    fn claim_due_emails(
        &self,
        now: DateTime<Utc>,
        limit: u64,
        lease_until: DateTime<Utc>,
        lease: Uuid,
    ) -> impl Future<Output = anyhow::Result<Vec<ClaimedEmail>>> + Send;

    /// Records one attempt and ends the lease; false (and nothing
    /// recorded) when the lease ran out and another worker took the row.
    fn record_delivery(
        &self,
        id: Uuid,
        lease: Uuid,
        delivery: Delivery,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Forgets what outlived its use: idempotency keys created before
    /// `keys_before`, and links and throttle counters past their time.
    fn purge(&self, now: DateTime<Utc>, keys_before: DateTime<Utc>)
    -> impl Future<Output = anyhow::Result<u64>> + Send;
}

pub trait LinkStore {
    /// The user a valid (unused, unexpired) link belongs to.
    fn link_user(
        &self,
        hash: &str,
        purpose: LinkPurpose,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Option<User>>> + Send;

    /// Spends the link and sets the password in one transaction, ending
    /// every session of the user; false when the link was no longer valid
    /// (of two concurrent uses exactly one succeeds).
    fn redeem_link(
        &self,
        hash: &str,
        purpose: LinkPurpose,
        password: PasswordHash,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}

pub trait IdempotencyStore {
    /// Claims `key` of `scope` for a request with `fingerprint` until
    /// `lease_until`. A key older than `forget_before` is forgotten first;
    /// a claimed key without an answer whose lease ran out is taken over
    /// when the fingerprint matches.
    fn claim_idempotency_key(
        &self,
        scope: Uuid,
        key: &IdempotencyKey,
        fingerprint: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<KeyState>> + Send;

    /// Lets the key go after the request failed, so a retry runs again.
    fn release_idempotency_key(&self, claim: &Claim) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// One write transaction in which a user is set up with everything at once
/// (issue 3 "Set up a user in one call"). It begins by serialising on the
/// tenant, and ends with `commit` or `rollback` (a dry run); dropped, it
/// rolls back.
pub trait ProvisionTx: Send {
    /// # Errors
    /// `LoginTaken`, `RoleNotFound`.
    fn insert_user(&mut self, user: &NewUser) -> impl Future<Output = Result<(), CreateUserError>> + Send;

    /// # Errors
    /// `ExtensionNumberTaken`.
    fn create_extension(
        &mut self,
        tenant: Uuid,
        extension: &NewExtension,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;

    /// # Errors
    /// As [`ExtensionStore::assign_extension`].
    fn assign_extension(
        &mut self,
        tenant: Uuid,
        user: Uuid,
        extension: Uuid,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;

    /// # Errors
    /// As [`PhoneNumberStore::assign_phone_number`].
    fn assign_phone_number(
        &mut self,
        tenant: Uuid,
        user: Uuid,
        number: Uuid,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;

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

    /// Sets the applications of a user (already checked against the station).
    fn set_applications(
        &mut self,
        user: Uuid,
        applications: &[Application],
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    fn user(&mut self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<User>>> + Send;

    fn queue_email(&mut self, email: QueuedEmail) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Writes an audit event with the rest.
    fn record(&mut self, event: &AuditEvent) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Stores the sealed answer on a claimed idempotency key; false when
    /// the claim was lost (then nothing may commit).
    fn complete_idempotency_key(
        &mut self,
        claim: &Claim,
        sealed_response: &str,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    fn commit(self) -> impl Future<Output = anyhow::Result<()>> + Send;

    fn rollback(self) -> impl Future<Output = anyhow::Result<()>> + Send;
}

pub trait AuditStore {
    /// Writes an event on its own, for what changes nothing else (a failed
    /// sign-in that did not count, a secret read).
    fn record(&self, event: &AuditEvent) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Writes events together: all or none.
    fn record_all(&self, events: &[AuditEvent]) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// The events of `tenant` (with `include_anonymous`, also those of no
    /// tenant, such as sign-ins with unknown logins), newest first.
    fn list_events(
        &self,
        tenant: Uuid,
        include_anonymous: bool,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<AuditEvent>>> + Send;
}

/// Whose a login is, and what their password must match.
#[derive(Debug, Clone)]
pub struct LoginCredentials {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub hash: Option<PasswordHash>,
}

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
    fn totp(&self, user: Uuid) -> impl Future<Output = anyhow::Result<Option<TotpRecord>>> + Send;

    /// Stores a new, unconfirmed secret, replacing an unconfirmed one;
    /// false when enrolment is already confirmed.
    fn begin_enrolment(
        &self,
        user: Uuid,
        sealed_secret: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Confirms the enrolment with the first accepted `step` and stores the
    /// recovery codes (hashed); false when there was nothing to confirm or
    /// the step was used.
    fn confirm_enrolment(
        &self,
        user: Uuid,
        step: u64,
        recovery_hashes: &[String],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Removes the secret and the recovery codes. With `end_sessions`, the
    /// user's sessions end too (an administrator's reset).
    fn remove_two_factor(
        &self,
        user: Uuid,
        end_sessions: bool,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Accepts `step` for the user if it is later than the last accepted
    /// one, atomically: of two uses of one code exactly one passes.
    fn accept_step(&self, user: Uuid, step: u64) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// Counts a wrong code in `step`; answers how many wrong codes that
    /// step has seen.
    fn count_wrong_code(&self, user: Uuid, step: u64) -> impl Future<Output = anyhow::Result<u32>> + Send;

    /// Spends an unused recovery code, recording `audit` with it; false
    /// when there is none such.
    fn use_recovery_code(
        &self,
        user: Uuid,
        hash: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;
}

/// A change to an IP allowlist.
#[derive(Debug, Clone)]
pub enum NetworkChange {
    /// The whole list.
    Replace(Vec<Cidr>),
    Add(Cidr),
    Remove(Cidr),
}

impl NetworkChange {
    /// The list after the change.
    #[must_use]
    pub fn apply(&self, current: &[Cidr]) -> Vec<Cidr> {
        let mut list: Vec<Cidr> = match self {
            Self::Replace(new) => new.clone(),
            Self::Add(net) => current.iter().copied().chain([*net]).collect(),
            Self::Remove(net) => current.iter().copied().filter(|n| n != net).collect(),
        };
        let mut seen = std::collections::HashSet::new();
        list.retain(|n| seen.insert(*n));
        list
    }

    /// What the audit log says of it.
    #[must_use]
    pub fn describe(&self) -> serde_json::Value {
        let text = |n: &Cidr| n.to_string();
        match self {
            Self::Replace(new) => serde_json::json!({"replace": new.iter().map(text).collect::<Vec<_>>()}),
            Self::Add(net) => serde_json::json!({"add": text(net)}),
            Self::Remove(net) => serde_json::json!({"remove": text(net)}),
        }
    }
}

pub trait NetworkStore {
    /// Applies `change` to a user's allowlist and ends their sessions (but
    /// `keep`), in one transaction with the user locked; answers the list as
    /// stored, or `None` when there is no such user.
    fn change_networks(
        &self,
        tenant: Uuid,
        user: Uuid,
        change: &NetworkChange,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<Option<Vec<Cidr>>>> + Send;
}

pub trait ThrottleStore {
    /// Takes one attempt under `key` by `policy`'s rule
    /// ([`ThrottlePolicy::take`]), atomically across replicas: of parallel
    /// attempts, no more are counted than one after another would be.
    fn take_attempt(
        &self,
        key: &ThrottleKey,
        policy: &ThrottlePolicy,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<Taken>> + Send;

    /// Gives back an attempt taken under `key` that was no failure
    /// ([`ThrottlePolicy::give_back`]).
    fn give_back(&self, key: &ThrottleKey, policy: &ThrottlePolicy) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Forgets the counter (a success, or an administrator's unlock, which
    /// is audited in the same transaction).
    fn clear(&self, key: &ThrottleKey, audit: Option<&AuditEvent>) -> impl Future<Output = anyhow::Result<()>> + Send;
}

pub trait KeyStore {
    /// The installation's token-signing key as stored: its id and stored
    /// form. When none is stored yet, the candidate is stored and answered;
    /// when another process stored one first, that one is answered, so
    /// every replica signs with one key.
    fn signing_key(
        &self,
        candidate_kid: &str,
        candidate: &str,
    ) -> impl Future<Output = anyhow::Result<(String, String)>> + Send;

    /// Replaces the stored form of the key `kid` (sealing a key stored
    /// before keys were sealed).
    fn restore_signing_key(&self, kid: &str, stored: &str) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Everything the domain needs from storage.
pub trait Store:
    TenantStore
    + RoleStore
    + UserStore
    + SessionStore
    + StationStore
    + DeviceStore
    + ExtensionStore
    + PhoneNumberStore
    + OutboxStore
    + LinkStore
    + IdempotencyStore
    + AuditStore
    + TwoFactorStore
    + NetworkStore
    + ThrottleStore
    + KeyStore
    + Clone
    + Send
    + Sync
    + 'static
{
    type Tx: ProvisionTx;

    /// Begins a provisioning transaction in `tenant`.
    fn begin_provisioning(&self, tenant: Uuid) -> impl Future<Output = anyhow::Result<Self::Tx>> + Send;

    /// Whether storage answers, for `/readyz`.
    fn ping(&self) -> impl Future<Output = anyhow::Result<()>> + Send;
}
