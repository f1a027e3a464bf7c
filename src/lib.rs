//! The voxport binary's library: configuration, wiring and start-up, so
//! the black-box tests start exactly the server `voxport serve` starts.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod bulk;
pub mod config;
pub mod mail;
pub mod metrics;
pub mod startup;
pub mod telemetry;
pub mod webhooks;
