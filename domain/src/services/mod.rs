//! The operations of voxport, one file per resource. Each takes the actor
//! and `now` as arguments, checks the rules that need no storage, and
//! leaves the ones that need a consistent view (uniqueness, the last
//! administrator) to the store's transaction.

mod auth;
mod devices;
mod roles;
mod stations;
mod tenants;
mod users;

pub use auth::SignedIn;
pub use tenants::{Bootstrapped, CreateTenant, CreatedTenant};
pub use users::{CreateUser, CreatedUser, NewPassword, UpdateUser};

use crate::{
    auth::{PasswordHasher, SessionLifetimes, TokenSigner},
    ports::Store,
    values::PasswordPolicy,
};

/// The application: the store and what the operations need besides it.
pub struct Voxport<S> {
    store: S,
    hasher: PasswordHasher,
    policy: PasswordPolicy,
    tokens: TokenSigner,
    lifetimes: SessionLifetimes,
}

impl<S: Store> Voxport<S> {
    #[must_use]
    pub fn new(
        store: S,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        tokens: TokenSigner,
        lifetimes: SessionLifetimes,
    ) -> Self {
        Self { store, hasher, policy, tokens, lifetimes }
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
}
