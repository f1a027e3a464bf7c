//! Desk phones.

use serde::Serialize;
use utoipa::ToSchema;

use uuid::Uuid;

use super::HolderView;
use voxport_domain::{device::Device, paging::Page};

/// A desk phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    pub id: Uuid,
    /// Canonical: lower-case, colon-separated.
    #[schema(example = "80:5e:c0:12:34:56")]
    pub mac: String,
    #[schema(example = "Yealink")]
    pub vendor: String,
    #[schema(example = "T54W")]
    pub model: String,
    /// Line ports, 1 to 16.
    #[schema(example = 16)]
    pub ports: u8,
    pub label: Option<String>,
    /// The user the device serves, or null when it is available.
    pub user: Option<HolderView>,
}

impl From<&Device> for DeviceView {
    fn from(d: &Device) -> Self {
        Self {
            id: d.id,
            mac: d.mac.as_str().to_owned(),
            vendor: d.vendor.as_str().to_owned(),
            model: d.model.as_str().to_owned(),
            ports: d.ports,
            label: d.label.as_ref().map(|l| l.as_str().to_owned()),
            user: d.holder.as_ref().map(HolderView::from),
        }
    }
}

page_of!(DevicePage, DeviceView);
