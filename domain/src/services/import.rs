//! Bulk onboarding (issue 13): many one-call set-ups at once, each row
//! held to the same rules as `POST /v1/users`, and the file as a whole too.
//!
//! Every row is written in one transaction, each in a part of its own
//! (a savepoint): a row that fails is undone alone, and the rows after it
//! meet what the rows before it took (a login, an extension number, a
//! device, a number, the last licence of a pool), exactly as they would
//! one after the other. Then `AllOrNothing` commits only when no row
//! failed, `PerRow` commits the rows that passed, and a dry run commits
//! nothing. Rows asking for the same login, extension, number or device as
//! an earlier row of the file are refused naming that row, before anything
//! is written, even when the file is written a chunk at a time
//! ([`Repeats`]).

use std::collections::{HashMap, hash_map::Entry};

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{CreateUser, ExtensionRequest, Voxport, WrittenUser, users::Lookups};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    errors::CreateUserError,
    job::{ClaimedImportJob, ImportJob, JobCheckpoint, JobState, NewImportJob, file_context},
    paging::PageRequest,
    ports::{JobCounts, JobReport, ProvisionTx as _, Store},
};

/// What happens to the rows that pass when others fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Any failure writes nothing.
    AllOrNothing,
    /// The rows that pass are created; the others are reported.
    PerRow,
}

impl ImportMode {
    /// Its name in the API and in storage.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllOrNothing => "all_or_nothing",
            Self::PerRow => "per_row",
        }
    }

    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::AllOrNothing, Self::PerRow].into_iter().find(|m| m.as_str() == raw)
    }
}

/// A row read from a file: its number, and the set-up it asks for or what
/// is wrong with it.
#[derive(Debug)]
pub struct ImportRow {
    /// The record's line in a CSV file (the header is line 1), or its
    /// position from 1 in a JSON array.
    pub row: u32,
    pub parsed: Result<CreateUser, Vec<ColumnProblem>>,
}

/// What is wrong with one value of a row as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnProblem {
    pub column: String,
    /// `validation_failed`, or `not_found` for a reference to nothing.
    pub code: &'static str,
    pub message: String,
}

/// Why a row was not created.
#[derive(Debug)]
pub enum RowFailure {
    /// Its values, as read.
    Invalid(Vec<ColumnProblem>),
    /// It asks for what an earlier row of the file asks for.
    SameAs { column: &'static str, row: u32 },
    /// The same refusal `POST /v1/users` answers.
    Refused(CreateUserError),
}

#[derive(Debug, Default)]
pub struct ImportOutcome {
    pub rows: u32,
    /// The rows created (or, in a dry run or a refused all-or-nothing
    /// import, that would be), by row.
    pub created: Vec<(u32, WrittenUser)>,
    pub failures: Vec<(u32, RowFailure)>,
    /// Whether the created rows were written.
    pub committed: bool,
    /// The job it ran for was cancelled or taken over: nothing was written.
    pub interrupted: bool,
}

impl ImportOutcome {
    /// Welcome emails written.
    #[must_use]
    pub fn emails_queued(&self) -> usize {
        if self.committed { self.created.iter().filter(|(_, c)| c.welcome_email).count() } else { 0 }
    }
}

/// How an import runs.
pub struct ImportOptions<'a> {
    pub mode: ImportMode,
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// The job a chunk belongs to: it moves on in the chunk's transaction.
    pub checkpoint: Option<JobCheckpoint>,
    /// Told after each row.
    pub progress: &'a (dyn Fn(ImportProgress) + Send + Sync),
    /// The repeats of the whole file, when these rows are a chunk of it;
    /// otherwise the rows are the file.
    pub repeats: Option<&'a Repeats>,
}

impl<'a> ImportOptions<'a> {
    /// In `mode`, once, with no one watching.
    #[must_use]
    pub fn new(mode: ImportMode, dry_run: bool) -> Self {
        Self { mode, dry_run, checkpoint: None, progress: &|_| {}, repeats: None }
    }
}

