//! Users: reads join the role in the same query; writes that could leave a
//! tenant without an active administrator re-count them inside the
//! transaction, after the change, with the tenant locked.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel as _, Order, PaginatorTrait as _,
    QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, ExprTrait as _, Func},
};
use uuid::Uuid;
use voxport_domain::{
    auth::PasswordHash,
    errors::{CreateUserError, DeleteUserError, UpdateUserError},
    paging::{Direction, Page, PageRequest, Sort},
    ports::{EndSessions, UserStore},
    role::BuiltinRole,
    user::{NewUser, User, UserChanges, UserFilter, UserSortKey, UserStatus},
};

use crate::devices::devices_of;
use crate::{
    SeaStore, begin_write, convert, db_err,
    entities::{roles, sessions, users},
    like_pattern, lock_tenant,
    stations::{release, stations_of},
    unique_violation,
};

/// Users of `tenant` whose status at `now` is `status`, as SQL. Mirrors
/// `UserStatus::at`, which a test keeps in step.
pub(crate) fn status_condition(status: UserStatus, now: DateTime<Utc>) -> Condition {
    let not_expired = Condition::any().add(users::Column::ExpiresAt.is_null()).add(users::Column::ExpiresAt.gt(now));
    let started = Condition::any().add(users::Column::ActivationAt.is_null()).add(users::Column::ActivationAt.lte(now));
    match status {
        UserStatus::Disabled => Condition::all().add(users::Column::Disabled.eq(true)),
        UserStatus::Expired => {
            Condition::all().add(users::Column::Disabled.eq(false)).add(users::Column::ExpiresAt.lte(now))
        }
        UserStatus::Pending => Condition::all()
            .add(users::Column::Disabled.eq(false))
            .add(not_expired)
            .add(users::Column::ActivationAt.gt(now)),
        UserStatus::Active => Condition::all().add(users::Column::Disabled.eq(false)).add(not_expired).add(started),
    }
}

fn with_role(select: Select<users::Entity>) -> sea_orm::SelectTwo<users::Entity, roles::Entity> {
    select.find_also_related(roles::Entity)
}

/// How many active administrators `tenant` has at `now`.
async fn active_admins(txn: &impl ConnectionTrait, tenant: Uuid, now: DateTime<Utc>) -> Result<u64, sea_orm::DbErr> {
    users::Entity::find()
        .inner_join(roles::Entity)
        .filter(users::Column::TenantId.eq(tenant))
        .filter(roles::Column::Builtin.eq(BuiltinRole::Administrator.key()))
        .filter(status_condition(UserStatus::Active, now))
        .count(txn)
        .await
}

async fn find_user(db: &impl ConnectionTrait, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<User>> {
    let row = with_role(users::Entity::find_by_id(id).filter(users::Column::TenantId.eq(tenant)))
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading a user"))?;
    let Some((u, r)) = row else { return Ok(None) };
    let station = stations_of(db, &[u.id]).await?.remove(&u.id);
    let device = devices_of(db, &[u.id]).await?.remove(&u.id);
    convert::user(u, r, station, device).map(Some)
}

fn is_active_admin(user: &User, now: DateTime<Utc>) -> bool {
    user.role.is_administrator() && user.status(now) == UserStatus::Active
}

pub(crate) async fn revoke_sessions(
    db: &impl ConnectionTrait,
    user: Uuid,
    keep: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), sea_orm::DbErr> {
    let mut update = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(now))
        .filter(sessions::Column::UserId.eq(user))
        .filter(sessions::Column::RevokedAt.is_null());
    if let Some(keep) = keep {
        update = update.filter(sessions::Column::Id.ne(keep));
    }
    update.exec(db).await?;
    Ok(())
}

