//! The schema of voxport, one migration per file, applied in order at
//! start-up and by `voxport migrate`. The same migrations serve SQLite and
//! PostgreSQL. A migration that has landed is never edited: change the
//! schema with a new one.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_foundation;
mod m20261123_000002_stations;
mod m20261123_000003_devices;
mod m20261125_000004_telephony;
mod m20261125_000005_security;
mod m20261201_000006_known_addresses;
mod m20261201_000007_list_indexes;
mod m20261202_000008_request_ids;
mod m20261202_000009_claims;
mod m20261202_000010_key_rotation;
mod m20261202_000011_sip_digests;
mod m20261202_000012_device_provisioning;
mod m20261202_000013_api_clients;
mod m20261202_000014_webhooks;
mod m20261202_000015_resource_versions;
mod m20261202_000016_import_jobs;
mod m20261203_000017_idempotency_commits;
mod m20261203_000018_import_job_attempts;
mod m20261203_000019_scim;
mod m20261204_000020_import_job_checked;
mod m20261204_000021_user_counts;
mod m20261204_000022_sqlite_user_search;
mod m20261204_000023_user_search_pending_list;
mod m20261205_000024_station_check_at_commit;
mod m20261205_000025_outbox_waiting_index;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_stations::Migration),
            Box::new(m20261123_000003_devices::Migration),
            Box::new(m20261125_000004_telephony::Migration),
            Box::new(m20261125_000005_security::Migration),
            Box::new(m20261201_000006_known_addresses::Migration),
            Box::new(m20261201_000007_list_indexes::Migration),
            Box::new(m20261202_000008_request_ids::Migration),
            Box::new(m20261202_000009_claims::Migration),
            Box::new(m20261202_000010_key_rotation::Migration),
            Box::new(m20261202_000011_sip_digests::Migration),
            Box::new(m20261202_000012_device_provisioning::Migration),
            Box::new(m20261202_000013_api_clients::Migration),
            Box::new(m20261202_000014_webhooks::Migration),
            Box::new(m20261202_000015_resource_versions::Migration),
            Box::new(m20261202_000016_import_jobs::Migration),
            Box::new(m20261203_000017_idempotency_commits::Migration),
            Box::new(m20261203_000018_import_job_attempts::Migration),
            Box::new(m20261203_000019_scim::Migration),
            Box::new(m20261204_000020_import_job_checked::Migration),
            Box::new(m20261204_000021_user_counts::Migration),
            Box::new(m20261204_000022_sqlite_user_search::Migration),
            Box::new(m20261204_000023_user_search_pending_list::Migration),
            Box::new(m20261205_000024_station_check_at_commit::Migration),
            Box::new(m20261205_000025_outbox_waiting_index::Migration),
        ]
    }
}
