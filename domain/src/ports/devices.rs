//! Desk phones and who holds them (PRODUCT.md rule 3).

use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    device::{Device, DeviceChanges, NewDevice},
    errors::*,
    paging::{Page, PageRequest},
    provisioning::StoredProvisioning,
};

pub trait DeviceStore {
    /// The desk phones of `tenant` by MAC; with `available`, only those
    /// serving nobody.
    ///
    /// # Errors
    /// When storage fails.
    fn list_devices(
        &self,
        tenant: Uuid,
        available: bool,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<Device>>> + Send;

    /// The device `id` of `tenant`, with its holder.
    ///
    /// # Errors
    /// When storage fails.
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

    /// Frees the device `user` holds, if any; audited only when it did.
    ///
    /// # Errors
    /// `UserNotFound`.
    fn release_device(
        &self,
        tenant: Uuid,
        user: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;

    /// Gives the device `id` of `tenant` new provisioning credentials
    /// (`username` and the digest of the password), replacing any earlier
    /// ones; answers whether the device exists.
    ///
    /// # Errors
    /// When storage fails.
    fn set_provisioning_credentials(
        &self,
        tenant: Uuid,
        id: Uuid,
        username: &str,
        secret_hash: &str,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<bool>> + Send;

    /// The provisioning credentials named `username`, on any tenant.
    ///
    /// # Errors
    /// When storage fails.
    fn provisioning_login(
        &self,
        username: &str,
    ) -> impl Future<Output = anyhow::Result<Option<StoredProvisioning>>> + Send;

    /// Notes a configuration served to device `id` from `ip`, with `audit`.
    ///
    /// # Errors
    /// When storage fails.
    fn record_provisioning_fetch(
        &self,
        id: Uuid,
        ip: Option<String>,
        audit: &AuditEvent,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}