pub(crate) fn new_user_model(user: &NewUser, id: Uuid, now: DateTime<Utc>) -> users::ActiveModel {
    users::ActiveModel {
        id: Set(id),
        tenant_id: Set(user.tenant_id),
        role_id: Set(user.role_id),
        login: Set(user.login.as_str().to_owned()),
        login_key: Set(user.login.key()),
        email: Set(user.email.as_ref().map(|e| e.as_str().to_owned())),
        first_name: Set(user.first_name.as_str().to_owned()),
        last_name: Set(user.last_name.as_str().to_owned()),
        password_hash: Set(user.password_hash.as_ref().map(|h| h.as_phc().to_owned())),
        disabled: Set(user.disabled),
        activation_at: Set(user.activation_at),
        expires_at: Set(user.expires_at),
        timezone: Set(user.timezone.as_str().to_owned()),
        language: Set(user.language.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

impl UserStore for SeaStore {
    async fn user(&self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<User>> {
        find_user(&self.db, tenant, id).await
    }

    async fn user_by_login(&self, login_key: &str) -> anyhow::Result<Option<(User, Option<PasswordHash>)>> {
        let row = with_role(users::Entity::find().filter(users::Column::LoginKey.eq(login_key)))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "looking up a login"))?;
        match row {
            Some((u, r)) => {
                let hash = u.password_hash.clone().map(PasswordHash::from_phc);
                let station = stations_of(&self.db, &[u.id]).await?.remove(&u.id);
                let device = devices_of(&self.db, &[u.id]).await?.remove(&u.id);
                Ok(Some((convert::user(u, r, station, device)?, hash)))
            }
            None => Ok(None),
        }
    }

    async fn password_hash(&self, user_id: Uuid) -> anyhow::Result<Option<PasswordHash>> {
        let row =
            users::Entity::find_by_id(user_id).one(&self.db).await.map_err(|e| db_err(e, "loading a password hash"))?;
        Ok(row.and_then(|u| u.password_hash).map(PasswordHash::from_phc))
    }

    async fn list_users(
        &self,
        tenant: Uuid,
        filter: &UserFilter,
        sort: Sort<UserSortKey>,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Page<User>> {
        let mut select = users::Entity::find().filter(users::Column::TenantId.eq(tenant));
        if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let lower = |c: users::Column| Expr::expr(Func::lower(Expr::col(c)));
            select = select.filter(
                Condition::any()
                    .add(users::Column::LoginKey.like(like_pattern(q)))
                    .add(lower(users::Column::Email).like(like_pattern(q)))
                    .add(lower(users::Column::FirstName).like(like_pattern(q)))
                    .add(lower(users::Column::LastName).like(like_pattern(q))),
            );
        }
        if let Some(role) = filter.role_id {
            select = select.filter(users::Column::RoleId.eq(role));
        }
        if let Some(status) = filter.status {
            select = select.filter(status_condition(status, now));
        }
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting users"))?;
        let column = match sort.key {
            UserSortKey::Login => users::Column::LoginKey,
            UserSortKey::Email => users::Column::Email,
            UserSortKey::FirstName => users::Column::FirstName,
            UserSortKey::LastName => users::Column::LastName,
            UserSortKey::CreatedAt => users::Column::CreatedAt,
        };
        let order = match sort.direction {
            Direction::Asc => Order::Asc,
            Direction::Desc => Order::Desc,
        };
        let rows = with_role(select.order_by(column, order).order_by(users::Column::Id, Order::Asc))
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing users"))?;
        let ids: Vec<Uuid> = rows.iter().map(|(u, _)| u.id).collect();
        let mut stations = stations_of(&self.db, &ids).await?;
        let mut devices = devices_of(&self.db, &ids).await?;
        let items = rows
            .into_iter()
            .map(|(u, r)| {
                let (station, device) = (stations.remove(&u.id), devices.remove(&u.id));
                convert::user(u, r, station, device)
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn create_user(&self, user: NewUser) -> Result<User, CreateUserError> {
        let id = Uuid::now_v7();
        let now = crate::now();
        // The tenant lock orders this after a concurrent deletion of the
        // role, which then either sees this user or is already gone.
        let txn = begin_write(&self.db).await?;
        if !lock_tenant(&txn, user.tenant_id).await.map_err(|e| db_err(e, "locking a tenant"))? {
            return Err(anyhow::anyhow!("the tenant of a new user vanished").into());
        }
        let role = roles::Entity::find_by_id(user.role_id)
            .filter(roles::Column::TenantId.eq(user.tenant_id))
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading a role"))?;
        if role.is_none() {
            return Err(CreateUserError::RoleNotFound);
        }
        match new_user_model(&user, id, now).insert(&txn).await {
            Ok(_) => {}
            Err(e) if unique_violation(&e, "login_key") => return Err(CreateUserError::LoginTaken),
            Err(e) => return Err(db_err(e, "inserting a user").into()),
        }
        let created = find_user(&txn, user.tenant_id, id).await?.context("reading back a new user")?;
        txn.commit().await.map_err(|e| db_err(e, "committing a new user"))?;
        Ok(created)
    }

    async fn update_user(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: UserChanges,
        password: Option<PasswordHash>,
        end_sessions: Option<EndSessions>,
        now: DateTime<Utc>,
    ) -> Result<User, UpdateUserError> {
        let txn = begin_write(&self.db).await?;
        if changes.may_remove_an_administrator()
            && !lock_tenant(&txn, tenant).await.map_err(|e| db_err(e, "locking a tenant"))?
        {
            return Err(UpdateUserError::NotFound);
        }
        let before = find_user(&txn, tenant, id).await?.ok_or(UpdateUserError::NotFound)?;
        let row = users::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading a user row"))?
            .ok_or(UpdateUserError::NotFound)?;
        let mut row = row.into_active_model();
        if let Some(login) = &changes.login {
            row.login = Set(login.as_str().to_owned());
            row.login_key = Set(login.key());
        }
        if let Some(email) = &changes.email {
            row.email = Set(email.as_ref().map(|e| e.as_str().to_owned()));
        }
        if let Some(v) = &changes.first_name {
            row.first_name = Set(v.as_str().to_owned());
        }
        if let Some(v) = &changes.last_name {
            row.last_name = Set(v.as_str().to_owned());
        }
        if let Some(v) = changes.role_id {
            row.role_id = Set(v);
        }
        if let Some(v) = changes.disabled {
            row.disabled = Set(v);
        }
        if let Some(v) = changes.activation_at {
            row.activation_at = Set(v);
        }
        if let Some(v) = changes.expires_at {
            row.expires_at = Set(v);
        }
        if let Some(v) = changes.timezone {
            row.timezone = Set(v.as_str().to_owned());
        }
        if let Some(v) = changes.language {
            row.language = Set(v.as_str().to_owned());
        }
        if let Some(hash) = &password {
            row.password_hash = Set(Some(hash.as_phc().to_owned()));
        }
        row.updated_at = Set(crate::stamp(now));
        match row.update(&txn).await {
            Ok(_) => {}
            Err(e) if unique_violation(&e, "login_key") => return Err(UpdateUserError::LoginTaken),
            Err(e) => return Err(db_err(e, "updating a user").into()),
        }
        if is_active_admin(&before, now)
            && active_admins(&txn, tenant, now).await.map_err(|e| db_err(e, "counting administrators"))? == 0
        {
            return Err(UpdateUserError::LastAdministrator);
        }
        if let Some(end) = end_sessions {
            revoke_sessions(&txn, id, end.keep, now).await.map_err(|e| db_err(e, "ending sessions"))?;
        }
        let after = find_user(&txn, tenant, id).await?.context("reading back a changed user")?;
        txn.commit().await.map_err(|e| db_err(e, "committing a user change"))?;
        Ok(after)
    }

    async fn delete_user(&self, tenant: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<(), DeleteUserError> {
        let txn = begin_write(&self.db).await?;
        if !lock_tenant(&txn, tenant).await.map_err(|e| db_err(e, "locking a tenant"))? {
            return Err(DeleteUserError::NotFound);
        }
        let target = find_user(&txn, tenant, id).await?.ok_or(DeleteUserError::NotFound)?;
        // PRODUCT.md rule 10: the licence is freed with the user.
        release(&txn, id).await.map_err(|e| db_err(e, "releasing a station licence"))?;
        users::Entity::delete_by_id(id).exec(&txn).await.map_err(|e| db_err(e, "deleting a user"))?;
        if is_active_admin(&target, now)
            && active_admins(&txn, tenant, now).await.map_err(|e| db_err(e, "counting administrators"))? == 0
        {
            return Err(DeleteUserError::LastAdministrator);
        }
        txn.commit().await.map_err(|e| db_err(e, "committing a user deletion"))?;
        Ok(())
    }

    async fn set_password(
        &self,
        user_id: Uuid,
        hash: PasswordHash,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let txn = begin_write(&self.db).await?;
        users::Entity::update_many()
            .col_expr(users::Column::PasswordHash, Expr::value(hash.as_phc().to_owned()))
            .col_expr(users::Column::UpdatedAt, Expr::value(crate::stamp(now)))
            .filter(users::Column::Id.eq(user_id))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "storing a password hash"))?;
        revoke_sessions(&txn, user_id, keep, now).await.map_err(|e| db_err(e, "ending sessions"))?;
        txn.commit().await.map_err(|e| db_err(e, "committing a password change"))
    }
}
