//! `POST /v1/users/import`: many one-call set-ups at once, from a CSV file
//! with human references (role names, station codes, numbers, MAC
//! addresses) or a JSON array of `POST /v1/users` bodies (issue 13).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use chrono::Utc;
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use voxport_domain::{
    Voxport,
    device::MacAddress,
    permission::Permission,
    phone_number::E164,
    ports::Store,
    services::{
        ColumnProblem, ImportMode, ImportOptions, ImportOutcome, ImportReferences, ImportRow, JobRequest, NewPassword,
        RowFailure,
    },
};

use super::{bodies::CreateUserBody, parse::parse_create_user};
use crate::{
    extract::{Auth, Query},
    problem::{ApiError, FieldError, Problem, RowError},
    responses::{Forbidden, Unauthenticated},
};

/// The most rows imported within the request; a larger file runs as a
/// job (`202`, `Location: /v1/jobs/{id}`).
pub const IMPORT_MAX_ROWS: usize = 1_000;
/// The largest file an import takes.
pub const JOB_MAX_BYTES: usize = 16 * 1024 * 1024;
/// The most rows an import takes.
pub const JOB_MAX_ROWS: usize = 100_000;

/// The columns of an import (and of a CSV export), in order.
pub const COLUMNS: &[&str] = &[
    "login",
    "email",
    "first_name",
    "last_name",
    "role",
    "password",
    "extension",
    "extension_type",
    "phone_number",
    "station",
    "device_mac",
    "device_ports",
    "applications",
    "timezone",
    "language",
    "activation_at",
    "expires_at",
    "send_welcome_email",
];

#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ImportModeParam {
    /// One error writes nothing (the default).
    #[default]
    AllOrNothing,
    /// The rows that pass are created, the others reported.
    PerRow,
}

impl From<ImportModeParam> for ImportMode {
    fn from(mode: ImportModeParam) -> Self {
        match mode {
            ImportModeParam::AllOrNothing => ImportMode::AllOrNothing,
            ImportModeParam::PerRow => ImportMode::PerRow,
        }
    }
}

