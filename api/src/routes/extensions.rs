//! `/v1/extensions`, their SIP credentials, and
//! `/v1/users/{id}/extensions/{extension_id}`. An extension has at most
//! one holder; a user may hold several.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    extension::{ExtensionChanges, ExtensionFilter, ExtensionNumber},
    permission::Permission,
    ports::Store,
    services::NewExtensionRequest,
    values::Label,
};

use super::nullable;
use crate::{
    extract::{Auth, Fields, Json, Query},
    problem::{ApiError, Problem},
    responses::{BadBody, BadQuery, ExtensionNotFound, Forbidden, Unauthenticated},
    views::{ExtensionPage, ExtensionTypeView, ExtensionView, SipCredentialsView},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"number": "204", "type": "sip", "name": "John Smith", "force_login": false, "voicemail_enabled": true}))]
pub struct CreateExtensionBody {
    /// Digits only, unique in the tenant, as many as the tenant's dial plan
    /// (`extension_digits`) allows.
    #[schema(pattern = r"^[0-9]{1,15}$", example = "204")]
    pub number: String,
    #[serde(rename = "type")]
    pub kind: ExtensionTypeView,
    /// The display name, also sent as the caller id name.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "John Smith"
    )]
    pub name: Option<String>,
    /// Calls ring only while the holder is signed in to the portal. Default false.
    #[serde(default)]
    pub force_login: bool,
    /// Default false.
    #[serde(default)]
    pub voicemail_enabled: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"force_login": true}))]
pub struct UpdateExtensionBody {
    #[schema(pattern = r"^[0-9]{1,15}$")]
    pub number: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<ExtensionTypeView>,
    /// `null` removes the name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$")]
    pub name: Option<Option<String>>,
    pub force_login: Option<bool>,
    pub voicemail_enabled: Option<bool>,
}

list_params! {
    pub struct ExtensionListParams {
        /// Matches the number or the name.
        pub q: Option<String>,
        /// Only extensions that ring nobody.
        pub available: Option<bool>,
        /// Only the extensions of this user.
        pub user_id: Option<Uuid>,
    }
}

impl CreateExtensionBody {
    /// Parses the body; field errors are recorded under `prefix`.
    pub(crate) fn parse(&self, f: &mut Fields, prefix: &str) -> Option<NewExtensionRequest> {
        let number = f.check(&format!("{prefix}number"), ExtensionNumber::parse(&self.number));
        let name = f.optional(&format!("{prefix}name"), self.name.as_deref(), Label::parse);
        Some(NewExtensionRequest {
            number: number?,
            kind: self.kind.into(),
            name: name?,
            force_login: self.force_login,
            voicemail_enabled: self.voicemail_enabled,
        })
    }
}

/// List extensions
///
/// By number; `available=true` lists those that ring nobody. Needs
/// `extensions:read`.
#[utoipa::path(
    get, path = "/v1/extensions", tag = "extensions", operation_id = "list_extensions",
    params(ExtensionListParams),
    responses(
        (status = 200, description = "One page of extensions", body = ExtensionPage),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("extensions:read"))),
)]
pub async fn list_extensions<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<ExtensionListParams>,
) -> Result<web::Json<ExtensionPage>, ApiError> {
    let actor = auth.require(Permission::ExtensionsRead)?;
    let page = params.page_request()?;
    let filter = ExtensionFilter { q: params.q, available: params.available.unwrap_or(false), user_id: params.user_id };
    let extensions = app.list_extensions(actor, &filter, page).await?;
    Ok(web::Json(ExtensionPage::new(extensions, |e| ExtensionView::from(e))))
}

/// Create an extension
///
/// Generates its SIP credentials: a username and a random secret of 24
/// characters, stored encrypted. Needs `extensions:write`.
#[utoipa::path(
    post, path = "/v1/extensions", tag = "extensions", operation_id = "create_extension",
    request_body = CreateExtensionBody,
    responses(
        (status = 201, description = "The extension was created", body = ExtensionView),
        (status = 409, description = "`extension_number_taken`, or `extension_number_out_of_range` for the tenant's dial plan", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("extensions:write"))),
)]
pub async fn create_extension<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<CreateExtensionBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::ExtensionsWrite)?;
    let mut f = Fields::default();
    let Some(req) = body.parse(&mut f, "") else { return Err(f.into_error()) };
    f.finish()?;
    let extension = app.create_extension(actor, req, Utc::now()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/extensions/{}", extension.id)))
        .json(ExtensionView::from(&extension)))
}

/// Show an extension
///
/// Needs `extensions:read`.
#[utoipa::path(
    get, path = "/v1/extensions/{id}", tag = "extensions", operation_id = "get_extension",
    params(("id" = Uuid, Path, description = "The extension's id")),
    responses(
        (status = 200, description = "The extension", body = ExtensionView),
        ExtensionNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("extensions:read"))),
)]
pub async fn get_extension<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<ExtensionView>, ApiError> {
    let actor = auth.require(Permission::ExtensionsRead)?;
    let extension = app.extension(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("extension"))?;
    Ok(web::Json(ExtensionView::from(&extension)))
}

