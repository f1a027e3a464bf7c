//! Desk phones.

use serde::Serialize;
use utoipa::ToSchema;

use uuid::Uuid;

use super::HolderView;
use chrono::{DateTime, Utc};
use voxport_domain::{
    device::Device,
    paging::Page,
    provisioning::{ProvisioningCredentials, ProvisioningInfo},
};

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
    /// Its provisioning credentials (never the password) and last fetch;
    /// null until they are issued.
    pub provisioning: Option<DeviceProvisioningView>,
}

/// A device's provisioning credentials as an administrator sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceProvisioningView {
    /// The HTTP Basic username the phone sends.
    #[schema(example = "vxdevk3m9x4q2ab7cdefg")]
    pub username: String,
    pub issued_at: DateTime<Utc>,
    /// When the phone last fetched its configuration, if ever.
    pub last_fetch_at: Option<DateTime<Utc>>,
    /// The address it fetched from.
    #[schema(example = "203.0.113.7")]
    pub last_fetch_ip: Option<String>,
}

impl From<&ProvisioningInfo> for DeviceProvisioningView {
    fn from(p: &ProvisioningInfo) -> Self {
        Self {
            username: p.username.clone(),
            issued_at: p.issued_at,
            last_fetch_at: p.last_fetch_at,
            last_fetch_ip: p.last_fetch_ip.clone(),
        }
    }
}

/// A desk phone's new provisioning credentials, shown this once.
#[derive(Serialize, ToSchema)]
pub struct ProvisioningCredentialsView {
    pub device_id: Uuid,
    /// The HTTP Basic username.
    #[schema(example = "vxdevk3m9x4q2ab7cdefg")]
    pub username: String,
    /// The HTTP Basic password: shown only now.
    #[schema(example = "vxprov_kN3q8-2ZtVb2mKp9XwR4cNs8Ld3FHq7ZtVb2mKp9XwR")]
    pub password: String,
    /// Where a Yealink phone fetches its configuration.
    #[schema(example = "https://pbx.example.com/provisioning/805ec0123456.cfg")]
    pub yealink_url: String,
    /// Where a Polycom phone fetches its configuration.
    #[schema(example = "https://pbx.example.com/provisioning/805ec0123456.xml")]
    pub polycom_url: String,
}

impl ProvisioningCredentialsView {
    #[must_use]
    pub fn new(device: &Device, credentials: &ProvisioningCredentials, base_url: &str) -> Self {
        let file = format!("{}/provisioning/{}", base_url.trim_end_matches('/'), device.mac.as_str().replace(':', ""));
        Self {
            device_id: device.id,
            username: credentials.username.clone(),
            password: credentials.password.expose().to_owned(),
            yealink_url: format!("{file}.cfg"),
            polycom_url: format!("{file}.xml"),
        }
    }
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
            provisioning: d.provisioning.as_ref().map(DeviceProvisioningView::from),
        }
    }
}

page_of!(DevicePage, DeviceView);
