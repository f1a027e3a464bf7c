//! The operations of voxport, one file per resource. Each takes the actor
//! and `now` as arguments, checks the rules that need no storage, and
//! leaves the ones that need a consistent view (uniqueness, the last
//! administrator) to the store's transaction.

mod account;
mod api_clients;
mod authenticate;
mod claims;
mod devices;
mod emails;
mod extensions;
mod idempotency;
mod import;
mod keys;
mod machines;
mod passwords;
mod phone_numbers;
mod provisioning;
mod purge;
mod roles;
mod scim;
mod security;
mod sessions;
mod sign_in;
mod stations;
mod tenants;
mod users;
mod webhooks;

use std::sync::Arc;

pub use api_clients::{ClientCredentials, DEFAULT_SECRET_OVERLAP, Introspection, IssuedToken};
pub use emails::{DeliveryReport, Mailer, Postman, PostmanSettings};
pub use extensions::NewExtensionRequest;
pub use idempotency::{ClaimError, KeyClaim};
pub use import::{
    ColumnProblem, ImportMode, ImportOptions, ImportOutcome, ImportProgress, ImportReferences, ImportRow, JobRequest,
    Repeats, RowFailure,
};
pub use keys::{KEY_ACTIVATION_SECONDS, KEY_RELOAD, load_signing_keys};
pub use passwords::NewPassword;
pub use security::{Enrollee, RESET_REQUESTS_WAITING, ResetTicket};
pub use sign_in::{LoginAttempt, MAX_WRONG_CODES_PER_STEP, SignedIn};
pub use tenants::{Bootstrapped, CreateTenant, CreatedTenant};
pub use users::{
    CreateOptions, CreateUser, CreatedUser, DeviceRequest, ExtensionRequest, Held, HoldingsChange, Telephony,
    UpdateUser, WrittenUser,
};
pub use webhooks::{Courier, CourierReport, CourierSettings, SentWebhook, WebhookRequest, WebhookSender};

use chrono::Duration;
use tokio::sync::{Notify, Semaphore};

use uuid::Uuid;

use crate::{
    actor::Actor,
    audit::AuditEvent,
    auth::{AuthCache, PasswordHasher, SessionLifetimes, TokenSigner},
    crypto::SecretBox,
    errors::{DeleteUserError, SecurityAdminError, SendEmailError, TelephonyError, UpdateUserError},
    permission::Permission,
    ports::Store,
    throttle::ThrottlePolicy,
    user::User,
    values::PasswordPolicy,
};

/// How an operation on another user of the actor's tenant refuses: there
/// is no such user, or they hold a permission the actor lacks (PRODUCT.md
/// rule 7).
pub(crate) trait TargetRefusal: From<anyhow::Error> {
    fn not_found() -> Self;
    fn not_held(missing: Vec<Permission>) -> Self;
}

macro_rules! target_refusal {
    ($($error:ty => $not_found:ident),* $(,)?) => {$(
        impl TargetRefusal for $error {
            fn not_found() -> Self {
                Self::$not_found
            }

            fn not_held(missing: Vec<Permission>) -> Self {
                Self::PermissionNotHeld(missing)
            }
        }
    )*};
}

target_refusal!(
    TelephonyError => UserNotFound,
    SecurityAdminError => UserNotFound,
    SendEmailError => UserNotFound,
    UpdateUserError => NotFound,
    DeleteUserError => NotFound,
);

