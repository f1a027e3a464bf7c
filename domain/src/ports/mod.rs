//! The ports: what the domain needs from storage. `persistence/` implements
//! them for SQLite and PostgreSQL through sea-orm.
//!
//! Every method that writes does so in one transaction. Every query takes
//! the tenant it is scoped to; an object of another tenant is reported as
//! missing, never as forbidden. Connection failures surface as
//! `crate::errors::Unavailable` in the error chain.

use std::future::Future;

mod api_clients;
mod audit;
mod claims;
mod devices;
mod extensions;
mod idempotency;
mod jobs;
mod keys;
mod links;
mod networks;
mod outbox;
mod phone_numbers;
mod provision;
mod purge;
mod roles;
mod scim_tokens;
mod sessions;
mod stations;
mod tenants;
mod throttle;
mod two_factor;
mod users;
mod versions;
mod webhooks;

pub use api_clients::*;
pub use audit::*;
pub use claims::*;
pub use devices::*;
pub use extensions::*;
pub use idempotency::*;
pub use jobs::*;
pub use keys::*;
pub use links::*;
pub use networks::*;
pub use outbox::*;
pub use phone_numbers::*;
pub use provision::*;
pub use purge::*;
pub use roles::*;
pub use scim_tokens::*;
pub use sessions::*;
pub use stations::*;
pub use tenants::*;
pub use throttle::*;
pub use two_factor::*;
pub use users::*;
pub use versions::*;
pub use webhooks::*;

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
    + PurgeStore
    + IdempotencyStore
    + AuditStore
    + ClaimStore
    + TwoFactorStore
    + NetworkStore
    + ThrottleStore
    + KeyStore
    + ApiClientStore
    + WebhookStore
    + ScimStore
    + JobStore
    + VersionStore
    + Clone
    + Send
    + Sync
    + 'static
{
    type Tx: ProvisionTx;

    /// Begins a provisioning transaction, happening at `now`.
    ///
    /// # Errors
    /// When storage fails.
    fn begin_provisioning(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> impl Future<Output = anyhow::Result<Self::Tx>> + Send;

    /// Whether storage answers, for `/readyz`.
    ///
    /// # Errors
    /// When storage fails.
    fn ping(&self) -> impl Future<Output = anyhow::Result<()>> + Send;
}
