//! The benchmark suite (issue 12; `bench/run`). For SQLite and then
//! PostgreSQL it starts the release binary on a fresh database, seeds it
//! through the real API (a tenant with 100,000 users, each set up in one
//! call with an extension and a station licence), drives load with `wrk`
//! (and times the reads idle and during the sign-in flood with `oha`),
//! reads `/metrics` and the process's resident memory, and writes
//! `BENCHMARKS.md`: every figure beside its ceiling, measured in the same
//! run (a bare actix-web JSON hello; argon2 verifications per second at
//! voxport's parameters), and times a 10,000-row CSV import (issue 13).
//! Goals live here and in the report, never in a timed test.

#![allow(clippy::print_stdout, clippy::print_stderr, reason = "a command-line tool reports on the console")]

mod oha;
mod report;
mod wrk;

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::{
    report::{DbFigures, PoolWaits, Report},
    wrk::{Load, Run},
};

const OPERATOR_PASSWORD: &str = "bench-operator-password";
const PASSWORD: &str = "bench-quiet-harbour-lights";
/// How long to wait before reading idle memory: past the hashing threads'
/// idle release (10 s after their last hash, which may come a moment
/// after `wrk` stops) and jemalloc's decay (1 s). At 12 s one run read
/// 83.8 MB, just before the release; sampled every 2 s, the same flood
/// on SQLite settled at 12 s to idle + 7.6 MB and stayed there.
const SETTLE: Duration = Duration::from_secs(15);

struct Args {
    voxport: PathBuf,
    users: usize,
    postgres: String,
    out: PathBuf,
    /// The databases to measure; both unless `--db` names one.
    databases: Vec<Db>,
}

fn args() -> anyhow::Result<Option<Args>> {
    let mut argv = std::env::args().skip(1);
    let mut args = Args {
        voxport: PathBuf::from("target/release/voxport"),
        users: 100_000,
        postgres: std::env::var("VOXPORT_BENCH_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.into()),
        out: PathBuf::from("BENCHMARKS.md"),
        databases: vec![Db::Sqlite, Db::Postgres],
    };
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "hello" => {
                let port = argv.next().context("hello PORT")?.parse().context("hello PORT")?;
                hello(port)?;
                return Ok(None);
            }
            "--voxport" => args.voxport = argv.next().context("--voxport PATH")?.into(),
            "--users" => args.users = argv.next().context("--users N")?.parse().context("--users N")?,
            "--quick" => args.users = 5_000,
            "--out" => args.out = argv.next().context("--out PATH")?.into(),
            "--db" => {
                args.databases = match argv.next().as_deref() {
                    Some("sqlite") => vec![Db::Sqlite],
                    Some("postgres") => vec![Db::Postgres],
                    _ => bail!("--db takes sqlite or postgres"),
                }
            }
            other => bail!("unknown argument {other:?} (expected --voxport, --users, --quick, --out, --db)"),
        }
    }
    Ok(Some(args))
}

fn main() -> anyhow::Result<()> {
    let Some(args) = args()? else { return Ok(()) };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(run(args))
}

/// The ceiling of every HTTP figure: actix-web answering a constant JSON
/// object, on as many workers as voxport runs.
fn hello(port: u16) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        actix_web::HttpServer::new(|| {
            actix_web::App::new().route(
                "/hello",
                actix_web::web::get().to(|| async { actix_web::HttpResponse::Ok().json(json!({"hello": "world"})) }),
            )
        })
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })?;
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut report = Report::new(args.users);
    let (verify, ceiling) = argon2_ceiling().await?;
    report.argon2_verify = verify;
    report.sign_in_ceiling = ceiling;
    println!("argon2id verify at voxport's parameters: {:.1} ms, ceiling {ceiling:.1} sign-ins/s", verify * 1000.0);
    report.argon2_parallel = verifications_per_second(cores(), 10).await?;
    println!("argon2id verifications with every core hashing: {:.1}/s", report.argon2_parallel);
    for &db in &args.databases {
        let figures = bench_db(&args, db).await.with_context(|| format!("benchmarking {}", db.name()))?;
        report.databases.push(figures);
    }
    std::fs::write(&args.out, report.render()).with_context(|| format!("writing {}", args.out.display()))?;
    println!("wrote {}", args.out.display());
    Ok(())
}

