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
    auth::{PasswordHash, Session, SigningKeySeed},
    device::{Device, DeviceChanges, NewDevice},
    errors::*,
    paging::{Page, PageRequest, Sort},
    role::{BuiltinRole, NewRole, Role, RoleChanges},
    station::{NewStation, Station, StationChanges},
    tenant::{NewTenant, Tenant, TenantChanges},
    user::{NewUser, User, UserChanges, UserFilter, UserSortKey},
    values::Slug,
};

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
    /// in one transaction.
    ///
    /// # Errors
    /// `SlugTaken` when another tenant has the slug; `AdminLoginTaken` when
    /// the administrator's login is in use anywhere on the platform.
    fn create_tenant(
        &self,
        tenant: NewTenant,
        admin: NewUser,
    ) -> impl Future<Output = Result<(Tenant, User), CreateTenantError>> + Send;

    /// # Errors
    /// `NotFound` when the tenant does not exist; `SlugTaken` when another
    /// tenant has the new slug.
    fn update_tenant(
        &self,
        id: Uuid,
        changes: TenantChanges,
    ) -> impl Future<Output = Result<Tenant, UpdateTenantError>> + Send;

    /// Deletes the tenant with its users, roles and sessions.
    ///
    /// # Errors
    /// `NotFound` when it does not exist; `HasChildren` when tenants still
    /// hang below it.
    fn delete_tenant(&self, id: Uuid) -> impl Future<Output = Result<(), DeleteTenantError>> + Send;

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
    fn create_role(&self, tenant: Uuid, role: NewRole) -> impl Future<Output = Result<Role, CreateRoleError>> + Send;

    /// # Errors
    /// `NotFound`, `BuiltIn` for the four product roles, `NameTaken`.
    fn update_role(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: RoleChanges,
    ) -> impl Future<Output = Result<Role, UpdateRoleError>> + Send;

    /// # Errors
    /// `NotFound`, `BuiltIn`, `InUse` while any user holds the role.
    fn delete_role(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = Result<(), DeleteRoleError>> + Send;
}

pub trait UserStore {
    fn user(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = anyhow::Result<Option<User>>> + Send;

    /// The user behind a login typed at sign-in (matched case-insensitively
    /// on the whole platform) with their password hash, if they have one.
    fn user_by_login(
        &self,
        login_key: &str,
    ) -> impl Future<Output = anyhow::Result<Option<(User, Option<PasswordHash>)>>> + Send;

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

    /// # Errors
    /// `LoginTaken` when the login is in use anywhere on the platform.
    fn create_user(&self, user: NewUser) -> impl Future<Output = Result<User, CreateUserError>> + Send;

    /// Applies `changes` (and a new password hash, if given) in one
    /// transaction; when they could leave the tenant without an active
    /// administrator, checks that in the same transaction. With
    /// `end_sessions`, the user's sessions are revoked with it, all but the
    /// one it names.
    ///
    /// # Errors
    /// `NotFound`, `LoginTaken`, `LastAdministrator`.
    fn update_user(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: UserChanges,
        password: Option<PasswordHash>,
        end_sessions: Option<EndSessions>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<User, UpdateUserError>> + Send;

    /// # Errors
    /// `NotFound`; `LastAdministrator` when the user is the tenant's last
    /// active administrator.
    fn delete_user(
        &self,
        tenant: Uuid,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), DeleteUserError>> + Send;

    /// Stores a new password hash and revokes every session of the user
    /// but `keep` in the same transaction.
    fn set_password(
        &self,
        user_id: Uuid,
        hash: PasswordHash,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
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

    fn revoke_session(&self, id: Uuid, now: DateTime<Utc>) -> impl Future<Output = anyhow::Result<()>> + Send;

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
    ) -> impl Future<Output = Result<Station, CreateStationError>> + Send;

    /// # Errors
    /// `NotFound`; `QuantityBelowInUse` when the new quantity is below the
    /// licences in use at the moment of the write.
    fn update_station(
        &self,
        id: Uuid,
        changes: StationChanges,
    ) -> impl Future<Output = Result<Station, UpdateStationError>> + Send;

    /// # Errors
    /// `NotFound`; `InUse` while any licence is in use.
    fn delete_station(&self, id: Uuid) -> impl Future<Output = Result<(), DeleteStationError>> + Send;

    /// Gives `user` of `tenant` one licence of `station`, releasing the one
    /// they held, in one transaction. Of concurrent requests for the last
    /// licence exactly one succeeds.
    ///
    /// # Errors
    /// `UserNotFound`, `StationNotFound`, `Unavailable` with the pool's
    /// counts when it has no free licence.
    fn assign_station(
        &self,
        tenant: Uuid,
        user: Uuid,
        station: Uuid,
    ) -> impl Future<Output = Result<Station, AssignStationError>> + Send;

    /// Releases the licence `user` holds, if any; answers whether the user exists.
    fn release_station(&self, tenant: Uuid, user: Uuid) -> impl Future<Output = anyhow::Result<bool>> + Send;
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
    ) -> impl Future<Output = Result<Device, CreateDeviceError>> + Send;

    /// # Errors
    /// `NotFound`.
    fn update_device(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: DeviceChanges,
    ) -> impl Future<Output = Result<Device, UpdateDeviceError>> + Send;

    /// # Errors
    /// `NotFound`; `Assigned` naming the holder while the device serves a user.
    fn delete_device(&self, tenant: Uuid, id: Uuid) -> impl Future<Output = Result<(), DeleteDeviceError>> + Send;

    /// Gives `user` the device on `ports` line ports (default: all of
    /// them), replacing the device they held, in one transaction.
    ///
    /// # Errors
    /// `UserNotFound`, `DeviceNotFound`, `Assigned` naming the holder when
    /// the device serves another user, `TooManyPorts`.
    fn assign_device(
        &self,
        tenant: Uuid,
        user: Uuid,
        device: Uuid,
        ports: Option<u8>,
    ) -> impl Future<Output = Result<Device, AssignDeviceError>> + Send;

    /// Frees the device `user` holds, if any; answers whether the user exists.
    fn release_device(&self, tenant: Uuid, user: Uuid) -> impl Future<Output = anyhow::Result<bool>> + Send;
}

pub trait KeyStore {
    /// The installation's token-signing key. When none is stored yet,
    /// `candidate` is stored and answered; when another process stored one
    /// first, that one is answered, so every replica signs with one key.
    fn signing_key(&self, candidate: SigningKeySeed) -> impl Future<Output = anyhow::Result<SigningKeySeed>> + Send;
}

/// Everything the domain needs from storage.
pub trait Store:
    TenantStore
    + RoleStore
    + UserStore
    + SessionStore
    + StationStore
    + DeviceStore
    + KeyStore
    + Clone
    + Send
    + Sync
    + 'static
{
    /// Whether storage answers, for `/readyz`.
    fn ping(&self) -> impl Future<Output = anyhow::Result<()>> + Send;
}
