//! `/v1/devices` (desk phones) and `/v1/users/{id}/device`. PRODUCT.md
//! rule 3: a device serves at most one user, a user holds at most one.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    device::{DeviceChanges, MacAddress, NewDevice, check_ports},
    permission::Permission,
    ports::Store,
    values::Label,
};

use super::{nullable, whole_number, whole_number_opt};
use crate::{
    extract::{Auth, Fields, Json, Query},
    problem::{ApiError, Problem},
    responses::{BadBody, BadQuery, DeviceNotFound, Forbidden, Unauthenticated, UserNotFound},
    views::{DevicePage, DeviceView},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mac": "80-5E-C0-12-34-56", "vendor": "Yealink", "model": "T54W", "ports": 16, "label": "Front desk"}))]
pub struct CreateDeviceBody {
    /// `aa:bb:cc:dd:ee:ff`, `AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff` or
    /// `aabbccddeeff`; unique on the platform.
    #[schema(
        pattern = r"^(([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}|([0-9A-Fa-f]{2}-){5}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12})$"
    )]
    pub mac: String,
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "Yealink"
    )]
    pub vendor: String,
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$",
        example = "T54W"
    )]
    pub model: String,
    /// Line ports, 1 to 16.
    #[serde(deserialize_with = "whole_number")]
    #[schema(minimum = 1, maximum = 16, example = 16)]
    pub ports: u32,
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub label: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label": "Reception"}))]
pub struct UpdateDeviceBody {
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub vendor: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub model: Option<String>,
    /// `null` removes the label.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 64, pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$")]
    pub label: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignDeviceBody {
    pub device_id: Uuid,
    /// The line ports the user gets; default all of the device's.
    #[serde(default, deserialize_with = "whole_number_opt")]
    #[schema(minimum = 1, maximum = 16)]
    pub ports: Option<u32>,
}

list_params! {
    pub struct DeviceListParams {
        /// Only devices serving nobody.
        pub available: Option<bool>,
    }
}

/// List desk phones
///
/// By MAC address; `available=true` lists only those serving nobody. Needs
/// `devices:read`.
#[utoipa::path(
    get, path = "/v1/devices", tag = "devices", operation_id = "list_devices",
    params(DeviceListParams),
    responses(
        (status = 200, description = "One page of devices", body = DevicePage),
        Unauthenticated, Forbidden, BadQuery,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("devices:read"))),
)]
pub async fn list_devices<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Query(params): Query<DeviceListParams>,
) -> Result<web::Json<DevicePage>, ApiError> {
    let actor = auth.require(Permission::DevicesRead)?;
    let page = params.page_request()?;
    let devices = app.list_devices(actor, params.available.unwrap_or(false), page).await?;
    Ok(web::Json(DevicePage::new(devices, |d| DeviceView::from(d))))
}

/// Register a desk phone
///
/// Needs `devices:write`.
#[utoipa::path(
    post, path = "/v1/devices", tag = "devices", operation_id = "create_device",
    request_body = CreateDeviceBody,
    responses(
        (status = 201, description = "The device was registered", body = DeviceView),
        (status = 409, description = "`mac_taken`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("devices:write"))),
)]
pub async fn create_device<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    Json(body): Json<CreateDeviceBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::DevicesWrite)?;
    let mut f = Fields::default();
    let mac = f.check("mac", MacAddress::parse(&body.mac));
    let vendor = f.check("vendor", Label::parse(&body.vendor));
    let model = f.check("model", Label::parse(&body.model));
    let ports = f.check("ports", check_ports(body.ports));
    let label = f.optional("label", body.label.as_deref(), Label::parse);
    let (Some(mac), Some(vendor), Some(model), Some(ports), Some(label)) = (mac, vendor, model, ports, label) else {
        return Err(f.into_error());
    };
    let device = app.create_device(actor, NewDevice { mac, vendor, model, ports, label }, Utc::now()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/devices/{}", device.id)))
        .json(DeviceView::from(&device)))
}