/// One argon2id verification at voxport's default parameters, timed on
/// one thread, and what all cores would sign in per second at that cost.
async fn argon2_ceiling() -> anyhow::Result<(f64, f64)> {
    let verify = 1.0 / verifications_per_second(1, 20).await?;
    Ok((verify, cores() as f64 / verify))
}

/// argon2id verifications per second at voxport's default parameters, on
/// `threads` hashing threads each verifying `rounds` times in a row. With
/// a thread on every core this is what the machine really does when all
/// hash at once (the argon2 areas share caches and memory bandwidth, so it
/// may be less than cores ÷ one verification's time).
async fn verifications_per_second(threads: usize, rounds: u32) -> anyhow::Result<f64> {
    use voxport_domain::{
        auth::{HashingParams, PasswordHasher},
        values::PasswordPolicy,
    };
    let hasher = PasswordHasher::new(HashingParams::default(), threads)?;
    let password = PasswordPolicy::default().generate();
    let hash = hasher.hash(&password).await?;
    let started = Instant::now();
    let all = (0..threads).map(|_| {
        let (hasher, password, hash) = (hasher.clone(), password.expose().to_owned(), hash.clone());
        async move {
            for _ in 0..rounds {
                hasher.verify(&password, Some(&hash)).await?;
            }
            anyhow::Ok(())
        }
    });
    for done in futures::future::join_all(all).await {
        done?;
    }
    Ok((threads as f64) * f64::from(rounds) / started.elapsed().as_secs_f64())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

#[derive(Clone, Copy)]
enum Db {
    Sqlite,
    Postgres,
}

impl Db {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }
}

