//! `/v1/phone-numbers` (DIDs) and `/v1/users/{id}/phone-number`.
//! PRODUCT.md rule 4: a number rings at most one user, a user holds at
//! most one number.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    permission::Permission,
    phone_number::{E164, NewPhoneNumber, PhoneNumberChanges},
    ports::Store,
    values::Label,
};

use super::nullable;
use crate::{
    extract::{Auth, Fields, Json, Query},
    problem::{ApiError, Problem},
    responses::{
        BadBody, BadQuery, Forbidden, ForeignTenantNotFound, PhoneNumberNotFound, Unauthenticated, UserNotFound,
    },
    views::{PhoneNumberPage, PhoneNumberView},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"number": "+1 (415) 555-0100", "tenant_id": "0192f0c4-7a4e-7cc1-9a51-2c1d1c1e8a10", "label": "Main line"}))]
pub struct CreatePhoneNumberBody {
    /// International: `+` or `00`, then 7 to 15 digits; spaces, dots,
    /// hyphens and parentheses are dropped. Comes back in E.164.
    #[schema(pattern = r"^(\+|00)[ ().-]*[1-9]([ ().-]*[0-9]){6,14}[ ().-]*$", example = "+14155550100")]
    pub number: String,
    /// The tenant that owns the number; defaults to the caller's.
    pub tenant_id: Option<Uuid>,
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Main line"
    )]
    pub label: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label": "Support line"}))]
pub struct UpdatePhoneNumberBody {
    /// `null` removes the label.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$")]
    pub label: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignPhoneNumberBody {
    pub phone_number_id: Uuid,
}

list_params! {
    pub struct PhoneNumberListParams {
        /// The numbers of this tenant below the caller's; default the caller's own.
        pub tenant_id: Option<Uuid>,
        /// Only numbers that ring nobody.
        pub available: Option<bool>,
        /// Digits the number contains.
        pub q: Option<String>,
    }
}

/// List phone numbers
///
/// In E.164 order; `available=true` lists those that ring nobody. With
/// `tenant_id`, the numbers of a tenant below the caller's. Needs
/// `phone_numbers:read`.
#[utoipa::path(
    get, path = "/v1/phone-numbers", tag = "phone-numbers", operation_id = "list_phone_numbers",
    params(PhoneNumberListParams),
    responses(
        (status = 200, description = "One page of numbers", body = PhoneNumberPage),
        ForeignTenantNotFound,
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("phone_numbers:read"))),
)]
pub async fn list_phone_numbers<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<PhoneNumberListParams>,
) -> Result<web::Json<PhoneNumberPage>, ApiError> {
    let actor = auth.require(Permission::PhoneNumbersRead)?;
    let page = params.page_request()?;
    let numbers = app
        .list_phone_numbers(actor, params.tenant_id, params.available.unwrap_or(false), params.q.as_deref(), page)
        .await?
        .ok_or_else(ApiError::tenant_not_found)?;
    Ok(web::Json(PhoneNumberPage::new(numbers, |n| PhoneNumberView::from(n))))
}

/// Add a phone number
///
/// The parent tenant adds numbers for its customers (`tenant_id`); a
/// tenant adds its own only when its parent allows it (`own_phone_numbers`)
/// or when it is the platform. Unique on the platform. Needs
/// `phone_numbers:write`.
#[utoipa::path(
    post, path = "/v1/phone-numbers", tag = "phone-numbers", operation_id = "create_phone_number",
    request_body = CreatePhoneNumberBody,
    responses(
        (status = 201, description = "The number was added", body = PhoneNumberView),
        ForeignTenantNotFound,
        (status = 409, description = "`phone_number_taken`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("phone_numbers:write"))),
)]
pub async fn create_phone_number<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<CreatePhoneNumberBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::PhoneNumbersWrite)?;
    let mut f = Fields::default();
    let number = f.check("number", E164::parse(&body.number));
    let label = f.optional("label", body.label.as_deref(), Label::parse);
    let (Some(number), Some(label)) = (number, label) else { return Err(f.into_error()) };
    let created = app.create_phone_number(actor, body.tenant_id, NewPhoneNumber { number, label }, Utc::now()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/phone-numbers/{}", created.id)))
        .json(PhoneNumberView::from(&created)))
}

