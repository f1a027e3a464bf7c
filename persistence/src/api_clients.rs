//! API clients, their secret digests and their tokens. A client's secrets
//! and tokens cascade with it.

use std::collections::HashMap;

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel as _, Order,
    PaginatorTrait as _, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;
use voxport_domain::{
    api_client::{ApiClient, ApiClientChanges, ClientLogin, ClientSecretInfo, ClientToken, NewApiClient},
    audit::AuditEvent,
    paging::{Page, PageRequest},
    permission::PermissionSet,
    ports::ApiClientStore,
    values::{Cidr, Label},
};

use crate::{
    SeaStore,
    audit::record,
    db_err,
    entities::{api_client_secrets, api_client_tokens, api_clients},
};

fn networks_to_text(networks: &[Cidr]) -> String {
    networks.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}

fn client(m: api_clients::Model, mut secrets: Vec<api_client_secrets::Model>) -> anyhow::Result<ApiClient> {
    secrets.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    Ok(ApiClient {
        id: m.id,
        tenant_id: m.tenant_id,
        name: Label::parse(&m.name).with_context(|| format!("API client {} name", m.id))?,
        permissions: PermissionSet::from_codes(&m.permissions),
        allowed_networks: m
            .allowed_networks
            .split_whitespace()
            .map(|n| Cidr::parse(n).map_err(|e| anyhow!("API client {} network {n}: {e}", m.id)))
            .collect::<anyhow::Result<_>>()?,
        expires_at: m.expires_at,
        disabled: m.disabled,
        secrets: secrets
            .into_iter()
            .map(|s| ClientSecretInfo { id: s.id, created_at: s.created_at, expires_at: s.expires_at })
            .collect(),
        created_by: m.created_by,
        created_at: m.created_at,
        updated_at: m.updated_at,
        last_used_at: m.last_used_at,
        last_used_ip: m.last_used_ip,
    })
}

async fn secrets_of(
    db: &impl ConnectionTrait,
    clients: &[Uuid],
) -> anyhow::Result<HashMap<Uuid, Vec<api_client_secrets::Model>>> {
    let mut by_client: HashMap<Uuid, Vec<api_client_secrets::Model>> = HashMap::new();
    if clients.is_empty() {
        return Ok(by_client);
    }
    let rows = api_client_secrets::Entity::find()
        .filter(api_client_secrets::Column::ClientId.is_in(clients.iter().copied()))
        .all(db)
        .await
        .map_err(|e| db_err(e, "loading client secrets"))?;
    for row in rows {
        by_client.entry(row.client_id).or_default().push(row);
    }
    Ok(by_client)
}

async fn find_client(db: &impl ConnectionTrait, tenant: Option<Uuid>, id: Uuid) -> anyhow::Result<Option<ApiClient>> {
    let mut select = api_clients::Entity::find_by_id(id);
    if let Some(tenant) = tenant {
        select = select.filter(api_clients::Column::TenantId.eq(tenant));
    }
    let Some(row) = select.one(db).await.map_err(|e| db_err(e, "loading an API client"))? else { return Ok(None) };
    let secrets = secrets_of(db, &[id]).await?.remove(&id).unwrap_or_default();
    client(row, secrets).map(Some)
}

