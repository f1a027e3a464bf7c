//! Wiring: connect, migrate, bootstrap, load the signing key, and serve.

use std::{net::TcpListener, path::Path, sync::Arc, time::Duration as StdDuration};

use actix_web::{
    App, HttpServer,
    dev::{Server, ServerHandle},
    middleware::{Condition, from_fn},
};
use anyhow::Context as _;
use chrono::Duration;
use tracing_actix_web::TracingLogger;
use voxport_api::{Draining, ForwardedHeader, TrustedProxies};
use voxport_domain::{
    Voxport,
    auth::{PasswordHasher, TokenSettings, TokenSigner},
    crypto::{AtRestKey, SecretBox},
    services::{
        Courier, CourierReport, CourierSettings, DeliveryReport, Postman, PostmanSettings, ServiceSettings,
        load_signing_keys,
    },
    values::Login,
};
use voxport_persistence::{DatabaseSettings, SeaStore};

use crate::{
    config::{Checked, ForwardedHeaderSetting, Settings},
    mail::{LettreMailer, SmtpSettings},
    webhooks::HttpWebhookSender,
};

/// The audience every access token is issued for.
pub const AUDIENCE: &str = "voxport";

/// Connects to the database and applies pending migrations.
///
/// # Errors
/// When the database is unreachable or a migration fails.
pub async fn connect(settings: &Settings) -> anyhow::Result<SeaStore> {
    let store = SeaStore::connect(&DatabaseSettings {
        url: settings.database_url.clone(),
        max_connections: settings.database_max_connections,
        connect_timeout: std::time::Duration::from_secs(5),
        busy_timeout: std::time::Duration::from_millis(settings.database_busy_timeout_ms),
    })
    .await?;
    let pending = store.pending_migrations().await?;
    if pending > 0 {
        tracing::info!(pending, "applying migrations");
        store.migrate().await?;
        tracing::info!(pending, "migrations applied");
    }
    Ok(store)
}

/// Builds the application over a migrated store.
///
/// # Errors
/// When the signing key cannot be loaded or the hasher refuses its settings.
pub async fn voxport(store: SeaStore, settings: &Settings, checked: &Checked) -> anyhow::Result<Voxport<SeaStore>> {
    let at_rest = match &checked.secret_key {
        Some(key) => key.clone(),
        None => key_from_file(Path::new(&settings.secret_key_file))?,
    };
    let secrets = SecretBox::new(&at_rest);
    let (signing, others) = load_signing_keys(&store, &secrets, chrono::Utc::now(), checked.lifetimes.access)
        .await
        .context("reading the signing keys (is the at-rest key the one this database was set up with?)")?;
    let tokens = TokenSigner::with_keys(
        &signing,
        &others,
        TokenSettings {
            issuer: settings.public_base_url.clone(),
            audience: AUDIENCE.to_owned(),
            access_lifetime: checked.lifetimes.access,
        },
    )?;
    let threads = match settings.password_hash_concurrency {
        0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        n => n,
    };
    let hasher = PasswordHasher::new(checked.hashing, threads)?;
    let hours = |h: u64| Duration::hours(i64::try_from(h).unwrap_or(i64::MAX));
    let service = ServiceSettings {
        portal_url: settings.portal_url.clone().unwrap_or_else(|| settings.public_base_url.clone()),
        sip_domain: settings.sip_domain.clone(),
        sip_server: settings.sip_server.clone(),
        sip_port: settings.sip_port,
        link_lifetime: hours(settings.set_password_link_hours),
        idempotency_lifetime: hours(settings.idempotency_key_hours),
        throttle: checked.throttle,
        totp_issuer: settings.totp_issuer.clone(),
        auth_cache_lifetime: Duration::milliseconds(i64::try_from(settings.auth_cache_ms).unwrap_or(0)),
        webhook_allowed_networks: checked.webhook_allowed_networks.clone(),
    };
    Ok(Voxport::new(store, hasher, checked.policy, tokens, checked.lifetimes, secrets, service))
}

/// Reads the at-rest key from `path`, creating the file with a fresh key
/// (readable by its owner only) when it does not exist yet.
fn key_from_file(path: &Path) -> anyhow::Result<AtRestKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => AtRestKey::from_base64(&text)
            .map_err(|e| anyhow::anyhow!("setting `secret_key_file`: {} {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = AtRestKey::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).with_context(|| format!("creating {}", path.display()))?;
            std::io::Write::write_all(&mut file, key.to_base64().as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            tracing::warn!(
                path = %path.display(),
                "generated a new at-rest key; back it up: without it SIP secrets cannot be read, \
                 and every replica needs the same key (VOXPORT_SECRET_KEY)"
            );
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("setting `secret_key_file`: reading {}", path.display())),
    }
}

/// The outbox worker this process runs, over the configured transport.
pub type Outbox = Postman<SeaStore, LettreMailer>;

