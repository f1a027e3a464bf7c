//! The rules of voxport: parsed values, the model, the operations and the
//! ports they need. No web framework, ORM or OpenAPI crate is allowed here
//! (STYLE.md "Layout and layers").

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod actor;
pub mod allowlist;
pub mod api_client;
pub mod audit;
pub mod auth;
pub mod claim;
pub mod crypto;
pub mod deprovisioning;
pub mod device;
pub mod email;
pub mod errors;
pub mod extension;
pub mod idempotency;
pub mod job;
pub mod paging;
pub mod permission;
pub mod phone_number;
pub mod ports;
pub mod provisioning;
pub mod request;
pub mod role;
pub mod scim_token;
pub mod services;
pub mod station;
pub mod tenant;
pub mod throttle;
pub mod user;
pub mod values;
pub mod webhook;

pub use services::Voxport;
