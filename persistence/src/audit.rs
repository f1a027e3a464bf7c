//! The audit log. Events are inserted by [`record`] inside the transaction
//! of the change they describe; the table refuses UPDATE and DELETE.

use anyhow::Context as _;
use sea_orm::{
    ActiveModelTrait as _, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order,
    PaginatorTrait as _, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;
use voxport_domain::{
    audit::{AuditAction, AuditEvent, AuditFilter, TargetType},
    paging::{Page, PageRequest},
    ports::AuditStore,
    webhook::events_of,
};

use crate::{SeaStore, db_err, entities::audit_events, webhooks::Subscribers};

/// Writes an audit event; `target` fills in the object when the event
/// left it to storage (an object storage created). Part of the caller's
/// transaction.
pub(crate) async fn record(db: &impl ConnectionTrait, event: &AuditEvent, target: Option<Uuid>) -> anyhow::Result<()> {
    record_to(db, event, target, &mut Subscribers::default()).await
}

/// [`record`], with the tenant's webhooks read once for the transaction.
pub(crate) async fn record_to(
    db: &impl ConnectionTrait,
    event: &AuditEvent,
    target: Option<Uuid>,
    subscribers: &mut Subscribers,
) -> anyhow::Result<()> {
    audit_events::ActiveModel {
        id: Set(event.id),
        occurred_at: Set(crate::stamp(event.occurred_at)),
        tenant_id: Set(event.tenant_id),
        actor_user_id: Set(event.actor_user_id),
        actor_client_id: Set(event.actor_client_id),
        actor_tenant_id: Set(event.actor_tenant_id),
        on_behalf_of: Set(event.on_behalf_of),
        action: Set(event.action.code().to_owned()),
        target_type: Set(event.target_type.map(|t| t.as_str().to_owned())),
        target_id: Set(event.target_id.or(target)),
        ip: Set(event.ip.map(|ip| ip.to_canonical().to_string())),
        request_id: Set(event.request_id),
        details: Set(event.details.to_string()),
    }
    .insert(db)
    .await
    .map_err(|e| db_err(e, "writing an audit event"))?;
    crate::idempotency::commit(db).await?;
    if let (Some(kind), Some(id)) = (event.target_type, event.target_id.or(target))
        && kind.is_versioned()
        && event.action.changes_target()
    {
        crate::versions::bump(db, kind, id).await?;
    }
    if let Some(tenant) = event.tenant_id {
        let events = match (event.target_id, target) {
            (None, Some(created)) => events_of(&AuditEvent { target_id: Some(created), ..event.clone() }),
            _ => events_of(event),
        };
        crate::webhooks::enqueue_to(db, tenant, &events, subscribers).await?;
    }
    Ok(())
}

fn event(m: audit_events::Model) -> anyhow::Result<AuditEvent> {
    Ok(AuditEvent {
        id: m.id,
        occurred_at: m.occurred_at,
        tenant_id: m.tenant_id,
        actor_user_id: m.actor_user_id,
        actor_client_id: m.actor_client_id,
        actor_tenant_id: m.actor_tenant_id,
        on_behalf_of: m.on_behalf_of,
        action: AuditAction::parse(&m.action).with_context(|| format!("audit event {} action {:?}", m.id, m.action))?,
        target_type: m
            .target_type
            .as_deref()
            .map(|t| TargetType::parse(t).with_context(|| format!("target type {t:?}")))
            .transpose()?,
        target_id: m.target_id,
        ip: m.ip.as_deref().map(str::parse).transpose().with_context(|| format!("audit event {} address", m.id))?,
        request_id: m.request_id,
        details: serde_json::from_str(&m.details).with_context(|| format!("audit event {} details", m.id))?,
    })
}

impl AuditStore for SeaStore {
    async fn record(&self, event: &AuditEvent) -> anyhow::Result<()> {
        record(&self.db, event, None).await
    }

    async fn record_all(&self, events: &[AuditEvent]) -> anyhow::Result<()> {
        let (txn, _writing) = self.begin_write().await?;
        for event in events {
            record(&txn, event, None).await?;
        }
        txn.commit().await.map_err(|e| db_err(e, "committing audit events"))
    }

    async fn list_events(
        &self,
        tenant: Uuid,
        include_anonymous: bool,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> anyhow::Result<Page<AuditEvent>> {
        let mut scope = Condition::any().add(audit_events::Column::TenantId.eq(tenant));
        if include_anonymous {
            scope = scope.add(audit_events::Column::TenantId.is_null());
        }
        let mut select = audit_events::Entity::find().filter(scope);
        if let Some(actor) = filter.actor_user_id {
            select = select.filter(
                Condition::any()
                    .add(audit_events::Column::ActorUserId.eq(actor))
                    .add(audit_events::Column::ActorClientId.eq(actor)),
            );
        }
        if let Some(action) = filter.action {
            select = select.filter(audit_events::Column::Action.eq(action.code()));
        }
        if let Some(target) = filter.target_type {
            select = select.filter(audit_events::Column::TargetType.eq(target.as_str()));
        }
        if let Some(target) = filter.target_id {
            select = select.filter(audit_events::Column::TargetId.eq(target));
        }
        if let Some(from) = filter.from {
            select = select.filter(audit_events::Column::OccurredAt.gte(crate::stamp(from)));
        }
        if let Some(to) = filter.to {
            select = select.filter(audit_events::Column::OccurredAt.lt(crate::stamp(to)));
        }
        let total = select.clone().count(&self.db).await.map_err(|e| db_err(e, "counting audit events"))?;
        let rows = select
            .order_by(audit_events::Column::OccurredAt, Order::Desc)
            .order_by(audit_events::Column::Id, Order::Desc)
            .offset(page.offset())
            .limit(page.per_page())
            .all(&self.db)
            .await
            .map_err(|e| db_err(e, "listing audit events"))?;
        let items = rows.into_iter().map(event).collect::<anyhow::Result<_>>()?;
        Ok(Page { items, total, page: page.page(), per_page: page.per_page() })
    }
}
