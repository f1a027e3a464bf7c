//! `BENCHMARKS.md`: each figure with its ceiling or goal, the machine and
//! the date.

use std::fmt::Write as _;

use crate::wrk::Run;

/// The list queries measured: every sort, without and with a search.
pub fn list_variants() -> Vec<(String, String)> {
    let mut variants = Vec::new();
    for sort in [
        "login",
        "-login",
        "email",
        "-email",
        "first_name",
        "-first_name",
        "last_name",
        "-last_name",
        "created_at",
        "-created_at",
    ] {
        variants.push((format!("sort={sort}"), format!("&sort={sort}")));
        variants.push((format!("sort={sort}&q=agent0042"), format!("&sort={sort}&q=agent0042")));
    }
    // A short q, which PostgreSQL once answered by walking every user.
    variants.push(("sort=login&q=0042".to_owned(), "&sort=login&q=0042".to_owned()));
    variants.push((DEEP_PAGE.to_owned(), "&page=1000".to_owned()));
    variants
}

/// The label of the list query that skips 49,950 users (page 1000 of 50):
/// reported on a row of its own, beside the first pages of every sort
/// that the goal names. An offset reads every index entry it skips: this
/// page reads 50,000 where the first reads 50.
const DEEP_PAGE: &str = "page=1000 (deep)";

#[derive(Debug, Default)]
pub struct DbFigures {
    pub name: &'static str,
    /// How voxport reaches the database, said under the heading.
    pub connection: Option<String>,
    pub rss_idle: f64,
    pub rss_after_sign_ins: f64,
    pub rss_settled: f64,
    pub sign_ins: f64,
    pub setups_per_second: f64,
    pub hello: Run,
    pub read_one: Run,
    pub read_idle: Run,
    pub read_during_flood: Option<Run>,
    /// The p99 of the same reads as the server timed them
    /// (`voxport_http_request_duration_seconds`), idle and during the flood.
    pub read_idle_server_p99: Option<f64>,
    pub read_flood_server_p99: Option<f64>,
    /// How database checkouts waited for a connection while those reads ran.
    pub pool_waits_during_flood: Option<PoolWaits>,
    pub lists: Vec<(String, Run)>,
    pub sign_ins_per_second: f64,
    pub sign_in_errors: u64,
    pub refresh: Run,
    pub hash_wait_mean_ms: f64,
    pub hash_mean_ms: f64,
    pub pool_in_use: f64,
    pub import_rows: usize,
    pub import_seconds: f64,
}

/// Checkouts of a pooled connection over some seconds, and the seconds
/// they spent waiting for one (`voxport_db_pool_wait_seconds`).
#[derive(Debug, Default)]
pub struct PoolWaits {
    pub checkouts: f64,
    pub waited: f64,
    pub seconds: f64,
}

impl PoolWaits {
    /// The mean wait of a checkout, in ms.
    fn mean_ms(&self) -> f64 {
        1000.0 * self.waited / self.checkouts.max(1.0)
    }

    /// The mean number of checkouts waiting at any moment (Little's law).
    fn waiting(&self) -> f64 {
        self.waited / self.seconds.max(f64::EPSILON)
    }
}

impl DbFigures {
    pub fn new(name: &'static str) -> Self {
        Self { name, ..Self::default() }
    }
}

pub struct Report {
    pub users: usize,
    pub argon2_verify: f64,
    pub sign_in_ceiling: f64,
    /// Verifications per second measured with every core hashing.
    pub argon2_parallel: f64,
    pub databases: Vec<DbFigures>,
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_owned())))
        .unwrap_or_default();
    format!("{} cores ({cpu}), {mem} memory", crate::cores())
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