impl From<ImportMode> for ImportModeParam {
    fn from(mode: ImportMode) -> Self {
        match mode {
            ImportMode::AllOrNothing => ImportModeParam::AllOrNothing,
            ImportMode::PerRow => ImportModeParam::PerRow,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check every row, and the file as a whole, and write nothing.
    pub dry_run: Option<bool>,
    /// `all_or_nothing` (default) or `per_row`.
    pub mode: Option<ImportModeParam>,
}

/// One created (or, in a dry run, creatable) user.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportedUserView {
    pub row: u32,
    pub id: Uuid,
    pub login: String,
    /// A password generated for the row (`generate_password`), shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

/// What an import did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportReportView {
    pub dry_run: bool,
    #[schema(example = "all_or_nothing")]
    pub mode: String,
    /// Whether the created rows were written.
    pub committed: bool,
    pub rows: u32,
    pub created: usize,
    pub failed: usize,
    pub emails_queued: usize,
    pub users: Vec<ImportedUserView>,
    /// Each problem of each row that failed.
    pub errors: Vec<RowError>,
}

/// Import users
///
/// Sets up many users at once, each row held to every rule of `POST
/// /v1/users` and the file as a whole too: licence counts over the file,
/// two rows asking for one login, extension, number or device, references
/// that do not exist. Send `text/csv` (UTF-8 with or without a BOM, comma
/// or semicolon separated, a header row naming the columns `login`,
/// `email`, `first_name`, `last_name`, `role` (the role's name),
/// `password` (empty: a set-password link), `extension`,
/// `extension_type`, `phone_number` (any common spelling), `station` (the
/// pool's code), `device_mac`, `device_ports`, `applications` (separated
/// by `;`), `timezone`, `language`, `activation_at`, `expires_at`,
/// `send_welcome_email`; unknown columns are refused) or a JSON array of
/// `POST /v1/users` bodies. `mode=all_or_nothing` (default) writes nothing
/// if any row fails (422 `import_rejected` with `row_errors`);
/// `mode=per_row` creates the rows that pass and reports the others. A
/// row is the record's line in a CSV file (the header is line 1), or its
/// position from 1 in a JSON array; errors carry the codes `POST
/// /v1/users` answers. Up to 1,000 rows are imported within the request;
/// a larger file (at most 100,000 rows and 16 MiB) runs as a job: `202`
/// with `Location: /v1/jobs/{id}`. Needs `users:write` (and
/// `extensions:write` for extensions).
#[utoipa::path(
    post, path = "/v1/users/import", tag = "users", operation_id = "import_users",
    params(ImportParams),
    request_body(
        description = "A CSV file, or a JSON array of `POST /v1/users` bodies",
        content(
            (String = "text/csv", example = "login,email,first_name,last_name,role,extension,station\nmary,mary@example.com,Mary,Major,User,201,std\n"),
            (Vec<CreateUserBody> = "application/json"),
        ),
    ),
    responses(
        (status = 201, description = "Users were created (with `per_row`, the failed rows are in `errors`)", body = ImportReportView),
        (status = 202, description = "More than 1,000 rows: the import runs as a job; follow `Location` (`GET /v1/jobs/{id}`)", body = crate::views::ImportJobView),
        (status = 200, description = "`dry_run=true` and every row passes: what would be created; nothing was written", body = ImportReportView),
        (status = 422, description = "`import_rejected` with `row_errors`: nothing was written (or, in a dry run, rows would be refused); or `validation_failed` for the file itself (an unknown or doubled column, an unreadable CSV, no rows or too many, a JSON item that is not a `POST /v1/users` body, named `[index].field`)", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "`malformed_json` (not a JSON array) or `unreadable_body`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`payload_too_large`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`unsupported_media_type`", body = Problem, content_type = "application/problem+json"),
        Unauthenticated, Forbidden,
    ),
    security(("bearer" = [])),
    extensions(("x-required-permission" = json!("users:write"))),
)]
pub async fn import_users<S: Store>(
    app: web::Data<Voxport<S>>,
    auth: Auth,
    req: HttpRequest,
    Query(params): Query<ImportParams>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let actor = auth.require(Permission::UsersWrite)?;
    let csv = match media_type(&req).as_deref() {
        Some("text/csv") => true,
        Some("application/json") => false,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the file as text/csv or as a JSON array (application/json).",
            ));
        }
    };
    let body = read_body(payload).await?;
    let rows = if csv {
        let refs = app.import_references(actor).await?;
        read_csv(&body, &refs, JOB_MAX_ROWS)?
    } else {
        read_json(&body, JOB_MAX_ROWS)?
    };
    if rows.is_empty() {
        return Err(ApiError::field("body", "the file holds no rows"));
    }
    let dry_run = params.dry_run.unwrap_or(false);
    let mode = params.mode.unwrap_or_default();
    let domain_mode = mode.into();
    if rows.len() > IMPORT_MAX_ROWS {
        // A generated password is shown once, in the answer; a job's
        // answer lists no users, so it would be shown to nobody.
        let generating: Vec<FieldError> = rows
            .iter()
            .filter(|r| matches!(&r.parsed, Ok(req) if matches!(req.password, NewPassword::Generate)))
            .map(|r| FieldError {
                field: format!("[{}].generate_password", r.row.saturating_sub(1)),
                message: format!(
                    "a file of more than {IMPORT_MAX_ROWS} rows runs as a job, whose answer shows no passwords: \
                     give a password or leave it out for a set-password link"
                ),
            })
            .collect();
        if !generating.is_empty() {
            return Err(ApiError::validation(generating));
        }
        let content_type = if csv { "text/csv" } else { "application/json" };
        let total = u32::try_from(rows.len()).unwrap_or(u32::MAX);
        let job = app
            .submit_import_job(
                actor,
                JobRequest { file: &body, content_type, rows_total: total, mode: domain_mode, dry_run },
                Utc::now(),
            )
            .await?;
        return Ok(HttpResponse::Accepted()
            .insert_header((actix_web::http::header::LOCATION, format!("/v1/jobs/{}", job.id)))
            .json(crate::views::ImportJobView::new(&job, crate::routes::page_request(None, None)?)));
    }
    let outcome = app.import_users(actor, rows, ImportOptions::new(domain_mode, dry_run), Utc::now()).await?;
    let committed = outcome.committed;
    let report = report(outcome, dry_run, mode);
    // A dry run that finds a row at fault answers as the import would have.
    if dry_run && !report.errors.is_empty() {
        return Err(ApiError::import_rejected(report.errors));
    }
    if dry_run {
        return Ok(HttpResponse::Ok().json(report));
    }
    if !committed {
        return Err(ApiError::import_rejected(report.errors));
    }
    Ok(HttpResponse::Created().json(report))
}

