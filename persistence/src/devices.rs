//! Desk phones. One device per user and one user per device are UNIQUE
//! constraints on `device_assignments`; an assignment that loses a race on
//! PostgreSQL hits the device's UNIQUE index and is answered with the
//! holder that won.

use std::collections::HashMap;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel as _, Order, PaginatorTrait as _,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait as _,
    sea_query::{Expr, LockType, Query},
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    device::{Device, DeviceChanges, Holder, MacAddress, NewDevice},
    errors::{CreateDeviceError, DeleteDeviceError, TelephonyError, UpdateDeviceError},
    paging::{Page, PageRequest},
    ports::DeviceStore,
    provisioning::{ProvisioningInfo, StoredProvisioning},
    values::Label,
};

use crate::{
    SeaStore,
    audit::record,
    change_holdings, db_err,
    entities::{device_assignments, device_provisioning, devices},
    holders, unique_violation,
};

fn text(raw: &str, what: &str, id: Uuid) -> anyhow::Result<Label> {
    Label::parse(raw).with_context(|| format!("device {id} {what}"))
}

fn device(m: devices::Model, holder: Option<Holder>, provisioning: Option<ProvisioningInfo>) -> anyhow::Result<Device> {
    Ok(Device {
        id: m.id,
        tenant_id: m.tenant_id,
        mac: MacAddress::parse(&m.mac).with_context(|| format!("device {} mac", m.id))?,
        vendor: text(&m.vendor, "vendor", m.id)?,
        model: text(&m.model, "model", m.id)?,
        ports: u8::try_from(m.ports).map_err(|_| anyhow!("device {} has {} ports", m.id, m.ports))?,
        label: m.label.as_deref().map(|l| text(l, "label", m.id)).transpose()?,
        holder,
        provisioning,
    })
}

/// The provisioning credentials (never the digest) of `devices`, in one query.
async fn provisioning_of(
    db: &impl ConnectionTrait,
    devices: &[Uuid],
) -> anyhow::Result<HashMap<Uuid, ProvisioningInfo>> {
    if devices.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = device_provisioning::Entity::find()
        .filter(device_provisioning::Column::DeviceId.is_in(devices.iter().copied()))
        .all(db)
        .await
        .map_err(|e| db_err(e, "loading provisioning credentials"))?;
    Ok(rows
        .into_iter()
        .map(|p| {
            let info = ProvisioningInfo {
                username: p.username,
                issued_at: p.issued_at,
                last_fetch_at: p.last_fetch_at,
                last_fetch_ip: p.last_fetch_ip,
            };
            (p.device_id, info)
        })
        .collect())
}

/// The holders of `devices`, in two queries.
async fn holders_of(db: &impl ConnectionTrait, devices: &[Uuid]) -> anyhow::Result<HashMap<Uuid, Holder>> {
    if devices.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = device_assignments::Entity::find()
        .filter(device_assignments::Column::DeviceId.is_in(devices.iter().copied()))
        .all(db)
        .await
        .map_err(|e| db_err(e, "loading device assignments"))?;
    let mut named = holders(db, rows.iter().map(|a| a.user_id)).await?;
    Ok(rows.into_iter().filter_map(|a| Some((a.device_id, named.remove(&a.user_id)?))).collect())
}

