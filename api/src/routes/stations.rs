//! `/v1/stations` (licence pools) and `/v1/users/{id}/station` (giving a
//! user a licence). PRODUCT.md rules 2 and 11.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    permission::Permission,
    ports::Store,
    station::{Application, NewStation, StationChanges, StationCode, check_quantity},
    values::Label,
};

use super::{whole_number, whole_number_opt};
use crate::{
    extract::{Auth, Fields, Json, Query},
    problem::{ApiError, Problem},
    responses::{BadBody, BadQuery, Forbidden, ForeignTenantNotFound, StationNotFound, Unauthenticated, UserNotFound},
    schema::ApplicationName,
    views::{StationPage, StationView},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"tenant_id": "0192f0c4-7a4e-7cc1-9a51-2c1d1c1e8a10", "name": "Standard", "code": "standard",
                          "applications": ["desktop_app", "web_dialer"], "quantity": 10}))]
pub struct CreateStationBody {
    /// The customer the pool is for; defaults to the caller's tenant.
    pub tenant_id: Option<Uuid>,
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Standard"
    )]
    pub name: String,
    /// Unique in the tenant.
    #[schema(pattern = r"^[a-z0-9_-]{1,32}$", example = "standard")]
    pub code: String,
    /// What a licence unlocks for its user.
    #[schema(value_type = Vec<ApplicationName>)]
    pub applications: Vec<String>,
    /// Licences bought.
    #[serde(deserialize_with = "whole_number")]
    #[schema(maximum = 100000, example = 10)]
    pub quantity: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"quantity": 25}))]
pub struct UpdateStationBody {
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: Option<String>,
    #[schema(value_type = Option<Vec<ApplicationName>>)]
    pub applications: Option<Vec<String>>,
    /// Licences bought; never below those in use.
    #[serde(default, deserialize_with = "whole_number_opt")]
    #[schema(maximum = 100000)]
    pub quantity: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignStationBody {
    pub station_id: Uuid,
}

list_params! {
    pub struct StationListParams {
        /// The pools of this tenant below the caller's; default the caller's own.
        pub tenant_id: Option<Uuid>,
    }
}

pub(crate) fn parse_applications(f: &mut Fields, codes: &[String]) -> Option<Vec<Application>> {
    let mut ok = true;
    let mut apps = Vec::with_capacity(codes.len());
    for (i, code) in codes.iter().enumerate() {
        match Application::parse(code) {
            Some(a) => apps.push(a),
            None => {
                f.add(&format!("applications[{i}]"), format!("`{code}` is not an application"));
                ok = false;
            }
        }
    }
    ok.then_some(apps)
}

/// List station pools
///
/// The licence pools of the caller's tenant, or with `tenant_id` of a
/// tenant below it. Needs `stations:read`.
#[utoipa::path(
    get, path = "/v1/stations", tag = "stations", operation_id = "list_stations",
    params(StationListParams),
    responses(
        (status = 200, description = "One page of pools", body = StationPage),
        ForeignTenantNotFound,
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("stations:read"))),
)]
pub async fn list_stations<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<StationListParams>,
) -> Result<web::Json<StationPage>, ApiError> {
    let actor = auth.require(Permission::StationsRead)?;
    let page = params.page_request()?;
    let stations = app.list_stations(actor, params.tenant_id, page).await?.ok_or_else(ApiError::tenant_not_found)?;
    Ok(web::Json(StationPage::new(stations, |s| StationView::from(s))))
}

/// Create a station pool
///
/// The parent tenant (a reseller or the platform) creates a pool for a
/// customer below it. Needs `stations:write`.
#[utoipa::path(
    post, path = "/v1/stations", tag = "stations", operation_id = "create_station",
    request_body = CreateStationBody,
    responses(
        (status = 201, description = "The pool was created", body = StationView),
        ForeignTenantNotFound,
        (status = 409, description = "`station_code_taken`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("stations:write"))),
)]
pub async fn create_station<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<CreateStationBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::StationsWrite)?;
    let mut f = Fields::default();
    let name = f.check("name", Label::parse(&body.name));
    let code = f.check("code", StationCode::parse(&body.code));
    let applications = parse_applications(&mut f, &body.applications);
    let quantity = f.check("quantity", check_quantity(body.quantity));
    let (Some(name), Some(code), Some(applications), Some(quantity)) = (name, code, applications, quantity) else {
        return Err(f.into_error());
    };
    let station = app
        .create_station(actor, body.tenant_id, NewStation { name, code, applications, quantity }, Utc::now())
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/stations/{}", station.id)))
        .json(StationView::from(&station)))
}