fn outbox(app: &Voxport<SeaStore>, settings: &Settings) -> anyhow::Result<Outbox> {
    let timeout = StdDuration::from_secs(settings.email_timeout_seconds);
    let smtp = settings.smtp_url.as_ref().map(|url| SmtpSettings {
        url: url.clone(),
        ca_file: settings.smtp_ca_file.as_ref().map(Into::into),
        timeout,
    });
    let mailer = LettreMailer::new(&settings.smtp_from, smtp.as_ref(), settings.mail_dir.clone().into())?;
    tracing::info!(transport = %mailer.describe(), "emails go out by");
    Ok(app.postman(
        mailer,
        PostmanSettings {
            send_timeout: timeout,
            max_attempts: settings.email_max_attempts,
            retry_base: Duration::seconds(i64::try_from(settings.email_retry_seconds).unwrap_or(30)),
            per_second: (settings.email_per_second > 0).then_some(settings.email_per_second),
            ..PostmanSettings::default()
        },
    ))
}

/// The webhook courier this process runs.
pub type WebhookCourier = Courier<SeaStore, HttpWebhookSender>;

fn courier(app: &Voxport<SeaStore>, settings: &Settings, checked: &Checked) -> anyhow::Result<WebhookCourier> {
    let timeout = StdDuration::from_secs(settings.webhook_timeout_seconds);
    let sender = HttpWebhookSender::new(timeout, checked.webhook_allowed_networks.clone())?;
    let seconds = |s: u64| Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX));
    Ok(app.courier(
        sender,
        CourierSettings {
            send_timeout: timeout + StdDuration::from_secs(1),
            retry_base: seconds(settings.webhook_retry_seconds),
            disable_after: seconds(settings.webhook_disable_after_seconds),
            ..CourierSettings::default()
        },
    ))
}

/// Runs import jobs whenever one is queued, and every second besides (a
/// job another replica queued, or one whose worker died).
async fn run_import_jobs(app: Arc<Voxport<SeaStore>>, queued: Arc<tokio::sync::Notify>) {
    loop {
        match voxport_api::import_worker::run_import_jobs(&app).await {
            Ok(ran) if ran > 0 => tracing::info!(jobs = ran, "ran import jobs"),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = ?e, "an import job stopped on a storage failure; it will be taken up again")
            }
        }
        tokio::select! {
            () = queued.notified() => {}
            () = tokio::time::sleep(StdDuration::from_secs(1)) => {}
        }
    }
}

/// Delivers due webhook events every `poll`.
async fn run_courier(courier: Arc<WebhookCourier>, poll: StdDuration) {
    loop {
        match courier.deliver_due(chrono::Utc::now).await {
            Ok(report) if report != CourierReport::default() => tracing::info!(?report, "delivered webhook events"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "the webhook courier could not reach storage; will retry"),
        }
        tokio::time::sleep(poll).await;
    }
}

/// Reads the signing keys every `key_reload_seconds` (at most
/// `services::KEY_RELOAD`), so that a rotation
/// (`voxport keys rotate`) reaches this replica before the new key signs.
async fn reload_keys(app: Arc<Voxport<SeaStore>>, every: StdDuration) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = app.reload_signing_keys(chrono::Utc::now()).await {
            tracing::warn!(error = ?e, "reloading the signing keys failed; signing with the ones in use");
        }
    }
}

