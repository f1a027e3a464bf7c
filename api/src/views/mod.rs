//! What the API answers: the wire shapes of users, roles and tenants.
//! Field names are part of the contract (PRODUCT.md "Request and response
//! shapes"); keep them.

use serde::Serialize;
use utoipa::ToSchema;

use uuid::Uuid;
use voxport_domain::device::Holder;

/// Who a device, extension or phone number serves.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolderView {
    pub id: Uuid,
    #[schema(example = "jsmith@example.com")]
    pub login: String,
}

impl From<&Holder> for HolderView {
    fn from(h: &Holder) -> Self {
        Self { id: h.user_id, login: h.login.clone() }
    }
}

macro_rules! page_of {
    ($name:ident, $item:ty) => {
        /// One page of a list.
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// How many items match, over all pages.
            pub total: u64,
            pub page: u64,
            pub per_page: u64,
        }

        impl $name {
            pub fn new<T>(page: Page<T>, view: impl FnMut(&T) -> $item) -> Self {
                Self {
                    items: page.items.iter().map(view).collect(),
                    total: page.total,
                    page: page.page,
                    per_page: page.per_page,
                }
            }
        }
    };
}

mod api_clients;
mod audit;
mod claims;
mod devices;
mod emails;
mod extensions;
mod jobs;
mod phone_numbers;
mod roles;
mod scim_tokens;
mod stations;
mod tenants;
mod users;
mod webhooks;

pub use api_clients::*;
pub use audit::*;
pub use claims::*;
pub use devices::*;
pub use emails::*;
pub use extensions::*;
pub use jobs::*;
pub use phone_numbers::*;
pub use roles::*;
pub use scim_tokens::*;
pub use stations::*;
pub use tenants::*;
pub use users::*;
pub use webhooks::*;
