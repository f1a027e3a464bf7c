//! Runs `oha` (crates.io) and reads its JSON summary: the generator that
//! times the reads idle and during the sign-in flood. On two cores busy
//! hashing, `wrk` printed latencies that cannot be true (a mean of
//! 17.67 ms over 66,000 requests on 8 connections in 10 s: 1,171 s in
//! flight in 80), while `oha`, run in the same floods, stayed consistent
//! and agreed with the server's own histogram (p99 3.7–4.2 ms).

use anyhow::{Context as _, bail};
use serde_json::Value;
use tokio::process::Command;

use crate::wrk::{Load, Run};

impl Load {
    /// One worker thread (as `wrk -t1`), `connections` connections,
    /// `seconds` seconds; the requests still in flight at the end are
    /// waited for, so none is counted as an error.
    pub async fn run_oha(self) -> anyhow::Result<Run> {
        if self.script.is_some() {
            bail!("oha runs no wrk script");
        }
        let mut cmd = Command::new(oha());
        cmd.env("TOKIO_WORKER_THREADS", "1")
            .arg("--no-tui")
            .arg("--output-format")
            .arg("json")
            .arg("--wait-ongoing-requests-after-deadline")
            .arg("-c")
            .arg(self.connections.to_string())
            .arg("-z")
            .arg(format!("{}s", self.seconds));
        for h in &self.headers {
            cmd.arg("-H").arg(h);
        }
        let out = cmd.arg(&self.url).output().await.context("running oha (bench/run installs it)")?;
        if !out.status.success() {
            bail!("oha failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let run = parse(&String::from_utf8_lossy(&out.stdout))?;
        Ok(Run { connections: self.connections, seconds: self.seconds, ..run })
    }
}

/// The `oha` binary: `VOXPORT_BENCH_OHA` (set by `bench/run`), else the one
/// on the `PATH`.
fn oha() -> String {
    std::env::var("VOXPORT_BENCH_OHA").unwrap_or_else(|_| "oha".to_owned())
}

/// The figures of `oha --output-format json`: times in seconds, answers by
/// status, failures by their message.
fn parse(out: &str) -> anyhow::Result<Run> {
    let json: Value = serde_json::from_str(out).with_context(|| format!("oha printed no JSON:\n{out}"))?;
    let seconds = |v: &Value| v.as_f64().map(|s| s * 1000.0).unwrap_or(0.0);
    let statuses = json["statusCodeDistribution"].as_object().context("oha printed no status codes")?;
    let count = |v: &Value| v.as_u64().unwrap_or(0);
    let answered: u64 = statuses.values().map(count).sum();
    let not_ok: u64 = statuses
        .iter()
        .filter(|(status, _)| !status.starts_with('2') && !status.starts_with('3'))
        .map(|(_, n)| count(n))
        .sum();
    let failed: u64 = json["errorDistribution"].as_object().map_or(0, |e| e.values().map(count).sum());
    let run = Run {
        rps: json["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
        p50_ms: seconds(&json["latencyPercentiles"]["p50"]),
        p99_ms: seconds(&json["latencyPercentiles"]["p99"]),
        mean_ms: seconds(&json["summary"]["average"]),
        requests: answered as f64,
        errors: not_ok + failed,
        ..Run::default()
    };
    if answered == 0 {
        bail!("oha had no answers:\n{out}");
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_oha_prints() {
        let out = r#"{"summary":{"successRate":1.0,"total":10.0,"slowest":0.019,"fastest":0.0002,"average":0.00137,"requestsPerSec":5823.4},
            "latencyPercentiles":{"p10":0.0005,"p50":0.0011,"p99":0.00373,"p99.9":0.008},
            "statusCodeDistribution":{"200":58230,"401":4},"errorDistribution":{"connection closed":1}}"#;
        let run = parse(out).unwrap_or_default();
        assert_eq!((run.requests, run.errors), (58_234.0, 5));
        assert!(
            (run.p99_ms - 3.73).abs() < 1e-9 && (run.p50_ms - 1.1).abs() < 1e-9 && (run.mean_ms - 1.37).abs() < 1e-9
        );
        assert!((run.rps - 5823.4).abs() < 1e-9);
    }

    #[test]
    fn no_answers_is_an_error() {
        assert!(parse(r#"{"summary":{},"latencyPercentiles":{},"statusCodeDistribution":{}}"#).is_err());
        assert!(parse("Error: connection refused").is_err());
    }
}