fn media_type(req: &HttpRequest) -> Option<String> {
    let raw = req.headers().get(actix_web::http::header::CONTENT_TYPE)?.to_str().ok()?;
    Some(raw.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
}

async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "The request body could not be read.")
        })?;
        if body.len() + chunk.len() > JOB_MAX_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("An import is at most {JOB_MAX_BYTES} bytes."),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_many_rows(max: usize) -> ApiError {
    ApiError::field("body", format!("an import holds at most {max} rows; split the file"))
}

/// Reads an import file in JSON (an array of `POST /v1/users` bodies).
///
/// # Errors
/// When the body is not a JSON array, or has too many rows.
pub fn read_json(body: &[u8], max_rows: usize) -> Result<Vec<ImportRow>, ApiError> {
    let items: Vec<Value> = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", format!("The body is not a JSON array: {e}"))
    })?;
    if items.len() > max_rows {
        return Err(too_many_rows(max_rows));
    }
    // The bodies are the documented schema's: one that is not is a bad
    // request, named by its index; rules that need stored data (a role
    // that exists, a free extension) are checked row by row.
    let mut rows = Vec::with_capacity(items.len());
    let mut invalid = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match set_up(item, |f| if f.is_empty() { format!("[{i}]") } else { format!("[{i}].{f}") }) {
            Ok(req) => rows.push(ImportRow { row: u32::try_from(i + 1).unwrap_or(u32::MAX), parsed: Ok(req) }),
            Err(problems) => {
                invalid.extend(problems.into_iter().map(|p| FieldError { field: p.column, message: p.message }))
            }
        }
    }
    if invalid.is_empty() { Ok(rows) } else { Err(ApiError::validation(invalid)) }
}

/// A row's body as a set-up request, its problems named by `column`.
fn set_up(
    body: Value,
    column: impl Fn(&str) -> String,
) -> Result<voxport_domain::services::CreateUser, Vec<ColumnProblem>> {
    let body: CreateUserBody = serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        vec![ColumnProblem { column: column(&field), code: "validation_failed", message: e.inner().to_string() }]
    })?;
    parse_create_user(body).map_err(|e| problems_of(&e, &column))
}

fn problems_of(e: &ApiError, column: &impl Fn(&str) -> String) -> Vec<ColumnProblem> {
    if e.field_errors().is_empty() {
        return vec![ColumnProblem { column: String::new(), code: e.code(), message: e.detail().to_owned() }];
    }
    e.field_errors()
        .iter()
        .map(|f| ColumnProblem { column: column(&f.field), code: e.code(), message: f.message.clone() })
        .collect()
}

/// The CSV column a field of the set-up body comes from.
fn csv_column(field: &str) -> String {
    match field {
        "role_id" => "role",
        "extension" | "extension.number" => "extension",
        "extension.type" => "extension_type",
        "phone_number_id" => "phone_number",
        "station_id" => "station",
        "device" | "device.id" => "device_mac",
        "device.ports" => "device_ports",
        "generate_password" => "password",
        other => other.split(['.', '[']).next().unwrap_or(other),
    }
    .to_owned()
}