/// Delivers due emails whenever one is written, and every `poll` besides;
/// forgets expired idempotency keys, links and counters now and then.
async fn run_outbox(
    outbox: Arc<Outbox>,
    app: Arc<Voxport<SeaStore>>,
    written: Arc<tokio::sync::Notify>,
    poll: StdDuration,
) {
    let mut last_purge: Option<chrono::DateTime<chrono::Utc>> = None;
    loop {
        match outbox.deliver_due(chrono::Utc::now).await {
            Ok(report) if report != DeliveryReport::default() => tracing::info!(?report, "delivered emails"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "the outbox worker could not reach storage; will retry"),
        }
        let now = chrono::Utc::now();
        if last_purge.is_none_or(|at| now - at > Duration::minutes(10)) {
            match app.purge(now).await {
                Ok(gone) if gone > 0 => tracing::info!(rows = gone, "forgot expired keys, links and counters"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "purging expired rows failed; will retry"),
            }
            last_purge = Some(now);
        }

        tokio::select! {
            () = written.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// `voxport keys rotate`: adds a signing key that signs `activate_in`
/// seconds from now. Answers its id and that time.
///
/// # Errors
/// When storage fails or the stored keys are refused.
pub async fn rotate_keys(
    settings: &Settings,
    checked: &Checked,
    activate_in: u32,
) -> anyhow::Result<(String, chrono::DateTime<chrono::Utc>)> {
    let store = connect(settings).await?;
    let app = voxport(store, settings, checked).await?;
    let now = chrono::Utc::now();
    let from = now + Duration::seconds(i64::from(activate_in));
    Ok((app.rotate_signing_key(from, now).await?, from))
}

/// Creates the platform tenant and its first operator on an empty
/// database, printing a generated password once.
///
/// # Errors
/// When the admin login or password is invalid, or storage fails.
pub async fn bootstrap(app: &Voxport<SeaStore>, settings: &Settings) -> anyhow::Result<()> {
    let login = Login::parse(&settings.admin_login).map_err(|e| anyhow::anyhow!("setting `admin_login`: {e}"))?;
    if let Some(done) = app.bootstrap(login, settings.admin_password.as_deref(), chrono::Utc::now()).await? {
        tracing::info!(login = %done.admin.login, "created the platform tenant and its first operator");
        if let Some(password) = done.generated_password {
            // Printed once, to the console only, never into the log stream.
            eprintln!(
                "\n  voxport: the first operator is `{}` with password\n\n      {}\n\n  Sign in and change it (POST /v1/me/password). It is not shown again.\n",
                done.admin.login,
                password.expose()
            );
        }
    }
    Ok(())
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    draining: Draining,
    outbox: Arc<Outbox>,
    voxport: Arc<Voxport<SeaStore>>,
}

impl Application {
    /// Connects, migrates, bootstraps and binds (port 0 picks a free port).
    ///
    /// # Errors
    /// When any step fails; the message names the cause.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let checked = settings.check()?;
        let store = connect(&settings).await?;
        let app = voxport(store.clone(), &settings, &checked).await?;
        bootstrap(&app, &settings).await?;
        let rewritten = app.refresh_digest_hashes(None).await.context("storing the SIP digest hashes")?;
        if rewritten > 0 {
            tracing::info!(rewritten, "stored the SIP digest hashes of existing extensions");
        }
        let outbox = Arc::new(outbox(&app, &settings)?);
        let voxport = Arc::new(app);
        tokio::spawn(reload_keys(voxport.clone(), StdDuration::from_secs(settings.key_reload_seconds)));
        if settings.email_worker {
            let poll = StdDuration::from_secs(settings.email_poll_seconds);
            tokio::spawn(run_outbox(outbox.clone(), voxport.clone(), voxport.outbox_signal(), poll));
        }

        if settings.import_worker {
            tokio::spawn(run_import_jobs(voxport.clone(), voxport.jobs_signal()));
        }
        if settings.webhook_worker {
            let courier = Arc::new(courier(&voxport, &settings, &checked)?);
            tokio::spawn(run_courier(courier, StdDuration::from_millis(settings.webhook_poll_ms)));
        }

        let metrics_port = match checked.metrics_bind {
            Some(bind) => {
                let (server, port) = crate::metrics::serve(bind, voxport.clone(), store)?;
                tokio::spawn(server);
                Some(port)
            }
            None => None,
        };
        let record_metrics = metrics_port.is_some();
        let listener = TcpListener::bind(checked.bind).with_context(|| format!("binding {}", checked.bind))?;
        let port = listener.local_addr().context("reading the bound address")?.port();
        let draining = Draining::default();
        let origins = settings.cors_origins.clone();
        let proxies = TrustedProxies {
            networks: checked.trusted_proxies.clone(),
            header: match settings.forwarded_header {
                ForwardedHeaderSetting::XForwardedFor => ForwardedHeader::XForwardedFor,
                ForwardedHeaderSetting::Forwarded => ForwardedHeader::Forwarded,
            },
        };
        let state = draining.clone();
        let served = voxport.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(voxport_api::preconditions::versions))
                .wrap(from_fn(voxport_api::idempotency::remember))
                .wrap(from_fn(voxport_api::request::context))
                .wrap(voxport_api::cors(&origins))
                .wrap(voxport_api::security_headers())
                .wrap(TracingLogger::default())
                .wrap(Condition::new(record_metrics, from_fn(voxport_api::metrics::record)))
                .configure(voxport_api::configure(served.clone(), state.clone(), proxies.clone()))
        })
        .disable_signals()
        .shutdown_timeout(checked.shutdown_timeout.as_secs());
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server.listen(listener).context("listening")?.run();
        tracing::info!(port, "voxport is listening");
        Ok(Self { port, metrics_port, server, draining, outbox, voxport })
    }

    /// This process's service, for the housekeeping a test drives itself.
    #[must_use]
    pub fn voxport(&self) -> Arc<Voxport<SeaStore>> {
        self.voxport.clone()
    }

    /// This process's outbox worker, to deliver due emails on demand.
    #[must_use]
    pub fn outbox(&self) -> Arc<Outbox> {
        self.outbox.clone()
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where `/metrics` is served, when it is.
    #[must_use]
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// A handle that stops the server: readiness turns 503 first, then
    /// in-flight requests finish (or time out) before the process exits.
    #[must_use]
    pub fn shutdown_handle(&self) -> Shutdown {
        Shutdown { server: self.server.handle(), draining: self.draining.clone() }
    }

    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

#[derive(Clone)]
pub struct Shutdown {
    server: ServerHandle,
    draining: Draining,
}

impl Shutdown {
    /// Readiness answers 503 from now on, so load balancers stop sending
    /// new requests; everything else keeps working.
    pub fn drain(&self) {
        self.draining.start();
    }

    /// Drains, then stops accepting and lets in-flight requests finish
    /// (up to the shutdown timeout).
    pub async fn stop(&self) {
        self.drain();
        self.server.stop(true).await;
    }
}

/// Waits for SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn stop_on_signals(shutdown: Shutdown) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: readiness is now 503, finishing in-flight requests");
    shutdown.stop().await;
}
