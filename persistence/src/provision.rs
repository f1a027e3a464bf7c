//! The provisioning transaction: a user and everything they need, written
//! in one write transaction. It locks nothing tenant-wide, so creations in
//! one tenant run side by side on PostgreSQL: what they could contend for
//! is kept consistent by the rows themselves (a UNIQUE login, extension
//! number and holder; a licence taken by a conditional update; the role
//! and the tenant by foreign keys). Each step is the same function the
//! single-purpose endpoints use.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait as _, DatabaseTransaction, EntityTrait as _, SqlErr};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    errors::{CreateUserError, TelephonyError, UpdateUserError},
    extension::NewExtension,
    ports::{Holding, ProvisionTx, QueuedEmail, UserUpdate},
    station::{Application, Station},
    user::{NewUser, User},
};

use crate::{
    audit, db_err,
    devices::give_device,
    entities::device_assignments,
    extensions::{free_extensions, give_extension, insert_extension},
    lock_tenant, lock_user, outbox,
    phone_numbers::{free_number_of, give_phone_number},
    stations::{self, Licences},
    unique_violation, user_counts,
    users::{find_user, new_user_model, update_user_in},
    webhooks::Subscribers,
};

pub struct SeaTx {
    txn: DatabaseTransaction,
    _writing: crate::Writing,
    /// When the provisioning happens: every row it writes says so.
    now: DateTime<Utc>,
    /// The station licences taken, written at the commit.
    licences: Licences,
    /// The users added to each tenant, written at the commit.
    users_added: user_counts::Added,
    /// The licences and users added as they were when the current part
    /// began, to go back to when it is undone.
    before_part: Option<(Licences, user_counts::Added)>,
    /// The tenant's webhooks, read by the first event recorded.
    subscribers: Subscribers,
    /// Whether they were read in the current part: undone, it lets go of
    /// their locks, so they are read again.
    subscribers_read_in_part: bool,
    /// The users created in this transaction (an import creates many).
    created: HashSet<Uuid>,
}

impl SeaTx {
    pub(crate) async fn begin(store: &crate::SeaStore, now: DateTime<Utc>) -> anyhow::Result<Self> {
        let (txn, writing) = store.begin_write().await?;
        Ok(Self {
            txn,
            _writing: writing,
            now: crate::stamp(now),
            licences: Licences::default(),
            users_added: user_counts::Added::default(),
            before_part: None,
            subscribers: Subscribers::default(),
            subscribers_read_in_part: false,
            created: HashSet::new(),
        })
    }
}

