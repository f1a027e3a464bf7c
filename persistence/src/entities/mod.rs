//! sea-orm entities: the rows as stored. They never leave this crate; the
//! adapters turn them into domain types at the edge.

pub mod device_assignments;
pub mod devices;
pub mod extensions;
pub mod idempotency_keys;
pub mod outbox;
pub mod password_tokens;
pub mod phone_numbers;
pub mod refresh_tokens;
pub mod roles;
pub mod sessions;
pub mod signing_keys;
pub mod station_assignments;
pub mod stations;
pub mod tenants;
pub mod users;
