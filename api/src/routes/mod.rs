//! The HTTP routes, one module per resource. Handlers are generic over the
//! store so the API crate depends on the domain only; `crate::register`
//! instantiates them.

/// Declares the query parameters of a list operation: `page` and
/// `per_page` (PRODUCT.md "The HTTP contract"), then the operation's own,
/// with `page_request()` to read the page asked for.
macro_rules! list_params {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* pub $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// Page number, from 1.
            #[param(minimum = 1, maximum = 1000000, example = 1)]
            pub page: Option<u64>,
            /// Items per page, 1 to 200 (default 50).
            #[param(minimum = 1, maximum = 200, example = 50)]
            pub per_page: Option<u64>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $name {
            /// The page asked for: 422 naming `page` or `per_page` when out
            /// of range.
            pub fn page_request(&self) -> Result<voxport_domain::paging::PageRequest, crate::problem::ApiError> {
                crate::routes::page_request(self.page, self.per_page)
            }
        }
    };
}

pub mod api_clients;
pub mod auth;
pub mod claims;
pub mod devices;
pub mod emails;
pub mod extensions;
pub mod jobs;
pub mod me;
pub mod oauth;
pub mod phone_numbers;
pub mod provisioning;
pub mod roles;
pub mod scim_tokens;
pub mod security;
pub mod stations;
pub mod system;
pub mod tenants;
pub mod users;
pub mod webhooks;

use actix_web::HttpResponse;
use serde::{Deserialize, Deserializer, Serialize};
use voxport_domain::{paging::PageRequest, services::NewPassword, values::Secret};

use crate::{
    extract::{Auth, Fields},
    problem::ApiError,
};

/// Reads a field that may be absent (leave alone), `null` (clear) or a
/// value (set): `None`, `Some(None)`, `Some(Some(v))`.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Reads a count the way JSON Schema defines `integer`: any number with no
/// fractional part, so `12.0` is 12 (serde alone would refuse it).
pub(crate) fn whole_number<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole(serde_json::Number::deserialize(d)?)
}

/// As [`whole_number`]; `null` or absent leaves the value alone.
pub(crate) fn whole_number_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Option::<serde_json::Number>::deserialize(d)?.map(whole).transpose()
}

fn whole<E: serde::de::Error>(n: serde_json::Number) -> Result<u32, E> {
    let whole = n.as_u64().or_else(|| {
        n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= f64::from(u32::MAX)).map(|f| f as u64)
    });
    whole
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| E::custom(format!("must be a whole number from 0 to {}, not {n}", u32::MAX)))
}

pub(crate) fn page_request(page: Option<u64>, per_page: Option<u64>) -> Result<PageRequest, ApiError> {
    PageRequest::new(page, per_page).map_err(|e| {
        let field = match e {
            voxport_domain::paging::InvalidPage::Page => "page",
            voxport_domain::paging::InvalidPage::PerPage => "per_page",
        };
        let mut fields = Fields::default();
        fields.add(field, e);
        fields.into_error()
    })
}

/// How a body asks for a new account's password: `password`, or
/// `generate_password`, or neither (the user sets one through the emailed
/// link). Asking for both is refused, naming `generate_field`.
pub(crate) fn new_password(
    f: &mut Fields,
    generate_field: &str,
    password: Option<Secret>,
    generate: bool,
) -> Option<NewPassword> {
    match (password, generate) {
        (Some(_), true) => {
            f.add(generate_field, "give a password or ask for one to be generated, not both");
            None
        }
        (Some(p), false) => Some(NewPassword::Given(p)),
        (None, true) => Some(NewPassword::Generate),
        (None, false) => Some(NewPassword::ByLink),
    }
}

/// The answer to a creation: 201 with the new resource's `Location`.
pub(crate) fn created(location: String, view: impl Serialize) -> HttpResponse {
    HttpResponse::Created().insert_header((actix_web::http::header::LOCATION, location)).json(view)
}

/// Who may make or revoke a tenant's machine credentials (API clients,
/// SCIM tokens): a signed-in person of the tenant holding `permission`.
/// Neither a machine (its credentials would outlive whoever made them) nor
/// a support agent acting in a customer (who would leave a credential
/// behind in a tenant not theirs); `what` names the credentials.
pub(crate) fn credential_manager<'a>(
    auth: &'a Auth,
    permission: voxport_domain::permission::Permission,
    what: &str,
) -> Result<&'a voxport_domain::actor::Actor, ApiError> {
    auth.person()?;
    let actor = auth.require(permission)?;
    if actor.tenant_id != actor.home_tenant_id {
        return Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "own_tenant_only",
            format!("A tenant's own administrators manage its {what}, not a support session."),
        ));
    }
    Ok(actor)
}
