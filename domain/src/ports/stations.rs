//! Station licence pools and the licences users hold (PRODUCT.md rule 2).

use uuid::Uuid;

use crate::{
    audit::AuditEvent,
    errors::*,
    paging::{Page, PageRequest},
    station::{NewStation, Station, StationChanges},
};

pub trait StationStore {
    /// The pools of `tenant`, by name.
    ///
    /// # Errors
    /// When storage fails.
    fn list_stations(
        &self,
        tenant: Uuid,
        page: PageRequest,
    ) -> impl Future<Output = anyhow::Result<Page<Station>>> + Send;

    /// The station `id` when it belongs to `viewer` or a tenant below it.
    ///
    /// # Errors
    /// When storage fails.
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
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Station, CreateStationError>> + Send;

    /// # Errors
    /// `NotFound`; `QuantityBelowInUse` when the new quantity is below the
    /// licences in use at the moment of the write.
    fn update_station(
        &self,
        id: Uuid,
        changes: StationChanges,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Station, UpdateStationError>> + Send;

    /// # Errors
    /// `NotFound`; `InUse` while any licence is in use.
    fn delete_station(
        &self,
        id: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), DeleteStationError>> + Send;

    /// Gives `user` of `tenant` one licence of `station`, releasing the one
    /// they held, in one transaction; the user's applications shrink to
    /// what the new station unlocks. Of concurrent requests for the last
    /// licence exactly one succeeds.
    ///
    /// # Errors
    /// `UserNotFound`, `StationNotFound`, `StationUnavailable` with the
    /// pool's counts when it has no free licence.
    fn assign_station(
        &self,
        tenant: Uuid,
        user: Uuid,
        station: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<Station, TelephonyError>> + Send;

    /// Releases the licence `user` holds, if any, and with it their
    /// applications; audited only when they held one.
    ///
    /// # Errors
    /// `UserNotFound`.
    fn release_station(
        &self,
        tenant: Uuid,
        user: Uuid,
        audit: &AuditEvent,
    ) -> impl Future<Output = Result<(), TelephonyError>> + Send;
}
