//! `spawn_app()` and one helper per endpoint.

use std::sync::atomic::{AtomicU32, Ordering};

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use voxport::{
    config::Settings,
    startup::{Application, Outbox},
};
use voxport_domain::{crypto::AtRestKey, services::DeliveryReport};

pub const OPERATOR: &str = "admin";
pub const OPERATOR_PASSWORD: &str = "operator-password-2026";
/// A password every policy check accepts, for users the tests create.
pub const PASSWORD: &str = "plausible-quiet-harbour";

pub struct TestApp {
    pub address: String,
    /// Where `/metrics` is served, when the settings asked for it.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    /// A signed-in platform operator.
    pub operator: String,
    /// The server's outbox worker, driven by the tests (the background one
    /// is off unless a test turns it on).
    pub outbox: Arc<Outbox>,
    /// The server's service, for housekeeping the tests run themselves.
    pub voxport: Arc<voxport_domain::Voxport<voxport_persistence::SeaStore>>,
    /// The settings the server started with.
    pub settings: Settings,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh database URL: a new SQLite file, or a new PostgreSQL database
/// when `VOXPORT_TEST_DATABASE_URL` is set.
pub async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("VOXPORT_TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            use sea_orm::ConnectionTrait as _;
            let name = format!("vxt_{}", uuid::Uuid::new_v4().simple());
            let admin =
                sea_orm::Database::connect(base.as_str()).await.expect("connecting to VOXPORT_TEST_DATABASE_URL");
            admin.execute_unprepared(&format!(r#"CREATE DATABASE "{name}""#)).await.expect("creating a test database");
            admin.close().await.expect("closing the admin connection");
            let (prefix, _) = base.rsplit_once('/').expect("the URL names a database");
            (format!("{prefix}/{name}"), None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("voxport.db").display());
            (url, Some(dir))
        }
    }
}

/// The settings every test server starts with. Passwords are hashed at a
/// fraction of the production cost, so the suite spends its time on what it
/// tests; `auth::passwords_are_stored_at_owasps_cost` runs one server at the
/// production cost.
pub fn test_settings(database_url: String) -> Settings {
    Settings {
        argon2_memory_kib: 256,
        argon2_iterations: 1,
        argon2_below_minimum_for_tests: true,
        password_hash_concurrency: 2,
        bind: "127.0.0.1:0".into(),
        database_url,
        database_max_connections: 5,
        admin_password: Some(OPERATOR_PASSWORD.into()),
        workers: 1,
        shutdown_timeout_seconds: 1,
        secret_key: Some(AtRestKey::generate().to_base64()),
        email_worker: false,
        // Webhooks go to receivers the tests run on loopback, and retry fast.
        webhook_allowed_networks: vec!["127.0.0.0/8".into()],
        webhook_retry_seconds: 1,
        webhook_poll_ms: 100,
        mail_dir: std::env::temp_dir().join(format!("voxport-mail-{}", uuid::Uuid::new_v4())).display().to_string(),
        ..Settings::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let (url, dir) = fresh_database().await;
    let mut settings = test_settings(url);
    tweak(&mut settings);
    spawn_with_settings(settings, dir).await
}

/// Starts a server with exactly these settings (e.g. a second replica on
/// the database of another).
pub async fn spawn_with_settings(settings: Settings, dir: Option<tempfile::TempDir>) -> TestApp {
    init_logs();
    let app = Application::build(settings.clone()).await.expect("the server starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}"));
    let outbox = app.outbox();
    let voxport = app.voxport();
    tokio::spawn(app.run_until_stopped());
    // Idle connections are let go before the server's keep-alive (actix-web:
    // 5 s) closes them: reusing one the moment the server closes it fails
    // the request (`IncompleteMessage`), as it did once in CI for a replica
    // the test had left idle.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap();
    let mut test =
        TestApp { address, metrics_address, client, operator: String::new(), outbox, voxport, settings, _dir: dir };
    test.operator = test.token(OPERATOR, OPERATOR_PASSWORD).await;
    test
}

/// A unique suffix for names within one test run.
pub fn unique() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{}{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {}", self.body);
        self.body
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn problem(self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected answer: {}", self.body);
        assert_eq!(self.code(), code, "unexpected problem: {}", self.body);
        let ct = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(ct, "application/problem+json", "problem content type");
        for key in ["type", "title", "status", "detail", "code"] {
            assert!(self.body.get(key).is_some(), "problem without {key}: {}", self.body);
        }
        self.body
    }

    /// The fields a 422 names.
    #[track_caller]
    pub fn invalid_fields(self) -> Vec<String> {
        let body = self.problem(422, "validation_failed");
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect()
    }
}

impl TestApp {
    /// Delivers every email due at `now` (plus `later`), as the worker would.
    pub async fn deliver_emails(&self, later: chrono::Duration) -> DeliveryReport {
        self.outbox.deliver_due(|| chrono::Utc::now() + later).await.expect("the outbox is reachable")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        reply(req.send().await.expect("the request is sent")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    pub async fn login(&self, login: &str, password: &str) -> Reply {
        self.call(Method::POST, "/v1/auth/login", None, Some(json!({"login": login, "password": password}))).await
    }

    /// Signs in and answers the access token.
    pub async fn token(&self, login: &str, password: &str) -> String {
        let body = self.login(login, password).await.expect(200);
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Creates a customer tenant with an administrator; answers the
    /// tenant's id and the administrator's access token.
    pub async fn customer(&self) -> Customer {
        let n = unique();
        let admin_login = format!("admin{n}@customer{n}.example");
        let body = self
            .post(
                "/v1/tenants",
                &self.operator,
                json!({
                    "name": format!("Customer {n}"), "slug": format!("customer-{n}"),
                    "admin": {"email": admin_login, "first_name": "Ada", "last_name": "Admin", "password": PASSWORD}
                }),
            )
            .await
            .expect(201);
        let token = self.token(&admin_login, PASSWORD).await;
        Customer {
            slug: format!("customer-{n}"),
            id: body["id"].as_str().unwrap().to_owned(),
            admin_id: body["admin"]["id"].as_str().unwrap().to_owned(),
            admin_login,
            admin: token,
        }
    }

    /// Creates a user in the caller's tenant with `extra` fields; answers
    /// the created user.
    pub async fn user(&self, token: &str, extra: Value) -> Value {
        let n = unique();
        let mut body = json!({
            "email": format!("user{n}@example.com"), "first_name": "Test", "last_name": "User", "password": PASSWORD
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        self.post("/v1/users", token, body).await.expect(201)
    }

    /// An access token of the API client `client` (a creation's answer),
    /// by the client-credentials grant.
    pub async fn client_token(&self, client: &Value) -> String {
        let issued = self
            .client
            .post(self.url("/v1/oauth/token"))
            .basic_auth(client["client_id"].as_str().unwrap(), client["client_secret"].as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        reply(issued).await.expect(200)["access_token"].as_str().unwrap().to_owned()
    }

    /// The id of a built-in role of the caller's tenant, by name.
    pub async fn role_id(&self, token: &str, name: &str) -> String {
        let roles = self.get("/v1/roles", token).await.expect(200);
        roles["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no role {name}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

#[derive(Clone)]
pub struct Customer {
    pub id: String,
    pub slug: String,
    pub admin_id: String,
    pub admin_login: String,
    /// The administrator's access token.
    pub admin: String,
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Reply { status, headers, body }
}

/// Reads one text column straight from the server's database, to check
/// what is stored at rest.
pub async fn stored_strings(app: &TestApp, sql: &str) -> Vec<String> {
    use sea_orm::{ConnectionTrait as _, Statement};
    let db = sea_orm::Database::connect(app.settings.database_url.as_str()).await.unwrap();
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    let values = rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect();
    db.close().await.unwrap();
    values
}

/// Runs one statement straight on the server's database (to move time
/// forward for a stored row, say).
pub async fn execute(app: &TestApp, sql: &str) {
    try_execute(app, sql).await.unwrap();
}

/// As [`execute`], answering the database's refusal.
pub async fn try_execute(app: &TestApp, sql: &str) -> Result<(), String> {
    execute_with(app, sql, Vec::new()).await
}

/// Runs one statement with values bound to `$1`, `$2`… (written as `?` for
/// SQLite), so UUIDs and times are stored as the server stores them.
pub async fn execute_with(app: &TestApp, sql: &str, values: Vec<sea_orm::Value>) -> Result<(), String> {
    use sea_orm::{ConnectionTrait as _, DbBackend, Statement};
    let db = sea_orm::Database::connect(app.settings.database_url.as_str()).await.unwrap();
    let backend = db.get_database_backend();
    let mut sql = sql.to_owned();
    if backend == DbBackend::Sqlite {
        for n in (1..=values.len()).rev() {
            sql = sql.replace(&format!("${n}"), "?");
        }
    }
    let result =
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.map(drop).map_err(|e| e.to_string());
    db.close().await.unwrap();
    result
}

/// Everything the servers of this test binary logged so far (with
/// `TEST_LOG` set, logs go to stderr instead and this stays empty).
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Logs of every server in the test binary, at the level a deployment
/// runs: to stderr with `TEST_LOG`, else into memory for the tests that
/// read them.
fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        voxport::telemetry::init(voxport::config::LogFormat::Pretty, true);
        return;
    }
    use tracing_subscriber::{Layer as _, prelude::*};
    let log = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(|| LogWriter)
        .with_filter(tracing_subscriber::EnvFilter::new(voxport::telemetry::DEFAULT_FILTER));
    let _ = tracing_subscriber::registry().with(voxport::metrics::pool_waits()).with(log).try_init();
}

/// The id of a JSON object, as a path segment.
pub fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}