impl Report {
    pub fn new(users: usize) -> Self {
        Self { users, argon2_verify: 0.0, sign_in_ceiling: 0.0, argon2_parallel: 0.0, databases: Vec::new() }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Benchmarks\n");
        let _ = writeln!(
            out,
            "Written by `bench/run` on {} on {}. Release build; voxport, PostgreSQL, `wrk` \
             and `oha` (one thread each) and the ceilings share the machine. Every ratio compares two figures of \
             this same run.\n",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
            machine(),
        );
        let _ = writeln!(
            out,
            "- Seeded through the API: one tenant with {} users, each set up in one call \
             (`POST /v1/users`) with an extension, a station licence and an application, and no \
             password (a set-password link in the outbox instead); 200 more users with passwords \
             hashed at the defaults sign in.",
            self.users
        );
        let _ = writeln!(
            out,
            "- argon2id verification at voxport's parameters (m=19456 KiB, t=2, p=1), one thread: \
             {:.1} ms; the sign-in ceiling is cores ÷ that = **{:.1} sign-ins/s**. Measured with \
             every core verifying at once (and nothing else running), the machine does {:.1}/s: \
             the second figure the sign-ins are compared with.\n",
            self.argon2_verify * 1000.0,
            self.sign_in_ceiling,
            self.argon2_parallel
        );
        for db in &self.databases {
            self.render_db(&mut out, db);
        }
        out
    }

