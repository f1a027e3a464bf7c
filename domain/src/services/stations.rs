//! Station licence pools (PRODUCT.md rules 2 and 11). The parent tenant
//! (a reseller, or the platform) creates a customer's pools and changes
//! their quantities; the customer's administrators read them and give
//! their users licences. The platform, having no parent, manages its own.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Voxport, touched_fields};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    errors::{CreateStationError, DeleteStationError, TelephonyError, UpdateStationError},
    paging::{Page, PageRequest},
    ports::Store,
    station::{NewStation, Station, StationChanges},
    tenant::TenantKind,
};

impl<S: Store> Voxport<S> {
    /// The pools of `tenant` (default: the actor's own), which must be the
    /// actor's tenant or one below it.
    ///
    /// # Errors
    /// When storage fails; `Ok(None)` when the tenant is not visible.
    pub async fn list_stations(
        &self,
        actor: &Actor,
        tenant: Option<Uuid>,
        page: PageRequest,
    ) -> anyhow::Result<Option<Page<Station>>> {
        let tenant = tenant.unwrap_or(actor.tenant_id);
        if self.store.tenant_visible_to(actor.tenant_id, tenant).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.store.list_stations(tenant, page).await?))
    }

    /// # Errors
    /// When storage fails.
    pub async fn station(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<Station>> {
        self.store.station_visible_to(actor.tenant_id, id).await
    }

    /// # Errors
    /// See [`CreateStationError`].
    pub async fn create_station(
        &self,
        actor: &Actor,
        tenant: Option<Uuid>,
        station: NewStation,
        now: DateTime<Utc>,
    ) -> Result<Station, CreateStationError> {
        let tenant = tenant.unwrap_or(actor.tenant_id);
        self.store.tenant_visible_to(actor.tenant_id, tenant).await?.ok_or(CreateStationError::TenantNotFound)?;
        if !self.manages_pools_of(actor, tenant).await? {
            return Err(CreateStationError::NotTheParent);
        }
        let audit = AuditEvent::by(actor, AuditAction::StationCreated, TargetType::Station, None, now)
            .with(json!({"tenant_id": tenant, "code": station.code.as_str(), "quantity": station.quantity}));
        let station = self.store.create_station(tenant, station, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), station = %station.id, tenant = %tenant, "created station pool");
        Ok(station)
    }

    /// # Errors
    /// See [`UpdateStationError`].
    pub async fn update_station(
        &self,
        actor: &Actor,
        id: Uuid,
        changes: StationChanges,
        now: DateTime<Utc>,
    ) -> Result<Station, UpdateStationError> {
        let station = self.store.station_visible_to(actor.tenant_id, id).await?.ok_or(UpdateStationError::NotFound)?;
        if !self.manages_pools_of(actor, station.tenant_id).await? {
            return Err(UpdateStationError::NotTheParent);
        }
        let audit =
            AuditEvent::by(actor, AuditAction::StationUpdated, TargetType::Station, Some(id), now).with(json!({
                "fields": touched_fields(&[
                    ("name", changes.name.is_some()),
                    ("applications", changes.applications.is_some()),
                    ("quantity", changes.quantity.is_some()),
                ]),
                "quantity": changes.quantity,
            }));
        let station = self.store.update_station(id, changes, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), station = %id, quantity = station.quantity, "changed station pool");
        Ok(station)
    }

    /// # Errors
    /// See [`DeleteStationError`].
    pub async fn delete_station(&self, actor: &Actor, id: Uuid, now: DateTime<Utc>) -> Result<(), DeleteStationError> {
        let station = self.store.station_visible_to(actor.tenant_id, id).await?.ok_or(DeleteStationError::NotFound)?;
        if !self.manages_pools_of(actor, station.tenant_id).await? {
            return Err(DeleteStationError::NotTheParent);
        }
        let audit = AuditEvent::by(actor, AuditAction::StationDeleted, TargetType::Station, Some(id), now);
        self.store.delete_station(id, &audit).await?;
        tracing::info!(actor = %actor.caller_id(), station = %id, "deleted station pool");
        Ok(())
    }

    /// Gives a user of the actor's tenant a licence of `station`.
    ///
    /// # Errors
    /// See [`TelephonyError`].
    pub async fn assign_station(
        &self,
        actor: &Actor,
        user: Uuid,
        station: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Station, TelephonyError> {
        let audit = AuditEvent::by(actor, AuditAction::StationAssigned, TargetType::User, Some(user), now)
            .with(json!({"station_id": station}));
        self.change_holdings(actor, user, audit, async |audit| {
            self.store.assign_station(actor.tenant_id, user, station, audit).await
        })
        .await
    }

    /// Frees the licence a user of the actor's tenant holds.
    ///
    /// # Errors
    /// `UserNotFound`, `PermissionNotHeld`.
    pub async fn release_station(&self, actor: &Actor, user: Uuid, now: DateTime<Utc>) -> Result<(), TelephonyError> {
        let audit = AuditEvent::by(actor, AuditAction::StationReleased, TargetType::User, Some(user), now);
        self.change_holdings(actor, user, audit, async |audit| {
            self.store.release_station(actor.tenant_id, user, audit).await
        })
        .await
    }

    /// Whether the actor's tenant changes the pools of `owner`: a parent
    /// for the tenants below it, the platform for its own.
    async fn manages_pools_of(&self, actor: &Actor, owner: Uuid) -> anyhow::Result<bool> {
        if owner != actor.tenant_id {
            return Ok(true);
        }
        let own = self.store.tenant_visible_to(actor.tenant_id, actor.tenant_id).await?;
        Ok(own.is_some_and(|t| t.kind == TenantKind::Platform))
    }
}
