//! Station licence pools.

use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::ApplicationName;
use uuid::Uuid;
use voxport_domain::{paging::Page, station::Station};

/// A station licence pool.
#[derive(Debug, Serialize, ToSchema)]
pub struct StationView {
    pub id: Uuid,
    /// The tenant whose users take licences from the pool.
    pub tenant_id: Uuid,
    #[schema(example = "Standard")]
    pub name: String,
    #[schema(example = "standard")]
    pub code: String,
    /// What a licence unlocks for its user.
    #[schema(value_type = Vec<ApplicationName>)]
    pub applications: Vec<&'static str>,
    /// Licences bought.
    #[schema(example = 10)]
    pub quantity: u32,
    /// Licences given to users.
    #[schema(example = 7)]
    pub in_use: u32,
    /// `quantity - in_use`.
    #[schema(example = 3)]
    pub available: u32,
}

impl From<&Station> for StationView {
    fn from(s: &Station) -> Self {
        Self {
            id: s.id,
            tenant_id: s.tenant_id,
            name: s.name.as_str().to_owned(),
            code: s.code.as_str().to_owned(),
            applications: s.applications.iter().map(|a| a.as_str()).collect(),
            quantity: s.quantity,
            in_use: s.in_use,
            available: s.available(),
        }
    }
}

page_of!(StationPage, StationView);