    fn render_db(&self, out: &mut String, db: &DbFigures) {
        let ratio = |a: f64, b: f64| if b > 0.0 { 100.0 * a / b } else { 0.0 };
        let read_goal = if db.name == "SQLite" { 15.0 } else { 8.0 };
        let read_ratio = ratio(db.read_one.rps, db.hello.rps);
        let sign_in_ratio = ratio(db.sign_ins_per_second, self.sign_in_ceiling);
        let refresh_per_core = db.refresh.rps / crate::cores() as f64;
        let _ = writeln!(out, "## {}\n", db.name);
        if let Some(connection) = &db.connection {
            let _ = writeln!(out, "{connection}\n");
        }
        let _ = writeln!(out, "| figure | measured | ceiling or goal | ratio | goal |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        let _ = writeln!(
            out,
            "| authenticated `GET /v1/users/{{id}}`, 32 connections | {:.0} req/s (p99 {:.1} ms) | bare actix-web JSON hello {:.0} req/s | {:.1} % | ≥ {read_goal} %: {} |",
            db.read_one.rps,
            db.read_one.p99_ms,
            db.hello.rps,
            read_ratio,
            verdict(read_ratio >= read_goal)
        );
        let worst = |deep: bool| {
            db.lists.iter().filter(|(label, _)| (label == DEEP_PAGE) == deep).map(|(_, r)| r.p99_ms).fold(0.0, f64::max)
        };
        let _ = writeln!(
            out,
            "| `GET /v1/users?per_page=50` over {} users, 8 connections, worst p99 of every sort with and without `q` | {:.1} ms | 20 ms | | {} |",
            self.users,
            worst(false),
            verdict(worst(false) <= 20.0)
        );
        let _ = writeln!(
            out,
            "| the same, page 1000 (an offset of 49,950) | {:.1} ms | 20 ms | | {} |",
            worst(true),
            verdict(worst(true) <= 20.0)
        );
        let _ = writeln!(
            out,
            "| sign-ins, 16 connections, right passwords, in the 60 s rounds without reads alongside | {:.1}/s ({} not 200) | argon2 ceiling {:.1}/s (measured with every core hashing: {:.1}/s) | {sign_in_ratio:.0} % ({:.0} %) | ≥ 90 %: {} |",
            db.sign_ins_per_second,
            db.sign_in_errors,
            self.sign_in_ceiling,
            self.argon2_parallel,
            ratio(db.sign_ins_per_second, self.argon2_parallel),
            verdict(sign_in_ratio >= 90.0)
        );
        let _ = writeln!(
            out,
            "| refreshes, 16 connections | {:.0}/s ({refresh_per_core:.0} per core) | 2,000 per core | | {} |",
            db.refresh.rps,
            verdict(refresh_per_core >= 2000.0)
        );
        let mut flood_note = None;
        if let Some(flood) = &db.read_during_flood {
            let idle = &db.read_idle;
            let server = db.read_idle_server_p99.zip(db.read_flood_server_p99);
            let ratio = |flood: f64, idle: f64| if idle > 0.0 { flood / idle } else { 0.0 };
            // oha's figures when they can be true, else the server's own.
            let times = match server {
                Some((idle_server, flood_server)) if !(flood.is_consistent() && idle.is_consistent()) => {
                    let (which, run) = if flood.is_consistent() { ("idle", idle) } else { ("during the flood", flood) };
                    flood_note = Some(format!(
                        "oha's latencies {which} cannot be true: a mean of {:.2} ms over {:.0} requests is {:.0} s in flight on {} connections in {} s (Little's law). The flood's ratio is therefore the server's own, from `voxport_http_request_duration_seconds`, which leaves out the time a request waits in the kernel before the server reads it.\n",
                        run.mean_ms,
                        run.requests,
                        run.mean_ms / 1000.0 * run.requests,
                        run.connections,
                        run.seconds
                    ));
                    ratio(flood_server, idle_server)
                }
                _ => ratio(flood.p99_ms, idle.p99_ms),
            };
            let (flood_server, idle_server) = match server {
                Some((idle_server, flood_server)) => {
                    (format!(", server {flood_server:.1} ms"), format!(", server {idle_server:.1} ms"))
                }
                None => (String::new(), String::new()),
            };
            let _ = writeln!(
                out,
                "| p99 of authenticated reads during a sign-in flood, 8 connections | oha {:.1} ms{flood_server} | idle p99: oha {:.1} ms{idle_server} | {times:.2} × | ≤ 3 ×: {} |",
                flood.p99_ms,
                idle.p99_ms,
                verdict(times <= 3.0)
            );
        }
        let _ = writeln!(
            out,
            "| resident memory, idle after start | {:.1} MB | 40 MB | | {} |",
            db.rss_idle,
            verdict(db.rss_idle <= 40.0)
        );
        let _ = writeln!(
            out,
            "| resident memory after {:.0} sign-ins | {:.1} MB | 200 MB | | {} |",
            db.sign_ins,
            db.rss_after_sign_ins,
            verdict(db.rss_after_sign_ins <= 200.0)
        );
        let _ = writeln!(
            out,
            "| resident memory {} s after the last sign-in | {:.1} MB | idle + 10 MB | | {} |",
            crate::SETTLE.as_secs(),
            db.rss_settled,
            verdict(db.rss_settled <= db.rss_idle + 10.0)
        );
        let _ = writeln!(
            out,
            "| one-call set-ups without a password, 16 connections | {:.0}/s | 500/s | | {} |",
            db.setups_per_second,
            verdict(db.setups_per_second >= 500.0)
        );
        let import_rate = if db.import_seconds > 0.0 { db.import_rows as f64 / db.import_seconds } else { 0.0 };
        let _ = writeln!(
            out,
            "| import of {} users without passwords, each with an extension and a station licence (one CSV upload, a job, all or nothing) | {:.1} s ({import_rate:.0} rows/s) | 30 s | | {} |\n",
            db.import_rows,
            db.import_seconds,
            verdict(db.import_seconds > 0.0 && db.import_seconds <= 30.0)
        );
        let _ = writeln!(
            out,
            "From `/metrics` after the run: a hash waited {:.1} ms on average for a free hashing thread and took {:.1} ms; {:.0} database connections were in use at the end.\n",
            db.hash_wait_mean_ms, db.hash_mean_ms, db.pool_in_use
        );
        if let Some(note) = flood_note {
            let _ = writeln!(out, "{note}");
        }
        if let Some(waits) = &db.pool_waits_during_flood {
            let _ = writeln!(
                out,
                "While the reads ran during the flood, {:.0} database checkouts waited {:.2} ms on average for a pooled connection: {:.2} of them waiting at any moment.\n",
                waits.checkouts,
                waits.mean_ms(),
                waits.waiting()
            );
        }
        let _ = writeln!(out, "<details><summary>Every list query</summary>\n");
        let _ = writeln!(out, "| query | req/s | p50 | p99 |");
        let _ = writeln!(out, "|---|---|---|---|");
        for (label, run) in &db.lists {
            let _ = writeln!(out, "| `{label}` | {:.0} | {:.1} ms | {:.1} ms |", run.rps, run.p50_ms, run.p99_ms);
        }
        let _ = writeln!(out, "\n</details>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deep_page_has_a_row_of_its_own() {
        let run = |p99_ms| Run { p99_ms, ..Run::default() };
        let mut db = DbFigures::new("SQLite");
        db.lists = vec![("sort=login".to_owned(), run(12.0)), (DEEP_PAGE.to_owned(), run(34.4))];
        let mut report = Report::new(100_000);
        report.databases.push(db);
        let out = report.render();
        assert!(out.contains("worst p99 of every sort with and without `q` | 12.0 ms | 20 ms | | met |"), "{out}");
        assert!(
            out.contains("| the same, page 1000 (an offset of 49,950) | 34.4 ms | 20 ms | | **missed** |"),
            "{out}"
        );
    }
}