/// Reads an import file in CSV into rows, resolving its references.
///
/// # Errors
/// When the file itself is unreadable, has unknown columns or too many rows.
pub fn read_csv(body: &[u8], refs: &ImportReferences, max_rows: usize) -> Result<Vec<ImportRow>, ApiError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let header = body.split(|b| *b == b'\n').next().unwrap_or_default();
    let count = |c: u8| header.iter().filter(|b| **b == c).count();
    let delimiter = if count(b';') > count(b',') { b';' } else { b',' };
    // Headers are trimmed, values one by one (never a password), and a
    // short row reads its missing cells as empty.
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).trim(csv::Trim::Headers).flexible(true).from_reader(body);
    let unreadable = |e: csv::Error| ApiError::field("body", format!("is not a readable CSV file: {e}"));
    let headers: Vec<String> = reader.headers().map_err(unreadable)?.iter().map(str::to_ascii_lowercase).collect();
    let unknown: Vec<&str> = headers.iter().map(String::as_str).filter(|h| !COLUMNS.contains(h)).collect();
    if !unknown.is_empty() {
        return Err(ApiError::field(
            "header",
            format!("unknown columns: {}; the columns are {}", unknown.join(", "), COLUMNS.join(", ")),
        ));
    }
    if let Some(twice) = headers.iter().enumerate().find(|(i, h)| headers[..*i].contains(h)).map(|(_, h)| h) {
        return Err(ApiError::field("header", format!("names the column {twice} twice")));
    }
    let mut rows = Vec::new();
    // Newlines counted so far, and up to where: each byte is counted once.
    let (mut lines_before, mut counted_to) = (0usize, 0usize);
    for record in reader.records() {
        let record = record.map_err(unreadable)?;
        if rows.len() == max_rows {
            return Err(too_many_rows(max_rows));
        }
        // The line the record starts on, counted from its byte offset (the
        // reader's own line count misses `\r\n`-ended lines, whose record
        // starts at the `\n` it skips).
        let start = record.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        let end = start.saturating_add(1).min(body.len()).max(counted_to);
        lines_before += body.get(counted_to..end).map_or(0, |part| part.iter().filter(|b| **b == b'\n').count());
        counted_to = end;
        let row = u32::try_from(lines_before + 1).unwrap_or(u32::MAX);
        let cells: HashMap<&str, &str> = headers
            .iter()
            .map(String::as_str)
            .zip(record.iter())
            .map(|(h, v)| (h, if h == "password" { v } else { v.trim() }))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        // A spreadsheet's empty lines (`;;;;`) are not rows.
        if cells.is_empty() {
            continue;
        }
        let parsed = csv_body(&cells, refs).and_then(|body| set_up(body, csv_column));
        rows.push(ImportRow { row, parsed });
    }
    Ok(rows)
}

/// A CSV row as a `POST /v1/users` body, its references resolved.
fn csv_body(cells: &HashMap<&str, &str>, refs: &ImportReferences) -> Result<Value, Vec<ColumnProblem>> {
    let mut body = Map::new();
    let mut problems = Vec::new();
    let mut problem = |column: &str, code: &'static str, message: String| {
        problems.push(ColumnProblem { column: column.to_owned(), code, message });
    };
    for column in
        ["login", "email", "first_name", "last_name", "password", "timezone", "language", "activation_at", "expires_at"]
    {
        if let Some(v) = cells.get(column) {
            body.insert(column.to_owned(), json!(v));
        }
    }
    for column in ["first_name", "last_name"] {
        body.entry(column).or_insert_with(|| json!(""));
    }
    if let Some(name) = cells.get("role") {
        match refs.roles.get(&name.to_lowercase()) {
            Some(id) => drop(body.insert("role_id".into(), json!(id))),
            None => problem("role", "role_not_found", format!("no role named {name:?} in the tenant")),
        }
    }
    if let Some(number) = cells.get("extension") {
        let kind = cells.get("extension_type").copied().unwrap_or("sip");
        body.insert("extension".into(), json!({"number": number, "type": kind}));
    } else if cells.contains_key("extension_type") {
        problem("extension_type", "validation_failed", "needs an extension number beside it".into());
    }
    if let Some(raw) = cells.get("phone_number") {
        match E164::parse(raw) {
            Err(e) => problem("phone_number", "validation_failed", e.to_string()),
            Ok(number) => match refs.phone_numbers.get(number.as_str()) {
                Some(id) => drop(body.insert("phone_number_id".into(), json!(id))),
                None => problem(
                    "phone_number",
                    "phone_number_not_found",
                    format!("{} is not a number of the tenant", number.as_str()),
                ),
            },
        }
    }
    if let Some(code) = cells.get("station") {
        match refs.stations.get(*code) {
            Some(id) => drop(body.insert("station_id".into(), json!(id))),
            None => problem("station", "station_not_found", format!("no station pool with the code {code:?}")),
        }
    }
    if let Some(raw) = cells.get("device_mac") {
        match MacAddress::parse(raw) {
            Err(e) => problem("device_mac", "validation_failed", e.to_string()),
            Ok(mac) => match refs.devices.get(mac.as_str()) {
                Some(id) => {
                    let mut device = json!({"id": id});
                    if let Some(ports) = cells.get("device_ports") {
                        match ports.parse::<u64>() {
                            Ok(p) => device["ports"] = json!(p),
                            Err(_) => problem("device_ports", "validation_failed", "must be a whole number".into()),
                        }
                    }
                    body.insert("device".into(), device);
                }
                None => problem("device_mac", "device_not_found", format!("no desk phone {raw} in the tenant")),
            },
        }
    } else if cells.contains_key("device_ports") {
        problem("device_ports", "validation_failed", "needs a device_mac beside it".into());
    }
    if let Some(apps) = cells.get("applications") {
        let list: Vec<&str> = apps.split([';', ',']).map(str::trim).filter(|a| !a.is_empty()).collect();
        body.insert("applications".into(), json!(list));
    }
    if let Some(raw) = cells.get("send_welcome_email") {
        match raw.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => drop(body.insert("send_welcome_email".into(), json!(true))),
            "false" | "no" | "0" => drop(body.insert("send_welcome_email".into(), json!(false))),
            _ => problem("send_welcome_email", "validation_failed", "must be true or false".into()),
        }
    }
    if problems.is_empty() { Ok(Value::Object(body)) } else { Err(problems) }
}