/// The rows of a file that ask for a login, extension, number or device an
/// earlier row of it asks for: by row, the column and that earlier row.
#[derive(Debug, Default)]
pub struct Repeats(HashMap<u32, (&'static str, u32)>);

impl Repeats {
    /// Of `rows`, a whole file in order.
    #[must_use]
    pub fn of(rows: &[ImportRow]) -> Self {
        let mut claimed = Claimed::default();
        Self(
            rows.iter()
                .filter_map(|r| claimed.check(r.row, r.parsed.as_ref().ok()?).map(|earlier| (r.row, earlier)))
                .collect(),
        )
    }
}

/// What a job is asked to import.
#[derive(Debug, Clone, Copy)]
pub struct JobRequest<'a> {
    pub file: &'a [u8],
    /// `text/csv` or `application/json`.
    pub content_type: &'a str,
    pub rows_total: u32,
    pub mode: ImportMode,
    pub dry_run: bool,
}

/// How far an import is, of `rows`. It goes through its rows twice: it
/// checks every row (and hashes its password) first, with nothing locked,
/// then writes the rows that passed, in one transaction (a `per_row` job
/// does this a chunk at a time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportProgress {
    pub rows: u32,
    /// Rows checked (or refused while checked).
    pub checked: u32,
    /// Rows written (or refused), in a transaction not yet committed.
    pub done: u32,
    pub failed: u32,
}

/// The human references a file uses instead of ids, of one tenant: role
/// names (case-insensitive), station codes, numbers and MAC addresses.
#[derive(Debug, Default)]
pub struct ImportReferences {
    pub roles: HashMap<String, Uuid>,
    pub stations: HashMap<String, Uuid>,
    pub station_codes: HashMap<Uuid, String>,
    pub phone_numbers: HashMap<String, Uuid>,
    pub devices: HashMap<String, Uuid>,
}