/// Show a desk phone
///
/// Needs `devices:read`.
#[utoipa::path(
    get, path = "/v1/devices/{id}", tag = "devices", operation_id = "get_device",
    params(("id" = Uuid, Path, description = "The device's id")),
    responses(
        (status = 200, description = "The device", body = DeviceView),
        DeviceNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("devices:read"))),
)]
pub async fn get_device<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<web::Json<DeviceView>, ApiError> {
    let actor = auth.require(Permission::DevicesRead)?;
    let device = app.device(actor, id.into_inner()).await?.ok_or_else(|| ApiError::not_found("device"))?;
    Ok(web::Json(DeviceView::from(&device)))
}

/// Change a desk phone
///
/// Vendor, model and label; the MAC address and ports identify the
/// hardware and do not change. Needs `devices:write`.
#[utoipa::path(
    patch, path = "/v1/devices/{id}", tag = "devices", operation_id = "update_device",
    params(("id" = Uuid, Path, description = "The device's id")),
    request_body = UpdateDeviceBody,
    responses(
        (status = 200, description = "The changed device", body = DeviceView),
        DeviceNotFound,
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("devices:write"))),
)]
pub async fn update_device<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<UpdateDeviceBody>,
) -> Result<web::Json<DeviceView>, ApiError> {
    let actor = auth.require(Permission::DevicesWrite)?;
    let mut f = Fields::default();
    let vendor = f.optional("vendor", body.vendor.as_deref(), Label::parse);
    let model = f.optional("model", body.model.as_deref(), Label::parse);
    let label = match body.label {
        None => Some(None),
        Some(None) => Some(Some(None)),
        Some(Some(raw)) => f.check("label", Label::parse(&raw)).map(|l| Some(Some(l))),
    };
    let (Some(vendor), Some(model), Some(label)) = (vendor, model, label) else {
        return Err(f.into_error());
    };
    let device = app.update_device(actor, id.into_inner(), DeviceChanges { vendor, model, label }, Utc::now()).await?;
    Ok(web::Json(DeviceView::from(&device)))
}

/// Delete a desk phone
///
/// Not while it serves a user (409 `device_in_use`, naming them). Needs
/// `devices:write`.
#[utoipa::path(
    delete, path = "/v1/devices/{id}", tag = "devices", operation_id = "delete_device",
    params(("id" = Uuid, Path, description = "The device's id")),
    responses(
        (status = 204, description = "The device is gone"),
        DeviceNotFound,
        (status = 409, description = "`device_in_use`, with `holder`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("devices:write"))),
)]
pub async fn delete_device<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::DevicesWrite)?;
    app.delete_device(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Give a user a desk phone
///
/// Replaces the device the user held. A device serving another user is
/// 409 `device_assigned`, naming the holder. Needs `users:write`.
#[utoipa::path(
    put, path = "/v1/users/{id}/device", tag = "users", operation_id = "assign_device",
    params(("id" = Uuid, Path, description = "The user's id")),
    request_body = AssignDeviceBody,
    responses(
        (status = 200, description = "The device, now serving the user", body = DeviceView),
        (status = 404, description = "No such user (`not_found`) or device (`device_not_found`) in the caller's tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`device_assigned` (with `holder`) or `ports_exceed_device`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden, BadBody,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn assign_device<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
    Json(body): Json<AssignDeviceBody>,
) -> Result<web::Json<DeviceView>, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let ports = match body.ports {
        None => None,
        Some(p) => Some(check_ports(p).map_err(|e| ApiError::field("ports", e))?),
    };
    let device = app.assign_device(actor, id.into_inner(), body.device_id, ports, Utc::now()).await?;
    Ok(web::Json(DeviceView::from(&device)))
}

/// Take a user's desk phone back
///
/// A user without one is left as is. Needs `users:write`.
#[utoipa::path(
    delete, path = "/v1/users/{id}/device", tag = "users", operation_id = "release_device",
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "The user holds no device"),
        UserNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn release_device<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    app.release_device(actor, id.into_inner(), Utc::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}
