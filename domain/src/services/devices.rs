//! Desk phones (PRODUCT.md rule 3): the customer's administrators register
//! them and give each to at most one user.

use uuid::Uuid;

use super::Voxport;
use crate::{
    actor::Actor,
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
    pub async fn create_device(&self, actor: &Actor, device: NewDevice) -> Result<Device, CreateDeviceError> {
        let device = self.store.create_device(actor.tenant_id, device).await?;
        tracing::info!(actor = %actor.user_id, device = %device.id, "registered device");
        Ok(device)
    }

    /// # Errors
    /// See [`UpdateDeviceError`].
    pub async fn update_device(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: DeviceChanges,
    ) -> Result<Device, UpdateDeviceError> {
        self.store.update_device(actor.tenant_id, id, changes).await
    }

    /// # Errors
    /// See [`DeleteDeviceError`].
    pub async fn delete_device(&self, actor: &Actor, id: Uuid) -> Result<(), DeleteDeviceError> {
        self.store.delete_device(actor.tenant_id, id).await?;
        tracing::info!(actor = %actor.user_id, device = %id, "deleted device");
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
    ) -> Result<Device, TelephonyError> {
        self.check_target(actor, user).await?;
        let device = self.store.assign_device(actor.tenant_id, user, device, ports).await?;
        tracing::info!(actor = %actor.user_id, user = %user, device = %device.id, "assigned device");
        Ok(device)
    }

    /// # Errors
    /// `UserNotFound`, `PermissionNotHeld`.
    pub async fn release_device(&self, actor: &Actor, user: Uuid) -> Result<(), TelephonyError> {
        self.check_target(actor, user).await?;
        if !self.store.release_device(actor.tenant_id, user).await? {
            return Err(TelephonyError::UserNotFound);
        }
        Ok(())
    }
}
