//! Wiring: connect, migrate, bootstrap, load the signing key, and serve.

use std::{net::TcpListener, sync::Arc};

use actix_web::{App, HttpServer, dev::Server, dev::ServerHandle};
use anyhow::Context as _;
use tracing_actix_web::TracingLogger;
use voxport_api::{Draining, ForwardedHeader, TrustedProxies};
use voxport_domain::{
    Voxport,
    auth::{PasswordHasher, SigningKeySeed, TokenSettings, TokenSigner},
    ports::KeyStore as _,
    values::Login,
};
use voxport_persistence::{DatabaseSettings, SeaStore};

use crate::config::{Checked, ForwardedHeaderSetting, Settings};

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
    let key = store.signing_key(SigningKeySeed::generate()).await?;
    let tokens = TokenSigner::new(
        &key,
        TokenSettings {
            issuer: settings.public_base_url.clone(),
            audience: AUDIENCE.to_owned(),
            access_lifetime: checked.lifetimes.access,
        },
    )?;
    let hasher = PasswordHasher::new(checked.hashing, settings.password_hash_concurrency)?;
    Ok(Voxport::new(store, hasher, checked.policy, tokens, checked.lifetimes))
}

/// Creates the platform tenant and its first operator on an empty
/// database, printing a generated password once.
///
/// # Errors
/// When the admin login or password is invalid, or storage fails.
pub async fn bootstrap(app: &Voxport<SeaStore>, settings: &Settings) -> anyhow::Result<()> {
    let login = Login::parse(&settings.admin_login).map_err(|e| anyhow::anyhow!("setting `admin_login`: {e}"))?;
    if let Some(done) = app.bootstrap(login, settings.admin_password.as_deref()).await? {
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
    server: Server,
    draining: Draining,
}

impl Application {
    /// Connects, migrates, bootstraps and binds (port 0 picks a free port).
    ///
    /// # Errors
    /// When any step fails; the message names the cause.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let checked = settings.check()?;
        let store = connect(&settings).await?;
        let app = voxport(store, &settings, &checked).await?;
        bootstrap(&app, &settings).await?;

        let listener = TcpListener::bind(checked.bind).with_context(|| format!("binding {}", checked.bind))?;
        let port = listener.local_addr().context("reading the bound address")?.port();
        let draining = Draining::default();
        let voxport = Arc::new(app);
        let origins = settings.cors_origins.clone();
        let proxies = TrustedProxies {
            networks: checked.trusted_proxies.clone(),
            header: match settings.forwarded_header {
                ForwardedHeaderSetting::XForwardedFor => ForwardedHeader::XForwardedFor,
                ForwardedHeaderSetting::Forwarded => ForwardedHeader::Forwarded,
            },
        };
        let state = draining.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(voxport_api::cors(&origins))
                .wrap(voxport_api::security_headers())
                .wrap(TracingLogger::default())
                .configure(voxport_api::configure(voxport.clone(), state.clone(), proxies.clone()))
        })
        .disable_signals()
        .shutdown_timeout(checked.shutdown_timeout.as_secs());
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        let server = server.listen(listener).context("listening")?.run();
        tracing::info!(port, "voxport is listening");
        Ok(Self { port, server, draining })
    }

    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
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