/// Show a phone number
///
/// Needs `phone_numbers:read`.
#[utoipa::path(
    get, path = "/v1/phone-numbers/{id}", tag = "phone-numbers", operation_id = "get_phone_number",
    params(("id" = Uuid, Path, description = "The number's id")),
    responses(
        (status = 200, description = "The number", body = PhoneNumberView),
        PhoneNumberNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("phone_numbers:read"))),
)]
pub async fn get_phone_number<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<PhoneNumberView>, ApiError> {
    let actor = auth.require(Permission::PhoneNumbersRead)?;
    let number = app.phone_number(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("phone number"))?;
    Ok(web::Json(PhoneNumberView::from(&number)))
}

/// Change a phone number's label
///
/// The number itself does not change: add the new one instead. Needs
/// `phone_numbers:write`.
#[utoipa::path(
    patch, path = "/v1/phone-numbers/{id}", tag = "phone-numbers", operation_id = "update_phone_number",
    params(("id" = Uuid, Path, description = "The number's id")),
    request_body = UpdatePhoneNumberBody,
    responses(
        (status = 200, description = "The changed number", body = PhoneNumberView),
        PhoneNumberNotFound,
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("phone_numbers:write"))),
)]
pub async fn update_phone_number<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<UpdatePhoneNumberBody>,
) -> Result<web::Json<PhoneNumberView>, ApiError> {
    let actor = auth.require(Permission::PhoneNumbersWrite)?;
    let label = match body.label {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(Some(Label::parse(&raw).map_err(|e| ApiError::field("label", e))?)),
    };
    let number = app.update_phone_number(actor, id.into_inner(), PhoneNumberChanges { label }, Utc::now()).await?;
    Ok(web::Json(PhoneNumberView::from(&number)))
}

/// Remove a phone number
///
/// Not while it rings a user (409 `phone_number_in_use`, naming them), and
/// only by whoever may add numbers to its tenant. Needs
/// `phone_numbers:write`.
#[utoipa::path(
    delete, path = "/v1/phone-numbers/{id}", tag = "phone-numbers", operation_id = "delete_phone_number",
    params(("id" = Uuid, Path, description = "The number's id")),
    responses(
        (status = 204, description = "The number is gone"),
        PhoneNumberNotFound,
        (status = 409, description = "`phone_number_in_use`, with `holder`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("phone_numbers:write"))),
)]
pub async fn delete_phone_number<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::PhoneNumbersWrite)?;
    app.delete_phone_number(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Give a user a phone number
///
/// Replaces the number the user held. One that rings another user is 409
/// `phone_number_assigned`, naming the holder. Needs `users:write`.
#[utoipa::path(
    put, path = "/v1/users/{id}/phone-number", tag = "users", operation_id = "assign_phone_number",
    params(("id" = Uuid, Path, description = "The user's id")),
    request_body = AssignPhoneNumberBody,
    responses(
        (status = 200, description = "The number, now ringing the user", body = PhoneNumberView),
        (status = 404, description = "No such user (`not_found`) or number (`phone_number_not_found`) in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`phone_number_assigned`, with `holder`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn assign_phone_number<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<AssignPhoneNumberBody>,
) -> Result<web::Json<PhoneNumberView>, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let number = app.assign_phone_number(actor, id.into_inner(), body.phone_number_id, Utc::now()).await?;
    Ok(web::Json(PhoneNumberView::from(&number)))
}

/// Take a user's phone number back
///
/// A user without one is left as is. Needs `users:write`.
#[utoipa::path(
    delete, path = "/v1/users/{id}/phone-number", tag = "users", operation_id = "release_phone_number",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "The user holds no number"),
        UserNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn release_phone_number<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    app.release_phone_number(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
