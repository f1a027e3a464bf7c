//! A load to drive ([`Load`]), run by `wrk` here (or by `oha`:
//! `crate::oha`), and what a run measured ([`Run`]).

use anyhow::{Context as _, bail};
use tokio::process::Command;

/// What one run of `wrk` or `oha` measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Run {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// The mean latency the generator printed.
    pub mean_ms: f64,
    pub requests: f64,
    /// The connections and seconds the run was given.
    pub connections: u32,
    pub seconds: u32,
    /// Answers that were not 2xx or 3xx, and socket errors.
    pub errors: u64,
}

/// A load to drive at a URL: run by `wrk` ([`Load::run`]) or by `oha`
/// (`Load::run_oha`, `crate::oha`).
pub struct Load {
    pub(crate) url: String,
    pub(crate) connections: u32,
    pub(crate) seconds: u32,
    pub(crate) headers: Vec<String>,
    pub(crate) script: Option<String>,
    env: Vec<(String, String)>,
}

impl Load {
    pub fn new(url: &str) -> Self {
        Self { url: url.to_owned(), connections: 32, seconds: 10, headers: Vec::new(), script: None, env: Vec::new() }
    }

    pub fn connections(mut self, n: u32) -> Self {
        self.connections = n;
        self
    }

    pub fn seconds(mut self, n: u32) -> Self {
        self.seconds = n;
        self
    }

    pub fn header(mut self, h: &str) -> Self {
        self.headers.push(h.to_owned());
        self
    }

    /// A `wrk` Lua script.
    pub fn script(mut self, path: &str) -> Self {
        self.script = Some(path.to_owned());
        self
    }

    pub fn env(mut self, key: &str, value: String) -> Self {
        self.env.push((key.to_owned(), value));
        self
    }

    /// `wrk`: one thread, `connections` connections, `seconds` seconds,
    /// latency percentiles on.
    pub async fn run(self) -> anyhow::Result<Run> {
        let mut cmd = Command::new("wrk");
        cmd.arg("-t1")
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{}s", self.seconds))
            .arg("--latency")
            .arg("--timeout")
            .arg("10s");
        for h in &self.headers {
            cmd.arg("-H").arg(h);
        }
        if let Some(script) = &self.script {
            cmd.arg("-s").arg(script);
        }
        cmd.envs(self.env.iter().cloned()).arg(&self.url);
        let out = cmd.output().await.context("running wrk")?;
        if !out.status.success() {
            bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let run = parse(&String::from_utf8_lossy(&out.stdout))?;
        Ok(Run { connections: self.connections, seconds: self.seconds, ..run })
    }
}

impl Run {
    /// Whether the latencies the generator printed can be true. By
    /// Little's law its
    /// requests were in flight for `mean × requests` seconds in all, which
    /// `connections` connections over the run cannot exceed. During a
    /// sign-in flood on PostgreSQL, wrk printed a mean of 4.18 ms over
    /// 65,000 requests on 8 connections in 10 s: 272 s of latency in 81 s
    /// of connections.
    pub fn is_consistent(&self) -> bool {
        let busy = self.mean_ms / 1000.0 * self.requests;
        busy <= 1.05 * f64::from(self.connections) * f64::from(self.seconds)
    }
}

/// Milliseconds from wrk's `1.23ms`, `456.00us`, `1.20s`.
fn millis(text: &str) -> Option<f64> {
    let (number, unit) = text.find(|c: char| c.is_ascii_alphabetic()).map(|i| text.split_at(i))?;
    let n: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

fn parse(out: &str) -> anyhow::Result<Run> {
    let mut run = Run::default();
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => run.p50_ms = millis(v).unwrap_or(0.0),
            ["99%", v] => run.p99_ms = millis(v).unwrap_or(0.0),
            // Not "Latency Distribution".
            ["Latency", mean, ..] if millis(mean).is_some() => run.mean_ms = millis(mean).unwrap_or(0.0),
            ["Requests/sec:", v] => run.rps = v.parse().unwrap_or(0.0),
            [n, "requests", "in", ..] => run.requests = n.parse().unwrap_or(0.0),
            ["Non-2xx", "or", "3xx", "responses:", n] => run.errors += n.parse::<u64>().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                run.errors += rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>();
            }
            _ => {}
        }
    }
    if run.rps == 0.0 {
        bail!("wrk printed no rate:\n{out}");
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_wrk_prints() {
        let out = "Running 1s test @ http://127.0.0.1:1/\n  1 threads and 8 connections\n    Latency     1.43ms    1.56ms  44.55ms   95.72%\n  Latency Distribution\n     50%  410.00us\n     75%    1.02ms\n     99%    3.50ms\n  12345 requests in 1.00s, 1.2MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 7\nRequests/sec:  12345.67\n";
        let run = parse(out).unwrap_or_default();
        assert_eq!((run.p50_ms, run.p99_ms, run.mean_ms, run.requests, run.errors), (0.41, 3.5, 1.43, 12345.0, 10));
        assert!((run.rps - 12345.67).abs() < 1e-9);
    }

    #[test]
    fn latencies_longer_than_the_connections_were_open_are_not_consistent() {
        let run = |mean_ms| Run { mean_ms, requests: 65_000.0, connections: 8, seconds: 10, ..Run::default() };
        assert!(run(1.2).is_consistent());
        assert!(!run(4.18).is_consistent());
    }
}
