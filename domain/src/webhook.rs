//! Webhooks (issue 9): a tenant's integrators subscribe a URL to event
//! types and are told of each change by an HTTP POST that follows the
//! Standard Webhooks specification (standardwebhooks.com): headers
//! `webhook-id`, `webhook-timestamp` and `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), a secret
//! `whsec_<base64>`, and a JSON body `{type, timestamp, data}`.
//!
//! Events are written to an outbox of deliveries in the transaction of the
//! change they announce; a courier delivers them at least once, retrying
//! with exponential backoff, and disables a webhook that keeps failing. A
//! receiver tells a retry from a new event by `webhook-id`, the delivery's
//! id, which never changes between attempts.
//!
//! SSRF: a URL is `https`, or `http` only to the operator's allowed
//! networks; the address it resolves to *at send time* must be public
//! unless those networks list it ([`may_deliver_to`]); redirects are not
//! followed.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use chrono::{DateTime, SecondsFormat, Utc};
use ipnet::IpNet;
use rand::RngCore as _;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    audit::{AuditAction, AuditEvent, TargetType},
    values::Label,
};

macro_rules! event_types {
    ($($variant:ident => $code:literal, $doc:literal;)*) => {
        /// What a webhook can be told of.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum WebhookEventType {
            $(#[doc = $doc] $variant,)*
        }

        impl WebhookEventType {
            pub const ALL: &[WebhookEventType] = &[$(WebhookEventType::$variant,)*];

            #[must_use]
            pub fn code(self) -> &'static str {
                match self {
                    $(WebhookEventType::$variant => $code,)*
                }
            }

            #[must_use]
            pub fn description(self) -> &'static str {
                match self {
                    $(WebhookEventType::$variant => $doc,)*
                }
            }

            #[must_use]
            pub fn parse(code: &str) -> Option<Self> {
                match code {
                    $($code => Some(WebhookEventType::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    UserCreated => "user.created", "A user was created (the one-call set-up included).";
    UserUpdated => "user.updated", "A user's details, role, access window or applications changed.";
    UserDisabled => "user.disabled", "A user was switched off (also sent as `user.updated`).";
    UserDeleted => "user.deleted", "A user was deleted.";
    ExtensionAssigned => "extension.assigned", "An extension was given to a user.";
    ExtensionReleased => "extension.released", "An extension was taken from its user.";
    DeviceAssigned => "device.assigned", "A desk phone was given to a user.";
    DeviceReleased => "device.released", "A desk phone was taken from its user.";
    PhoneNumberAssigned => "phone_number.assigned", "A phone number was given to a user.";
    PhoneNumberReleased => "phone_number.released", "A phone number was taken from its user.";
    StationAssigned => "station.assigned", "A user was given a station licence.";
    StationReleased => "station.released", "A user's station licence was released.";
    StationExhausted => "station.exhausted", "The last free licence of a station pool was taken.";
}

/// What a webhook's subscription lists: known event types, each once, at
/// least one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEventTypes {
    #[error("must list at least one event type")]
    Empty,
    #[error("lists unknown event types: {}", .0.join(", "))]
    Unknown(Vec<String>),
}

/// # Errors
/// `Empty`, or `Unknown` naming what is not in [`WebhookEventType::ALL`].
pub fn parse_event_types<'a>(
    raw: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<WebhookEventType>, InvalidEventTypes> {
    let mut types = Vec::new();
    let mut unknown = Vec::new();
    for code in raw {
        match WebhookEventType::parse(code) {
            Some(t) => types.push(t),
            None => unknown.push(code.to_owned()),
        }
    }
    if !unknown.is_empty() {
        return Err(InvalidEventTypes::Unknown(unknown));
    }
    types.sort();
    types.dedup();
    if types.is_empty() { Err(InvalidEventTypes::Empty) } else { Ok(types) }
}

/// What a webhook secret starts with (the specification's prefix).
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

/// A webhook's signing secret: `whsec_` and the standard base64 of 32
/// random bytes, as the specification has it. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{WEBHOOK_SECRET_PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// A stored secret, opened.
    #[must_use]
    pub fn from_stored(secret: String) -> Self {
        Self(secret)
    }

    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The `webhook-signature` header of `body` sent as message `msg_id` at
    /// `timestamp` (Unix seconds), with the specification's own library.
    ///
    /// # Errors
    /// When the secret is not base64 or the body not UTF-8.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> anyhow::Result<String> {
        let signer = standardwebhooks::Webhook::new(&self.0)
            .map_err(|e| anyhow::anyhow!("a webhook secret does not decode: {e}"))?;
        signer.sign(msg_id, timestamp, body).map_err(|e| anyhow::anyhow!("signing a webhook: {e}"))
    }

    /// The context a stored secret is sealed under.
    #[must_use]
    pub fn context(webhook: Uuid) -> String {
        format!("webhook-secret:{webhook}")
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// A webhook's URL: absolute `https` (or `http`, for the allowed networks
/// only, decided at send time), with a host, no user name or password, at
/// most [`WebhookUrl::MAX_LEN`] characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidWebhookUrl {
    #[error("must be an absolute http(s) URL with a host, such as https://crm.example.com/voxport")]
    Malformed,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error("must use https (http only to the networks the operator allows)")]
    Scheme,
    #[error("points at a loopback, private, link-local or metadata address the operator does not allow")]
    Forbidden,
    #[error("is longer than 2048 characters")]
    TooLong,
}

impl WebhookUrl {
    pub const MAX_LEN: usize = 2048;

    /// Checks what can be told before sending: the form, the scheme, and
    /// an address written in the URL (a host name is checked at send time,
    /// on the address it resolves to then).
    ///
    /// # Errors
    /// See [`InvalidWebhookUrl`].
    pub fn parse(raw: &str, allowed: &[IpNet]) -> Result<Self, InvalidWebhookUrl> {
        if raw.len() > Self::MAX_LEN {
            return Err(InvalidWebhookUrl::TooLong);
        }
        let url = url::Url::parse(raw).map_err(|_| InvalidWebhookUrl::Malformed)?;
        if !matches!(url.scheme(), "https" | "http") || url.host().is_none() || url.cannot_be_a_base() {
            return Err(InvalidWebhookUrl::Malformed);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(InvalidWebhookUrl::Credentials);
        }
        let plain = url.scheme() == "http";
        if plain && allowed.is_empty() {
            return Err(InvalidWebhookUrl::Scheme);
        }
        match url.host() {
            Some(url::Host::Ipv4(ip)) if !may_deliver_to(IpAddr::V4(ip), plain, allowed) => {
                return Err(InvalidWebhookUrl::Forbidden);
            }
            Some(url::Host::Ipv6(ip)) if !may_deliver_to(IpAddr::V6(ip), plain, allowed) => {
                return Err(InvalidWebhookUrl::Forbidden);
            }
            Some(url::Host::Domain(name)) if is_local_name(name) && allowed.is_empty() => {
                return Err(InvalidWebhookUrl::Forbidden);
            }
            _ => {}
        }
        Ok(Self(url))
    }

    /// A URL stored before; its checks are made again at send time.
    ///
    /// # Errors
    /// When it no longer parses.
    pub fn stored(raw: &str) -> anyhow::Result<Self> {
        Ok(Self(url::Url::parse(raw)?))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    #[must_use]
    pub fn url(&self) -> &url::Url {
        &self.0
    }

    /// Whether it is plain `http`, which only the allowed networks take.
    #[must_use]
    pub fn is_plain(&self) -> bool {
        self.0.scheme() == "http"
    }
}

fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || name == "metadata.google.internal"
}

/// Whether a webhook may be sent to `ip`: an address in the operator's
/// `allowed` networks (`VOXPORT_WEBHOOK_ALLOWED_NETWORKS`) always, by
/// `http` too; any other only by `https` and only when it is public (not
/// loopback, private, shared, link-local, the cloud metadata address,
/// unique-local, multicast, documentation or reserved).
#[must_use]
pub fn may_deliver_to(ip: IpAddr, plain_http: bool, allowed: &[IpNet]) -> bool {
    let ip = ip.to_canonical();
    if allowed.iter().any(|net| net.contains(&ip)) {
        return true;
    }
    !plain_http && is_public(ip)
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254.0.0/16, the metadata address 169.254.169.254 too
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 88 && c == 99) // 6to4 relays
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    // 2001::/23: Teredo, benchmarking, ORCHID, other IETF assignments;
    // 2001:db8::/32: documentation.
    let special = (first == 0x2001 && (second < 0x0200 || second == 0x0db8))
        || first == 0x2002 // 6to4, which embeds an IPv4 address
        || (first == 0x3fff && second < 0x1000); // documentation (RFC 9637)
    // Only global unicast (2000::/3) is public, less what is special in it.
    (first & 0xe000) == 0x2000 && !special
}