async fn find_device(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<Device>> {
    let Some(row) = devices::Entity::find_by_id(id)
        .filter(devices::Column::TenantId.eq(tenant))
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading a device"))?
    else {
        return Ok(None);
    };
    let holder = holders_of(db, &[id]).await?.remove(&id);
    let provisioning = provisioning_of(db, &[id]).await?.remove(&id);
    device(row, holder, provisioning).map(Some)
}

/// Gives `user` the device on `ports` line ports (default all), replacing
/// the device they held. Part of the caller's transaction `txn`, which has
/// locked the user. The insert runs in a savepoint: when a concurrent
/// assignment won the device's UNIQUE index (PostgreSQL), rolling back to
/// it keeps `txn` usable to name the winner, on the connection it holds.
pub(crate) async fn give_device(
    txn: &DatabaseTransaction,
    tenant: Uuid,
    user: Uuid,
    id: Uuid,
    ports: Option<u8>,
    now: DateTime<Utc>,
) -> Result<Device, TelephonyError> {
    let wanted = find_device(txn, tenant, id).await?.ok_or(TelephonyError::DeviceNotFound)?;
    if let Some(holder) = wanted.holder.as_ref().filter(|h| h.user_id != user) {
        return Err(TelephonyError::DeviceAssigned(holder.clone()));
    }
    let ports = wanted.check_ports(ports)?;
    // The user's previous device (or this one, to set new ports) is let go first.
    device_assignments::Entity::delete_by_id(user).exec(txn).await.map_err(|e| db_err(e, "releasing a device"))?;
    let savepoint = txn.begin().await.map_err(|e| db_err(e, "starting a savepoint"))?;
    let inserted = device_assignments::ActiveModel {
        user_id: Set(user),
        device_id: Set(id),
        tenant_id: Set(tenant),
        ports: Set(i32::from(ports)),
        created_at: Set(now),
    }
    .insert(&savepoint)
    .await;
    match inserted {
        Ok(_) => savepoint.commit().await.map_err(|e| db_err(e, "releasing a savepoint"))?,
        Err(e) if unique_violation(&e, "device_id") => {
            savepoint.rollback().await.map_err(|e| db_err(e, "rolling back to a savepoint"))?;
            let holder = holders_of(txn, &[id]).await?.remove(&id);
            return Err(match holder {
                Some(holder) => TelephonyError::DeviceAssigned(holder),
                None => anyhow!("a device assignment raced and vanished").into(),
            });
        }
        Err(e) => return Err(db_err(e, "recording a device assignment").into()),
    }
    Ok(find_device(txn, tenant, id).await?.context("a device vanished while it was assigned")?)
}

impl DeviceStore for SeaStore {
    async fn list_devices(&self, tenant: Uuid, available: bool, page: PageRequest) -> anyhow::Result<Page<Device>> {
        let mut select = devices::Entity::find().filter(devices::Column::TenantId.eq(tenant));
        if available {
            select = select.filter(
                devices::Column::Id.not_in_subquery(
                    Query::select()
                        .column(device_assignments::Column::DeviceId)
                        .from(device_assignments::Entity)
                        .to_owned(),
                ),
            );
        }
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting devices"))?;
        let rows = select
            .order_by(devices::Column::Mac, Order::Asc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing devices"))?;
        let ids: Vec<Uuid> = rows.iter().map(|d| d.id).collect();
        let mut holders = holders_of(&self.db, &ids).await?;
        let mut provisioning = provisioning_of(&self.db, &ids).await?;
        let items = rows
            .into_iter()
            .map(|d| {
                let (holder, provisioning) = (holders.remove(&d.id), provisioning.remove(&d.id));
                device(d, holder, provisioning)
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn device(&self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<Device>> {
        find_device(&self.db, tenant, id).await
    }

    async fn create_device(
        &self,
        tenant: Uuid,
        new: NewDevice,
        audit: &AuditEvent,
    ) -> Result<Device, CreateDeviceError> {
        let now = crate::at(audit);
        let id = Uuid::now_v7();
        let row = devices::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant),
            mac: Set(new.mac.as_str().to_owned()),
            vendor: Set(new.vendor.as_str().to_owned()),
            model: Set(new.model.as_str().to_owned()),
            ports: Set(i32::from(new.ports)),
            label: Set(new.label.map(|l| l.as_str().to_owned())),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let (txn, _writing) = self.begin_write().await?;
        let created = match row.insert(&txn).await {
            Ok(m) => device(m, None, None)?,
            Err(e) if unique_violation(&e, "mac") => return Err(CreateDeviceError::MacTaken),
            Err(e) => return Err(db_err(e, "inserting a device").into()),
        };
        record(&txn, audit, Some(id)).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a device"))?;
        Ok(created)
    }

    async fn update_device(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: DeviceChanges,
        audit: &AuditEvent,
    ) -> Result<Device, UpdateDeviceError> {
        let (txn, _writing) = self.begin_write().await?;
        let row = devices::Entity::find_by_id(id)
            .filter(devices::Column::TenantId.eq(tenant))
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading a device"))?
            .ok_or(UpdateDeviceError::NotFound)?;
        let mut row = row.into_active_model();
        if let Some(v) = changes.vendor {
            row.vendor = Set(v.as_str().to_owned());
        }
        if let Some(v) = changes.model {
            row.model = Set(v.as_str().to_owned());
        }
        if let Some(v) = changes.label {
            row.label = Set(v.map(|l| l.as_str().to_owned()));
        }
        row.updated_at = Set(crate::at(audit));
        row.update(&txn).await.map_err(|e| db_err(e, "updating a device"))?;
        let changed = find_device(&txn, tenant, id).await?.ok_or(UpdateDeviceError::NotFound)?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a device change"))?;
        Ok(changed)
    }

    async fn delete_device(&self, tenant: Uuid, id: Uuid, audit: &AuditEvent) -> Result<(), DeleteDeviceError> {
        let (txn, _writing) = self.begin_write().await?;
        let found = find_device(&txn, tenant, id).await?.ok_or(DeleteDeviceError::NotFound)?;
        if let Some(holder) = found.holder {
            return Err(DeleteDeviceError::Assigned(holder));
        }
        devices::Entity::delete_by_id(id).exec(&txn).await.map_err(|e| db_err(e, "deleting a device"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a device deletion"))?;
        Ok(())
    }

    async fn assign_device(
        &self,
        tenant: Uuid,
        user: Uuid,
        id: Uuid,
        ports: Option<u8>,
        audit: &AuditEvent,
    ) -> Result<Device, TelephonyError> {
        change_holdings(self, tenant, user, audit, async |txn| {
            Ok((give_device(txn, tenant, user, id, ports, crate::at(audit)).await?, true))
        })
        .await
    }

    async fn release_device(&self, tenant: Uuid, user: Uuid, audit: &AuditEvent) -> Result<(), TelephonyError> {
        change_holdings(self, tenant, user, audit, async |txn| {
            let freed = device_assignments::Entity::delete_by_id(user)
                .exec(txn)
                .await
                .map_err(|e| db_err(e, "releasing a device"))?;
            Ok(((), freed.rows_affected > 0))
        })
        .await
    }

    async fn set_provisioning_credentials(
        &self,
        tenant: Uuid,
        id: Uuid,
        username: &str,
        secret_hash: &str,
        audit: &AuditEvent,
    ) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        // Locked, so a claim moving the device to another tenant either
        // goes first (and this finds no device here) or waits for this and
        // then drops these credentials.
        let exists = devices::Entity::find_by_id(id)
            .filter(devices::Column::TenantId.eq(tenant))
            .lock(LockType::Update)
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "finding a device"))?
            .is_some();
        if !exists {
            return Ok(false);
        }
        device_provisioning::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "revoking provisioning credentials"))?;
        device_provisioning::ActiveModel {
            device_id: Set(id),
            username: Set(username.to_owned()),
            secret_hash: Set(secret_hash.to_owned()),
            issued_at: Set(crate::at(audit)),
            last_fetch_at: Set(None),
            last_fetch_ip: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "storing provisioning credentials"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing provisioning credentials"))?;
        Ok(true)
    }

    async fn provisioning_login(&self, username: &str) -> anyhow::Result<Option<StoredProvisioning>> {
        let found = device_provisioning::Entity::find()
            .filter(device_provisioning::Column::Username.eq(username))
            .find_also_related(devices::Entity)
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading provisioning credentials"))?;
        let Some((credentials, Some(device))) = found else { return Ok(None) };
        Ok(Some(StoredProvisioning {
            device_id: device.id,
            tenant_id: device.tenant_id,
            mac: MacAddress::parse(&device.mac).with_context(|| format!("device {} mac", device.id))?,
            secret_hash: credentials.secret_hash,
        }))
    }

    async fn record_provisioning_fetch(&self, id: Uuid, ip: Option<String>, audit: &AuditEvent) -> anyhow::Result<()> {
        let (txn, _writing) = self.begin_write().await?;
        device_provisioning::Entity::update_many()
            .col_expr(device_provisioning::Column::LastFetchAt, Expr::value(crate::at(audit)))
            .col_expr(device_provisioning::Column::LastFetchIp, Expr::value(ip))
            .filter(device_provisioning::Column::DeviceId.eq(id))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "noting a provisioning fetch"))?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a provisioning fetch"))
    }
}