/// The column a refusal of `POST /v1/users` is about, by its code.
fn refused_column(code: &str) -> &'static str {
    const BY_WORD: &[(&str, &str)] = &[
        ("login", "login"),
        ("role", "role"),
        ("permission_not_held", "role"),
        ("password", "password"),
        ("window", "expires_at"),
        ("station", "station"),
        ("application", "applications"),
        ("ports", "device_ports"),
        ("device", "device_mac"),
        ("phone_number", "phone_number"),
        ("extension", "extension"),
    ];
    BY_WORD.iter().find(|(word, _)| code.contains(word)).map_or("", |(_, column)| column)
}

/// What an import did, as `POST /v1/users/import` answers it.
#[must_use]
pub fn report(outcome: ImportOutcome, dry_run: bool, mode: ImportModeParam) -> ImportReportView {
    let emails_queued = outcome.emails_queued();
    let failed = outcome.failures.len();
    let mut errors = Vec::new();
    for (row, failure) in outcome.failures {
        match failure {
            RowFailure::Invalid(problems) => errors.extend(problems.iter().map(|p| RowError {
                row,
                column: p.column.clone(),
                code: p.code.to_owned(),
                message: p.message.clone(),
            })),
            RowFailure::SameAs { column, row: first } => errors.push(RowError {
                row,
                column: column.to_owned(),
                code: "duplicate_in_file".to_owned(),
                message: format!("row {first} of this file asks for the same {column}"),
            }),
            RowFailure::Refused(e) => {
                let api = ApiError::from(e);
                for p in problems_of(&api, &|f: &str| csv_column(f)) {
                    let column = if p.column.is_empty() { refused_column(api.code()).to_owned() } else { p.column };
                    errors.push(RowError { row, column, code: p.code.to_owned(), message: p.message });
                }
            }
        }
    }
    ImportReportView {
        dry_run,
        mode: ImportMode::from(mode).as_str().to_owned(),
        committed: outcome.committed,
        rows: outcome.rows,
        created: if outcome.committed || dry_run { outcome.created.len() } else { 0 },
        failed,
        emails_queued,
        users: if outcome.committed || dry_run {
            outcome
                .created
                .iter()
                .map(|(row, c)| ImportedUserView {
                    row: *row,
                    id: c.id,
                    login: c.login.as_str().to_owned(),
                    generated_password: c.generated_password.as_ref().map(|p| p.expose().to_owned()),
                })
                .collect()
        } else {
            Vec::new()
        },
        errors,
    }
}