impl<S: Store> Voxport<S> {
    /// A tenant by its slug, for the command line.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn tenant_by_slug(&self, slug: &str) -> anyhow::Result<Option<crate::tenant::Tenant>> {
        let Some(platform) = self.store.platform_tenant().await? else { return Ok(None) };
        if platform.slug.as_str() == slug {
            return Ok(Some(platform));
        }
        let mut page = Some(PageRequest::walk());
        while let Some(this) = page {
            let below = self.store.list_tenants_below(platform.id, Some(slug), this).await?;
            if let Some(found) = below.items.iter().find(|t| t.slug.as_str() == slug) {
                return Ok(Some(found.clone()));
            }
            page = this.following(below.total);
        }
        Ok(None)
    }

    /// The references of the actor's tenant, to read a file by.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn import_references(&self, actor: &Actor) -> anyhow::Result<ImportReferences> {
        let tenant = actor.tenant_id;
        let mut refs = ImportReferences::default();
        let mut page = PageRequest::walk();
        loop {
            let roles = self.store.list_roles(tenant, page).await?;
            refs.roles.extend(roles.items.iter().map(|r| (r.name.as_str().to_lowercase(), r.id)));
            let stations = self.store.list_stations(tenant, page).await?;
            for s in &stations.items {
                refs.stations.insert(s.code.as_str().to_owned(), s.id);
                refs.station_codes.insert(s.id, s.code.as_str().to_owned());
            }
            let numbers = self.store.list_phone_numbers(tenant, None, None, page).await?;
            refs.phone_numbers.extend(numbers.items.iter().map(|n| (n.number.as_str().to_owned(), n.id)));
            let devices = self.store.list_devices(tenant, false, page).await?;
            refs.devices.extend(devices.items.iter().map(|d| (d.mac.as_str().to_owned(), d.id)));
            let longest = [roles.total, stations.total, numbers.total, devices.total].into_iter().max().unwrap_or(0);
            match page.following(longest) {
                Some(next) => page = next,
                None => return Ok(refs),
            }
        }
    }

    /// The codes of the actor's tenant's station pools, by id: how an
    /// export or a SCIM resource names a user's licence.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn station_codes(&self, actor: &Actor) -> anyhow::Result<HashMap<Uuid, String>> {
        let mut codes = HashMap::new();
        let mut page = Some(PageRequest::walk());
        while let Some(this) = page {
            let stations = self.store.list_stations(actor.tenant_id, this).await?;
            codes.extend(stations.items.iter().map(|s| (s.id, s.code.as_str().to_owned())));
            page = this.following(stations.total);
        }
        Ok(codes)
    }

    /// Creates the users `rows` ask for (see the module's documentation).
    ///
    /// # Errors
    /// When storage fails; a refused row is reported, not returned.
    pub async fn import_users(
        &self,
        actor: &Actor,
        rows: Vec<ImportRow>,
        options: ImportOptions<'_>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ImportOutcome> {
        let ImportOptions { mode, dry_run, checkpoint, progress, repeats } = options;
        let mut outcome = ImportOutcome { rows: u32::try_from(rows.len()).unwrap_or(u32::MAX), ..Default::default() };
        let own;
        let repeats = match repeats {
            Some(file) => file,
            None => {
                own = Repeats::of(&rows);
                &own
            }
        };
        let mut wanted = Vec::new();
        for ImportRow { row, parsed } in rows {
            match parsed {
                Err(problems) => outcome.failures.push((row, RowFailure::Invalid(problems))),
                Ok(req) => match repeats.0.get(&row) {
                    Some(&(column, first)) => outcome.failures.push((row, RowFailure::SameAs { column, row: first })),
                    None => wanted.push((row, req)),
                },
            }
        }
        let mut prepared = Vec::with_capacity(wanted.len());
        let refused_as_read = u32::try_from(outcome.failures.len()).unwrap_or(u32::MAX);
        let mut seen = ImportProgress { rows: outcome.rows, checked: refused_as_read, ..ImportProgress::default() };
        let mut lookups = Lookups::default();
        for (row, req) in wanted {
            match self.prepare_user(actor, req, !dry_run, &mut lookups).await {
                Ok(p) => prepared.push((row, p)),
                Err(CreateUserError::Unknown(e)) => return Err(e),
                Err(e) => outcome.failures.push((row, RowFailure::Refused(e))),
            }
            seen.checked += 1;
            seen.failed = u32::try_from(outcome.failures.len()).unwrap_or(u32::MAX);
            progress(seen);
        }
        // Rows refused while checked are done with.
        seen.done = seen.failed;
        let mut tx = self.store.begin_provisioning(now).await?;
        // The pools the rows take licences from, locked for the whole
        // transaction and in one order: a row refused for a full pool is
        // then refused, and a row given a licence keeps it (rule 2).
        let mut pools: Vec<Uuid> = prepared.iter().filter_map(|(_, p)| p.station()).collect();
        pools.sort_unstable();
        pools.dedup();
        tx.lock_stations(actor.tenant_id, &pools).await?;
        for (row, p) in prepared {
            tx.begin_part().await?;
            match self.write_user(&mut tx, actor, p, now).await {
                Ok(created) => {
                    tx.end_part(true).await?;
                    outcome.created.push((row, created));
                }
                Err(CreateUserError::Unknown(e)) => return Err(e),
                Err(e) => {
                    tx.end_part(false).await?;
                    outcome.failures.push((row, RowFailure::Refused(e)));
                }
            }
            seen.done += 1;
            seen.failed = u32::try_from(outcome.failures.len()).unwrap_or(u32::MAX);
            progress(seen);
        }
        outcome.failures.sort_by_key(|(row, _)| *row);
        let commit =
            !dry_run && !outcome.created.is_empty() && (mode == ImportMode::PerRow || outcome.failures.is_empty());
        if !commit {
            tx.rollback().await?;
            return Ok(outcome);
        }
        if let Some(checkpoint) = &checkpoint {
            let counts = JobCounts {
                rows_next: checkpoint.rows_next,
                created: u32::try_from(outcome.created.len()).unwrap_or(u32::MAX),
                failed: u32::try_from(outcome.failures.len()).unwrap_or(u32::MAX),
                emails: u32::try_from(outcome.created.iter().filter(|(_, c)| c.welcome_email).count()).unwrap_or(0),
            };
            if !tx.advance_job(checkpoint, counts).await? {
                tx.rollback().await?;
                outcome.interrupted = true;
                return Ok(outcome);
            }
        } else {
            // A job records its one event when it ends.
            let audit =
                AuditEvent::by(actor, AuditAction::UsersImported, TargetType::Tenant, Some(actor.tenant_id), now).with(
                    json!({
                        "rows": outcome.rows,
                        "created": outcome.created.len(),
                        "failed": outcome.failures.len(),
                        "mode": mode.as_str(),
                        "users": outcome.created.iter().map(|(_, c)| c.id).collect::<Vec<_>>(),
                    }),
                );
            tx.record(&audit).await?;
        }
        tx.commit().await?;
        outcome.committed = true;
        if outcome.emails_queued() > 0 {
            self.outbox.notify_one();
        }
        tracing::info!(
            actor = %actor.caller_id(), created = outcome.created.len(), failed = outcome.failures.len(), "imported users"
        );
        Ok(outcome)
    }
}