impl ProvisionTx for SeaTx {
    async fn insert_user(&mut self, user: &NewUser, applications: &[Application]) -> Result<(), CreateUserError> {
        let mut row = new_user_model(user, self.now);
        row.applications = Set(Application::to_codes(applications));
        match sea_orm::ActiveModelTrait::insert(row, &self.txn).await {
            Ok(_) => {
                self.created.insert(user.id);
                self.users_added.note(user.tenant_id, 1);
                Ok(())
            }
            Err(e) if unique_violation(&e, "login_key") => Err(CreateUserError::LoginTaken),
            // The domain found the role in the tenant before the
            // transaction began; it was deleted since.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::ForeignKeyConstraintViolation(_))) => {
                Err(CreateUserError::RoleNotFound)
            }
            Err(e) => Err(db_err(e, "inserting a user").into()),
        }
    }

    async fn create_extension(
        &mut self,
        tenant: Uuid,
        extension: &NewExtension,
        user: Uuid,
    ) -> Result<(), TelephonyError> {
        insert_extension(&self.txn, tenant, extension, Some(user), self.now).await?;
        Ok(())
    }

    async fn assign_extension(
        &mut self,
        tenant: Uuid,
        user: Uuid,
        extension: Uuid,
        fresh_secret: &voxport_domain::extension::StoredSipSecret,
    ) -> Result<(), TelephonyError> {
        give_extension(&self.txn, tenant, user, extension, fresh_secret, self.now).await.map(drop)
    }

    async fn assign_phone_number(&mut self, tenant: Uuid, user: Uuid, number: Uuid) -> Result<(), TelephonyError> {
        give_phone_number(&self.txn, tenant, user, number, self.now).await.map(drop)
    }

    async fn assign_station(&mut self, tenant: Uuid, user: Uuid, station: Uuid) -> Result<Station, TelephonyError> {
        self.licences.take_first(&self.txn, tenant, user, station, self.now).await
    }

    async fn assign_device(
        &mut self,
        tenant: Uuid,
        user: Uuid,
        device: Uuid,
        ports: Option<u8>,
    ) -> Result<(), TelephonyError> {
        give_device(&self.txn, tenant, user, device, ports, self.now).await.map(drop)
    }

    async fn lock_stations(&mut self, tenant: Uuid, stations: &[Uuid]) -> anyhow::Result<()> {
        for station in stations {
            self.licences.lock(&self.txn, tenant, *station).await?;
        }
        Ok(())
    }

    async fn lock_user(&mut self, tenant: Uuid, user: Uuid, tenant_too: bool) -> anyhow::Result<bool> {
        // The tenant before the user, in the order every change takes them.
        if tenant_too && !lock_tenant(&self.txn, tenant).await.map_err(|e| db_err(e, "locking a tenant"))? {
            return Ok(false);
        }
        lock_user(&self.txn, tenant, user).await.map_err(|e| db_err(e, "locking a user"))
    }

    async fn release_extension(&mut self, user: Uuid, extension: Uuid) -> anyhow::Result<()> {
        free_extensions(&self.txn, user, Some(extension), self.now)
            .await
            .map_err(|e| db_err(e, "releasing an extension"))?;
        Ok(())
    }

    async fn release(&mut self, user: Uuid, what: Holding) -> anyhow::Result<()> {
        match what {
            Holding::PhoneNumber => free_number_of(&self.txn, user, self.now).await.map(drop),
            Holding::Station => stations::release(&self.txn, user).await.map(drop),
            Holding::Device => device_assignments::Entity::delete_by_id(user).exec(&self.txn).await.map(drop),
        }
        .map_err(|e| db_err(e, "releasing what a user holds"))
    }

    async fn update_user(
        &mut self,
        tenant: Uuid,
        id: Uuid,
        update: UserUpdate,
        audit: &AuditEvent,
    ) -> Result<User, UpdateUserError> {
        update_user_in(&self.txn, tenant, id, update, self.now, audit).await
    }

    async fn user(&mut self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<User>> {
        find_user(&self.txn, tenant, id).await
    }

    async fn queue_email(&mut self, email: QueuedEmail) -> anyhow::Result<()> {
        let new_user = email.link.as_ref().is_some_and(|l| self.created.contains(&l.user_id));
        outbox::queue_to(&self.txn, email, new_user).await
    }

    async fn record(&mut self, event: &AuditEvent) -> anyhow::Result<()> {
        let was_read = self.subscribers.is_read();
        audit::record_to(&self.txn, event, None, &mut self.subscribers).await?;
        if !was_read && self.before_part.is_some() {
            self.subscribers_read_in_part = self.subscribers.is_read();
        }
        Ok(())
    }

    async fn begin_part(&mut self) -> anyhow::Result<()> {
        self.txn.execute_unprepared("SAVEPOINT voxport_part").await.map_err(|e| db_err(e, "beginning a part"))?;
        self.before_part = Some((self.licences.clone(), self.users_added.clone()));
        self.subscribers_read_in_part = false;
        Ok(())
    }

    async fn end_part(&mut self, keep: bool) -> anyhow::Result<()> {
        // Rolling back to a savepoint keeps it; it is released either way.
        if let Some((licences, users_added)) = self.before_part.take()
            && !keep
        {
            // What the part counted goes with it. Webhooks first read
            // (and locked) in the part are let go with it, and read again
            // by a later part.
            self.licences = licences;
            self.users_added = users_added;
            if self.subscribers_read_in_part {
                self.subscribers.forget();
            }
        }
        self.subscribers_read_in_part = false;
        if !keep {
            self.txn
                .execute_unprepared("ROLLBACK TO SAVEPOINT voxport_part")
                .await
                .map_err(|e| db_err(e, "undoing a part"))?;
        }
        self.txn.execute_unprepared("RELEASE SAVEPOINT voxport_part").await.map_err(|e| db_err(e, "ending a part"))?;
        Ok(())
    }

    async fn advance_job(
        &mut self,
        checkpoint: &voxport_domain::job::JobCheckpoint,
        counts: voxport_domain::ports::JobCounts,
    ) -> anyhow::Result<bool> {
        crate::jobs::advance(&self.txn, checkpoint, counts).await
    }

    async fn commit(self) -> Result<(), TelephonyError> {
        self.licences.write(&self.txn, self.now).await?;
        // Last: see `user_counts`.
        self.users_added.write(&self.txn).await.map_err(|e| db_err(e, "counting a tenant's users"))?;
        self.txn.commit().await.map_err(|e| db_err(e, "committing a provisioning"))?;
        Ok(())
    }

    async fn rollback(self) -> anyhow::Result<()> {
        self.txn.rollback().await.map_err(|e| db_err(e, "rolling back a provisioning"))
    }
}
