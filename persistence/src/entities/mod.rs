//! sea-orm entities: the rows as stored. They never leave this crate; the
//! adapters turn them into domain types at the edge.

pub mod api_client_secrets;
pub mod api_client_tokens;
pub mod api_clients;
pub mod audit_events;
pub mod claims;
pub mod device_assignments;
pub mod device_provisioning;
pub mod devices;
pub mod extensions;
pub mod idempotency_keys;
pub mod import_jobs;
pub mod known_addresses;
pub mod login_throttle;
pub mod outbox;
pub mod password_tokens;
pub mod phone_numbers;
pub mod recovery_codes;
pub mod refresh_tokens;
pub mod roles;
pub mod scim_settings;
pub mod scim_tokens;
pub mod sessions;
pub mod signing_keys;
pub mod station_assignments;
pub mod stations;
pub mod tenant_user_counts;
pub mod tenants;
pub mod user_networks;
pub mod user_totp;
pub mod users;
pub mod webhook_attempts;
pub mod webhook_deliveries;
pub mod webhooks;