/// The one `users.imported` event of job `job`, ending in `state` as `actor`.
fn imported(actor: &Actor, job: &ImportJob, state: JobState, now: DateTime<Utc>) -> AuditEvent {
    AuditEvent::by(actor, AuditAction::UsersImported, TargetType::Tenant, Some(job.tenant_id), now).with(json!({
        "job_id": job.id,
        "state": state.as_str(),
        "rows": job.rows_total,
        "created": job.rows_created,
        "failed": job.rows_failed,
        "mode": job.mode.as_str(),
    }))
}

/// What the rows of a file asked for so far, and which row first did.
#[derive(Default)]
struct Claimed {
    logins: HashMap<String, u32>,
    extensions: HashMap<String, u32>,
    numbers: HashMap<Uuid, u32>,
    devices: HashMap<Uuid, u32>,
}

impl Claimed {
    /// The column and the earlier row when `req` asks for what an earlier
    /// row asked for; otherwise records what it asks for.
    fn check(&mut self, row: u32, req: &CreateUser) -> Option<(&'static str, u32)> {
        let extension = match &req.telephony.extension {
            Some(ExtensionRequest::New(new)) => Some(new.number.as_str().to_owned()),
            Some(ExtensionRequest::Existing(id)) => Some(id.to_string()),
            None => None,
        };
        fn taken<K: std::hash::Hash + Eq>(map: &HashMap<K, u32>, key: &K) -> Option<u32> {
            map.get(key).copied()
        }
        let login = req.login.as_str().to_lowercase();
        if let Some(first) = taken(&self.logins, &login) {
            return Some(("login", first));
        }
        if let Some(first) = extension.as_ref().and_then(|e| taken(&self.extensions, e)) {
            return Some(("extension", first));
        }
        if let Some(first) = req.telephony.phone_number_id.and_then(|n| taken(&self.numbers, &n)) {
            return Some(("phone_number", first));
        }
        if let Some(first) = req.telephony.device.and_then(|d| taken(&self.devices, &d.id)) {
            return Some(("device_mac", first));
        }
        fn first_holds<K: std::hash::Hash + Eq>(map: &mut HashMap<K, u32>, key: K, row: u32) {
            if let Entry::Vacant(v) = map.entry(key) {
                v.insert(row);
            }
        }
        first_holds(&mut self.logins, login, row);
        if let Some(e) = extension {
            first_holds(&mut self.extensions, e, row);
        }
        if let Some(n) = req.telephony.phone_number_id {
            first_holds(&mut self.numbers, n, row);
        }
        if let Some(d) = req.telephony.device {
            first_holds(&mut self.devices, d.id, row);
        }
        None
    }
}

