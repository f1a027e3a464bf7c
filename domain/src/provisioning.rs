//! Desk-phone provisioning by MAC (issue 10): a phone fetches
//! `/provisioning/{mac}.cfg` (Yealink) or `/provisioning/{mac}.xml`
//! (Polycom) with HTTP Basic credentials of its own, and gets the lines of
//! the user it serves.
//!
//! The credentials are per device, shown once and rotated by issuing new
//! ones. The password has 256 random bits, so it is stored as a SHA-256
//! digest (a slow hash protects guessable secrets, not random ones) and a
//! fetch costs no argon2 work. The file is made from what holds now: a
//! device moved to another user serves that user's lines at its next
//! fetch, and every port without a line of the user is written empty, so
//! a line of the previous holder does not linger on a phone that fetches
//! again. A device that serves nobody gets 404 (issue 10); its lines are
//! then only as good as their secrets, which a new holder's assignment
//! rotates.

use std::{fmt, net::IpAddr};

use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::OffsetComponents as _;
use uuid::Uuid;

use crate::{
    auth::MachineSecret,
    device::MacAddress,
    extension::{SipSecret, random_text},
    values::{Language, Timezone},
};

/// What a provisioning password starts with, so a leaked one is easy to
/// recognise (secret scanners, logs).
pub const PROVISIONING_SECRET_PREFIX: &str = "vxprov_";

/// Fresh HTTP Basic credentials for a desk phone.
#[derive(Debug, Clone)]
pub struct ProvisioningCredentials {
    /// `vxdev` and 16 lower-case letters and digits, unique on the platform.
    pub username: String,
    pub password: MachineSecret,
}

impl ProvisioningCredentials {
    /// From the operating system's CSPRNG: 256 bits of password.
    #[must_use]
    pub fn generate() -> Self {
        Self {
            username: format!("vxdev{}", random_text(16, b"abcdefghijkmnopqrstuvwxyz23456789")),
            password: MachineSecret::generate(PROVISIONING_SECRET_PREFIX),
        }
    }
}

/// What an administrator sees of a device's provisioning: never the
/// password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningInfo {
    pub username: String,
    pub issued_at: DateTime<Utc>,
    /// The last configuration served, and to which address.
    pub last_fetch_at: Option<DateTime<Utc>>,
    pub last_fetch_ip: Option<String>,
}

/// The credentials a fetch is checked against, found by their username.
#[derive(Clone)]
pub struct StoredProvisioning {
    pub device_id: Uuid,
    pub tenant_id: Uuid,
    pub mac: MacAddress,
    pub secret_hash: String,
}

impl fmt::Debug for StoredProvisioning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredProvisioning")
            .field("device_id", &self.device_id)
            .field("tenant_id", &self.tenant_id)
            .field("mac", &self.mac)
            .finish_non_exhaustive()
    }
}

/// A phone asking for its configuration.
#[derive(Clone, Copy)]
pub struct DeviceFetch<'a> {
    /// The MAC address in the path, as the phone spelled it.
    pub mac: &'a str,
    /// HTTP Basic credentials, when the phone sent any.
    pub credentials: Option<(&'a str, &'a str)>,
    pub ip: Option<IpAddr>,
    pub format: PhoneFormat,
}

impl fmt::Debug for DeviceFetch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceFetch")
            .field("mac", &self.mac)
            .field("username", &self.credentials.map(|(u, _)| u))
            .field("ip", &self.ip)
            .field("format", &self.format)
            .finish()
    }
}

/// The configuration formats served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneFormat {
    /// Yealink's `key = value` `.cfg` files.
    Yealink,
    /// Polycom's `<polycomConfig>` XML.
    Polycom,
}

impl PhoneFormat {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yealink => "yealink",
            Self::Polycom => "polycom",
        }
    }
}

/// Where a phone registers: the tenant's SIP domain, and the SIP server
/// (outbound proxy) that serves it when the domain does not resolve to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registrar {
    pub domain: String,
    pub server: Option<String>,
    pub port: u16,
}

/// One line key of a phone.
#[derive(Debug, Clone)]
pub struct PhoneLine {
    /// The extension number, shown on the line key.
    pub number: String,
    pub username: String,
    pub secret: SipSecret,
    /// The caller name the phone shows and sends.
    pub display_name: String,
}

/// Everything a desk phone is told.
#[derive(Debug, Clone)]
pub struct PhoneConfig {
    pub mac: MacAddress,
    pub registrar: Registrar,
    /// One per port the user is given, in order; `None` for a port without
    /// a line, written empty.
    pub lines: Vec<Option<PhoneLine>>,
    pub timezone: Timezone,
    pub language: Language,
    /// When it was made: the zone's offset is the one then.
    pub made_at: DateTime<Utc>,
}

impl PhoneConfig {
    /// The file in `format`.
    #[must_use]
    pub fn render(&self, format: PhoneFormat) -> String {
        match format {
            PhoneFormat::Yealink => self.yealink(),
            PhoneFormat::Polycom => self.polycom(),
        }
    }