/// A running voxport.
struct Server {
    child: Child,
    base: String,
    metrics: String,
    client: reqwest::Client,
    /// The server's database, when it is PostgreSQL.
    postgres: Option<String>,
    _dir: Option<TempDir>,
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Server {
    async fn start(args: &Args, db: Db) -> anyhow::Result<Self> {
        let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
        let (url, dir) = match db {
            Db::Sqlite => {
                let dir = std::env::temp_dir().join(format!("voxport-bench-{stamp}"));
                std::fs::create_dir_all(&dir)?;
                (format!("sqlite://{}?mode=rwc", dir.join("voxport.db").display()), Some(TempDir(dir)))
            }
            Db::Postgres => {
                let name = format!("voxport_bench_{stamp}");
                psql(&args.postgres, &format!("CREATE DATABASE {name}")).await?;
                (database_url(&args.postgres, &name)?, None)
            }
        };
        let (port, metrics_port) = (free_port()?, free_port()?);
        let key = voxport_domain::crypto::AtRestKey::generate().to_base64();
        let mut voxport = Command::new(&args.voxport);
        // voxport refuses `VOXPORT_` variables it does not know, and these
        // are the benchmark's own.
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("VOXPORT_BENCH_")) {
            voxport.env_remove(name);
        }
        let child = voxport
            .env("VOXPORT_BIND", format!("127.0.0.1:{port}"))
            .env("VOXPORT_METRICS_BIND", format!("127.0.0.1:{metrics_port}"))
            .env("VOXPORT_DATABASE_URL", &url)
            .env("VOXPORT_DATABASE_MAX_CONNECTIONS", "16")
            .env("VOXPORT_ADMIN_PASSWORD", OPERATOR_PASSWORD)
            .env("VOXPORT_SECRET_KEY", key)
            .env("VOXPORT_EMAIL_WORKER", "false")
            .env("VOXPORT_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", args.voxport.display()))?;
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            metrics: format!("http://127.0.0.1:{metrics_port}/metrics"),
            client: reqwest::Client::builder().pool_max_idle_per_host(64).build()?,
            postgres: matches!(db, Db::Postgres).then(|| url.clone()),
            _dir: dir,
        };
        for _ in 0..300 {
            if server.client.get(format!("{}/readyz", server.base)).send().await.is_ok_and(|r| r.status() == 200) {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("voxport did not become ready at {}", server.base)
    }

    /// Resident memory, in MB.
    fn rss_mb(&self) -> anyhow::Result<f64> {
        let pid = self.child.id().context("the server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .context("no VmRSS")?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kb / 1024.0)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> anyhow::Result<Value> {
        let mut req = self.client.request(method, format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path} answered {status}: {body}");
        }
        Ok(body)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> anyhow::Result<Value> {
        self.call(reqwest::Method::POST, path, token, &body).await
    }

    async fn sign_in(&self, login: &str, password: &str) -> anyhow::Result<Value> {
        self.post("/v1/auth/login", None, json!({"login": login, "password": password})).await
    }

    async fn metrics(&self) -> anyhow::Result<String> {
        Ok(self.client.get(&self.metrics).send().await?.text().await?)
    }
}

/// The PostgreSQL the benchmark uses unless `VOXPORT_BENCH_POSTGRES_URL`
/// names another. Without TLS, as docker-compose runs it: this machine's
/// PostgreSQL offers TLS, which sqlx takes by default (`sslmode=prefer`),
/// and encrypting loopback took about a tenth of `GET /v1/users/{id}`
/// (5,545 against 6,272 req/s, the cores shared with PostgreSQL).
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable";

/// `url` naming the database `name` instead, its options kept.
fn database_url(url: &str, name: &str) -> anyhow::Result<String> {
    let (address, options) = url.split_once('?').map_or((url, None), |(a, o)| (a, Some(o)));
    let (prefix, _) = address.rsplit_once('/').context("the PostgreSQL URL names a database")?;
    Ok(match options {
        Some(options) => format!("{prefix}/{name}?{options}"),
        None => format!("{prefix}/{name}"),
    })
}

async fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let status = Command::new("psql").arg(url).arg("-qc").arg(sql).status().await.context("running psql")?;
    if !status.success() {
        bail!("psql failed: {sql}");
    }
    Ok(())
}

