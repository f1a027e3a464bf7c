//! `/v1/webhooks`: the caller's tenant's webhooks (issue 9), signed by the
//! Standard Webhooks specification, with their deliveries.

use actix_web::{
    HttpResponse,
    http::{StatusCode, header},
    web,
};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    errors::WebhookError,
    permission::Permission,
    ports::Store,
    values::Label,
    webhook::{NewWebhook, WebhookChanges, WebhookEventType, WebhookUrl, parse_event_types},
};

use super::nullable;
use crate::{
    extract::{Auth, Fields, Json, Query},
    problem::{ApiError, Problem},
    responses::{BadBody, BadQuery, Forbidden, Unauthenticated},
    views::{
        WebhookDeliveryPage, WebhookDeliveryView, WebhookEventTypeList, WebhookEventTypeView, WebhookPage, WebhookView,
        WebhookWithSecretView,
    },
};

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::NotFound => Self::not_found("webhook"),
            WebhookError::DeliveryNotFound => Self::not_found("delivery of this webhook"),
            WebhookError::Disabled => Self::conflict(
                "webhook_disabled",
                "The webhook is switched off; switch it on (PATCH enabled: true) before sending again.",
            ),
            WebhookError::DeliveryBusy => Self::conflict(
                "delivery_in_progress",
                "The delivery is being sent right now; look at its attempts in a moment.",
            ),
            WebhookError::Unknown(e) => Self::internal(e),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://crm.example.com/voxport/events", "event_types": ["user.created", "user.deleted", "extension.assigned"]}))]
pub struct CreateWebhookBody {
    /// Where events are POSTed: `https` (plain `http` only to the networks
    /// the operator allows in `VOXPORT_WEBHOOK_ALLOWED_NETWORKS`). The
    /// address it resolves to must be public unless those networks list
    /// it; this is checked again at every send.
    #[schema(
        min_length = 1,
        max_length = 2048,
        pattern = r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?([/?#][!-~]*)?$",
        example = "https://crm.example.com/voxport/events"
    )]
    pub url: String,
    /// What to send, from `GET /v1/webhook-event-types`.
    #[schema(value_type = Vec<crate::schema::WebhookEventCode>, min_items = 1)]
    pub event_types: Vec<String>,
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Acme CRM sync"
    )]
    pub description: Option<String>,
    /// Whether events are sent (default true).
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct UpdateWebhookBody {
    #[schema(
        min_length = 1,
        max_length = 2048,
        pattern = r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?([/?#][!-~]*)?$"
    )]
    pub url: Option<String>,
    #[schema(value_type = Option<Vec<crate::schema::WebhookEventCode>>, min_items = 1)]
    pub event_types: Option<Vec<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(
        value_type = Option<String>,
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub description: Option<Option<String>>,
    /// Switched off, nothing is sent; switched on again, what waited is
    /// sent, and deliveries voxport gave up when it switched the webhook
    /// off are sent again one by one (`…/deliveries/{id}/retry`).
    pub enabled: Option<bool>,
}

list_params! {
    pub struct WebhookListParams {}
}

fn parse_url<S: Store>(app: &Voxport<S>, f: &mut Fields, raw: &str) -> Option<WebhookUrl> {
    f.check("url", WebhookUrl::parse(raw, app.webhook_allowed_networks()))
}

fn parse_types(f: &mut Fields, raw: &[String]) -> Option<Vec<WebhookEventType>> {
    f.check("event_types", parse_event_types(raw.iter().map(String::as_str)))
}

/// List the event types
///
/// What a webhook can subscribe to. Needs `webhooks:read`.
#[utoipa::path(
    get, path = "/v1/webhook-event-types", tag = "webhooks", operation_id = "list_webhook_event_types",
    responses(
        (status = 200, description = "Every event type", body = WebhookEventTypeList),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("webhooks:read"))),
)]
pub async fn list_event_types(auth: Auth) -> Result<web::Json<WebhookEventTypeList>, ApiError> {
    auth.require(Permission::WebhooksRead)?;
    let items = WebhookEventType::ALL.iter().copied().map(WebhookEventTypeView::from).collect();
    Ok(web::Json(WebhookEventTypeList { items }))
}

/// List webhooks
///
/// The tenant's webhooks, oldest first; never a secret. Needs
/// `webhooks:read`.
#[utoipa::path(
    get, path = "/v1/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    params(WebhookListParams),
    responses(
        (status = 200, description = "One page of webhooks", body = WebhookPage),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("webhooks:read"))),
)]
pub async fn list_webhooks<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<WebhookListParams>,
) -> Result<web::Json<WebhookPage>, ApiError> {
    let actor = auth.require(Permission::WebhooksRead)?;
    let page = params.page_request()?;
    let hooks = app.list_webhooks(actor, page).await?;
    Ok(web::Json(WebhookPage::new(hooks, |w| WebhookView::from(w))))
}