    /// The zone's standard offset from UTC in seconds; the phone applies
    /// daylight saving time itself.
    fn standard_offset_seconds(&self) -> i64 {
        self.timezone.tz().offset_from_utc_datetime(&self.made_at.naive_utc()).base_utc_offset().num_seconds()
    }

    fn yealink(&self) -> String {
        let r = &self.registrar;
        let mut out = String::from("#!version:1.0.0.1\n");
        out.push_str(&format!("## voxport: the configuration of {}; made at each fetch\n", self.mac.as_str()));
        for (i, line) in self.lines.iter().enumerate() {
            let n = i + 1;
            let Some(line) = line else {
                out.push_str(&format!("account.{n}.enable = 0\n"));
                for key in ["label", "display_name", "auth_name", "user_name", "password"] {
                    out.push_str(&format!("account.{n}.{key} = \n"));
                }
                continue;
            };
            out.push_str(&format!("account.{n}.enable = 1\n"));
            out.push_str(&format!("account.{n}.label = {}\n", yealink_value(&line.number)));
            out.push_str(&format!("account.{n}.display_name = {}\n", yealink_value(&line.display_name)));
            out.push_str(&format!("account.{n}.auth_name = {}\n", yealink_value(&line.username)));
            out.push_str(&format!("account.{n}.user_name = {}\n", yealink_value(&line.username)));
            out.push_str(&format!("account.{n}.password = {}\n", yealink_value(line.secret.expose())));
            out.push_str(&format!("account.{n}.sip_server.1.address = {}\n", yealink_value(&r.domain)));
            out.push_str(&format!("account.{n}.sip_server.1.port = {}\n", r.port));
            match &r.server {
                Some(server) => {
                    out.push_str(&format!("account.{n}.outbound_proxy_enable = 1\n"));
                    out.push_str(&format!("account.{n}.outbound_proxy.1.address = {}\n", yealink_value(server)));
                    out.push_str(&format!("account.{n}.outbound_proxy.1.port = {}\n", r.port));
                }
                None => out.push_str(&format!("account.{n}.outbound_proxy_enable = 0\n")),
            }
        }
        let offset = self.standard_offset_seconds();
        out.push_str(&format!("local_time.time_zone = {}\n", yealink_offset(offset)));
        out.push_str(&format!("local_time.time_zone_name = {}\n", self.timezone.as_str()));
        out.push_str("local_time.summer_time = 2\n");
        let language = yealink_language(self.language);
        out.push_str(&format!("lang.gui = {language}\nlang.wui = {language}\n"));
        out
    }

    fn polycom(&self) -> String {
        let r = &self.registrar;
        let mut reg = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let n = i + 1;
            let Some(line) = line else {
                for key in ["address", "auth.userId", "auth.password", "displayName", "label"] {
                    reg.push((format!("reg.{n}.{key}"), String::new()));
                }
                continue;
            };
            reg.push((format!("reg.{n}.address"), line.username.clone()));
            reg.push((format!("reg.{n}.auth.userId"), line.username.clone()));
            reg.push((format!("reg.{n}.auth.password"), line.secret.expose().to_owned()));
            reg.push((format!("reg.{n}.displayName"), line.display_name.clone()));
            reg.push((format!("reg.{n}.label"), line.number.clone()));
            reg.push((format!("reg.{n}.server.1.address"), r.domain.clone()));
            reg.push((format!("reg.{n}.server.1.port"), r.port.to_string()));
            if let Some(server) = &r.server {
                reg.push((format!("reg.{n}.outboundProxy.address"), server.clone()));
                reg.push((format!("reg.{n}.outboundProxy.port"), r.port.to_string()));
            }
        }
        let time = [
            ("tcpIpApp.sntp.gmtOffset".to_owned(), self.standard_offset_seconds().to_string()),
            ("tcpIpApp.sntp.daylightSavings.enable".to_owned(), "1".to_owned()),
        ];
        let language = [("lcl.ml.lang".to_owned(), polycom_language(self.language).to_owned())];
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
        out.push_str(&format!("<!-- voxport: the configuration of {}; made at each fetch -->\n", self.mac.as_str()));
        out.push_str("<polycomConfig>\n");
        for (element, attributes) in [("reg", &reg[..]), ("tcpIpApp", &time[..]), ("lcl", &language[..])] {
            out.push_str(&format!("  <{element}"));
            for (name, value) in attributes {
                out.push_str(&format!("\n    {name}=\"{}\"", xml_attribute(value)));
            }
            out.push_str("/>\n");
        }
        out.push_str("</polycomConfig>\n");
        out
    }
}

/// A value on one line of a `.cfg` file: line breaks would start a new key,
/// so they become spaces (names and secrets have none; this is a guard).
fn yealink_value(value: &str) -> String {
    value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Yealink writes offsets as hours: `+1`, `-5`, `+5:30`.
fn yealink_offset(seconds: i64) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    match minutes % 60 {
        0 => format!("{sign}{}", minutes / 60),
        m => format!("{sign}{}:{m:02}", minutes / 60),
    }
}