impl ApiClientStore for SeaStore {
    async fn list_api_clients(&self, tenant: Uuid, page: PageRequest) -> anyhow::Result<Page<ApiClient>> {
        let select = api_clients::Entity::find().filter(api_clients::Column::TenantId.eq(tenant));
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting API clients"))?;
        let rows = select
            .order_by(api_clients::Column::Name, Order::Asc)
            .order_by(api_clients::Column::Id, Order::Asc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing API clients"))?;
        let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
        let mut secrets = secrets_of(&self.db, &ids).await?;
        let items = rows
            .into_iter()
            .map(|c| {
                let theirs = secrets.remove(&c.id).unwrap_or_default();
                client(c, theirs)
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }

    async fn api_client(&self, tenant: Uuid, id: Uuid) -> anyhow::Result<Option<ApiClient>> {
        find_client(&self.db, Some(tenant), id).await
    }

    async fn create_api_client(
        &self,
        tenant: Uuid,
        new: NewApiClient,
        secret_digest: &str,
        audit: &AuditEvent,
    ) -> anyhow::Result<ApiClient> {
        let now = crate::at(audit);
        let id = Uuid::now_v7();
        let (txn, _writing) = self.begin_write().await?;
        api_clients::ActiveModel {
            id: Set(id),
            tenant_id: Set(tenant),
            name: Set(new.name.as_str().to_owned()),
            permissions: Set(new.permissions.to_codes()),
            allowed_networks: Set(networks_to_text(&new.allowed_networks)),
            expires_at: Set(new.expires_at),
            disabled: Set(false),
            created_by: Set(audit.actor_user_id),
            created_at: Set(now),
            updated_at: Set(now),
            last_used_at: Set(None),
            last_used_ip: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "inserting an API client"))?;
        api_client_secrets::ActiveModel {
            id: Set(Uuid::now_v7()),
            client_id: Set(id),
            secret_hash: Set(secret_digest.to_owned()),
            created_at: Set(now),
            expires_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "inserting a client secret"))?;
        record(&txn, audit, Some(id)).await?;
        let created = find_client(&txn, Some(tenant), id).await?.context("a new API client vanished")?;
        txn.commit().await.map_err(|e| db_err(e, "committing an API client"))?;
        Ok(created)
    }

    async fn update_api_client(
        &self,
        tenant: Uuid,
        id: Uuid,
        changes: ApiClientChanges,
        audit: &AuditEvent,
    ) -> anyhow::Result<Option<ApiClient>> {
        let (txn, _writing) = self.begin_write().await?;
        let Some(row) = api_clients::Entity::find_by_id(id)
            .filter(api_clients::Column::TenantId.eq(tenant))
            .one(&txn)
            .await
            .map_err(|e| db_err(e, "loading an API client"))?
        else {
            return Ok(None);
        };
        let mut row = row.into_active_model();
        if let Some(name) = changes.name {
            row.name = Set(name.as_str().to_owned());
        }
        if let Some(permissions) = changes.permissions {
            row.permissions = Set(permissions.to_codes());
        }
        if let Some(networks) = changes.allowed_networks {
            row.allowed_networks = Set(networks_to_text(&networks));
        }
        if let Some(expires_at) = changes.expires_at {
            row.expires_at = Set(expires_at);
        }
        if let Some(disabled) = changes.disabled {
            row.disabled = Set(disabled);
        }
        row.updated_at = Set(crate::at(audit));
        row.update(&txn).await.map_err(|e| db_err(e, "updating an API client"))?;
        record(&txn, audit, None).await?;
        let changed = find_client(&txn, Some(tenant), id).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing an API client change"))?;
        Ok(changed)
    }

    async fn delete_api_client(&self, tenant: Uuid, id: Uuid, audit: &AuditEvent) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        let deleted = api_clients::Entity::delete_many()
            .filter(api_clients::Column::Id.eq(id))
            .filter(api_clients::Column::TenantId.eq(tenant))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "deleting an API client"))?;
        if deleted.rows_affected == 0 {
            return Ok(false);
        }
        record(&txn, audit, None).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing an API client deletion"))?;
        Ok(true)
    }

    async fn rotate_client_secret(
        &self,
        tenant: Uuid,
        id: Uuid,
        secret_digest: &str,
        old_until: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> anyhow::Result<Option<ApiClient>> {
        let now = crate::at(audit);
        let (txn, _writing) = self.begin_write().await?;
        let Some(found) = find_client(&txn, Some(tenant), id).await? else { return Ok(None) };
        // The newest secret that still works overlaps with the new one;
        // every other goes.
        let keep = found.secrets.iter().find(|s| s.valid(now));
        let others: Vec<Uuid> =
            found.secrets.iter().filter(|s| Some(s.id) != keep.map(|k| k.id)).map(|s| s.id).collect();
        if !others.is_empty() {
            api_client_secrets::Entity::delete_many()
                .filter(api_client_secrets::Column::Id.is_in(others))
                .exec(&txn)
                .await
                .map_err(|e| db_err(e, "dropping old client secrets"))?;
        }
        if let Some(keep) = keep {
            let until = keep.expires_at.map_or(old_until, |end| end.min(old_until));
            api_client_secrets::Entity::update_many()
                .col_expr(api_client_secrets::Column::ExpiresAt, Expr::value(Some(until)))
                .filter(api_client_secrets::Column::Id.eq(keep.id))
                .exec(&txn)
                .await
                .map_err(|e| db_err(e, "ending an old client secret"))?;
        }
        api_client_secrets::ActiveModel {
            id: Set(Uuid::now_v7()),
            client_id: Set(id),
            secret_hash: Set(secret_digest.to_owned()),
            created_at: Set(now),
            expires_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "inserting a client secret"))?;
        record(&txn, audit, None).await?;
        let rotated = find_client(&txn, Some(tenant), id).await?;
        txn.commit().await.map_err(|e| db_err(e, "committing a client secret"))?;
        Ok(rotated)
    }

    async fn client_login(&self, id: Uuid, now: DateTime<Utc>) -> anyhow::Result<Option<ClientLogin>> {
        let Some(row) =
            api_clients::Entity::find_by_id(id).one(&self.db).await.map_err(|e| db_err(e, "loading an API client"))?
        else {
            return Ok(None);
        };
        let secrets = secrets_of(&self.db, &[id]).await?.remove(&id).unwrap_or_default();
        let digests = secrets
            .iter()
            .filter(|s| s.expires_at.is_none_or(|end| now < end))
            .map(|s| s.secret_hash.clone())
            .collect();
        Ok(Some(ClientLogin { client: client(row, secrets)?, digests }))
    }

    async fn record_client_token(&self, token: &ClientToken, ip: Option<String>) -> anyhow::Result<()> {
        let (txn, _writing) = self.begin_write().await?;
        api_client_tokens::ActiveModel {
            id: Set(token.id),
            client_id: Set(token.client_id),
            scope: Set(token.scope.to_codes()),
            issued_at: Set(crate::stamp(token.issued_at)),
            expires_at: Set(crate::stamp(token.expires_at)),
            revoked_at: Set(None),
        }
        .insert(&txn)
        .await
        .map_err(|e| db_err(e, "recording a client token"))?;
        api_clients::Entity::update_many()
            .col_expr(api_clients::Column::LastUsedAt, Expr::value(crate::stamp(token.issued_at)))
            .col_expr(api_clients::Column::LastUsedIp, Expr::value(ip))
            .filter(api_clients::Column::Id.eq(token.client_id))
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "noting a client's use"))?;
        txn.commit().await.map_err(|e| db_err(e, "committing a client token"))
    }

    async fn client_token(&self, id: Uuid) -> anyhow::Result<Option<(ClientToken, ApiClient)>> {
        let Some(row) = api_client_tokens::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .map_err(|e| db_err(e, "loading a client token"))?
        else {
            return Ok(None);
        };
        let Some(owner) = find_client(&self.db, None, row.client_id).await? else { return Ok(None) };
        let token = ClientToken {
            id: row.id,
            client_id: row.client_id,
            scope: PermissionSet::from_codes(&row.scope),
            issued_at: row.issued_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        };
        Ok(Some((token, owner)))
    }

    async fn revoke_client_token(&self, client: Uuid, id: Uuid, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let (txn, _writing) = self.begin_write().await?;
        let revoked = api_client_tokens::Entity::update_many()
            .col_expr(api_client_tokens::Column::RevokedAt, Expr::value(Some(crate::stamp(now))))
            .filter(api_client_tokens::Column::Id.eq(id))
            .filter(api_client_tokens::Column::ClientId.eq(client))
            .filter(api_client_tokens::Column::RevokedAt.is_null())
            .exec(&txn)
            .await
            .map_err(|e| db_err(e, "revoking a client token"))?;
        txn.commit().await.map_err(|e| db_err(e, "committing a token revocation"))?;
        Ok(revoked.rows_affected > 0)
    }
}
