//! Configuration: defaults, then an optional TOML file, then `VOXPORT_*`
//! environment variables (figment). A wrong setting stops start-up with a
//! message naming it.

use std::{net::SocketAddr, path::Path, time::Duration};

use anyhow::{Context as _, bail};
use figment::{
    Figment,
    providers::{Env, Format as _, Serialized, Toml},
};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};
use voxport_domain::{
    auth::{HashingParams, SessionLifetimes},
    values::PasswordPolicy,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedHeaderSetting {
    XForwardedFor,
    Forwarded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Every setting, with its environment variable `VOXPORT_<NAME>`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub bind: String,
    /// `sqlite://file.db?mode=rwc` or `postgres://user:pass@host/db`.
    pub database_url: String,
    pub database_max_connections: u32,
    /// Where clients reach the service; the access tokens' issuer.
    pub public_base_url: String,
    pub access_token_ttl_seconds: u64,
    pub refresh_token_idle_seconds: u64,
    pub session_max_seconds: u64,
    pub password_min_length: usize,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// How many password hashes may run at once.
    pub password_hash_concurrency: usize,
    /// Admin-app origins allowed by CORS (a list, or comma-separated).
    #[serde(deserialize_with = "string_or_list")]
    pub cors_origins: Vec<String>,
    /// Proxies whose forwarding header is believed (addresses or CIDRs).
    #[serde(deserialize_with = "string_or_list")]
    pub trusted_proxies: Vec<String>,
    /// The header those proxies write: `x-forwarded-for` or `forwarded`.
    pub forwarded_header: ForwardedHeaderSetting,
    pub log_format: LogFormat,
    /// The first operator's login on an empty database.
    pub admin_login: String,
    /// The first operator's password; generated and printed once when unset.
    pub admin_password: Option<String>,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// How long in-flight requests may take to finish on shutdown.
    pub shutdown_timeout_seconds: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("database_url", &voxport_persistence::redact_url(&self.database_url))
            .field("public_base_url", &self.public_base_url)
            .field("admin_login", &self.admin_login)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        let hashing = HashingParams::default();
        let lifetimes = SessionLifetimes::default();
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://voxport.db?mode=rwc".into(),
            database_max_connections: 10,
            public_base_url: "http://127.0.0.1:8080".into(),
            access_token_ttl_seconds: seconds(lifetimes.access),
            refresh_token_idle_seconds: seconds(lifetimes.refresh_idle),
            session_max_seconds: seconds(lifetimes.session_absolute),
            password_min_length: PasswordPolicy::default().min_chars(),
            argon2_memory_kib: hashing.memory_kib,
            argon2_iterations: hashing.iterations,
            argon2_parallelism: hashing.parallelism,
            password_hash_concurrency: 4,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeaderSetting::XForwardedFor,
            log_format: LogFormat::Pretty,
            admin_login: "admin".into(),
            admin_password: None,
            workers: 0,
            shutdown_timeout_seconds: 30,
        }
    }
}

fn seconds(d: chrono::Duration) -> u64 {
    u64::try_from(d.num_seconds()).unwrap_or(0)
}

fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        OneOrMany::Many(v) => v,
    })
}

/// What the settings mean once checked.
#[derive(Debug, Clone)]
pub struct Checked {
    pub bind: SocketAddr,
    pub policy: PasswordPolicy,
    pub hashing: HashingParams,
    pub lifetimes: SessionLifetimes,
    pub trusted_proxies: Vec<IpNet>,
    pub shutdown_timeout: Duration,
}

impl Settings {
    /// Reads defaults, then `file` (when given), then the environment.
    ///
    /// # Errors
    /// Names the setting that is wrong.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            if !file.exists() {
                bail!("the configuration file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("VOXPORT_").ignore(&["config", "test_database_url"]));
        figment.extract().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
    }