/// The one value a query answers, as text.
async fn psql_value(url: &str, sql: &str) -> anyhow::Result<String> {
    let output = Command::new("psql").arg(url).arg("-qAtc").arg(sql).output().await.context("running psql")?;
    if !output.status.success() {
        bail!("psql failed: {sql}: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8(output.stdout)?.trim().to_owned())
}

/// A value of a Prometheus text exposition, summed over its series.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The cumulative buckets of `voxport_http_request_duration_seconds` for
/// `GET route`: (upper bound in seconds, requests), in order.
fn request_buckets(text: &str, route: &str) -> Vec<(f64, f64)> {
    let prefix = format!("voxport_http_request_duration_seconds_bucket{{route=\"{route}\",method=\"GET\",le=\"");
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| {
            let (le, count) = l.strip_prefix(&prefix)?.split_once("\"} ")?;
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
            Some((le, count.trim().parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    buckets
}

/// The `q` quantile, in ms, of the `GET route` requests the server timed
/// between two scrapes of `/metrics`, interpolated within its bucket as
/// Prometheus's `histogram_quantile` does; none without requests.
fn server_quantile_ms(before: &str, after: &str, route: &str, q: f64) -> Option<f64> {
    let before = request_buckets(before, route);
    let counts: Vec<(f64, f64)> = request_buckets(after, route)
        .into_iter()
        .map(|(le, n)| (le, n - before.iter().find(|b| b.0 == le).map_or(0.0, |b| b.1)))
        .collect();
    let rank = q * counts.last().filter(|last| last.1 > 0.0)?.1;
    let mut lower = (0.0, 0.0);
    for (le, n) in counts {
        if n >= rank {
            if le.is_infinite() {
                return Some(1000.0 * lower.0);
            }
            let within = if n > lower.1 { (rank - lower.1) / (n - lower.1) } else { 0.0 };
            return Some(1000.0 * (lower.0 + (le - lower.0) * within));
        }
        lower = (le, n);
    }
    None
}

async fn bench_db(args: &Args, db: Db) -> anyhow::Result<DbFigures> {
    println!("\n== {}", db.name());
    let hello_port = free_port()?;
    let mut hello = Command::new(std::env::current_exe()?)
        .arg("hello")
        .arg(hello_port.to_string())
        .kill_on_drop(true)
        .stdout(Stdio::null())
        .spawn()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server = Server::start(args, db).await?;
    // The operator's password was hashed at start.
    tokio::time::sleep(SETTLE).await;
    let mut f = DbFigures::new(db.name());
    f.connection = server.postgres.as_ref().map(|url| {
        if url.contains("sslmode=disable") {
            "voxport reaches PostgreSQL over TCP without TLS (`sslmode=disable`), as docker-compose runs it.".to_owned()
        } else {
            "voxport reaches PostgreSQL with sqlx's default `sslmode=prefer`: over TLS when the server offers it."
                .to_owned()
        }
    });
    f.rss_idle = server.rss_mb()?;
    println!("resident memory idle: {:.1} MB", f.rss_idle);

    let op = server.sign_in("admin", OPERATOR_PASSWORD).await?["access_token"].as_str().context("a token")?.to_owned();
    let tenant = server
        .post(
            "/v1/tenants",
            Some(&op),
            json!({"name": "Bench Corp", "slug": "bench", "admin": {"login": "bench-admin", "email": "it@bench.example",
                "first_name": "Bea", "last_name": "Admin", "password": PASSWORD}}),
        )
        .await?;
    let station = server
        .post(
            "/v1/stations",
            Some(&op),
            json!({"tenant_id": tenant["id"], "name": "Standard", "code": "standard",
                   "applications": ["desktop_app", "web_dialer"], "quantity": 100_000}),
        )
        .await?;
    let sign_in_admin = async || -> anyhow::Result<String> {
        Ok(server.sign_in("bench-admin", PASSWORD).await?["access_token"].as_str().context("a token")?.to_owned())
    };

    // One-call set-ups without a password, through the API, in batches
    // each with a fresh token: 100,000 take longer than one lives.
    let started = Instant::now();
    let station_id = station["id"].as_str().context("a station id")?.to_owned();
    let mut first_user = None;
    for batch in (0..args.users).collect::<Vec<_>>().chunks(SEED_BATCH) {
        let admin = sign_in_admin().await?;
        let seeded = futures::stream::iter(batch.iter().copied())
            .map(|n| {
                let (server, admin, station_id) = (&server, &admin, &station_id);
                async move {
                    server
                        .post(
                            "/v1/users",
                            Some(admin),
                            json!({"email": format!("agent{n:06}@bench.example"), "first_name": format!("Agent{n}"),
                                   "last_name": "Bench", "extension": {"number": format!("{}", 100_000 + n), "type": "sip"},
                                   "station_id": station_id, "applications": ["desktop_app"]}),
                        )
                        .await
                }
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<_>>>()?;
        if first_user.is_none() {
            first_user = seeded.first().and_then(|u| u["id"].as_str()).map(str::to_owned);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let first_user = first_user.context("no user was seeded")?;
    let admin = sign_in_admin().await?;
    f.setups_per_second = args.users as f64 / seconds;
    println!("{} one-call set-ups: {:.0}/s", args.users, f.setups_per_second);
    if let Some(url) = &server.postgres {
        // Autovacuum would get to it; the figures should not depend on
        // when. VACUUM also marks the pages all-visible, so a page of ids
        // can come from the order's index alone. (With ANALYZE alone, one
        // run measured GET /v1/users/{id} at 1,679 req/s and page 1000 at
        // 87 lists/s; the next, with VACUUM, 4,574 and 393.)
        //
        // Only the tables autovacuum would take by now: those changed by
        // more than its thresholds (50 rows and 10 %). A table analyzed
        // while empty (sessions, before anyone signed in) is planned as
        // empty until it is analyzed again, which with autovacuum off (as
        // on the CI machines) is never: each connection's plan for the
        // foreign-key check of a new refresh token (`SELECT 1 FROM ONLY
        // sessions x WHERE id = $1 FOR KEY SHARE OF x`, `auto_explain`)
        // scanned every session, 167 million rows over 14,000 sign-ins,
        // and reads during the sign-in flood had a p99 57 times their idle
        // one. A table never analyzed is planned by its size on disk.
        let tables = psql_value(
            url,
            "SELECT string_agg(format('%I', s.relname), ', ') FROM pg_stat_user_tables s \
             JOIN pg_class c ON c.oid = s.relid WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)",
        )
        .await?;
        if !tables.is_empty() {
            psql(url, &format!("VACUUM (ANALYZE) {tables}")).await?;
        }
    }

    // Users who sign in, with passwords hashed at the defaults.
    let signers: Vec<String> = (0..200).map(|n| format!("signer{n:03}@bench.example")).collect();
    futures::stream::iter(&signers)
        .map(|login| {
            server.post(
                "/v1/users",
                Some(&admin),
                json!({"email": login, "first_name": "Sign", "last_name": "In", "password": PASSWORD,
                       "send_welcome_email": false}),
            )
        })
        .buffer_unordered(4)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<Vec<_>>>()?;
    let logins = std::env::temp_dir().join("voxport-bench-logins.txt");
    std::fs::write(&logins, signers.join("\n"))?;

    let auth = format!("Authorization: Bearer {admin}");
    f.hello = Load::new(&format!("http://127.0.0.1:{hello_port}/hello")).connections(32).run().await?;
    println!("bare actix-web hello: {:.0} req/s", f.hello.rps);
    f.read_one =
        Load::new(&format!("{}/v1/users/{first_user}", server.base)).header(&auth).connections(32).run().await?;
    println!("GET /v1/users/{{id}}: {:.0} req/s, p99 {:.1} ms", f.read_one.rps, f.read_one.p99_ms);
    hello.kill().await?;

    for (label, query) in report::list_variants() {
        let url = format!("{}/v1/users?per_page=50{query}", server.base);
        let run = Load::new(&url).header(&auth).connections(8).seconds(5).run().await?;
        println!("GET /v1/users {label}: {:.0} req/s, p99 {:.1} ms", run.rps, run.p99_ms);
        f.lists.push((label, run));
    }

    // Idle reads at the concurrency the flood test uses.
    let read_url = format!("{}/v1/users/{first_user}", server.base);
    // The reads, timed by oha and by the server: `/metrics` before and
    // after, and the seconds between.
    let timed_reads = async || -> anyhow::Result<(Run, String, String, f64)> {
        let before = server.metrics().await?;
        let started = Instant::now();
        let run = Load::new(&read_url).header(&auth).connections(8).seconds(10).run_oha().await?;
        Ok((run, before, server.metrics().await?, started.elapsed().as_secs_f64()))
    };
    let (run, before, after, _) = timed_reads().await?;
    f.read_idle = run;
    f.read_idle_server_p99 = server_quantile_ms(&before, &after, READ_ROUTE, 0.99);

    // Sign-ins until 10,000 are done, with reads measured in the middle of
    // the first round only: reads take the cores from the hashing threads
    // (they run below every thread that serves requests), so the rate of
    // sign-ins comes from the rounds without them.
    let mut sign_ins = 0.0;
    let (mut with_reads, mut alone) = (Vec::new(), Vec::new());
    while sign_ins < 10_000.0 {
        let flood = Load::new(&format!("{}/v1/auth/login", server.base))
            .script("bench/lua/login.lua")
            .env("LOGINS", logins.display().to_string())
            .env("PASSWORD", PASSWORD.to_owned())
            .connections(16)
            .seconds(60)
            .run();
        let flood = if f.read_during_flood.is_none() {
            let reads = async {
                tokio::time::sleep(Duration::from_secs(20)).await;
                let (run, before, after, seconds) = timed_reads().await?;
                let delta = |name: &str| metric(&after, name) - metric(&before, name);
                f.pool_waits_during_flood = Some(PoolWaits {
                    checkouts: delta("voxport_db_pool_wait_seconds_count"),
                    waited: delta("voxport_db_pool_wait_seconds_sum"),
                    seconds,
                });
                f.read_flood_server_p99 = server_quantile_ms(&before, &after, READ_ROUTE, 0.99);
                f.read_during_flood = Some(run);
                anyhow::Ok(())
            };
            let (flood, reads) = tokio::join!(flood, reads);
            reads?;
            let flood = flood?;
            with_reads.push(flood.rps);
            flood
        } else {
            let flood = flood.await?;
            alone.push(flood.rps);
            flood
        };
        sign_ins += flood.requests;
        f.sign_in_errors += flood.errors;
        println!("sign-ins: {:.1}/s over {:.0} so far ({} not 200)", flood.rps, sign_ins, flood.errors);
    }
    let rounds = if alone.is_empty() { &with_reads } else { &alone };
    f.sign_ins_per_second = rounds.iter().sum::<f64>() / rounds.len() as f64;
    f.sign_ins = sign_ins;
    f.rss_after_sign_ins = server.rss_mb()?;
    println!("resident memory after {sign_ins:.0} sign-ins: {:.1} MB", f.rss_after_sign_ins);
    tokio::time::sleep(SETTLE).await;
    f.rss_settled = server.rss_mb()?;
    println!("resident memory {} s later: {:.1} MB", SETTLE.as_secs(), f.rss_settled);

    // Refreshes: each answer's new token feeds the next request.
    let mut tokens = Vec::new();
    for login in signers.iter().take(64) {
        tokens.push(server.sign_in(login, PASSWORD).await?["refresh_token"].as_str().context("a token")?.to_owned());
    }
    let token_file = std::env::temp_dir().join("voxport-bench-tokens.txt");
    std::fs::write(&token_file, tokens.join("\n"))?;
    f.refresh = Load::new(&format!("{}/v1/auth/refresh", server.base))
        .script("bench/lua/refresh.lua")
        .env("TOKENS", token_file.display().to_string())
        .connections(16)
        .seconds(10)
        .run()
        .await?;
    println!("refreshes: {:.0}/s", f.refresh.rps);

    // The operator's first token has expired by now on a full run.
    let op = server.sign_in("admin", OPERATOR_PASSWORD).await?["access_token"].as_str().context("a token")?.to_owned();
    let (rows, seconds) = import(&server, &op).await?;
    f.import_rows = rows;
    f.import_seconds = seconds;
    println!("import of {rows} rows: {seconds:.1} s, {:.0} rows/s", rows as f64 / seconds);

    let metrics = server.metrics().await?;
    f.hash_wait_mean_ms = 1000.0 * metric(&metrics, "voxport_password_hash_wait_seconds_sum")
        / metric(&metrics, "voxport_password_hash_wait_seconds_count").max(1.0);
    f.hash_mean_ms = 1000.0 * metric(&metrics, "voxport_password_hash_seconds_sum")
        / metric(&metrics, "voxport_password_hash_seconds_count").max(1.0);
    f.pool_in_use = metric(&metrics, "voxport_db_pool_in_use");
    Ok(f)
}

/// The route of the reads measured idle and during the flood, as
/// `/metrics` labels it.
const READ_ROUTE: &str = "/v1/users/{id}";

/// Set-ups seeded with one access token (they last minutes).
const SEED_BATCH: usize = 5_000;

/// Rows of the import figure (issue 13: 10,000 rows in at most 30 s).
const IMPORT_ROWS: usize = 10_000;

/// Imports [`IMPORT_ROWS`] users without passwords, each with a new
/// extension and a station licence, as one CSV upload into a tenant of
/// their own (a job, in the default all-or-nothing mode); answers the rows
/// and the seconds from the upload to the job's end.
async fn import(server: &Server, operator: &str) -> anyhow::Result<(usize, f64)> {
    let tenant = server
        .post(
            "/v1/tenants",
            Some(operator),
            json!({"name": "Import Corp", "slug": "import", "admin": {"login": "import-admin",
                   "email": "it@import.example", "first_name": "Ida", "last_name": "Admin", "password": PASSWORD}}),
        )
        .await?;
    server
        .post(
            "/v1/stations",
            Some(operator),
            json!({"tenant_id": tenant["id"], "name": "Standard", "code": "standard",
                   "applications": ["desktop_app"], "quantity": IMPORT_ROWS}),
        )
        .await?;
    let admin = server.sign_in("import-admin", PASSWORD).await?["access_token"].as_str().context("a token")?.to_owned();
    let mut file = String::from("login,email,first_name,last_name,extension,extension_type,station,applications\n");
    for n in 0..IMPORT_ROWS {
        file.push_str(&format!(
            "moved{n:05},moved{n:05}@import.example,Moved,Agent {n},{},sip,standard,desktop_app\n",
            200_000 + n
        ));
    }
    let started = Instant::now();
    let res = server
        .client
        .post(format!("{}/v1/users/import", server.base))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await?;
    if res.status() != 202 {
        bail!("the import answered {}: {}", res.status(), res.text().await.unwrap_or_default());
    }
    let location = res.headers().get("location").and_then(|l| l.to_str().ok()).context("a job location")?.to_owned();
    loop {
        let job = server.call(reqwest::Method::GET, &location, Some(&admin), &Value::Null).await?;
        match job["state"].as_str() {
            Some("succeeded") => {
                let created = job["rows_created"].as_u64().unwrap_or(0);
                if created != IMPORT_ROWS as u64 {
                    bail!("the import created {created} of {IMPORT_ROWS} rows: {job}");
                }
                return Ok((IMPORT_ROWS, started.elapsed().as_secs_f64()));
            }
            Some("failed" | "cancelled") => bail!("the import ended: {job}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(counts: [u64; 4]) -> String {
        ["0.001", "0.0025", "0.005", "+Inf"]
            .iter()
            .zip(counts)
            .map(|(le, n)| {
                format!("voxport_http_request_duration_seconds_bucket{{route=\"{READ_ROUTE}\",method=\"GET\",le=\"{le}\"}} {n}\n")
            })
            .collect()
    }

    #[test]
    fn the_server_quantile_counts_only_the_requests_between_two_scrapes() {
        // Before: 1,000 fast requests. Between: 50 fast, 40 under 2.5 ms,
        // 10 under 5 ms: the 99th of 100 is the 9th of the 10 in the last
        // bucket.
        let (before, after) = (scrape([1000, 1000, 1000, 1000]), scrape([1050, 1090, 1100, 1100]));
        let p99 = server_quantile_ms(&before, &after, READ_ROUTE, 0.99).unwrap_or_default();
        assert!((p99 - 4.75).abs() < 1e-9, "{p99}");
        assert_eq!(server_quantile_ms(&after, &after, READ_ROUTE, 0.99), None);
    }

    #[test]
    fn the_bench_database_keeps_the_url_options() {
        let named = |url| database_url(url, "voxport_bench_1").unwrap_or_default();
        assert_eq!(named(DEFAULT_POSTGRES), "postgres://postgres@127.0.0.1:5432/voxport_bench_1?sslmode=disable");
        assert_eq!(named("postgres://u:p@db/test"), "postgres://u:p@db/voxport_bench_1");
    }
}