/// A tenant's webhook.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub description: Option<Label>,
    pub event_types: Vec<WebhookEventType>,
    pub enabled: bool,
    /// Since when every attempt failed (none succeeded since).
    pub failing_since: Option<DateTime<Utc>>,
    /// Why it was switched off by voxport (`failing`), if it was.
    pub disabled_reason: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The reason a webhook switched off for failing shows.
pub const DISABLED_FOR_FAILING: &str = "failing";

#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: WebhookUrl,
    pub description: Option<Label>,
    pub event_types: Vec<WebhookEventType>,
    pub enabled: bool,
}

/// A webhook with its secret, shown once when it is created.
#[derive(Debug, Clone)]
pub struct WebhookWithSecret {
    pub webhook: Webhook,
    pub secret: WebhookSecret,
}

#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<WebhookUrl>,
    pub description: Option<Option<Label>>,
    pub event_types: Option<Vec<WebhookEventType>>,
    pub enabled: Option<bool>,
}

impl WebhookChanges {
    #[must_use]
    pub fn touched(&self) -> Vec<&'static str> {
        [
            ("url", self.url.is_some()),
            ("description", self.description.is_some()),
            ("event_types", self.event_types.is_some()),
            ("enabled", self.enabled.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, touched)| touched.then_some(name))
        .collect()
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its first or next attempt.
    Pending,
    Delivered,
    /// Given up: its webhook was switched off while it waited.
    Failed,
}

