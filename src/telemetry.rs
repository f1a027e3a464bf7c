//! Logging: `RUST_LOG` filters (default `info`), pretty or JSON lines.
//! The filter is the log's own, so the metrics layer
//! ([`crate::metrics::pool_waits`]) sees the events it counts whatever
//! the log shows.

use tracing_subscriber::{EnvFilter, Layer as _, fmt, prelude::*};

use crate::config::LogFormat;

/// Installs the global subscriber, with the metrics layer when metrics are
/// served (without it, sqlx's per-checkout event is never even built); a
/// second call is a no-op (tests).
pub fn init(format: LogFormat, metrics: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(metrics.then(crate::metrics::pool_waits));
    let _ = match format {
        LogFormat::Json => registry.with(fmt::layer().json().with_current_span(true).with_filter(filter)).try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().with_writer(std::io::stderr).with_filter(filter)).try_init(),
    };
}

/// What the log shows when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn";