/// Subscribe a webhook
///
/// Every event of the listed types that happens in the tenant from now on
/// is POSTed to `url` as `{type, timestamp, data}`, signed by the Standard
/// Webhooks specification (headers `webhook-id`, `webhook-timestamp`,
/// `webhook-signature`) with the `secret` this answer shows once. Delivery
/// is at least once: a receiver that has seen a `webhook-id` already has
/// that event. A receiver that answers outside 2xx, or not within
/// `VOXPORT_WEBHOOK_TIMEOUT_SECONDS` (default 5), is tried again with
/// exponential backoff; one that fails for
/// `VOXPORT_WEBHOOK_DISABLE_AFTER_SECONDS` (default 3 days) without a
/// success is switched off and the tenant's webhook administrators are
/// emailed. Needs `webhooks:write`.
#[utoipa::path(
    post, path = "/v1/webhooks", tag = "webhooks", operation_id = "create_webhook",
    request_body = CreateWebhookBody,
    responses(
        (status = 201, description = "The webhook, with its signing secret shown once", body = WebhookWithSecretView),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("webhooks:write"))),
)]
pub async fn create_webhook<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<CreateWebhookBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::WebhooksWrite)?;
    let mut f = Fields::default();
    let url = parse_url(&app, &mut f, &body.url);
    let event_types = parse_types(&mut f, &body.event_types);
    let description = f.optional("description", body.description.as_deref(), Label::parse);
    let (Some(url), Some(event_types), Some(description)) = (url, event_types, description) else {
        return Err(f.into_error());
    };
    let new = NewWebhook { url, description, event_types, enabled: body.enabled.unwrap_or(true) };
    let created = app.create_webhook(actor, new, Utc::now()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/webhooks/{}", created.webhook.id)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(WebhookWithSecretView::from(&created)))
}

/// Show a webhook
///
/// Needs `webhooks:read`.
#[utoipa::path(
    get, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "get_webhook",
    params(("id" = Uuid, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "The webhook", body = WebhookView),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("webhooks:read"))),
)]
pub async fn get_webhook<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<WebhookView>, ApiError> {
    let actor = auth.require(Permission::WebhooksRead)?;
    let hook = app.webhook(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("webhook"))?;
    Ok(web::Json(WebhookView::from(&hook)))
}

/// Change a webhook
///
/// Switching it on again also forgets that it was failing. Needs
/// `webhooks:write`.
#[utoipa::path(
    patch, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "update_webhook",
    params(("id" = Uuid, Path, description = "The webhook's id")),
    request_body = UpdateWebhookBody,
    responses(
        (status = 200, description = "The changed webhook", body = WebhookView),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("webhooks:write"))),
)]
pub async fn update_webhook<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateWebhookBody>,
) -> Result<web::Json<WebhookView>, ApiError> {
    let actor = auth.require(Permission::WebhooksWrite)?;
    let mut f = Fields::default();
    let url = match body.url.as_deref() {
        None => Some(None),
        Some(raw) => parse_url(&app, &mut f, raw).map(Some),
    };
    let event_types = match body.event_types.as_deref() {
        None => Some(None),
        Some(raw) => parse_types(&mut f, raw).map(Some),
    };
    let description = match &body.description {
        None => Some(None),
        Some(None) => Some(Some(None)),
        Some(Some(raw)) => f.check("description", Label::parse(raw)).map(|d| Some(Some(d))),
    };
    let (Some(url), Some(event_types), Some(description)) = (url, event_types, description) else {
        return Err(f.into_error());
    };
    let changes = WebhookChanges { url, description, event_types, enabled: body.enabled };
    let changed = app.update_webhook(actor, id.into_inner(), changes, Utc::now()).await?;
    Ok(web::Json(WebhookView::from(&changed)))
}

/// Delete a webhook
///
/// Nothing more is sent to it, and its deliveries go with it. Needs
/// `webhooks:write`.
#[utoipa::path(
    delete, path = "/v1/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = Uuid, Path, description = "The webhook's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("webhooks:write"))),
)]
pub async fn delete_webhook<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::WebhooksWrite)?;
    app.delete_webhook(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List a webhook's deliveries
///
/// Newest first, each with every attempt: when, the receiver's status
/// code, how long it took, and why it failed. Needs `webhooks:read`.
#[utoipa::path(
    get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "list_webhook_deliveries",
    params(("id" = Uuid, Path, description = "The webhook's id"), WebhookListParams),
    responses(
        (status = 200, description = "One page of deliveries", body = WebhookDeliveryPage),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("webhooks:read"))),
)]
pub async fn list_deliveries<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Query(params): Query<WebhookListParams>,
) -> Result<web::Json<WebhookDeliveryPage>, ApiError> {
    let actor = auth.require(Permission::WebhooksRead)?;
    let page = params.page_request()?;
    let deliveries = app.webhook_deliveries(actor, id.into_inner(), page).await?;
    Ok(web::Json(WebhookDeliveryPage::new(deliveries, |d| WebhookDeliveryView::from(d))))
}

/// Send a delivery again
///
/// Makes the delivery due now, whatever became of it; the receiver sees
/// the same `webhook-id` (and a fresh timestamp and signature). The
/// webhook must be switched on (409 `webhook_disabled`). Needs
/// `webhooks:write`.
#[utoipa::path(
    post, path = "/v1/webhooks/{id}/deliveries/{delivery_id}/retry", tag = "webhooks",
    operation_id = "retry_webhook_delivery",
    params(
        ("id" = Uuid, Path, description = "The webhook's id"),
        ("delivery_id" = Uuid, Path, description = "The delivery's id"),
    ),
    responses(
        (status = 202, description = "The delivery, due again", body = WebhookDeliveryView),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`webhook_disabled`, or `delivery_in_progress` while a courier sends it", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("webhooks:write"))),
)]
pub async fn retry_delivery<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::WebhooksWrite)?;
    let (id, delivery) = path.into_inner();
    let due = app.retry_webhook_delivery(actor, id, delivery, Utc::now()).await?;
    Ok(HttpResponse::build(StatusCode::ACCEPTED).json(WebhookDeliveryView::from(&due)))
}