/// The XML escapes an attribute value needs.
fn xml_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no control characters, not even as references.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Yealink's names of the languages voxport offers; English where it has
/// none.
fn yealink_language(language: Language) -> &'static str {
    match language.as_str().split('-').next().unwrap_or("en") {
        "de" => "German",
        "fr" => "French",
        "es" => "Spanish",
        "it" => "Italian",
        "nl" => "Dutch",
        "pt" => "Portuguese",
        "pl" => "Polish",
        "sv" => "Swedish",
        "da" => "Danish",
        "nb" => "Norwegian",
        "fi" => "Finnish",
        _ => "English",
    }
}

/// Polycom's `lcl.ml.lang` names.
fn polycom_language(language: Language) -> &'static str {
    match language.as_str() {
        "en-GB" => "English_United_Kingdom",
        "de" | "de-DE" | "de-AT" | "de-CH" => "German_Germany",
        "fr" | "fr-FR" => "French_France",
        "fr-CA" => "French_Canada",
        "es" | "es-ES" => "Spanish_Spain",
        "it" => "Italian_Italy",
        "nl" => "Dutch_Netherlands",
        "pt" => "Portuguese_Portugal",
        "pt-BR" => "Portuguese_Brazil",
        "pl" => "Polish_Poland",
        "sv" => "Swedish_Sweden",
        "da" => "Danish_Denmark",
        "nb" => "Norwegian_Norway",
        "fi" => "Finnish_Finland",
        _ => "English_United_States",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lines: Vec<Option<PhoneLine>>, server: Option<&str>) -> PhoneConfig {
        PhoneConfig {
            mac: MacAddress::parse("805ec0123456").unwrap(),
            registrar: Registrar { domain: "acme.sip.example.com".into(), server: server.map(Into::into), port: 5070 },
            lines,
            timezone: Timezone::parse("Asia/Kolkata").unwrap(),
            language: Language::parse("de-AT").unwrap(),
            made_at: "2026-07-01T12:00:00Z".parse().unwrap(),
        }
    }

    fn line(name: &str) -> PhoneLine {
        PhoneLine {
            number: "1001".into(),
            username: "vxabc".into(),
            secret: SipSecret::from_opened("s3cret".into()),
            display_name: name.into(),
        }
    }

    #[test]
    fn credentials_are_prefixed_and_differ() {
        let a = ProvisioningCredentials::generate();
        let b = ProvisioningCredentials::generate();
        assert_ne!(a.username, b.username);
        assert!(a.password.expose().starts_with(PROVISIONING_SECRET_PREFIX));
        assert!(!format!("{a:?}").contains(a.password.expose()));
    }

    #[test]
    fn yealink_lines_proxy_time_and_language() {
        let cfg = config(vec![Some(line("Mary Smith")), None], Some("sip.example.com")).render(PhoneFormat::Yealink);
        assert!(cfg.starts_with("#!version:1.0.0.1\n"), "{cfg}");
        for expected in [
            "account.1.enable = 1",
            "account.1.display_name = Mary Smith",
            "account.1.user_name = vxabc",
            "account.1.password = s3cret",
            "account.1.sip_server.1.address = acme.sip.example.com",
            "account.1.sip_server.1.port = 5070",
            "account.1.outbound_proxy.1.address = sip.example.com",
            "account.2.enable = 0",
            "account.2.password = ",
            "local_time.time_zone = +5:30",
            "lang.gui = German",
        ] {
            assert!(cfg.lines().any(|l| l == expected), "{expected:?} missing in\n{cfg}");
        }
        let no_proxy = config(vec![Some(line("A"))], None).render(PhoneFormat::Yealink);
        assert!(no_proxy.contains("account.1.outbound_proxy_enable = 0"));
    }

    #[test]
    fn a_control_character_cannot_start_a_new_yealink_key() {
        let cfg = config(vec![Some(line("Evil\naccount.9.password = x"))], None).render(PhoneFormat::Yealink);
        assert!(!cfg.lines().any(|l| l.starts_with("account.9")), "{cfg}");
    }

    #[test]
    fn polycom_attributes_are_escaped() {
        let xml = config(vec![Some(line("Tom & \"Jerry\" <x>"))], None).render(PhoneFormat::Polycom);
        assert!(xml.contains(r#"reg.1.displayName="Tom &amp; &quot;Jerry&quot; &lt;x&gt;""#), "{xml}");
        assert!(xml.contains(r#"tcpIpApp.sntp.gmtOffset="19800""#), "{xml}");
        assert!(xml.contains(r#"lcl.ml.lang="German_Germany""#), "{xml}");
    }

    #[test]
    fn offsets_in_yealink_spelling() {
        assert_eq!(yealink_offset(0), "+0");
        assert_eq!(yealink_offset(3600), "+1");
        assert_eq!(yealink_offset(-5 * 3600), "-5");
        assert_eq!(yealink_offset(-(3 * 3600 + 1800)), "-3:30");
        assert_eq!(yealink_offset(5 * 3600 + 45 * 60), "+5:45");
    }
}
