//! `/v1/users/{id}/emails` and `/v1/users/{id}/welcome-email`: the emails
//! written for a user.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use uuid::Uuid;
use voxport_domain::{Voxport, permission::Permission, ports::Store};

use crate::{
    extract::{Auth, Query},
    problem::{ApiError, Problem},
    responses::{BadQuery, Forbidden, Unauthenticated, UserNotFound},
    views::{EmailPage, EmailView},
};

list_params! {
    pub struct EmailListParams {}
}

/// List a user's emails
///
/// Every email written for the user, newest first, with its delivery
/// status. Needs `users:read`.
#[utoipa::path(
    get, path = "/v1/users/{id}/emails", tag = "users", operation_id = "list_user_emails",
    params(("id" = Uuid, Path, description = "The user's id"), EmailListParams),
    responses(
        (status = 200, description = "One page of emails", body = EmailPage),
        UserNotFound,
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:read"))),
)]
pub async fn list_user_emails<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Query(params): Query<EmailListParams>,
) -> Result<web::Json<EmailPage>, ApiError> {
    let actor = auth.require(Permission::UsersRead)?;
    let page = params.page_request()?;
    let emails = app.emails_of(actor, id.into_inner(), page).await?.ok_or_else(|| ApiError::not_found("user"))?;
    Ok(web::Json(EmailPage::new(emails, |e| EmailView::from(e))))
}

/// Send the welcome email again
///
/// Writes it to the outbox anew; while the user has no password it
/// carries a new set-password link, and earlier links stop working. Needs
/// `users:write` and every permission the user holds.
#[utoipa::path(
    post, path = "/v1/users/{id}/welcome-email", tag = "users", operation_id = "resend_welcome_email",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 202, description = "The email is on its way", body = EmailView),
        UserNotFound,
        (status = 409, description = "`no_email_address`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn resend_welcome_email<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let email = app.resend_welcome_email(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::Accepted().json(EmailView::from(&email)))
}