impl<S: Store> Voxport<S> {
    /// Queues an import job for the actor, with the actor's permissions;
    /// `file` is sealed at rest (it may hold passwords).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn submit_import_job(
        &self,
        actor: &Actor,
        request: JobRequest<'_>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<ImportJob> {
        let JobRequest { file, content_type, rows_total, mode, dry_run } = request;
        let id = Uuid::now_v7();
        let job = NewImportJob {
            id,
            tenant_id: actor.tenant_id,
            home_tenant_id: actor.home_tenant_id,
            created_by: actor.person(),
            client_id: actor.client_id,
            permissions: actor.permissions.clone(),
            content_type: content_type.to_owned(),
            sealed_file: self.secrets.seal(file, &file_context(id))?,
            mode,
            dry_run,
            rows_total,
        };
        self.store.create_import_job(job, now).await?;
        self.jobs.notify_one();
        tracing::info!(actor = %actor.caller_id(), job = %id, rows = rows_total, "queued an import job");
        self.store.import_job(actor.tenant_id, id).await?.ok_or_else(|| anyhow::anyhow!("a new job vanished"))
    }

    /// # Errors
    /// When storage fails.
    pub async fn import_job(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<ImportJob>> {
        self.store.import_job(actor.tenant_id, id).await
    }

    /// Cancels a job that has not finished. Unless it is a dry run, it
    /// records the import's one `users.imported` event, as cancelled, by
    /// whoever cancelled it, with what it wrote (a `per_row` job's
    /// committed chunks).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn cancel_import_job(
        &self,
        actor: &Actor,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<ImportJob>> {
        let audit = |job: &ImportJob| (!job.dry_run).then(|| imported(actor, job, job.state, now));
        self.store.cancel_import_job(actor.tenant_id, id, audit, now).await
    }

    /// Leases the next job to run, with its file opened and the actor it
    /// runs as: whoever submitted it, as they are now (PRODUCT.md rule 7),
    /// with no more than the permissions they had then. A submitter who
    /// can no longer act (deleted, switched off, expired, a client
    /// disabled) is the reason the job cannot run.
    ///
    /// # Errors
    /// When storage fails or the file cannot be opened.
    pub async fn claim_import_job(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        lease: Uuid,
    ) -> anyhow::Result<Option<(ClaimedImportJob, Vec<u8>, Result<Actor, String>)>> {
        let Some(claimed) = self.store.claim_import_job(now, lease_until, lease).await? else { return Ok(None) };
        let job = &claimed.job;
        let file = self.secrets.open(&job.sealed_file, &file_context(job.id))?;
        let current = match (job.client_id, job.created_by) {
            (Some(client), _) => self
                .store
                .api_client(job.home_tenant_id, client)
                .await?
                .filter(|c| c.active(now))
                .map(|c| c.permissions),
            (None, Some(person)) => self
                .store
                .principal(job.home_tenant_id, person)
                .await?
                .filter(|p| p.status(now) == crate::user::UserStatus::Active)
                .map(|p| p.role.permissions),
            (None, None) => Some(job.permissions.clone()),
        };
        let actor = current
            .map(|permissions| Actor {
                user_id: job.created_by.unwrap_or_else(Uuid::nil),
                tenant_id: job.tenant_id,
                home_tenant_id: job.home_tenant_id,
                session_id: Uuid::nil(),
                permissions: job.permissions.intersection(&permissions),
                ip: None,
                client_id: job.client_id,
            })
            .ok_or_else(|| "whoever submitted the job can no longer act".to_owned());
        Ok(Some((claimed, file, actor)))
    }

    /// Holds a job's lease on while a long chunk runs.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn renew_import_job(&self, id: Uuid, lease: Uuid, until: DateTime<Utc>) -> anyhow::Result<bool> {
        let report = JobReport { lease_until: Some(until), ..JobReport::default() };
        self.store.report_import_job(id, lease, report, Utc::now()).await
    }

    /// # Errors
    /// When storage fails.
    pub async fn note_import_job(&self, id: Uuid, lease: Uuid, rows_checked: u32) -> anyhow::Result<bool> {
        self.store.note_import_job(id, lease, rows_checked, Utc::now()).await
    }

    /// # Errors
    /// When storage fails.
    pub async fn report_import_job(
        &self,
        id: Uuid,
        lease: Uuid,
        report: JobReport,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        self.store.report_import_job(id, lease, report, now).await
    }

    /// Ends job `id`, run under `lease`, in `state`. For a job that ran as
    /// `actor` and was no dry run, this records the import's one
    /// `users.imported` event, with the job's counts (each created user
    /// has its own `user.created`).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn finish_import_job(
        &self,
        actor: Option<&Actor>,
        job: &NewImportJob,
        lease: Uuid,
        state: JobState,
        error: Option<String>,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let audit = match actor {
            // Only this lease's holder moves the counts on.
            Some(actor) if !job.dry_run => {
                self.store.import_job(job.tenant_id, job.id).await?.map(|counts| imported(actor, &counts, state, now))
            }
            _ => None,
        };
        let finished = self.store.finish_import_job(job.id, lease, state, error, audit.as_ref(), now).await?;
        if finished {
            tracing::info!(job = %job.id, state = state.as_str(), "an import job ended");
        }
        Ok(finished)
    }

    /// Notified whenever a job is queued.
    #[must_use]
    pub fn jobs_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.jobs.clone()
    }
}
