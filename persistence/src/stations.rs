//! Station pools and licences. A licence is taken with one conditional
//! UPDATE (`in_use < quantity`), so concurrent requests never overbook a
//! pool on either database; the CHECK constraint is the backstop. A
//! provisioning (a set-up, an import) counts its licences and takes them
//! by one such update when it commits ([`Licences`]). Each
//! assignment runs in a write transaction that first locks the user's row,
//! so one user's concurrent changes apply one after the other.

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel as _, Order, PaginatorTrait as _, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait as _, LockType, Query},
};
use serde_json::json;
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    errors::{CreateStationError, DeleteStationError, TelephonyError, UpdateStationError},
    paging::{Page, PageRequest},
    ports::StationStore,
    station::{Application, NewStation, Station, StationChanges, StationCode},
    values::Label,
    webhook::{WebhookEvent, WebhookEventType},
};

use crate::{
    SeaStore,
    audit::record,
    change_holdings, db_err,
    entities::{station_assignments, stations, tenants, users},
    unique_violation,
};

fn station(m: stations::Model) -> anyhow::Result<Station> {
    let count = |v: i32, what: &str| u32::try_from(v).map_err(|_| anyhow!("station {} has {what} {v}", m.id));
    Ok(Station {
        id: m.id,
        tenant_id: m.tenant_id,
        name: Label::parse(&m.name).with_context(|| format!("station {} name", m.id))?,
        code: StationCode::parse(&m.code).with_context(|| format!("station {} code", m.id))?,
        applications: Application::from_codes(&m.applications),
        quantity: count(m.quantity, "quantity")?,
        in_use: count(m.in_use, "in_use")?,
    })
}

fn quantity(q: u32) -> i32 {
    // Quantities are bounded by `MAX_QUANTITY`, far below i32::MAX.
    i32::try_from(q).unwrap_or(i32::MAX)
}

/// Frees the licence `user` holds, if any, and with it their
/// applications (nothing unlocks them any more). Part of the caller's
/// transaction.
/// Answers whether the user held one.
pub(crate) async fn release(db: &impl ConnectionTrait, user: Uuid) -> Result<bool, DbErr> {
    set_applications(db, user, &[]).await?;
    let Some(held) = station_assignments::Entity::find_by_id(user).one(db).await? else {
        return Ok(false);
    };
    stations::Entity::update_many()
        .col_expr(stations::Column::InUse, Expr::col(stations::Column::InUse).sub(1))
        .filter(stations::Column::Id.eq(held.station_id))
        .exec(db)
        .await?;
    station_assignments::Entity::delete_by_id(user).exec(db).await?;
    Ok(true)
}

pub(crate) async fn set_applications(db: &impl ConnectionTrait, user: Uuid, apps: &[Application]) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::Applications, Expr::value(Application::to_codes(apps)))
        .filter(users::Column::Id.eq(user))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes from every holder of `station` the applications it no longer
/// unlocks (PRODUCT.md rule 9, by [`Station::unlocked`]). Each holder's
/// row is locked before it is read, so a concurrent change of their
/// applications is seen, not overwritten. Part of the caller's transaction.
async fn trim_holders_applications(db: &impl ConnectionTrait, station: &Station) -> anyhow::Result<()> {
    let holders = Query::select()
        .column(station_assignments::Column::UserId)
        .from(station_assignments::Entity)
        .and_where(station_assignments::Column::StationId.eq(station.id))
        .to_owned();
    let rows = users::Entity::find()
        .filter(users::Column::Id.in_subquery(holders))
        .lock(LockType::Update)
        .all(db)
        .await
        .map_err(|e| db_err(e, "locking a station's holders"))?;
    for row in rows {
        let enabled = Application::from_codes(&row.applications);
        let kept = station.unlocked(&enabled);
        if kept != enabled {
            set_applications(db, row.id, &kept).await.map_err(|e| db_err(e, "trimming a user's applications"))?;
        }
    }
    Ok(())
}

/// The tenant's pool `station_id`.
async fn pool(db: &impl ConnectionTrait, tenant: Uuid, station_id: Uuid) -> Result<stations::Model, TelephonyError> {
    stations::Entity::find_by_id(station_id)
        .filter(stations::Column::TenantId.eq(tenant))
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading a station"))?
        .ok_or(TelephonyError::StationNotFound)
}

