//! Desk phones (PRODUCT.md rule 3): the customer's administrators register
//! them and give each to at most one user.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Voxport, touched_fields};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    claim::ClaimKind,
    device::{Device, DeviceChanges, NewDevice},
    errors::{CreateDeviceError, DeleteDeviceError, TelephonyError, UpdateDeviceError},
    paging::{Page, PageRequest},
    ports::Store,
};

impl<S: Store> Voxport<S> {
    /// # Errors
    /// When storage fails.
    pub async fn list_devices(
        &self,
        actor: &Actor,
        available: bool,
        page: PageRequest,
    ) -> anyhow::Result<Page<Device>> {
        self.store.list_devices(actor.tenant_id, available, page).await
    }

    /// # Errors
    /// When storage fails.
    pub async fn device(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<Device>> {
        self.store.device(actor.tenant_id, id).await
    }

    /// # Errors
    /// See [`CreateDeviceError`].
    pub async fn create_device(
        &self,
        actor: &Actor,
        device: NewDevice,
        now: DateTime<Utc>,
    ) -> Result<Device, CreateDeviceError> {
        let audit = AuditEvent::by(actor, AuditAction::DeviceCreated, TargetType::Device, None, now)
            .with(json!({"mac": device.mac.as_str()}));
        let mac = device.mac.as_str().to_owned();
        let device = match self.store.create_device(actor.tenant_id, device, &audit).await {
            Err(CreateDeviceError::MacTaken) => {
                self.keep_claim(actor, actor.tenant_id, ClaimKind::Device, &mac, now).await;
                return Err(CreateDeviceError::MacTaken);
            }
            other => other?,
        };
        tracing::info!(actor = %actor.caller_id(), device = %device.id, "registered device");
        Ok(device)
    }

    /// # Errors
    /// See [`UpdateDeviceError`].
    pub async fn update_device(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: DeviceChanges,
        now: DateTime<Utc>,
    ) -> Result<Device, UpdateDeviceError> {
        let audit = AuditEvent::by(actor, AuditAction::DeviceUpdated, TargetType::Device, Some(id), now).with(json!({
            "fields": touched_fields(&[
                ("vendor", changes.vendor.is_some()),
                ("model", changes.model.is_some()),
                ("label", changes.label.is_some()),
            ]),
        }));
        self.store.update_device(actor.tenant_id, id, changes, &audit).await
    }

    /// # Errors
    /// See [`DeleteDeviceError`].
    pub async fn delete_device(&self, actor: &Actor, id: Uuid, now: DateTime<Utc>) -> Result<(), DeleteDeviceError> {
        let audit = AuditEvent::by(actor, AuditAction::DeviceDeleted, TargetType::Device, Some(id), now);
        self.store.delete_device(actor.tenant_id, id, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), device = %id, "deleted device");
        Ok(())
    }

    /// # Errors
    /// See [`TelephonyError`].
    pub async fn assign_device(
        &self,
        actor: &Actor,
        user: Uuid,
        device: Uuid,
        ports: Option<u8>,
        now: DateTime<Utc>,
    ) -> Result<Device, TelephonyError> {
        let audit = AuditEvent::by(actor, AuditAction::DeviceAssigned, TargetType::User, Some(user), now)
            .with(json!({"device_id": device, "ports": ports}));
        self.change_holdings(actor, user, audit, async |audit| {
            self.store.assign_device(actor.tenant_id, user, device, ports, audit).await
        })
        .await
    }

    /// # Errors
    /// `UserNotFound`, `PermissionNotHeld`.
    pub async fn release_device(&self, actor: &Actor, user: Uuid, now: DateTime<Utc>) -> Result<(), TelephonyError> {
        let audit = AuditEvent::by(actor, AuditAction::DeviceReleased, TargetType::User, Some(user), now);
        self.change_holdings(actor, user, audit, async |audit| {
            self.store.release_device(actor.tenant_id, user, audit).await
        })
        .await
    }
}
