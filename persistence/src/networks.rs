//! IP allowlists, stored one row per network in their canonical form.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
};
use uuid::Uuid;
use voxport_domain::{allowlist::NetworkChange, audit::AuditEvent, ports::NetworkStore, values::Cidr};

use crate::{SeaStore, audit::record, db_err, entities::user_networks, lock_user, sessions::revoke_sessions};

/// The allowlists of `users`, in one query.
pub(crate) async fn networks_of(db: &impl ConnectionTrait, users: &[Uuid]) -> anyhow::Result<HashMap<Uuid, Vec<Cidr>>> {
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = user_networks::Entity::find()
        .filter(user_networks::Column::UserId.is_in(users.iter().copied()))
        .order_by(user_networks::Column::CreatedAt, Order::Asc)
        .order_by(user_networks::Column::Id, Order::Asc)
        .all(db)
        .await
        .map_err(|e| db_err(e, "loading allowlists"))?;
    let mut lists: HashMap<Uuid, Vec<Cidr>> = HashMap::new();
    for row in rows {
        let net = Cidr::parse(&row.network).map_err(|e| anyhow::anyhow!("allowlist entry {}: {e}", row.id))?;
        lists.entry(row.user_id).or_default().push(net);
    }
    Ok(lists)
}

impl NetworkStore for SeaStore {
    async fn change_networks(
        &self,
        tenant: Uuid,
        user: Uuid,
        change: &NetworkChange,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<Option<Vec<Cidr>>> {
        let (txn, _writing) = self.begin_write().await?;
        if !lock_user(&txn, tenant, user).await.map_err(|e| db_err(e, "locking a user"))? {
            return Ok(None);
        }
        let current = networks_of(&txn, &[user]).await?.remove(&user).unwrap_or_default();
        let wanted = change.apply(&current);
        user_networks::Entity::delete_many()
            .filter(user_networks::Column::UserId.eq(user))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "clearing an allowlist"))?;
        for (i, net) in wanted.iter().enumerate() {
            // Keeps the order: entries are listed by creation.
            let created = crate::stamp(now) + chrono::Duration::microseconds(i64::try_from(i).unwrap_or(0));
            user_networks::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user),
                network: Set(net.to_string()),
                created_at: Set(created),
            }
            .insert(&txn)
            .await
            .map_err(|e| db_err(e, "storing an allowlist entry"))?;
        }
        if wanted != current {
            revoke_sessions(&txn, user, keep, now).await.map_err(|e| db_err(e, "ending sessions"))?;
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing an allowlist"))?;
        Ok(Some(wanted))
    }
}