/// Show a station pool
///
/// Needs `stations:read`.
#[utoipa::path(
    get, path = "/v1/stations/{id}", tag = "stations", operation_id = "get_station",
    params(("id" = Uuid, Path, description = "The station's id")),
    responses(
        (status = 200, description = "The pool", body = StationView),
        StationNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("stations:read"))),
)]
pub async fn get_station<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<StationView>, ApiError> {
    let actor = auth.require(Permission::StationsRead)?;
    let station = app.station(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("station"))?;
    Ok(web::Json(StationView::from(&station)))
}

/// Change a station pool
///
/// "Order more stations": only the parent tenant changes a customer's pool
/// (the platform its own); the quantity never drops below the licences in
/// use. Needs `stations:write`.
#[utoipa::path(
    patch, path = "/v1/stations/{id}", tag = "stations", operation_id = "update_station",
    params(("id" = Uuid, Path, description = "The station's id")),
    request_body = UpdateStationBody,
    responses(
        (status = 200, description = "The changed pool", body = StationView),
        StationNotFound,
        (status = 409, description = "`quantity_below_in_use`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("stations:write"))),
)]
pub async fn update_station<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateStationBody>,
) -> Result<web::Json<StationView>, ApiError> {
    let actor = auth.require(Permission::StationsWrite)?;
    let mut f = Fields::default();
    let name = f.optional("name", body.name.as_deref(), Label::parse);
    let applications = match &body.applications {
        None => Some(None),
        Some(codes) => parse_applications(&mut f, codes).map(Some),
    };
    let quantity = match body.quantity {
        None => Some(None),
        Some(q) => f.check("quantity", check_quantity(q)).map(Some),
    };
    let (Some(name), Some(applications), Some(quantity)) = (name, applications, quantity) else {
        return Err(f.into_error());
    };
    let station =
        app.update_station(actor, id.into_inner(), StationChanges { name, applications, quantity }, Utc::now()).await?;
    Ok(web::Json(StationView::from(&station)))
}

/// Delete a station pool
///
/// Only while no licence is in use; only the parent tenant. Needs
/// `stations:write`.
#[utoipa::path(
    delete, path = "/v1/stations/{id}", tag = "stations", operation_id = "delete_station",
    params(("id" = Uuid, Path, description = "The station's id")),
    responses(
        (status = 204, description = "The pool is gone"),
        StationNotFound,
        (status = 409, description = "`station_in_use`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("stations:write"))),
)]
pub async fn delete_station<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::StationsWrite)?;
    app.delete_station(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Give a user a station licence
///
/// Takes one licence from the pool and frees the one the user held. When
/// the pool is exhausted the answer is 409 `station_unavailable` with the
/// pool's counts: order more stations. Needs `users:write`.
#[utoipa::path(
    put, path = "/v1/users/{id}/station", tag = "users", operation_id = "assign_station",
    params(("id" = Uuid, Path, description = "The user's id")),
    request_body = AssignStationBody,
    responses(
        (status = 200, description = "The pool the licence came from, with its new counts", body = StationView),
        (status = 404, description = "No such user (`not_found`) or station (`station_not_found`) in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`station_unavailable`, with `station: {quantity, in_use, available}`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn assign_station<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<AssignStationBody>,
) -> Result<web::Json<StationView>, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let station = app.assign_station(actor, id.into_inner(), body.station_id, Utc::now()).await?;
    Ok(web::Json(StationView::from(&station)))
}

/// Take a user's station licence back
///
/// Frees the licence the user holds; a user without one is left as is.
/// Needs `users:write`.
#[utoipa::path(
    delete, path = "/v1/users/{id}/station", tag = "users", operation_id = "release_station",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "The user holds no licence"),
        UserNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn release_station<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    app.release_station(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
