//! The signed-in user's own account: their profile and their password.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::Voxport;
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent},
    errors::{ChangePasswordError, UpdateUserError},
    ports::{Store, UserUpdate},
    user::{User, UserChanges},
};

impl<S: Store> Voxport<S> {
    /// The signed-in user with everything they hold.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn me(&self, actor: &Actor) -> anyhow::Result<User> {
        self.store.user(actor.home_tenant_id, actor.user_id).await?.context("the signed-in user vanished")
    }

    /// Changes the actor's own password; needs the current one (ASVS 5.0
    /// 6.2.3) and ends every other session of theirs.
    ///
    /// # Errors
    /// `WrongPassword`, `WeakPassword`.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChangePasswordError> {
        let me = &self.me(actor).await?;
        let Some(check) = self.recheck_password(me, current, actor.ip, now).await? else {
            return Err(ChangePasswordError::WrongPassword);
        };
        self.record_success(&check, me.id, now).await?;
        let new = self.policy.check(new, &me.personal_words()).map_err(ChangePasswordError::WeakPassword)?;
        let hash = self.hasher.hash(&new).await?;
        let audit = AuditEvent::of_own_account(actor, AuditAction::PasswordChanged, now);
        self.store.set_password(actor.user_id, hash, Some(actor.session_id), now, &audit).await?;
        self.tokens_may_have_changed();
        Ok(())
    }

    /// Changes the actor's own names, time zone or language; nothing that
    /// needs an administrator.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn update_me(&self, actor: &Actor, changes: UserChanges, now: DateTime<Utc>) -> anyhow::Result<User> {
        let changes = UserChanges {
            first_name: changes.first_name,
            last_name: changes.last_name,
            timezone: changes.timezone,
            language: changes.language,
            ..UserChanges::default()
        };
        let audit = AuditEvent::of_own_account(actor, AuditAction::UserUpdated, now).with(json!({
            "fields": super::touched_fields(&[
                ("first_name", changes.first_name.is_some()),
                ("last_name", changes.last_name.is_some()),
                ("timezone", changes.timezone.is_some()),
                ("language", changes.language.is_some()),
            ]),
        }));
        let update = UserUpdate { changes, ..UserUpdate::default() };
        match self.store.update_user(actor.home_tenant_id, actor.user_id, update, now, &audit).await {
            Ok(user) => Ok(user),
            Err(UpdateUserError::Unknown(e)) => Err(e),
            Err(other) => Err(anyhow::anyhow!("updating one's own profile: {other}")),
        }
    }
}
