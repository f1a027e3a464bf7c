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
    auth::{HashingParams, OWASP_MINIMUMS, SessionLifetimes},
    crypto::AtRestKey,
    throttle::ThrottlePolicy,
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
    /// How long a SQLite writer waits for the write lock (milliseconds).
    pub database_busy_timeout_ms: u64,
    /// Where clients reach the service; the access tokens' issuer.
    pub public_base_url: String,
    pub access_token_ttl_seconds: u64,
    pub refresh_token_idle_seconds: u64,
    pub session_max_seconds: u64,
    pub password_min_length: usize,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// Accept argon2 settings below OWASP's minimum. For test suites that
    /// hash thousands of passwords, never for a deployment.
    pub argon2_below_minimum_for_tests: bool,
    /// Threads that hash passwords (at the lowest priority); 0 means one
    /// per core. Each holds one argon2 work area (`argon2_memory_kib`).
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
    /// Where `/metrics` (Prometheus) is served, apart from the API so it is
    /// never public by accident; off when unset.
    pub metrics_bind: Option<String>,
    /// How long in-flight requests may take to finish on shutdown.
    pub shutdown_timeout_seconds: u64,
    /// The at-rest key (32 bytes, standard base64) that seals SIP secrets
    /// and emails; every replica needs the same one.
    pub secret_key: Option<String>,
    /// Where the at-rest key is kept when `secret_key` is not set; created
    /// with a fresh key when missing.
    pub secret_key_file: String,
    /// Where users reach the portal; emailed links point there. Defaults
    /// to `public_base_url`.
    pub portal_url: Option<String>,
    /// The platform's SIP domain; a tenant registers at `<slug>.<domain>`.
    pub sip_domain: String,
    /// The SIP server (host name or address) desk phones send to as their
    /// outbound proxy; unset, they send to their tenant's SIP domain.
    pub sip_server: Option<String>,
    /// The SIP server's and registrar's port.
    pub sip_port: u16,
    /// How long a set-password link works.
    pub set_password_link_hours: u64,
    /// How long an `Idempotency-Key` is remembered.
    pub idempotency_key_hours: u64,
    /// `smtp://user:pass@host:587?tls=required`, `smtps://…`, or none to
    /// write emails as `.eml` files into `mail_dir`.
    pub smtp_url: Option<String>,
    /// CA certificates (PEM) to trust for the SMTP server besides the system's.
    pub smtp_ca_file: Option<String>,
    /// The sender of every email.
    pub smtp_from: String,
    /// Where emails go without an SMTP server.
    pub mail_dir: String,
    /// Run the outbox worker in this process.
    pub email_worker: bool,
    /// How often the worker looks for due emails (it is also woken at once
    /// when one is written).
    pub email_poll_seconds: u64,
    /// The most one SMTP send may take.
    pub email_timeout_seconds: u64,
    /// Attempts before an email is given up.
    pub email_max_attempts: u32,
    /// The wait after the first failed attempt; it doubles after each.
    pub email_retry_seconds: u64,
    /// The most emails sent per second (0: no limit), so a large import's
    /// welcome emails do not flood the mail server.
    pub email_per_second: u32,
    /// Run import jobs in this process.
    pub import_worker: bool,
    /// Run the webhook courier in this process.
    pub webhook_worker: bool,
    /// How often the courier looks for due deliveries.
    pub webhook_poll_ms: u64,
    /// The most one webhook send may take, connecting included.
    pub webhook_timeout_seconds: u64,
    /// The wait after a webhook's first failed attempt; it doubles after
    /// each, up to an hour.
    pub webhook_retry_seconds: u64,
    /// A webhook failing this long without a success is switched off and
    /// its tenant's webhook administrators are emailed.
    pub webhook_disable_after_seconds: u64,
    /// Networks (CIDRs) webhooks may be sent to though not public, by
    /// plain `http` too (a list, or comma-separated); default none.
    #[serde(deserialize_with = "string_or_list")]
    pub webhook_allowed_networks: Vec<String>,
    /// Failed sign-ins of a login from one address before that address is
    /// locked out of it.
    pub lockout_free_failures: u32,
    /// How much longer each further lock lasts.
    pub lockout_step_seconds: u64,
    /// The longest lock.
    pub lockout_max_seconds: u64,
    /// Failures in a row from addresses a login is not known at that stop
    /// it there until an administrator unlocks it.
    pub lockout_hard_limit: u32,
    /// Failed sign-ins from one address (any logins) per window.
    pub address_max_failures: u32,
    pub address_window_seconds: u64,
    /// How long an address stays known for a user after they signed in
    /// from it: failures of others never lock them out of it.
    pub known_address_days: u64,
    /// Password-reset emails one login may be sent per window; further
    /// requests are answered alike and send nothing.
    pub reset_emails_max: u32,
    pub reset_emails_window_seconds: u64,
    /// Password-reset requests one address may make per window; further
    /// ones answer 429.
    pub reset_requests_max: u32,
    pub reset_requests_window_seconds: u64,
    /// The issuer authenticator apps show next to the account.
    pub totp_issuer: String,
    /// How long (milliseconds) what a request's token names is reused
    /// before it is read again: a session ended or an account changed on
    /// another replica is refused after at most this long. 0 reads it for
    /// every request.
    pub auth_cache_ms: u64,
    /// How often this process reads the signing keys again, so that a
    /// rotation reaches it; at most 60, which is what a rotation's
    /// activation delay and a retired key's grace allow for.
    pub key_reload_seconds: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("database_url", &voxport_persistence::redact_url(&self.database_url))
            .field("public_base_url", &self.public_base_url)
            .field("admin_login", &self.admin_login)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "<redacted>"))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<redacted>"))
            .field("smtp_url", &self.smtp_url.as_deref().map(voxport_persistence::redact_url))
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        let hashing = HashingParams::default();
        let lifetimes = SessionLifetimes::default();
        let throttle = ThrottlePolicy::default();
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://voxport.db?mode=rwc".into(),
            database_max_connections: 10,
            database_busy_timeout_ms: 10_000,
            public_base_url: "http://127.0.0.1:8080".into(),
            access_token_ttl_seconds: seconds(lifetimes.access),
            refresh_token_idle_seconds: seconds(lifetimes.refresh_idle),
            session_max_seconds: seconds(lifetimes.session_absolute),
            password_min_length: PasswordPolicy::default().min_chars(),
            argon2_memory_kib: hashing.memory_kib,
            argon2_iterations: hashing.iterations,
            argon2_parallelism: hashing.parallelism,
            argon2_below_minimum_for_tests: false,
            password_hash_concurrency: 0,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeaderSetting::XForwardedFor,
            log_format: LogFormat::Pretty,
            admin_login: "admin".into(),
            admin_password: None,
            workers: 0,
            metrics_bind: None,
            shutdown_timeout_seconds: 30,
            secret_key: None,
            secret_key_file: "voxport.key".into(),
            portal_url: None,
            sip_domain: "sip.voxport.localhost".into(),
            sip_server: None,
            sip_port: 5060,
            set_password_link_hours: 24,
            idempotency_key_hours: 24,
            smtp_url: None,
            smtp_ca_file: None,
            smtp_from: "voxport <no-reply@voxport.localhost>".into(),
            mail_dir: "mail".into(),
            email_worker: true,
            email_poll_seconds: 5,
            email_timeout_seconds: 10,
            email_max_attempts: 8,
            email_retry_seconds: 30,
            email_per_second: 20,
            import_worker: true,
            webhook_worker: true,
            webhook_poll_ms: 1_000,
            webhook_timeout_seconds: 5,
            webhook_retry_seconds: 30,
            webhook_disable_after_seconds: 3 * 86_400,
            webhook_allowed_networks: Vec::new(),
            lockout_free_failures: throttle.pair_free_failures,
            lockout_step_seconds: seconds(throttle.pair_lock_step),
            lockout_max_seconds: seconds(throttle.pair_max_lock),
            lockout_hard_limit: throttle.account_hard_limit,
            address_max_failures: throttle.address_max_failures,
            address_window_seconds: seconds(throttle.address_window),
            known_address_days: u64::try_from(throttle.known_for.num_days()).unwrap_or(30),
            reset_emails_max: throttle.reset_emails_max,
            reset_emails_window_seconds: seconds(throttle.reset_emails_window),
            reset_requests_max: throttle.reset_requests_max,
            reset_requests_window_seconds: seconds(throttle.reset_requests_window),
            totp_issuer: "voxport".into(),
            auth_cache_ms: 500,
            key_reload_seconds: 60,
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
    pub webhook_allowed_networks: Vec<IpNet>,
    pub shutdown_timeout: Duration,
    /// The at-rest key, when given inline (else it lives in `secret_key_file`).
    pub secret_key: Option<AtRestKey>,
    pub throttle: ThrottlePolicy,
    pub metrics_bind: Option<SocketAddr>,
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
        let webhook_allowed_networks = self
            .webhook_allowed_networks
            .iter()
            .map(|n| {
                n.parse::<IpNet>()
                    .or_else(|_| n.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map(|n| n.trunc())
                    .with_context(|| format!("setting `webhook_allowed_networks`: {n:?} is not an address or CIDR"))
            })
            .collect::<anyhow::Result<_>>()?;
        let secret_key = self
            .secret_key
            .as_deref()
            .map(AtRestKey::from_base64)
            .transpose()
            .map_err(|e| anyhow::anyhow!("setting `secret_key`: {e}"))?;
        if let Some(url) = &self.portal_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("setting `portal_url`: must be an http:// or https:// URL");
        }
        if let Some(server) = &self.sip_server
            && (server.is_empty() || !server.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        {
            bail!("setting `sip_server`: must be a host name or an IP address");
        }
        if self.sip_port == 0 {
            bail!("setting `sip_port`: must be between 1 and 65535");
        }
        if let Some(url) = &self.smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            bail!("setting `smtp_url`: must start with smtp:// or smtps://");
        }
        // The product promises that a change shows on every replica within
        // a second.
        if self.auth_cache_ms > 1_000 {
            bail!("setting `auth_cache_ms`: must be at most 1000");
        }
        for (name, value, max) in [
            ("set_password_link_hours", self.set_password_link_hours, 24 * 30),
            ("idempotency_key_hours", self.idempotency_key_hours, 24 * 30),
            ("email_poll_seconds", self.email_poll_seconds, 3_600),
            ("key_reload_seconds", self.key_reload_seconds, 60),
            ("email_timeout_seconds", self.email_timeout_seconds, 600),
            ("email_retry_seconds", self.email_retry_seconds, 86_400),
            ("email_max_attempts", u64::from(self.email_max_attempts), 100),
            ("webhook_poll_ms", self.webhook_poll_ms, 60_000),
            ("webhook_timeout_seconds", self.webhook_timeout_seconds, 30),
            ("webhook_retry_seconds", self.webhook_retry_seconds, 86_400),
            ("webhook_disable_after_seconds", self.webhook_disable_after_seconds, 30 * 86_400),
            ("database_busy_timeout_ms", self.database_busy_timeout_ms, 600_000),
            ("lockout_free_failures", u64::from(self.lockout_free_failures), 1_000),
            ("lockout_step_seconds", self.lockout_step_seconds, 86_400),
            ("lockout_max_seconds", self.lockout_max_seconds, 7 * 86_400),
            ("lockout_hard_limit", u64::from(self.lockout_hard_limit), 100_000),
            ("address_max_failures", u64::from(self.address_max_failures), 1_000_000),
            ("address_window_seconds", self.address_window_seconds, 86_400),
            ("reset_emails_max", u64::from(self.reset_emails_max), 1_000),
            ("reset_emails_window_seconds", self.reset_emails_window_seconds, 86_400),
            ("known_address_days", self.known_address_days, 3_650),
            ("reset_requests_max", u64::from(self.reset_requests_max), 1_000_000),
            ("reset_requests_window_seconds", self.reset_requests_window_seconds, 86_400),
        ] {
            if value == 0 || value > max {
                bail!("setting `{name}`: must be between 1 and {max}");
            }
        }
        let metrics_bind = self
            .metrics_bind
            .as_deref()
            .map(|b| {
                b.parse()
                    .with_context(|| format!("setting `metrics_bind`: {b:?} is not an address such as 127.0.0.1:9100"))
            })
            .transpose()?;
        let hashing = HashingParams {
            memory_kib: self.argon2_memory_kib,
            iterations: self.argon2_iterations,
            parallelism: self.argon2_parallelism,
        };
        if !hashing.meets_owasp_minimum() && !self.argon2_below_minimum_for_tests {
            let minimums: Vec<String> = OWASP_MINIMUMS.iter().map(|(m, t)| format!("m={m},t={t}")).collect();
            bail!(
                "settings `argon2_memory_kib` and `argon2_iterations`: m={},t={} is below OWASP's minimum for \
                 argon2id (one of {}); stored passwords would be cheap to guess",
                hashing.memory_kib,
                hashing.iterations,
                minimums.join(", ")
            );
        }
        Ok(Checked {
            metrics_bind,
            bind,
            policy,
            hashing,
            lifetimes,
            trusted_proxies,
            webhook_allowed_networks,
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_seconds),
            secret_key,
            throttle: ThrottlePolicy {
                pair_free_failures: self.lockout_free_failures,
                pair_lock_step: duration(self.lockout_step_seconds),
                pair_max_lock: duration(self.lockout_max_seconds),
                account_hard_limit: self.lockout_hard_limit,
                address_max_failures: self.address_max_failures,
                address_window: duration(self.address_window_seconds),
                known_for: duration(self.known_address_days.saturating_mul(86_400)),
                reset_emails_max: self.reset_emails_max,
                reset_emails_window: duration(self.reset_emails_window_seconds),
                reset_requests_max: self.reset_requests_max,
                reset_requests_window: duration(self.reset_requests_window_seconds),
            },
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
        let cases: [(&str, Break); 10] = [
            ("bind", |s| s.bind = "localhost".into()),
            ("database_url", |s| s.database_url = "mysql://x".into()),
            ("password_min_length", |s| s.password_min_length = 3),
            ("cors_origins", |s| s.cors_origins = vec!["*".into()]),
            ("trusted_proxies", |s| s.trusted_proxies = vec!["10.0.0.0/33".into()]),
            ("access_token_ttl_seconds", |s| s.access_token_ttl_seconds = 0),
            ("secret_key", |s| s.secret_key = Some("too-short".into())),
            ("smtp_url", |s| s.smtp_url = Some("http://mail.example".into())),
            ("portal_url", |s| s.portal_url = Some("portal.example".into())),
            ("email_max_attempts", |s| s.email_max_attempts = 0),
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
    fn debug_hides_every_secret() {
        let key = AtRestKey::generate().to_base64();
        let s = Settings {
            admin_password: Some("hunter2hunter2".into()),
            database_url: "postgres://vox:dbsecret@db/vox".into(),
            secret_key: Some(key.clone()),
            smtp_url: Some("smtp://mailer:smtpsecret@mail.example:587".into()),
            ..Settings::default()
        };
        let shown = format!("{s:?}");
        for secret in ["hunter2", "dbsecret", key.as_str(), "smtpsecret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
