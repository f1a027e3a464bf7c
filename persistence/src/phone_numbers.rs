//! Phone numbers. The number is UNIQUE on the platform and `user_id` is
//! UNIQUE, so a number rings at most one user and a user holds at most one
//! number whatever writers interleave (PRODUCT.md rule 4). Assigning takes
//! the number with a conditional update (`user_id IS NULL OR user_id = the
//! user`), after letting go of the one the user held.

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel as _, Order, PaginatorTrait as _, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;
use voxport_domain::{
    audit::AuditEvent,
    device::Holder,
    errors::{CreatePhoneNumberError, DeletePhoneNumberError, TelephonyError, UpdatePhoneNumberError},
    paging::{Page, PageRequest},
    phone_number::{E164, NewPhoneNumber, PhoneNumber, PhoneNumberChanges},
    ports::PhoneNumberStore,
    values::Label,
};

use crate::{
    SeaStore,
    audit::record,
    change_holdings, db_err,
    entities::{phone_numbers, tenants},
    holders, is_unique_violation, like_pattern,
};

fn phone_number(m: phone_numbers::Model, holder: Option<Holder>) -> anyhow::Result<PhoneNumber> {
    Ok(PhoneNumber {
        id: m.id,
        tenant_id: m.tenant_id,
        number: E164::parse(&m.number).with_context(|| format!("phone number {} number", m.id))?,
        label: m.label.as_deref().map(Label::parse).transpose().with_context(|| format!("phone number {}", m.id))?,
        holder,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Numbers with their holders, in two queries.
async fn with_holders(db: &impl ConnectionTrait, rows: Vec<phone_numbers::Model>) -> anyhow::Result<Vec<PhoneNumber>> {
    let named = holders(db, rows.iter().filter_map(|n| n.user_id)).await?;
    rows.into_iter()
        .map(|m| {
            let holder = m.user_id.and_then(|id| named.get(&id).cloned());
            phone_number(m, holder)
        })
        .collect()
}

async fn find_number(db: &impl ConnectionTrait, id: Uuid) -> anyhow::Result<Option<PhoneNumber>> {
    let row = phone_numbers::Entity::find_by_id(id).one(db).await.map_err(|e| db_err(e, "loading a phone number"))?;
    Ok(with_holders(db, row.into_iter().collect()).await?.pop())
}

/// Gives `user` the number `id` of `tenant`, letting go of the one they
/// held. Part of the caller's transaction, which has locked the user.
pub(crate) async fn give_phone_number(
    db: &impl ConnectionTrait,
    tenant: Uuid,
    user: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<PhoneNumber, TelephonyError> {
    let wanted = phone_numbers::Entity::find_by_id(id)
        .filter(phone_numbers::Column::TenantId.eq(tenant))
        .one(db)
        .await
        .map_err(|e| db_err(e, "loading a phone number"))?
        .ok_or(TelephonyError::PhoneNumberNotFound)?;
    if wanted.user_id == Some(user) {
        return Ok(find_number(db, id).await?.context("a phone number vanished")?);
    }
    free_number_of(db, user, now).await.map_err(|e| db_err(e, "freeing a phone number"))?;
    let taken = phone_numbers::Entity::update_many()
        .col_expr(phone_numbers::Column::UserId, Expr::value(user))
        .col_expr(phone_numbers::Column::UpdatedAt, Expr::value(now))
        .filter(phone_numbers::Column::Id.eq(id))
        .filter(phone_numbers::Column::UserId.is_null())
        .filter(
            Condition::any()
                .add(phone_numbers::Column::AvailableAt.is_null())
                .add(phone_numbers::Column::AvailableAt.lte(now)),
        )
        .exec(db)
        .await;
    let found = match taken {
        Ok(res) if res.rows_affected == 1 => {
            return Ok(find_number(db, id).await?.context("a phone number vanished")?);
        }
        Ok(_) => find_number(db, id).await?,
        // Another user's concurrent assignment won the UNIQUE holder.
        Err(e) if is_unique_violation(&e) => None,
        Err(e) => return Err(db_err(e, "assigning a phone number").into()),
    };
    if let Some(until) = wanted.available_at.filter(|until| *until > now) {
        return Err(TelephonyError::PhoneNumberResting(until));
    }
    Err(match found.and_then(|n| n.holder) {
        Some(holder) => TelephonyError::PhoneNumberAssigned(holder),
        None => anyhow!("phone number {id} changed while it was assigned").into(),
    })
}

/// Frees the number `user` holds; answers whether they held one. Part of
/// the caller's transaction.
pub(crate) async fn free_number_of(
    db: &impl ConnectionTrait,
    user: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let res = phone_numbers::Entity::update_many()
        .col_expr(phone_numbers::Column::UserId, Expr::value(Option::<Uuid>::None))
        .col_expr(phone_numbers::Column::UpdatedAt, Expr::value(now))
        .filter(phone_numbers::Column::UserId.eq(user))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

impl PhoneNumberStore for SeaStore {
    async fn list_phone_numbers(
        &self,
        tenant: Uuid,
        available_at: Option<DateTime<Utc>>,
        q: Option<&str>,
        page: PageRequest,
    ) -> anyhow::Result<Page<PhoneNumber>> {
        let mut select = phone_numbers::Entity::find().filter(phone_numbers::Column::TenantId.eq(tenant));
        if let Some(now) = available_at {
            // A resting number is not available until its rest is over.
            select = select.filter(phone_numbers::Column::UserId.is_null()).filter(
                Condition::any()
                    .add(phone_numbers::Column::AvailableAt.is_null())
                    .add(phone_numbers::Column::AvailableAt.lte(crate::stamp(now))),
            );
        }
        let digits: String = q.unwrap_or("").chars().filter(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            select = select.filter(phone_numbers::Column::Number.like(like_pattern(&digits)));
        }
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting phone numbers"))?;
        let rows = select
            .order_by(phone_numbers::Column::Number, Order::Asc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing phone numbers"))?;
        let items = with_holders(&self.db, rows).await?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn phone_number_visible_to(&self, viewer: Uuid, id: Uuid) -> anyhow::Result<Option<PhoneNumber>> {
        let Some(number) = find_number(&self.db, id).await? else { return Ok(None) };
        let owner = tenants::Entity::find_by_id(number.tenant_id)
            .filter(tenants::Column::Path.like(format!("%/{viewer}/%")))
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading a phone number's tenant"))?;
        Ok(owner.map(|_| number))
    }

    async fn create_phone_number(
        &self,
        tenant: Uuid,
        new: NewPhoneNumber,
        audit: &AuditEvent,
    ) -> Result<PhoneNumber, CreatePhoneNumberError> {
        let now = crate::at(audit);
        let id = Uuid::now_v7();
        let row = phone_numbers::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant),
            number: Set(new.number.as_str().to_owned()),
            label: Set(new.label.map(|l| l.as_str().to_owned())),
            user_id: Set(None),
            available_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let (txn, _writing) = self.begin_write().await?;
        let created = match row.insert(&txn).await {
            Ok(m) => phone_number(m, None)?,
            Err(e) if is_unique_violation(&e) => return Err(CreatePhoneNumberError::NumberTaken),
            Err(e) => return Err(db_err(e, "inserting a phone number").into()),
        };
        record(&txn, audit, Some(id)).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a phone number"))?;
        Ok(created)
    }

    async fn update_phone_number(
        &self,
        id: Uuid,
        changes: PhoneNumberChanges,
        audit: &AuditEvent,
    ) -> Result<PhoneNumber, UpdatePhoneNumberError> {
        let (txn, _writing) = self.begin_write().await?;
        let row = phone_numbers::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading a phone number"))?
            .ok_or(UpdatePhoneNumberError::NotFound)?;
        let mut row = row.into_active_model();
        if let Some(label) = changes.label {
            row.label = Set(label.map(|l| l.as_str().to_owned()));
        }
        row.updated_at = Set(crate::at(audit));
        row.update(&txn).await.map_err(|e| db_err(e, "updating a phone number"))?;
        let changed = find_number(&txn, id).await?.ok_or(UpdatePhoneNumberError::NotFound)?;
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a phone number change"))?;
        Ok(changed)
    }

    async fn delete_phone_number(&self, id: Uuid, audit: &AuditEvent) -> Result<(), DeletePhoneNumberError> {
        let (txn, _writing) = self.begin_write().await?;
        let res = phone_numbers::Entity::delete_many()
            .filter(phone_numbers::Column::Id.eq(id))
            .filter(phone_numbers::Column::UserId.is_null())
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "deleting a phone number"))?;
        if res.rows_affected == 1 {
            record(&txn, audit, None).await?;
            txn.commit().await.map_err(|e| db_err(e, "committing a phone number deletion"))?;
            return Ok(());
        }
        drop(txn);
        match find_number(&self.db, id).await?.map(|n| n.holder) {
            None => Err(DeletePhoneNumberError::NotFound),
            Some(Some(holder)) => Err(DeletePhoneNumberError::Assigned(holder)),
            Some(None) => Err(anyhow!("phone number {id} was freed while it was deleted").into()),
        }
    }

    async fn assign_phone_number(
        &self,
        tenant: Uuid,
        user: Uuid,
        id: Uuid,
        audit: &AuditEvent,
    ) -> Result<PhoneNumber, TelephonyError> {
        change_holdings(self, tenant, user, audit, async |txn| {
            Ok((give_phone_number(txn, tenant, user, id, crate::at(audit)).await?, true))
        })
        .await
    }

    async fn release_phone_number(&self, tenant: Uuid, user: Uuid, audit: &AuditEvent) -> Result<(), TelephonyError> {
        change_holdings(self, tenant, user, audit, async |txn| {
            let freed =
                free_number_of(txn, user, crate::at(audit)).await.map_err(|e| db_err(e, "freeing a phone number"))?;
            Ok(((), freed))
        })
        .await
    }
}