/// Change an extension
///
/// Only the fields given change. Needs `extensions:write`.
#[utoipa::path(
    patch, path = "/v1/extensions/{id}", tag = "extensions", operation_id = "update_extension",
    params(("id" = Uuid, Path, description = "The extension's id")),
    request_body = UpdateExtensionBody,
    responses(
        (status = 200, description = "The changed extension", body = ExtensionView),
        ExtensionNotFound,
        (status = 409, description = "`extension_number_taken`, or `extension_number_out_of_range` for the tenant's dial plan", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("extensions:write"))),
)]
pub async fn update_extension<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateExtensionBody>,
) -> Result<web::Json<ExtensionView>, ApiError> {
    let actor = auth.require(Permission::ExtensionsWrite)?;
    let mut f = Fields::default();
    let number = f.optional("number", body.number.as_deref(), ExtensionNumber::parse);
    let name = match body.name {
        None => Some(None),
        Some(None) => Some(Some(None)),
        Some(Some(raw)) => f.check("name", Label::parse(&raw)).map(|n| Some(Some(n))),
    };
    let (Some(number), Some(name)) = (number, name) else { return Err(f.into_error()) };
    let changes = ExtensionChanges {
        number,
        name,
        kind: body.kind.map(Into::into),
        force_login: body.force_login,
        voicemail_enabled: body.voicemail_enabled,
    };
    let extension = app.update_extension(actor, id.into_inner(), changes, Utc::now()).await?;
    Ok(web::Json(ExtensionView::from(&extension)))
}

/// Delete an extension
///
/// Not while it rings a user (409 `extension_in_use`, naming them). Needs
/// `extensions:write`.
#[utoipa::path(
    delete, path = "/v1/extensions/{id}", tag = "extensions", operation_id = "delete_extension",
    params(("id" = Uuid, Path, description = "The extension's id")),
    responses(
        (status = 204, description = "The extension is gone"),
        ExtensionNotFound,
        (status = 409, description = "`extension_in_use`, with `holder`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("extensions:write"))),
)]
pub async fn delete_extension<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::ExtensionsWrite)?;
    app.delete_extension(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Show an extension's SIP credentials
///
/// The secret in the clear, for provisioning a phone. Needs
/// `extensions:secrets`; the holder reads their own at
/// `/v1/me/sip-credentials`.
#[utoipa::path(
    get, path = "/v1/extensions/{id}/sip-credentials", tag = "extensions", operation_id = "get_sip_credentials",
    params(("id" = Uuid, Path, description = "The extension's id")),
    responses(
        (status = 200, description = "The credentials", body = SipCredentialsView),
        ExtensionNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("extensions:secrets"))),
)]
pub async fn get_sip_credentials<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<SipCredentialsView>, ApiError> {
    let actor = auth.require(Permission::ExtensionsSecrets)?;
    let found = app
        .sip_credentials(actor, id.into_inner(), Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("extension"))?;
    Ok(web::Json(found.into()))
}

/// Rotate an extension's SIP secret
///
/// Generates a new secret and answers the new credentials; phones
/// registered with the old secret must be given the new one. Needs
/// `extensions:secrets`.
#[utoipa::path(
    post, path = "/v1/extensions/{id}/rotate-secret", tag = "extensions", operation_id = "rotate_sip_secret",
    params(("id" = Uuid, Path, description = "The extension's id")),
    responses(
        (status = 200, description = "The new credentials", body = SipCredentialsView),
        ExtensionNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("extensions:secrets"))),
)]
pub async fn rotate_sip_secret<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<SipCredentialsView>, ApiError> {
    let actor = auth.require(Permission::ExtensionsSecrets)?;
    let rotated = app
        .rotate_sip_secret(actor, id.into_inner(), Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("extension"))?;
    Ok(web::Json(rotated.into()))
}

/// Give a user an extension
///
/// The extension rings the user too; a user may hold several. One that
/// rings another user is 409 `extension_assigned`, naming the holder.
/// A free extension gets a fresh SIP secret as it starts ringing the
/// user: whoever held it before registers no more. Needs `users:write` and
/// `extensions:write`.
#[utoipa::path(
    put, path = "/v1/users/{id}/extensions/{extension_id}", tag = "users", operation_id = "assign_extension",
    params(
        ("id" = Uuid, Path, description = "The user's id"),
        ("extension_id" = Uuid, Path, description = "The extension's id"),
    ),
    responses(
        (status = 200, description = "The extension, now ringing the user", body = ExtensionView),
        (status = 404, description = "No such user (`not_found`) or extension (`extension_not_found`) in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`extension_assigned`, with `holder`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!(["users:write", "extensions:write"]))),
)]
pub async fn assign_extension<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<ExtensionView>, ApiError> {
    auth.require(Permission::ExtensionsWrite)?;
    let actor = auth.require(Permission::UsersWrite)?;
    let (user, extension) = path.into_inner();
    let extension = app.assign_extension(actor, user, extension, Utc::now()).await?;
    Ok(web::Json(ExtensionView::from(&extension)))
}

/// Take an extension from a user
///
/// Nothing happens when the extension does not ring the user. Needs
/// `users:write` and `extensions:write`.
#[utoipa::path(
    delete, path = "/v1/users/{id}/extensions/{extension_id}", tag = "users", operation_id = "release_extension",
    params(
        ("id" = Uuid, Path, description = "The user's id"),
        ("extension_id" = Uuid, Path, description = "The extension's id"),
    ),
    responses(
        (status = 204, description = "The extension does not ring the user"),
        (status = 404, description = "No such user (`not_found`) or extension (`extension_not_found`) in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!(["users:write", "extensions:write"]))),
)]
pub async fn release_extension<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ExtensionsWrite)?;
    let actor = auth.require(Permission::UsersWrite)?;
    let (user, extension) = path.into_inner();
    app.release_extension(actor, user, extension, Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
