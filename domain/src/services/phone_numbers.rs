//! Phone numbers (PRODUCT.md rule 4 and "Who owns what"). The parent
//! tenant adds numbers for a customer; the customer's admins add and remove
//! their own only when the parent allowed it (`own_phone_numbers`); the
//! platform, having no parent, manages its own. The customer's admins give
//! them to their users.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Voxport, touched_fields};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    claim::ClaimKind,
    errors::{CreatePhoneNumberError, DeletePhoneNumberError, TelephonyError, UpdatePhoneNumberError},
    paging::{Page, PageRequest},
    phone_number::{NewPhoneNumber, PhoneNumber, PhoneNumberChanges},
    ports::Store,
    tenant::TenantKind,
};

impl<S: Store> Voxport<S> {
    /// The numbers of `tenant` (default: the actor's own), which must be
    /// the actor's tenant or one below it; `None` when it is not visible.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn list_phone_numbers(
        &self,
        actor: &Actor,
        tenant: Option<Uuid>,
        available: bool,
        q: Option<&str>,
        page: PageRequest,
    ) -> anyhow::Result<Option<Page<PhoneNumber>>> {
        let tenant = tenant.unwrap_or(actor.tenant_id);
        if self.store.tenant_visible_to(actor.tenant_id, tenant).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.store.list_phone_numbers(tenant, available.then(Utc::now), q, page).await?))
    }

    /// # Errors
    /// When storage fails.
    pub async fn phone_number(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<PhoneNumber>> {
        self.store.phone_number_visible_to(actor.tenant_id, id).await
    }

    /// # Errors
    /// See [`CreatePhoneNumberError`].
    pub async fn create_phone_number(
        &self,
        actor: &Actor,
        tenant: Option<Uuid>,
        number: NewPhoneNumber,
        now: DateTime<Utc>,
    ) -> Result<PhoneNumber, CreatePhoneNumberError> {
        let tenant = tenant.unwrap_or(actor.tenant_id);
        self.store.tenant_visible_to(actor.tenant_id, tenant).await?.ok_or(CreatePhoneNumberError::TenantNotFound)?;
        if !self.manages_numbers_of(actor, tenant).await? {
            return Err(CreatePhoneNumberError::NotTheParent);
        }
        let audit = AuditEvent::by(actor, AuditAction::PhoneNumberCreated, TargetType::PhoneNumber, None, now)
            .with(json!({"tenant_id": tenant, "number": number.number.as_str()}));
        let key = number.number.as_str().to_owned();
        let number = match self.store.create_phone_number(tenant, number, &audit).await {
            Err(CreatePhoneNumberError::NumberTaken) => {
                self.keep_claim(actor, tenant, ClaimKind::PhoneNumber, &key, now).await;
                return Err(CreatePhoneNumberError::NumberTaken);
            }
            other => other?,
        };
        tracing::info!(actor = %actor.caller_id(), number = %number.id, tenant = %tenant, "added phone number");
        Ok(number)
    }

    /// # Errors
    /// See [`UpdatePhoneNumberError`].
    pub async fn update_phone_number(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: PhoneNumberChanges,
        now: DateTime<Utc>,
    ) -> Result<PhoneNumber, UpdatePhoneNumberError> {
        self.store.phone_number_visible_to(actor.tenant_id, id).await?.ok_or(UpdatePhoneNumberError::NotFound)?;
        let audit = AuditEvent::by(actor, AuditAction::PhoneNumberUpdated, TargetType::PhoneNumber, Some(id), now)
            .with(json!({"fields": touched_fields(&[("label", changes.label.is_some())])}));
        self.store.update_phone_number(id, changes, &audit).await
    }

    /// # Errors
    /// See [`DeletePhoneNumberError`].
    pub async fn delete_phone_number(
        &self,
        actor: &Actor,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), DeletePhoneNumberError> {
        let number =
            self.store.phone_number_visible_to(actor.tenant_id, id).await?.ok_or(DeletePhoneNumberError::NotFound)?;
        if !self.manages_numbers_of(actor, number.tenant_id).await? {
            return Err(DeletePhoneNumberError::NotTheParent);
        }
        let audit = AuditEvent::by(actor, AuditAction::PhoneNumberDeleted, TargetType::PhoneNumber, Some(id), now)
            .with(json!({"number": number.number.as_str()}));
        self.store.delete_phone_number(id, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), number = %id, "removed phone number");
        Ok(())
    }

    /// Gives a user of the actor's tenant one of its numbers.
    ///
    /// # Errors
    /// See [`TelephonyError`].
    pub async fn assign_phone_number(
        &self,
        actor: &Actor,
        user: Uuid,
        number: Uuid,
        now: DateTime<Utc>,
    ) -> Result<PhoneNumber, TelephonyError> {
        let audit = AuditEvent::by(actor, AuditAction::PhoneNumberAssigned, TargetType::User, Some(user), now)
            .with(json!({"phone_number_id": number}));
        self.change_holdings(actor, user, audit, async |audit| {
            self.store.assign_phone_number(actor.tenant_id, user, number, audit).await
        })
        .await
    }

    /// # Errors
    /// `UserNotFound`, `PermissionNotHeld`.
    pub async fn release_phone_number(
        &self,
        actor: &Actor,
        user: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), TelephonyError> {
        let audit = AuditEvent::by(actor, AuditAction::PhoneNumberReleased, TargetType::User, Some(user), now);
        self.change_holdings(actor, user, audit, async |audit| {
            self.store.release_phone_number(actor.tenant_id, user, audit).await
        })
        .await
    }

    /// Whether the actor's tenant adds and removes the numbers of `owner`:
    /// a parent for the tenants below it; the platform for its own; a
    /// customer or reseller for its own when its parent allowed it.
    async fn manages_numbers_of(&self, actor: &Actor, owner: Uuid) -> anyhow::Result<bool> {
        if owner != actor.tenant_id {
            return Ok(true);
        }
        let own = self.own_tenant(actor).await?;
        Ok(own.kind == TenantKind::Platform || own.own_phone_numbers)
    }
}
