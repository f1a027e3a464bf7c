//! The HTTP routes, one module per resource. Handlers are generic over the
//! store so the API crate depends on the domain only; `crate::register`
//! instantiates them.

pub mod auth;
pub mod devices;
pub mod emails;
pub mod extensions;
pub mod me;
pub mod phone_numbers;
pub mod roles;
pub mod security;
pub mod stations;
pub mod system;
pub mod tenants;
pub mod users;

use serde::{Deserialize, Deserializer};
use voxport_domain::paging::PageRequest;

use crate::{extract::Fields, problem::ApiError};

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