/// The names of the fields a change touches, for an audit event.
pub(crate) fn touched_fields(fields: &[(&'static str, bool)]) -> Vec<&'static str> {
    fields.iter().filter(|(_, touched)| *touched).map(|(name, _)| *name).collect()
}

/// Settings the operations need beyond the store.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// Where users reach the portal; links in emails point there.
    pub portal_url: String,
    /// The platform's SIP domain; a tenant's registrar is `<slug>.<domain>`.
    pub sip_domain: String,
    /// The SIP server desk phones send to (their outbound proxy), when
    /// the tenants' domains do not resolve to it.
    pub sip_server: Option<String>,
    /// The SIP server's port (and the registrar's).
    pub sip_port: u16,
    /// How long a set-password link works.
    pub link_lifetime: Duration,
    /// Networks webhooks may be sent to though not public, by `http` too
    /// (`VOXPORT_WEBHOOK_ALLOWED_NETWORKS`).
    pub webhook_allowed_networks: Vec<ipnet::IpNet>,
    /// How long an idempotency key is remembered.
    pub idempotency_lifetime: Duration,
    /// Brute-force limits.
    pub throttle: ThrottlePolicy,
    /// The issuer shown in authenticator apps.
    pub totp_issuer: String,
    /// How long what authenticating a token read is reused; a change made
    /// on another replica shows after at most this long.
    pub auth_cache_lifetime: Duration,
}

/// The application: the store and what the operations need besides it.
pub struct Voxport<S> {
    store: S,
    hasher: PasswordHasher,
    policy: PasswordPolicy,
    tokens: TokenSigner,
    lifetimes: SessionLifetimes,
    secrets: SecretBox,
    settings: ServiceSettings,
    /// Woken whenever an email is written, so the worker sends it at once.
    outbox: Arc<Notify>,
    /// Woken whenever an import job is queued.
    jobs: Arc<Notify>,
    /// What authenticating a token read, for a moment.
    auth_cache: AuthCache,
    /// Password-reset requests whose work may wait in the background at
    /// once ([`security::RESET_REQUESTS_WAITING`]).
    reset_work: Arc<Semaphore>,
}

impl<S: Store> Voxport<S> {
    #[must_use]
    pub fn new(
        store: S,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        tokens: TokenSigner,
        lifetimes: SessionLifetimes,
        secrets: SecretBox,
        settings: ServiceSettings,
    ) -> Self {
        let auth_cache = AuthCache::new(settings.auth_cache_lifetime);
        Self {
            store,
            hasher,
            policy,
            tokens,
            lifetimes,
            secrets,
            settings,
            outbox: Arc::new(Notify::new()),
            jobs: Arc::new(Notify::new()),
            auth_cache,
            reset_work: Arc::new(Semaphore::new(security::RESET_REQUESTS_WAITING)),
        }
    }

    /// The user of the actor's tenant an operation acts on, who must hold
    /// no permission the actor lacks (PRODUCT.md rule 7).
    pub(crate) async fn target<E: TargetRefusal>(&self, actor: &Actor, user: Uuid) -> Result<User, E> {
        let target = self.store.user(actor.tenant_id, user).await?.ok_or_else(E::not_found)?;
        let missing = actor.cannot_grant(&target.role.permissions);
        if missing.is_empty() { Ok(target) } else { Err(E::not_held(missing)) }
    }

    /// Changes what a user of the actor's tenant holds (a licence, a desk
    /// phone, a number, an extension): the user must be one the actor may
    /// act on (PRODUCT.md rule 7); `write` stores the change with `audit`.
    pub(crate) async fn change_holdings<T>(
        &self,
        actor: &Actor,
        user: Uuid,
        audit: AuditEvent,
        write: impl AsyncFnOnce(&AuditEvent) -> Result<T, TelephonyError>,
    ) -> Result<T, TelephonyError> {
        self.target::<TelephonyError>(actor, user).await?;
        let value = write(&audit).await?;
        tracing::info!(actor = %actor.caller_id(), user = %user, action = audit.action.code(), "changed what a user holds");
        Ok(value)
    }

    /// Notified whenever an email is written to the outbox.
    #[must_use]
    pub fn outbox_signal(&self) -> Arc<Notify> {
        self.outbox.clone()
    }

    /// A delivery worker over the same store and key.
    #[must_use]
    pub fn postman<M: Mailer>(&self, mailer: M, settings: PostmanSettings) -> Postman<S, M> {
        Postman::new(self.store.clone(), self.secrets.clone(), mailer, settings)
    }

    #[must_use]
    pub fn tokens(&self) -> &TokenSigner {
        &self.tokens
    }

    #[must_use]
    pub fn password_policy(&self) -> PasswordPolicy {
        self.policy
    }

    /// # Errors
    /// When storage does not answer.
    pub async fn ping(&self) -> anyhow::Result<()> {
        self.store.ping().await
    }

    /// The version of an object, which its `ETag` carries.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn version(&self, target_type: crate::audit::TargetType, id: uuid::Uuid) -> anyhow::Result<i64> {
        self.store.version(target_type, id).await
    }
}
