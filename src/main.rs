//! `voxport`: the provisioning and identity backend of a cloud phone system.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use voxport::{bulk, config::Settings, startup, telemetry};
use voxport_api::routes::users::ImportModeParam;
use voxport_domain::{
    services::NewPassword,
    values::{self, Login},
};

#[derive(Parser)]
#[command(name = "voxport", version, about)]
struct Cli {
    /// A TOML configuration file; `VOXPORT_*` variables override it.
    #[arg(long, env = "VOXPORT_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document as YAML.
    Openapi,
    /// Manage platform operators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage the token-signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Import users from a CSV file (the columns of POST /v1/users/import),
    /// with a progress bar; exits non-zero when any row fails.
    Import(ImportArgs),
    /// Write every user of a tenant as CSV to standard output.
    Export(ExportArgs),
}

#[derive(Args)]
struct Where {
    /// The tenant's slug (on the configured database).
    #[arg(long, required_unless_present = "url")]
    tenant: Option<String>,
    /// A running server to send to instead of the database.
    #[arg(long, requires = "token")]
    url: Option<String>,
    /// The bearer token for `--url`.
    #[arg(long, env = "VOXPORT_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[derive(Args)]
struct ImportArgs {
    /// The CSV file.
    file: PathBuf,
    #[command(flatten)]
    target: Where,
    /// Check every row and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// `all-or-nothing` (default) or `per-row`.
    #[arg(long, value_enum, default_value_t = Mode::AllOrNothing)]
    mode: Mode,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Mode {
    AllOrNothing,
    PerRow,
}

#[derive(Args)]
struct ExportArgs {
    #[command(flatten)]
    target: Where,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Add a new signing key. It is published in the JWK Set at once and
    /// signs from `--activate-in` on; the key in use goes on verifying
    /// until the tokens it signed have expired.
    Rotate(RotateKeys),
}

#[derive(Args)]
struct RotateKeys {
    /// Seconds until the new key signs: long enough for verifiers caching
    /// the JWK Set (300 s) and replicas reloading keys (60 s) to know it.
    /// 0 signs with it as soon as each replica reloads.
    #[arg(long, default_value_t = voxport_domain::services::KEY_ACTIVATION_SECONDS)]
    activate_in: u32,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a platform operator (Administrator of the platform tenant).
    Create(CreateAdmin),
}

#[derive(Args)]
#[group(required = true, multiple = false, id = "secret")]
struct Secret {
    /// The operator's password.
    #[arg(long)]
    password: Option<String>,
    /// Generate a password and print it once.
    #[arg(long)]
    generate_password: bool,
}

#[derive(Args)]
struct CreateAdmin {
    #[arg(long)]
    login: String,
    #[command(flatten)]
    secret: Secret,
}

/// jemalloc, not glibc's malloc: a password hash takes a 19 MiB work area,
/// and glibc raises its mmap threshold after the first free of one, so
/// later areas land in an arena that never shrinks (resident memory grew
/// by ~39 MB per sign-in burst and never came back). jemalloc purges such
/// large extents when they are freed, so memory returns to its idle level
/// (README.md, "Memory"; the resident-memory rows of BENCHMARKS.md). Its
/// options (a background purging thread, a one-second decay) are set where
/// it is built, in `.cargo/config.toml`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("voxport: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn target<'a>(w: &'a Where, settings: &'a Settings, checked: &'a voxport::config::Checked) -> bulk::Target<'a> {
    match (&w.url, &w.token, &w.tenant) {
        (Some(url), Some(token), _) => bulk::Target::Server { url, token },
        (_, _, tenant) => bulk::Target::Database { settings, checked, tenant: tenant.as_deref().unwrap_or_default() },
    }
}

async fn run(cli: Cli) -> anyhow::Result<std::process::ExitCode> {
    if let Some(Command::Openapi) = cli.command {
        let yaml = voxport_api::openapi().to_yaml().map_err(|e| anyhow::anyhow!("rendering the spec: {e}"))?;
        print!("{yaml}");
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let settings = Settings::load(cli.config.as_deref())?;
    let checked = settings.check()?;
    telemetry::init(settings.log_format, settings.metrics_bind.is_some());
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = startup::Application::build(settings).await?;
            let shutdown = app.shutdown_handle();
            tokio::spawn(startup::stop_on_signals(shutdown));
            app.run_until_stopped().await.context("serving")?;
        }
        Command::Migrate => {
            eprintln!("voxport: checking migrations...");
            startup::connect(&settings).await?;
            eprintln!("voxport: the database is up to date");
        }
        Command::Admin { command: AdminCommand::Create(args) } => {
            let store = startup::connect(&settings).await?;
            let app = startup::voxport(store, &settings, &checked).await?;
            startup::bootstrap(&app, &settings).await?;
            let login = Login::parse(&args.login).map_err(|e| anyhow::anyhow!("--login: {e}"))?;
            let password = match args.secret.password {
                Some(p) => NewPassword::Given(values::Secret::new(p)),
                None => NewPassword::Generate,
            };
            let created =
                app.create_operator(login, password, chrono::Utc::now()).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("created operator {} ({})", created.user.login, created.user.id);
            if let Some(p) = created.generated_password {
                println!("password: {}", p.expose());
            }
        }
        Command::Keys { command: KeysCommand::Rotate(args) } => {
            if args.activate_in < 360 {
                eprintln!(
                    "voxport: warning: a key that signs within 360 s may reach a verifier (another replica, \
                     or an integrator's cached JWK Set) before it knows the key; those tokens are refused \
                     until it does"
                );
            }
            let (kid, from) = startup::rotate_keys(&settings, &checked, args.activate_in).await?;
            println!("added signing key {kid}; it signs from {from}");
        }
        Command::Import(args) => {
            let mode = match args.mode {
                Mode::AllOrNothing => ImportModeParam::AllOrNothing,
                Mode::PerRow => ImportModeParam::PerRow,
            };
            let imported =
                bulk::import(target(&args.target, &settings, &checked), &args.file, args.dry_run, mode).await?;
            bulk::print_import(&imported, &mut std::io::stdout().lock())?;
            if !imported.succeeded() {
                return Ok(std::process::ExitCode::FAILURE);
            }
        }
        Command::Export(args) => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            bulk::export(target(&args.target, &settings, &checked), &mut out).await?;
        }
        Command::Openapi => {}
    }
    Ok(std::process::ExitCode::SUCCESS)
}
