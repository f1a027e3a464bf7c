//! Desk-phone provisioning (issue 10): `/provisioning/{mac}.cfg` (Yealink)
//! and `/provisioning/{mac}.xml` (Polycom), fetched by the phone with HTTP
//! Basic credentials issued at
//! `POST /v1/devices/{id}/provisioning-credentials`.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use chrono::Utc;
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    permission::Permission,
    ports::Store,
    provisioning::{DeviceFetch, PhoneFormat},
};

use crate::{
    client_ip::ClientIp,
    extract::{Auth, basic_credentials},
    problem::{ApiError, Problem},
    responses::{DeviceNotFound, Forbidden, Unauthenticated},
    views::ProvisioningCredentialsView,
};

/// Issue a desk phone's provisioning credentials
///
/// A username and password the phone sends as HTTP Basic when it fetches
/// its configuration, shown this once; any earlier ones stop working. The
/// configuration carries the SIP secrets of the device's user, so this
/// needs `extensions:secrets` besides `devices:write`.
#[utoipa::path(
    post, path = "/v1/devices/{id}/provisioning-credentials", tag = "devices",
    operation_id = "issue_provisioning_credentials",
    params(("id" = Uuid, Path, description = "The device's id")),
    responses(
        (status = 200, description = "The new credentials, shown once", body = ProvisioningCredentialsView),
        DeviceNotFound,
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!(["devices:write", "extensions:secrets"]))),
)]
pub async fn issue_provisioning_credentials<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Permission::ExtensionsSecrets)?;
    let actor = auth.require(Permission::DevicesWrite)?;
    let (device, credentials) = app
        .issue_provisioning_credentials(actor, id.into_inner(), Utc::now())
        .await?
        .ok_or_else(|| ApiError::not_found("device"))?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(ProvisioningCredentialsView::new(
        &device,
        &credentials,
        app.tokens().issuer(),
    )))
}

async fn serve<S: Store>(
    app: &Voxport<S>,
    req: &HttpRequest,
    mac: &str,
    ip: ClientIp,
    format: PhoneFormat,
) -> Result<HttpResponse, ApiError> {
    let credentials = basic_credentials(req).flatten();
    let fetch =
        DeviceFetch { mac, credentials: credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str())), ip: ip.0, format };
    let config = app.provision_device(fetch, Utc::now()).await?;
    let content_type = match format {
        PhoneFormat::Yealink => "text/plain; charset=utf-8",
        PhoneFormat::Polycom => "application/xml; charset=utf-8",
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(config.render(format)))
}

/// A Yealink phone's configuration
///
/// The lines of the user the device serves, one per port they are given
/// (empty ones cleared), with the registrar, their time zone and language.
/// The phone authenticates with its provisioning credentials (HTTP Basic);
/// failures count like failed sign-ins. An unknown MAC address, another
/// device's, or a device that serves nobody who may sign in now answers
/// 404 alike. Every fetch is audited.
#[utoipa::path(
    get, path = "/provisioning/{mac}.cfg", tag = "provisioning", operation_id = "yealink_config",
    params(("mac" = String, Path, description = "The device's MAC address, in any common spelling (`805ec0123456`)",
        pattern = r"^(([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}|([0-9A-Fa-f]{2}-){5}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12})$")),
    responses(
        (status = 200, description = "The configuration", body = String, content_type = "text/plain"),
        (status = 401, description = "`invalid_credentials`, with `WWW-Authenticate: Basic`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("device_basic" = [])),
)]
pub async fn yealink_config<S: Store>(
    app: web::Data<Voxport<S>>,
    req: HttpRequest,
    mac: web::Path<String>,
    ip: ClientIp,
) -> Result<HttpResponse, ApiError> {
    serve(&app, &req, &mac, ip, PhoneFormat::Yealink).await
}

/// A Polycom phone's configuration
///
/// As the Yealink file, in Polycom's `<polycomConfig>` XML.
#[utoipa::path(
    get, path = "/provisioning/{mac}.xml", tag = "provisioning", operation_id = "polycom_config",
    params(("mac" = String, Path, description = "The device's MAC address, in any common spelling (`805ec0123456`)",
        pattern = r"^(([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}|([0-9A-Fa-f]{2}-){5}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}|[0-9A-Fa-f]{12})$")),
    responses(
        (status = 200, description = "The configuration", body = String, content_type = "application/xml"),
        (status = 401, description = "`invalid_credentials`, with `WWW-Authenticate: Basic`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "`too_many_attempts`, with `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("device_basic" = [])),
)]
pub async fn polycom_config<S: Store>(
    app: web::Data<Voxport<S>>,
    req: HttpRequest,
    mac: web::Path<String>,
    ip: ClientIp,
) -> Result<HttpResponse, ApiError> {
    serve(&app, &req, &mac, ip, PhoneFormat::Polycom).await
}