impl DeliveryState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(Self::Pending),
            "delivered" => Some(Self::Delivered),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// One event for one webhook, with its attempts.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// Also the `webhook-id` header: the same on every attempt.
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_type: WebhookEventType,
    pub state: DeliveryState,
    pub attempts: Vec<DeliveryAttempt>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// One try at a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's status code, when it answered.
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    /// Why it failed, when it did: a status outside 2xx, a timeout, a
    /// refused address…
    pub error: Option<String>,
    pub succeeded: bool,
}

/// A delivery leased by a courier, with what sending it needs.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub tenant_id: Uuid,
    pub url: String,
    pub sealed_secret: String,
    /// The body, exactly as signed and sent.
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u32,
    pub failing_since: Option<DateTime<Utc>>,
}

/// What a courier records after an attempt.
#[derive(Debug, Clone)]
pub enum DeliveryOutcome {
    Delivered,
    /// Try again at `next_at`; but with `disable_if_failing_since`, when
    /// the webhook is still on and has failed since before then (as
    /// storage has it, in the recording transaction), switch it off and
    /// give up its waiting deliveries instead.
    Failed {
        next_at: DateTime<Utc>,
        disable_if_failing_since: Option<DateTime<Utc>>,
    },
}

/// A delivery a courier is sending right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryBusy;

/// What recording an attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The lease ran out and another courier has the delivery: nothing
    /// was recorded.
    LeaseLost,
    Delivered,
    Retrying,
    /// The attempt switched its webhook off.
    Disabled,
}

/// An event about to be written for a tenant's webhooks.
#[derive(Debug, Clone)]
pub struct WebhookEvent {
    pub event_type: WebhookEventType,
    pub occurred_at: DateTime<Utc>,
    pub data: Value,
}

impl WebhookEvent {
    /// The body sent: `{type, timestamp, data}` (Standard Webhooks).
    #[must_use]
    pub fn body(&self) -> String {
        json!({
            "type": self.event_type.code(),
            "timestamp": self.occurred_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "data": self.data,
        })
        .to_string()
    }
}

