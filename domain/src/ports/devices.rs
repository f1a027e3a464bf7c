//! Desk phones and who holds them (PRODUCT.md rule 3).

use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    device::{Device, DeviceChanges, NewDevice},
    errors::*,
    paging::{Page, PageRequest},
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
}