/// The CSV row of `user`, in [`COLUMNS`] order: what an import takes back
/// (never a secret; `password` stays empty).
#[must_use]
pub fn export_row(user: &voxport_domain::user::User, station_codes: &HashMap<Uuid, String>) -> Vec<String> {
    let extension = user.extensions.first();
    let stamp = |t: Option<chrono::DateTime<Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
    };
    vec![
        user.login.as_str().to_owned(),
        user.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default(),
        user.first_name.as_str().to_owned(),
        user.last_name.as_str().to_owned(),
        user.role.name.as_str().to_owned(),
        String::new(),
        extension.map(|e| e.number.clone()).unwrap_or_default(),
        extension.map(|e| e.kind.as_str().to_owned()).unwrap_or_default(),
        user.phone_number.as_ref().map(|n| n.number.clone()).unwrap_or_default(),
        user.station.as_ref().and_then(|s| station_codes.get(&s.id).cloned()).unwrap_or_default(),
        user.device.as_ref().map(|d| d.mac.clone()).unwrap_or_default(),
        user.device.as_ref().map(|d| d.ports.to_string()).unwrap_or_default(),
        user.applications.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(";"),
        user.timezone.as_str().to_owned(),
        user.language.as_str().to_owned(),
        stamp(user.activation_at),
        stamp(user.expires_at),
        String::new(),
    ]
}

/// `rows` written as CSV lines.
fn csv_lines(rows: impl IntoIterator<Item = Vec<String>>) -> Result<web::Bytes, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.write_record(&row).map_err(|e| ApiError::internal(e.into()))?;
    }
    let bytes = writer.into_inner().map_err(|e| ApiError::internal(anyhow::anyhow!("writing CSV: {e}")))?;
    Ok(web::Bytes::from(bytes))
}

/// Whether the client asked for CSV (`Accept: text/csv`).
pub(super) fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(actix_web::http::header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv")))
}

/// One page of an export: the users `filter` matches whose login sorts
/// after `after`, by login, and the login the next page starts after
/// (`None` once a page comes back empty). Each page starts where the last
/// ended, not at an offset: users added or removed meanwhile shift
/// nothing (a user whose login changes during the export may still be
/// missed or written twice).
///
/// # Errors
/// When storage fails.
pub async fn export_page<S: Store>(
    app: &Voxport<S>,
    actor: &voxport_domain::actor::Actor,
    filter: &voxport_domain::user::UserFilter,
    after: Option<String>,
) -> anyhow::Result<(Vec<voxport_domain::user::User>, Option<String>)> {
    use voxport_domain::{
        paging::{Direction, PageRequest, Sort},
        user::{UserFilter, UserSortKey},
    };
    let sort = Sort { key: UserSortKey::Login, direction: Direction::Asc };
    let page = PageRequest::walk();
    let filter = UserFilter { after_login: after, ..filter.clone() };
    let users = app.list_users(actor, &filter, sort, page, Utc::now()).await?.items;
    // A short page is not the end: a user deleted while it was read
    // leaves a gap in it.
    let next = users.last().map(|u| u.login.as_str().to_owned());
    Ok((users, next))
}

/// Every user `filter` matches, by login, as a CSV file with the import's
/// columns, streamed a page at a time so memory stays flat.
pub(super) async fn export_users<S: Store>(
    app: web::Data<Voxport<S>>,
    actor: voxport_domain::actor::Actor,
    filter: voxport_domain::user::UserFilter,
) -> Result<HttpResponse, ApiError> {
    let codes = std::sync::Arc::new(app.station_codes(&actor).await?);
    let header = csv_lines([COLUMNS.iter().map(|c| (*c).to_owned()).collect()])?;
    // `None` once the last page is out; otherwise where the next starts.
    let pages = futures::stream::try_unfold(Some(None), move |next: Option<Option<String>>| {
        let (app, actor, filter, codes) = (app.clone(), actor.clone(), filter.clone(), codes.clone());
        async move {
            let Some(after) = next else { return Ok::<_, ApiError>(None) };
            let (users, after) = export_page(&app, &actor, &filter, after).await?;
            let lines = csv_lines(users.iter().map(|u| export_row(u, &codes)))?;
            Ok(Some((lines, after.map(Some))))
        }
    });
    // Headers are sent by now: a failure ends the file early, and the log
    // tells why.
    let body = futures::stream::once(async move { Ok::<_, ApiError>(header) }).chain(pages).map(|chunk| {
        chunk.map_err(|e| {
            tracing::error!(error = ?e, "a CSV export broke off");
            std::io::Error::other(e.to_string())
        })
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((actix_web::http::header::CONTENT_DISPOSITION, "attachment; filename=\"users.csv\""))
        .streaming(body))
}