/// The webhook events an audit event announces: the changes integrators
/// subscribe to, with what identifies them (`data.id` is the user for a
/// user's events and the assignments; the object's own id is named beside
/// it). Fetch the object for its current state.
#[must_use]
pub fn events_of(event: &AuditEvent) -> Vec<WebhookEvent> {
    use WebhookEventType as E;
    let Some(user) = event.target_id.filter(|_| event.target_type == Some(TargetType::User)) else {
        return Vec::new();
    };
    let d = &event.details;
    let of = |event_type: E, data: Value| WebhookEvent { event_type, occurred_at: event.occurred_at, data };
    let with = |key: &str| json!({"id": user, key: d.get(key).cloned().unwrap_or(Value::Null)});
    let mut events = Vec::new();
    match event.action {
        AuditAction::UserCreated => {
            events.push(of(E::UserCreated, json!({"id": user, "role_id": d.get("role_id")})));
            // What the one-call set-up gave announces itself like a later change.
            for extension in d.get("extensions").and_then(Value::as_array).into_iter().flatten() {
                events.push(of(E::ExtensionAssigned, json!({"id": user, "extension_id": extension})));
            }
            for (key, event_type) in [
                ("phone_number_id", E::PhoneNumberAssigned),
                ("station_id", E::StationAssigned),
                ("device_id", E::DeviceAssigned),
            ] {
                if d.get(key).is_some_and(|v| !v.is_null()) {
                    events.push(of(event_type, with(key)));
                }
            }
        }
        AuditAction::UserUpdated => {
            events.push(of(E::UserUpdated, json!({"id": user, "fields": d.get("fields")})));
            if d.get("switched_off").and_then(Value::as_bool) == Some(true) {
                events.push(of(E::UserDisabled, json!({"id": user})));
            }
        }
        AuditAction::UserDeleted => events.push(of(E::UserDeleted, json!({"id": user}))),
        AuditAction::ExtensionAssigned => events.push(of(E::ExtensionAssigned, with("extension_id"))),
        AuditAction::ExtensionReleased => events.push(of(E::ExtensionReleased, with("extension_id"))),
        AuditAction::DeviceAssigned => events.push(of(E::DeviceAssigned, with("device_id"))),
        AuditAction::DeviceReleased => events.push(of(E::DeviceReleased, json!({"id": user}))),
        AuditAction::PhoneNumberAssigned => events.push(of(E::PhoneNumberAssigned, with("phone_number_id"))),
        AuditAction::PhoneNumberReleased => events.push(of(E::PhoneNumberReleased, json!({"id": user}))),
        AuditAction::StationAssigned => events.push(of(E::StationAssigned, with("station_id"))),
        AuditAction::StationReleased => events.push(of(E::StationReleased, json!({"id": user}))),
        _ => {}
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(raw: &[&str]) -> Vec<IpNet> {
        raw.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn signatures_match_the_specifications_test_vector() {
        // From the Standard Webhooks specification's own test suite.
        let secret = WebhookSecret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        let body = br#"{"test": 2432232314}"#;
        let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_generated_secret_has_the_prefix_and_256_bits() {
        let secret = WebhookSecret::generate();
        let raw = secret.expose().strip_prefix(WEBHOOK_SECRET_PREFIX).unwrap();
        assert_eq!(STANDARD.decode(raw).unwrap().len(), 32);
        assert_ne!(secret, WebhookSecret::generate());
        assert_eq!(format!("{secret:?}"), "WebhookSecret(<redacted>)");
    }

    #[test]
    fn only_public_addresses_by_https_unless_the_operator_allows_a_network() {
        let refused = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::1",
            "2001:0:4136:e378::1",
            "100::1",
            "::ffff:0:7f00:1",
            "fec0::1",
            "192.88.99.1",
        ];
        for ip in refused {
            assert!(!may_deliver_to(ip.parse().unwrap(), false, &[]), "{ip} is refused");
        }
        for ip in ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"] {
            assert!(may_deliver_to(ip.parse().unwrap(), false, &[]), "{ip} is public");
            assert!(!may_deliver_to(ip.parse().unwrap(), true, &[]), "{ip} by http is refused");
        }
        let allowed = nets(&["127.0.0.0/8", "10.0.0.0/8"]);
        assert!(may_deliver_to("127.0.0.1".parse().unwrap(), true, &allowed));
        assert!(may_deliver_to("::ffff:10.9.9.9".parse().unwrap(), true, &allowed));
        assert!(!may_deliver_to("192.168.1.1".parse().unwrap(), false, &allowed));
        assert!(!may_deliver_to("8.8.8.8".parse().unwrap(), true, &allowed), "http only to the allowed");
    }

    #[test]
    fn urls_are_checked_for_what_can_be_told_before_sending() {
        let none: &[IpNet] = &[];
        assert!(WebhookUrl::parse("https://crm.example.com/hooks?a=1", none).is_ok());
        assert_eq!(WebhookUrl::parse("http://crm.example.com/", none), Err(InvalidWebhookUrl::Scheme));
        assert_eq!(WebhookUrl::parse("ftp://crm.example.com/", none), Err(InvalidWebhookUrl::Malformed));
        assert_eq!(WebhookUrl::parse("crm.example.com", none), Err(InvalidWebhookUrl::Malformed));
        assert_eq!(WebhookUrl::parse("https://u:p@crm.example.com/", none), Err(InvalidWebhookUrl::Credentials));
        assert_eq!(WebhookUrl::parse("https://127.0.0.1/", none), Err(InvalidWebhookUrl::Forbidden));
        assert_eq!(WebhookUrl::parse("https://[::1]:8443/", none), Err(InvalidWebhookUrl::Forbidden));
        assert_eq!(WebhookUrl::parse("https://169.254.169.254/", none), Err(InvalidWebhookUrl::Forbidden));
        assert_eq!(WebhookUrl::parse("https://localhost/", none), Err(InvalidWebhookUrl::Forbidden));
        // Other spellings of loopback are addresses to the URL parser too.
        assert_eq!(WebhookUrl::parse("https://2130706433/", none), Err(InvalidWebhookUrl::Forbidden));
        assert_eq!(WebhookUrl::parse("https://0x7f.1/", none), Err(InvalidWebhookUrl::Forbidden));
        assert_eq!(WebhookUrl::parse("https://[::ffff:7f00:1]/", none), Err(InvalidWebhookUrl::Forbidden));
        let long = format!("https://example.com/{}", "a".repeat(2048));
        assert_eq!(WebhookUrl::parse(&long, none), Err(InvalidWebhookUrl::TooLong));
        let local = nets(&["127.0.0.0/8"]);
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/hook", &local).is_ok());
        assert!(WebhookUrl::parse("http://localhost:9000/hook", &local).is_ok());
        assert_eq!(WebhookUrl::parse("http://10.0.0.1/", &local), Err(InvalidWebhookUrl::Forbidden));
    }

    #[test]
    fn event_types_are_known_sorted_and_once() {
        assert_eq!(
            parse_event_types(["user.deleted", "user.created", "user.created"]),
            Ok(vec![WebhookEventType::UserCreated, WebhookEventType::UserDeleted])
        );
        assert_eq!(parse_event_types([]), Err(InvalidEventTypes::Empty));
        assert_eq!(
            parse_event_types(["user.created", "user.eaten"]),
            Err(InvalidEventTypes::Unknown(vec!["user.eaten".into()]))
        );
        for t in WebhookEventType::ALL {
            assert_eq!(WebhookEventType::parse(t.code()), Some(*t));
        }
    }

    #[test]
    fn the_body_is_type_timestamp_and_data() {
        let event = WebhookEvent {
            event_type: WebhookEventType::UserCreated,
            occurred_at: DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z").unwrap().with_timezone(&Utc),
            data: json!({"id": "u1"}),
        };
        let body: Value = serde_json::from_str(&event.body()).unwrap();
        assert_eq!(
            body,
            json!({"type": "user.created", "timestamp": "2026-12-02T10:00:00.000Z", "data": {"id": "u1"}})
        );
    }
}