    /// # Errors
    /// Names the setting that is wrong and why.
    pub fn check(&self) -> anyhow::Result<Checked> {
        let bind = self
            .bind
            .parse()
            .with_context(|| format!("setting `bind`: {:?} is not an address such as 127.0.0.1:8080", self.bind))?;
        let url = self.database_url.as_str();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!("setting `database_url`: must start with sqlite: or postgres://");
        }
        if self.database_max_connections == 0 {
            bail!("setting `database_max_connections`: must be at least 1");
        }
        if !(self.public_base_url.starts_with("http://") || self.public_base_url.starts_with("https://")) {
            bail!("setting `public_base_url`: must be an http:// or https:// URL");
        }
        let policy = PasswordPolicy::new(self.password_min_length)
            .map_err(|e| anyhow::anyhow!("setting `password_min_length`: {e}"))?;
        for (name, value, max) in [
            ("access_token_ttl_seconds", self.access_token_ttl_seconds, 3_600),
            ("refresh_token_idle_seconds", self.refresh_token_idle_seconds, 86_400),
            ("session_max_seconds", self.session_max_seconds, 30 * 86_400),
        ] {
            if value == 0 || value > max {
                bail!("setting `{name}`: must be between 1 and {max}");
            }
        }
        let lifetimes = SessionLifetimes {
            access: duration(self.access_token_ttl_seconds),
            refresh_idle: duration(self.refresh_token_idle_seconds),
            session_absolute: duration(self.session_max_seconds),
        };
        for origin in &self.cors_origins {
            if origin == "*" || !(origin.starts_with("https://") || origin.starts_with("http://")) {
                bail!(
                    "setting `cors_origins`: {origin:?} must be an origin such as https://admin.example.com (never *)"
                );
            }
        }
        let trusted_proxies = self
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .with_context(|| format!("setting `trusted_proxies`: {p:?} is not an address or CIDR"))
            })
            .collect::<anyhow::Result<_>>()?;
        if self.password_hash_concurrency == 0 {
            bail!("setting `password_hash_concurrency`: must be at least 1");
        }
        Ok(Checked {
            bind,
            policy,
            hashing: HashingParams {
                memory_kib: self.argon2_memory_kib,
                iterations: self.argon2_iterations,
                parallelism: self.argon2_parallelism,
            },
            lifetimes,
            trusted_proxies,
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_seconds),
        })
    }
}

fn duration(seconds: u64) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        let checked = Settings::default().check().unwrap();
        assert_eq!(checked.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(checked.policy.min_chars(), 12);
    }

    #[test]
    fn a_wrong_setting_is_named() {
        type Break = fn(&mut Settings);
        let cases: [(&str, Break); 6] = [
            ("bind", |s| s.bind = "localhost".into()),
            ("database_url", |s| s.database_url = "mysql://x".into()),
            ("password_min_length", |s| s.password_min_length = 3),
            ("cors_origins", |s| s.cors_origins = vec!["*".into()]),
            ("trusted_proxies", |s| s.trusted_proxies = vec!["10.0.0.0/33".into()]),
            ("access_token_ttl_seconds", |s| s.access_token_ttl_seconds = 0),
        ];
        for (name, break_it) in cases {
            let mut s = Settings::default();
            break_it(&mut s);
            let err = s.check().unwrap_err().to_string();
            assert!(err.contains(name), "{name}: {err}");
        }
    }

    #[test]
    fn lists_come_as_arrays_or_comma_separated() {
        let s: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::string("cors_origins = \"https://a.example, https://b.example\""))
            .extract()
            .unwrap();
        assert_eq!(s.cors_origins, vec!["https://a.example", "https://b.example"]);
    }

    #[test]
    fn debug_hides_the_admin_password_and_database_password() {
        let s = Settings {
            admin_password: Some("hunter2hunter2".into()),
            database_url: "postgres://vox:dbsecret@db/vox".into(),
            ..Settings::default()
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("dbsecret"), "{shown}");
    }
}
