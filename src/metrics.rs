//! `/metrics` in the Prometheus text format, on its own address
//! (`metrics_bind`), through the `metrics` facade and its Prometheus
//! exporter. Off unless configured: the recorder is installed only then,
//! and every metric call elsewhere is a no-op without it.
//!
//! Besides what requests and sign-ins count as they happen, a sampler
//! reads every few seconds what has no event of its own: the database
//! pool and the email outbox's backlog. How long checkouts wait for a
//! pooled connection comes from the event sqlx emits for each
//! ([`pool_waits`]).

use std::{fmt, net::SocketAddr, sync::OnceLock, time::Duration};

use actix_web::{App, HttpResponse, HttpServer, dev::Server, web};
use anyhow::Context as _;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing::{
    Event, Level, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{Layer, filter::Targets, layer::Context, registry::LookupSpan};
use voxport_domain::Voxport;
use voxport_persistence::SeaStore;

/// Latency buckets for requests and hashing, in seconds.
const BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The process's recorder: one per process, however many servers it runs
/// (the tests start many).
fn handle() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .context("metric buckets")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// Serves `/metrics` on `bind` and samples what has no event of its own.
///
/// # Errors
/// When the recorder cannot be installed or the address not bound.
pub fn serve(
    bind: SocketAddr,
    app: std::sync::Arc<Voxport<SeaStore>>,
    store: SeaStore,
) -> anyhow::Result<(Server, u16)> {
    let handle = handle()?;
    tokio::spawn(sample(handle.clone(), app, store));
    let listener = std::net::TcpListener::bind(bind).with_context(|| format!("binding metrics to {bind}"))?;
    let port = listener.local_addr().context("reading the metrics address")?.port();
    let server = HttpServer::new(move || {
        let handle = handle.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let body = handle.render();
                async move { HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body) }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .context("listening for metrics")?
    .run();
    tracing::info!(port, "metrics are served at /metrics");
    Ok((server, port))
}

async fn sample(handle: PrometheusHandle, app: std::sync::Arc<Voxport<SeaStore>>, store: SeaStore) {
    loop {
        let (open, idle) = store.pool();
        metrics::gauge!("voxport_db_pool_connections").set(f64::from(open));
        metrics::gauge!("voxport_db_pool_idle").set(idle as f64);
        metrics::gauge!("voxport_db_pool_in_use").set(f64::from(open) - idle as f64);
        match app.outbox_backlog().await {
            Ok((waiting, oldest)) => {
                metrics::gauge!("voxport_outbox_backlog").set(waiting as f64);
                let age = oldest.map_or(0.0, |at| (chrono::Utc::now() - at).as_seconds_f64().max(0.0));
                metrics::gauge!("voxport_outbox_oldest_age_seconds").set(age);
            }
            Err(e) => tracing::warn!(error = ?e, "reading the outbox backlog failed"),
        }
        handle.run_upkeep();
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// A layer that records how long each database checkout waited for a
/// pooled connection (`voxport_db_pool_wait_seconds`), from the event
/// sqlx emits for every checkout (its `acquire_time_level`, which
/// `SeaStore::connect` sets). The rate of the histogram's sum is the
/// average number of requests waiting for a connection. Installed only
/// when metrics are served (`telemetry::init`).
pub fn pool_waits<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    PoolWaits.with_filter(Targets::new().with_target("sqlx::pool::acquire", Level::TRACE))
}

struct PoolWaits;

impl<S: Subscriber> Layer<S> for PoolWaits {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut waited = Waited(None);
        event.record(&mut waited);
        if let Some(seconds) = waited.0 {
            metrics::histogram!("voxport_db_pool_wait_seconds").record(seconds);
        }
    }
}

/// The `acquired_after_secs` field of sqlx's checkout event.
struct Waited(Option<f64>);

impl Visit for Waited {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == "acquired_after_secs" {
            self.0 = Some(value);
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
}