/// The station whose licence `user` holds.
pub(crate) async fn station_of(db: &impl ConnectionTrait, user: Uuid) -> anyhow::Result<Option<Station>> {
    let Some(held) =
        station_assignments::Entity::find_by_id(user).one(db).await.map_err(|e| db_err(e, "loading a licence"))?
    else {
        return Ok(None);
    };
    let row =
        stations::Entity::find_by_id(held.station_id).one(db).await.map_err(|e| db_err(e, "loading a station"))?;
    row.map(station).transpose()
}

/// Gives `user` a licence of `station_id`, releasing the one they held and
/// keeping only the applications the new station unlocks. Part of the
/// caller's transaction, which has locked the user.
pub(crate) async fn take_station(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
    station_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Station, TelephonyError> {
    let wanted = pool(db, tenant, station_id).await?;
    let held = station_assignments::Entity::find_by_id(user)
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading a station assignment"))?;
    if held.as_ref().is_some_and(|h| h.station_id == station_id) {
        return Ok(station(wanted)?);
    }
    let taken = take_licence(db, tenant, station_id, now).await?;
    let enabled = users::Entity::find_by_id(user)
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading a user's applications"))?
        .map(|u| Application::from_codes(&u.applications))
        .unwrap_or_default();
    release(db, user).await.map_err(|e| db_err(e, "releasing a station licence"))?;
    record_assignment(db, tenant, user, station_id, now).await?;
    let updated = station(taken)?;
    set_applications(db, user, &updated.unlocked(&enabled))
        .await
        .map_err(|e| db_err(e, "keeping a user's applications"))?;
    Ok(updated)
}

/// The licences a provisioning transaction takes, counted as it goes and
/// written once per pool when it commits ([`Licences::write`]). An import
/// takes thousands of one pool's licences in one transaction: an UPDATE
/// per licence would leave that many versions of the pool's row for every
/// later statement of the transaction to walk past (on PostgreSQL each
/// savepoint's version stays until the commit), and the import would slow
/// down with the square of its rows.
///
/// A pool is taken from in one of two ways (rule 2 either way):
/// - **Locked** ([`Licences::lock`], `FOR UPDATE`; on SQLite the write
///   lock): nobody else takes or changes its licences before this
///   transaction ends, so the count kept here is the count and each
///   licence's answer is final when it is given. An import locks the
///   pools its rows name, so that a row refused for a full pool is refused
///   and a row given a licence keeps it; a change of what a user holds
///   locks the pools it gives and takes back, in one order.
/// - **Read**: a one-call set-up takes one licence. It reads the pool to
///   refuse early, and its conditional UPDATE at the commit is what
///   decides. Its row is then locked only while the commit runs, so
///   set-ups of one pool run side by side on PostgreSQL instead of one
///   whole transaction after the other. (The licence's row checks its
///   station only at the commit, once this update holds the row: migration
///   `m20261205_000024_station_check_at_commit`.)
#[derive(Debug, Clone, Default)]
pub(crate) struct Licences {
    pools: std::collections::HashMap<Uuid, Pool>,
    /// The pools locked by [`Licences::lock`].
    locked: std::collections::HashSet<Uuid>,
}

#[derive(Debug, Clone)]
struct Pool {
    /// The pool's row as read when its first licence was taken: an import
    /// takes thousands from a pool it locked, which reads it once.
    row: stations::Model,
    /// Licences taken since.
    taken: i32,
}

impl Licences {
    /// Locks the pool `station` of `tenant` for the rest of the
    /// transaction, if it is there.
    pub(crate) async fn lock(&mut self, db: &impl ConnectionTrait, tenant: Uuid, station: Uuid) -> anyhow::Result<()> {
        let found = stations::Entity::find_by_id(station)
            .filter(stations::Column::TenantId.eq(tenant))
            .lock(LockType::Update)
            .one(db)
            .await
            .map_err(|e| db_err(e, "locking a station"))?;
        if found.is_some() {
            self.locked.insert(station);
        }
        Ok(())
    }

    /// Gives a user who holds no licence yet (one being created, or one
    /// whose licence was released earlier in the transaction) a licence
    /// of `station_id`: the licence is taken first, and the applications
    /// they were given are checked against what it unlocks (PRODUCT.md
    /// rule 9, by the domain).
    pub(crate) async fn take_first(
        &mut self,
        db: &impl ConnectionTrait,
        tenant: Uuid,
        user: Uuid,
        station_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Station, TelephonyError> {
        let pool = match self.pools.entry(station_id) {
            std::collections::hash_map::Entry::Occupied(read) => read.into_mut(),
            std::collections::hash_map::Entry::Vacant(unread) => {
                unread.insert(Pool { row: pool(db, tenant, station_id).await?, taken: 0 })
            }
        };
        let in_use = pool.row.in_use + pool.taken;
        if in_use >= pool.row.quantity {
            return Err(unavailable(&pool.row, in_use));
        }
        pool.taken += 1;
        let now_in_use = stations::Model { in_use: in_use + 1, ..pool.row.clone() };
        record_assignment(db, tenant, user, station_id, now).await?;
        Ok(station(now_in_use)?)
    }

    /// Writes the licences taken, one conditional UPDATE per pool, and
    /// announces the pools it leaves without a free licence; part of the
    /// transaction, just before it commits.
    ///
    /// # Errors
    /// [`TelephonyError::StationUnavailable`] when others took a pool's
    /// last licences since this transaction read it.
    pub(crate) async fn write(&self, db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<(), TelephonyError> {
        // In one order, whichever transaction writes: two never wait for
        // each other's pools.
        let mut pools: Vec<(Uuid, i32)> =
            self.pools.iter().filter(|(_, p)| p.taken > 0).map(|(&id, p)| (id, p.taken)).collect();
        pools.sort_unstable();
        for (pool, taken) in pools {
            let written = stations::Entity::update_many()
                .col_expr(stations::Column::InUse, Expr::col(stations::Column::InUse).add(taken))
                .filter(stations::Column::Id.eq(pool))
                .filter(Expr::col(stations::Column::InUse).add(taken).lte(Expr::col(stations::Column::Quantity)))
                .exec_with_returning(db)
                .await
                .map_err(|e| db_err(e, "taking station licences"))?;
            let Some(row) = written.into_iter().next() else {
                if self.locked.contains(&pool) {
                    return Err(anyhow!("station {pool} changed while its row was locked").into());
                }
                let current = stations::Entity::find_by_id(pool)
                    .one(db)
                    .await
                    .map_err(|e| db_err(e, "loading a station"))?
                    .ok_or(TelephonyError::StationNotFound)?;
                return Err(unavailable(&current, current.in_use));
            };
            announce_if_exhausted(db, &row, now).await?;
        }
        Ok(())
    }
}

fn unavailable(row: &stations::Model, in_use: i32) -> TelephonyError {
    TelephonyError::StationUnavailable {
        quantity: u32::try_from(row.quantity).unwrap_or(0),
        in_use: u32::try_from(in_use).unwrap_or(0),
    }
}

/// `station.exhausted` for a pool whose last licence was just taken.
async fn announce_if_exhausted(
    db: &impl ConnectionTrait,
    row: &stations::Model,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if row.in_use < row.quantity {
        return Ok(());
    }
    let exhausted = WebhookEvent {
        event_type: WebhookEventType::StationExhausted,
        occurred_at: now,
        data: json!({"id": row.id, "code": row.code, "quantity": row.quantity}),
    };
    crate::webhooks::enqueue(db, row.tenant_id, &[exhausted]).await
}

/// Takes one licence of the tenant's `station_id` by one conditional
/// update (rule 2: concurrent requests never overbook a pool), answering
/// the pool as it is after.
async fn take_licence(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    station_id: Uuid,
    now: DateTime<Utc>,
) -> Result<stations::Model, TelephonyError> {
    let taken = stations::Entity::update_many()
        .col_expr(stations::Column::InUse, Expr::col(stations::Column::InUse).add(1))
        .filter(stations::Column::Id.eq(station_id))
        .filter(stations::Column::TenantId.eq(tenant))
        .filter(Expr::col(stations::Column::InUse).lt(Expr::col(stations::Column::Quantity)))
        .exec_with_returning(db)
        .await
        .map_err(|e| db_err(e, "taking a station licence"))?;
    if let Some(row) = taken.into_iter().next() {
        announce_if_exhausted(db, &row, now).await?;
        return Ok(row);
    }
    let current = pool(db, tenant, station_id).await?;
    Err(unavailable(&current, current.in_use))
}

async fn record_assignment(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
    station_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), TelephonyError> {
    station_assignments::ActiveModel {
        user_id: Set(user),
        station_id: Set(station_id),
        tenant_id: Set(tenant),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| db_err(e, "recording a station assignment"))?;
    Ok(())
}

impl StationStore for SeaStore {
    async fn list_stations(&self, tenant: Uuid, page: PageRequest) -> anyhow::Result<Page<Station>> {
        let select = stations::Entity::find().filter(stations::Column::TenantId.eq(tenant));
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting stations"))?;
        let rows = select
            .order_by(stations::Column::Name, Order::Asc)
            .order_by(stations::Column::Id, Order::Asc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing stations"))?;
        let items = rows.into_iter().map(station).collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn station_visible_to(&self, viewer: Uuid, id: Uuid) -> anyhow::Result<Option<Station>> {
        let row = stations::Entity::find_by_id(id).one(&self.db).await.map_err(|e| db_err(e, "loading a station"))?;
        let Some(row) = row else { return Ok(None) };
        let owner = tenants::Entity::find_by_id(row.tenant_id)
            .filter(tenants::Column::Path.like(format!("%/{viewer}/%")))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading a station's tenant"))?;
        owner.map(|_| station(row)).transpose()
    }

    async fn create_station(
        &self,
        tenant: Uuid,
        new: NewStation,
        audit: &AuditEvent,
    ) -> Result<Station, CreateStationError> {
        let now = crate::at(audit);
        let id = Uuid::now_v7();
        let row = stations::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant),
            name: Set(new.name.as_str().to_owned()),
            code: Set(new.code.as_str().to_owned()),
            applications: Set(Application::to_codes(&new.applications)),
            quantity: Set(quantity(new.quantity)),
            in_use: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let (txn, _writing) = self.begin_write().await?;
        let created = match row.insert(&txn).await {
            Ok(m) => station(m)?,
            Err(e) if unique_violation(&e, "code") => return Err(CreateStationError::CodeTaken),
            Err(e) => return Err(db_err(e, "inserting a station").into()),
        };
        record(&txn, audit, Some(id)).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a station"))?;
        Ok(created)
    }

    async fn update_station(
        &self,
        id: Uuid,
        changes: StationChanges,
        audit: &AuditEvent,
    ) -> Result<Station, UpdateStationError> {
        let (txn, _writing) = self.begin_write().await?;
        let row = stations::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading a station"))?
            .ok_or(UpdateStationError::NotFound)?;
        if let Some(q) = changes.quantity {
            // Conditional, so a licence taken meanwhile is never orphaned.
            let res = stations::Entity::update_many()
                .col_expr(stations::Column::Quantity, Expr::value(quantity(q)))
                .filter(stations::Column::Id.eq(id))
                .filter(stations::Column::InUse.lte(quantity(q)))
                .exec(&txn)
                .await
                .map_err(|e| db_err(e, "changing a station's quantity"))?;
            if res.rows_affected == 0 {
                let in_use = u32::try_from(row.in_use).unwrap_or(0);
                return Err(UpdateStationError::QuantityBelowInUse { in_use });
            }
        }
        let mut model = stations::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "reloading a station"))?
            .ok_or(UpdateStationError::NotFound)?
            .into_active_model();
        if let Some(name) = changes.name {
            model.name = Set(name.as_str().to_owned());
        }
        if let Some(apps) = &changes.applications {
            model.applications = Set(Application::to_codes(apps));
        }
        model.updated_at = Set(crate::at(audit));
        let updated = station(model.update(&txn).await.map_err(|e| db_err(e, "updating a station"))?)?;
        if changes.applications.is_some() {
            trim_holders_applications(&txn, &updated).await?;
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a station change"))?;
        Ok(updated)
    }

    async fn delete_station(&self, id: Uuid, audit: &AuditEvent) -> Result<(), DeleteStationError> {
        let (txn, _writing) = self.begin_write().await?;
        let res = stations::Entity::delete_many()
            .filter(stations::Column::Id.eq(id))
            .filter(stations::Column::InUse.eq(0))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "deleting a station"))?;
        if res.rows_affected == 1 {
            record(&txn, audit, None).await?;
            txn.commit().await.map_err(|e| db_err(e, "committing a station deletion"))?;
            return Ok(());
        }
        drop(txn);
        let exists =
            stations::Entity::find_by_id(id).one(&self.db).await.map_err(|e| db_err(e, "loading a station"))?;
        Err(if exists.is_some() { DeleteStationError::InUse } else { DeleteStationError::NotFound })
    }

    async fn assign_station(
        &self,
        tenant: Uuid,
        user: Uuid,
        station_id: Uuid,
        audit: &AuditEvent,
    ) -> Result<Station, TelephonyError> {
        change_holdings(self, tenant, user, audit, async |txn| {
            Ok((take_station(txn, tenant, user, station_id, crate::at(audit)).await?, true))
        })
        .await
    }

    async fn release_station(&self, tenant: Uuid, user: Uuid, audit: &AuditEvent) -> Result<(), TelephonyError> {
        change_holdings(self, tenant, user, audit, async |txn| {
            Ok(((), release(txn, user).await.map_err(|e| db_err(e, "releasing a station licence"))?))
        })
        .await
    }
}
