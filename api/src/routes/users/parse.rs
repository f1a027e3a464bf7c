//! Request bodies into domain requests, naming every field at fault.

use voxport_domain::{
    device::check_ports,
    services::{CreateUser, DeviceRequest, ExtensionRequest, Telephony, UpdateUser},
    user::UserChanges,
    values::{Email, Language, Login, PersonName, Timezone},
};

use crate::routes::{new_password, stations::parse_applications};
use crate::{extract::Fields, problem::ApiError};

use super::bodies::{CreateUserBody, ExtensionChoice, UpdateUserBody};

/// Turns the body of `POST /v1/users` into a request, naming every field
/// at fault.
pub(super) fn parse_create_user(body: CreateUserBody) -> Result<CreateUser, ApiError> {
    let mut f = Fields::default();
    let email = f.optional("email", body.email.as_deref(), Email::parse);
    let login = match (&body.login, &email) {
        (Some(raw), _) => f.check("login", Login::parse(raw)),
        (None, Some(Some(email))) => f.check("email", Login::from_email(email)),
        (None, Some(None)) => {
            f.add("login", "give a login or an email address");
            None
        }
        (None, None) => None,
    };
    let first_name = f.check("first_name", PersonName::parse(&body.first_name));
    let last_name = f.check("last_name", PersonName::parse(&body.last_name));
    let timezone = f.optional("timezone", body.timezone.as_deref(), Timezone::parse);
    let language = f.optional("language", body.language.as_deref(), Language::parse);
    let password = new_password(&mut f, "generate_password", body.password, body.generate_password);
    let extension = match &body.extension {
        None => Some(None),
        Some(ExtensionChoice::Existing(e)) => Some(Some(ExtensionRequest::Existing(e.id))),
        Some(ExtensionChoice::New(new)) => new.parse(&mut f, "extension.").map(|n| Some(ExtensionRequest::New(n))),
    };
    let device = match &body.device {
        None => Some(None),
        Some(d) => match d.ports {
            None => Some(Some(DeviceRequest { id: d.id, ports: None })),
            Some(p) => {
                f.check("device.ports", check_ports(p)).map(|p| Some(DeviceRequest { id: d.id, ports: Some(p) }))
            }
        },
    };
    let applications = match &body.applications {
        None => Some(None),
        Some(codes) => parse_applications(&mut f, codes).map(Some),
    };
    let (
        Some(email),
        Some(login),
        Some(first_name),
        Some(last_name),
        Some(timezone),
        Some(language),
        Some(password),
        Some(extension),
        Some(device),
        Some(applications),
    ) = (email, login, first_name, last_name, timezone, language, password, extension, device, applications)
    else {
        return Err(f.into_error());
    };
    f.finish()?;
    Ok(CreateUser {
        login,
        email,
        first_name,
        last_name,
        role_id: body.role_id,
        password,
        disabled: body.disabled,
        activation_at: body.activation_at,
        expires_at: body.expires_at,
        timezone: timezone.unwrap_or(Timezone::UTC),
        language: language.unwrap_or(Language::ENGLISH),
        telephony: Telephony {
            extension,
            phone_number_id: body.phone_number_id,
            station_id: body.station_id,
            device,
            applications,
        },
        send_welcome_email: body.send_welcome_email.unwrap_or(true),
        directory: Default::default(),
    })
}

/// Turns the body of `PATCH /v1/users/{id}` into a change, naming every
/// field at fault.
pub(super) fn parse_update_user(body: UpdateUserBody) -> Result<UpdateUser, ApiError> {
    let mut f = Fields::default();
    let login = f.optional("login", body.login.as_deref(), Login::parse);
    let email = match body.email {
        None => Some(None),
        Some(None) => Some(Some(None)),
        Some(Some(raw)) => f.check("email", Email::parse(&raw)).map(|e| Some(Some(e))),
    };
    let first_name = f.optional("first_name", body.first_name.as_deref(), PersonName::parse);
    let last_name = f.optional("last_name", body.last_name.as_deref(), PersonName::parse);
    let timezone = f.optional("timezone", body.timezone.as_deref(), Timezone::parse);
    let language = f.optional("language", body.language.as_deref(), Language::parse);
    let applications = match &body.applications {
        None => Some(None),
        Some(codes) => parse_applications(&mut f, codes).map(Some),
    };
    let (
        Some(login),
        Some(email),
        Some(first_name),
        Some(last_name),
        Some(timezone),
        Some(language),
        Some(applications),
    ) = (login, email, first_name, last_name, timezone, language, applications)
    else {
        return Err(f.into_error());
    };
    let changes = UserChanges {
        login,
        email,
        first_name,
        last_name,
        role_id: body.role_id,
        disabled: body.disabled,
        activation_at: body.activation_at,
        expires_at: body.expires_at,
        timezone,
        language,
        applications,
        two_factor_required: body.two_factor_required,
        directory: None,
    };
    Ok(UpdateUser { changes, password: body.password })
}
