//! The black-box suite: every test starts the real server on port 0 over a
//! fresh database migrated by the real migrations, and talks HTTP to it.
//!
//! SQLite by default; set `VOXPORT_TEST_DATABASE_URL` to a PostgreSQL URL
//! (e.g. `postgres://postgres@127.0.0.1:5432/test`) to run the same tests
//! against PostgreSQL, each test in a database of its own.
//!
//! One test binary (kanidm's testkit note): linking once is what keeps the
//! suite fast.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

mod activation;
mod allowlist;
mod audit;
mod auth;
mod brute_force;
mod claims;
mod cli;
mod devices;
mod emails;
mod etag;
mod extensions;
mod helpers;
mod http;
mod idempotency;
mod import;
mod jobs;
mod me;
mod metrics;
mod oauth;
mod openapi;
mod outage;
mod password_reset;
mod phone_numbers;
mod provisioning;
mod purge;
mod registrar;
mod replicas;
mod roles;
mod scim;
mod setup;
mod smtp;
mod stations;
mod storms;
mod tenants;
mod two_factor;
mod users;
mod webhooks;
