//! `voxport import` and `voxport export` (issue 13): the same code path as
//! `POST /v1/users/import` and `GET /v1/users` as CSV, run on the
//! configured database (with a progress bar), or sent to a running server
//! (`--url` and a token).

use std::{
    path::Path,
    sync::atomic::{AtomicBool, Ordering},
    time::Duration,
};

use anyhow::{Context as _, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use voxport_api::{
    problem::RowError,
    routes::users::{COLUMNS, ImportModeParam, ImportReportView, export_page, export_row, read_csv, report},
};
use voxport_domain::{actor::Actor, permission::PermissionSet, services::ImportOptions, user::UserFilter};

use crate::{
    config::{Checked, Settings},
    startup,
};

/// Where the work runs.
pub enum Target<'a> {
    /// The configured database, in the tenant with this slug.
    Database { settings: &'a Settings, checked: &'a Checked, tenant: &'a str },
    /// A running server, as the bearer of `token`.
    Server { url: &'a str, token: &'a str },
}

/// What an import came to: the server's report, or its refusal's rows.
pub struct Imported {
    pub report: Option<ImportReportView>,
    pub errors: Vec<RowError>,
}

impl Imported {
    /// Whether every row passed (and, unless a dry run, was written).
    #[must_use]
    pub fn succeeded(&self) -> bool {
        self.errors.is_empty() && self.report.as_ref().is_some_and(|r| r.dry_run || r.committed)
    }
}

/// An import's progress bar, in two stages as the import goes: the rows
/// checked (their passwords hashed), then the rows written.
struct ImportBar {
    bar: ProgressBar,
    writing: AtomicBool,
}

impl ImportBar {
    fn new(rows: u64) -> anyhow::Result<Self> {
        let bar = ProgressBar::new(rows);
        bar.set_style(
            ProgressStyle::with_template("{prefix:8} {bar:40} {pos}/{len} rows  {per_sec}  {eta} left  {msg}")
                .context("the progress bar's template")?,
        );
        bar.set_prefix("checking");
        bar.enable_steady_tick(Duration::from_millis(200));
        Ok(Self { bar, writing: AtomicBool::new(false) })
    }

    fn show(&self, checked: u64, done: u64) {
        if checked < self.bar.length().unwrap_or(0) {
            self.bar.set_position(checked);
            return;
        }
        if !self.writing.swap(true, Ordering::Relaxed) {
            // Its rate and time left start again.
            self.bar.reset();
            self.bar.set_prefix("writing");
        }
        self.bar.set_position(done);
    }
}

async fn system_actor(
    settings: &Settings,
    checked: &Checked,
    slug: &str,
) -> anyhow::Result<(voxport_domain::Voxport<voxport_persistence::SeaStore>, Actor)> {
    let store = startup::connect(settings).await?;
    let app = startup::voxport(store, settings, checked).await?;
    let tenant =
        app.tenant_by_slug(slug).await?.with_context(|| format!("--tenant: no tenant has the slug {slug:?}"))?;
    let actor = Actor::system(tenant.id, PermissionSet::all());
    Ok((app, actor))
}

/// Imports `file` (CSV), showing progress on standard error.
///
/// # Errors
/// When the file cannot be read, the tenant or server cannot be reached,
/// or the file itself is refused (unknown columns, unreadable CSV).
pub async fn import(target: Target<'_>, file: &Path, dry_run: bool, mode: ImportModeParam) -> anyhow::Result<Imported> {
    let body = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    match target {
        Target::Database { settings, checked, tenant } => {
            let (app, actor) = system_actor(settings, checked, tenant).await?;
            let refs = app.import_references(&actor).await?;
            let rows = read_csv(&body, &refs, voxport_api::routes::users::JOB_MAX_ROWS).map_err(|e| {
                let fields: Vec<String> =
                    e.field_errors().iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
                anyhow!(
                    "{}: {}",
                    file.display(),
                    if fields.is_empty() { e.detail().to_owned() } else { fields.join("; ") }
                )
            })?;
            let bar = ImportBar::new(rows.len() as u64)?;
            let progress = |p: voxport_domain::services::ImportProgress| {
                bar.show(u64::from(p.checked), u64::from(p.done));
                if p.failed > 0 {
                    bar.bar.set_message(format!("{} failed", p.failed));
                }
            };
            let options = ImportOptions { progress: &progress, ..ImportOptions::new(mode.into(), dry_run) };
            let outcome = app.import_users(&actor, rows, options, chrono::Utc::now()).await?;
            bar.bar.finish_and_clear();
            let report = report(outcome, dry_run, mode);
            Ok(Imported { errors: report.errors.clone(), report: Some(report) })
        }
        Target::Server { url, token } => {
            let bar = ProgressBar::new_spinner();
            bar.set_message(format!("sending {} to {url}", file.display()));
            bar.enable_steady_tick(Duration::from_millis(120));
            let mode = voxport_domain::services::ImportMode::from(mode).as_str();
            let response = reqwest::Client::new()
                .post(format!("{}/v1/users/import?dry_run={dry_run}&mode={mode}", url.trim_end_matches('/')))
                .bearer_auth(token)
                .header(reqwest::header::CONTENT_TYPE, "text/csv")
                .body(body)
                .send()
                .await
                .with_context(|| format!("sending the file to {url}"))?;
            bar.finish_and_clear();
            let status = response.status();
            let answer: serde_json::Value = response.json().await.context("reading the server's answer")?;
            if status == reqwest::StatusCode::ACCEPTED {
                return follow_job(url, token, &answer).await;
            }
            if status.is_success() {
                let report: ImportReportView = serde_json::from_value(answer).context("reading the server's report")?;
                return Ok(Imported { errors: report.errors.clone(), report: Some(report) });
            }
            if answer["code"] == "import_rejected" {
                let errors = serde_json::from_value(answer["row_errors"].clone()).context("reading the row errors")?;
                return Ok(Imported { report: None, errors });
            }
            bail!("the server answered {status}: {}", answer["detail"].as_str().unwrap_or("no detail"))
        }
    }
}

/// Follows a job the server queued for a large file until it ends,
/// showing its progress.
async fn follow_job(url: &str, token: &str, job: &serde_json::Value) -> anyhow::Result<Imported> {
    let id = job["id"].as_str().context("the job's id")?;
    let total = job["rows_total"].as_u64().unwrap_or(0);
    let bar = ImportBar::new(total)?;
    // A per-row job checks and writes a chunk at a time: one stage.
    let one_stage = job["mode"] == "per_row" && job["dry_run"] == false;
    let client = reqwest::Client::new();
    let location = format!("{}/v1/jobs/{id}?errors_per_page=200", url.trim_end_matches('/'));
    let job = loop {
        let job: serde_json::Value =
            client.get(&location).bearer_auth(token).send().await?.error_for_status()?.json().await?;
        let checked = if one_stage { total } else { job["rows_checked"].as_u64().unwrap_or(0) };
        bar.show(checked, job["rows_done"].as_u64().unwrap_or(0));
        bar.bar.set_message(format!("job {id}: {}", job["state"].as_str().unwrap_or("?")));
        if ["succeeded", "failed", "cancelled"].contains(&job["state"].as_str().unwrap_or("")) {
            break job;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    bar.bar.finish_and_clear();
    // Every page of errors.
    let mut errors: Vec<RowError> = Vec::new();
    let total = usize::try_from(job["errors_total"].as_u64().unwrap_or(0)).unwrap_or(usize::MAX);
    let mut page = 1;
    while errors.len() < total {
        let more: serde_json::Value = client
            .get(format!("{location}&errors_page={page}"))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let batch: Vec<RowError> = serde_json::from_value(more["errors"].clone()).context("reading the row errors")?;
        if batch.is_empty() {
            break;
        }
        errors.extend(batch);
        page += 1;
    }
    let succeeded = job["state"] == "succeeded";
    let report = ImportReportView {
        dry_run: job["dry_run"].as_bool().unwrap_or(false),
        mode: job["mode"].as_str().unwrap_or_default().to_owned(),
        committed: succeeded && !job["dry_run"].as_bool().unwrap_or(false),
        rows: u32::try_from(job["rows_total"].as_u64().unwrap_or(0)).unwrap_or(u32::MAX),
        created: usize::try_from(job["rows_created"].as_u64().unwrap_or(0)).unwrap_or(0),
        failed: usize::try_from(job["rows_failed"].as_u64().unwrap_or(0)).unwrap_or(0),
        emails_queued: usize::try_from(job["emails_queued"].as_u64().unwrap_or(0)).unwrap_or(0),
        users: Vec::new(),
        errors: errors.clone(),
    };
    if !succeeded && errors.is_empty() {
        bail!("the job ended {}: {}", job["state"], job["error"].as_str().unwrap_or("no reason given"));
    }
    Ok(Imported { report: Some(report), errors })
}

/// Prints the summary table and, when rows failed, the errors table.
pub fn print_import(imported: &Imported, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let (created, emails) = imported.report.as_ref().map_or((0, 0), |r| (r.created, r.emails_queued));
    let written = imported.report.as_ref().is_some_and(|r| r.committed);
    let dry = imported.report.as_ref().is_some_and(|r| r.dry_run);
    let verb = if dry {
        "would be created"
    } else if written {
        "created"
    } else {
        "created (nothing written)"
    };
    let mut failed_rows: Vec<u32> = imported.errors.iter().map(|e| e.row).collect();
    failed_rows.dedup();
    writeln!(out, "{:<28} {:>8}", verb, if written || dry { created } else { 0 })?;
    writeln!(out, "{:<28} {:>8}", "failed", failed_rows.len())?;
    writeln!(out, "{:<28} {:>8}", "emails queued", emails)?;
    if imported.errors.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let width = |f: &dyn Fn(&RowError) -> usize, min: usize| imported.errors.iter().map(f).max().unwrap_or(0).max(min);
    let (col, code) = (width(&|e| e.column.len(), 6), width(&|e| e.code.len(), 4));
    writeln!(out, "{:>5}  {:<col$}  {:<code$}  message", "row", "column", "code")?;
    for e in &imported.errors {
        writeln!(out, "{:>5}  {:<col$}  {:<code$}  {}", e.row, e.column, e.code, e.message)?;
    }
    Ok(())
}

/// Writes every user of the tenant as CSV (the import's columns) to `out`.
///
/// # Errors
/// When the tenant or server cannot be reached, or writing fails.
pub async fn export(target: Target<'_>, out: &mut (impl std::io::Write + Send)) -> anyhow::Result<()> {
    match target {
        Target::Database { settings, checked, tenant } => {
            let (app, actor) = system_actor(settings, checked, tenant).await?;
            let codes = app.station_codes(&actor).await?;
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(COLUMNS)?;
            let mut after = None;
            loop {
                let (users, next) = export_page(&app, &actor, &UserFilter::default(), after).await?;
                for user in &users {
                    writer.write_record(export_row(user, &codes))?;
                }
                match next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            writer.flush()?;
            Ok(())
        }
        Target::Server { url, token } => {
            let mut response = reqwest::Client::new()
                .get(format!("{}/v1/users", url.trim_end_matches('/')))
                .bearer_auth(token)
                .header(reqwest::header::ACCEPT, "text/csv")
                .send()
                .await
                .with_context(|| format!("asking {url} for the users"))?;
            if !response.status().is_success() {
                bail!("the server answered {}", response.status());
            }
            while let Some(chunk) = response.chunk().await.context("reading the export")? {
                out.write_all(&chunk)?;
            }
            out.flush()?;
            Ok(())
        }
    }
}
