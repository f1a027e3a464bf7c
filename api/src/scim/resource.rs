//! A user as a SCIM resource, and the `attributes` / `excludedAttributes`
//! projection (RFC 7644 §3.9).

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use uuid::Uuid;
use voxport_domain::user::{Contact, User};

use super::{CORE_USER, discovery::EXTENSION};

/// The user's email as SCIM shows it: the directory's addresses as it sent
/// them while the one voxport uses is among them, else that one alone.
fn emails(user: &User) -> Option<Value> {
    let email = user.email.as_ref()?;
    let sent = &user.directory.emails;
    if chosen(sent).is_some_and(|c| c.value.eq_ignore_ascii_case(email.as_str())) {
        return Some(contacts(sent));
    }
    Some(json!([{"value": email.as_str(), "type": "work", "primary": true}]))
}

/// The address voxport uses of those a directory sent: the primary one,
/// else the work one, else the first.
pub fn chosen(emails: &[Contact]) -> Option<&Contact> {
    emails
        .iter()
        .find(|e| e.primary == Some(true))
        .or_else(|| emails.iter().find(|e| e.kind.as_deref() == Some("work")))
        .or_else(|| emails.first())
}

fn contacts(list: &[Contact]) -> Value {
    Value::Array(list.iter().map(|c| serde_json::to_value(c).unwrap_or(Value::Null)).collect())
}

/// The full resource.
pub fn render(user: &User, base: &str, station_codes: &HashMap<Uuid, String>) -> Value {
    let unassigned = |name: &str| user.directory.unassigned.iter().any(|u| u == name);
    let mut r = Map::new();
    r.insert("id".into(), json!(user.id));
    if let Some(id) = &user.directory.external_id {
        r.insert("externalId".into(), json!(id));
    }
    r.insert("userName".into(), json!(user.login.as_str()));
    r.insert("name".into(), json!({"givenName": user.first_name.as_str(), "familyName": user.last_name.as_str()}));
    if let Some(name) = &user.directory.display_name {
        r.insert("displayName".into(), json!(name));
    }
    if let Some(emails) = emails(user) {
        r.insert("emails".into(), emails);
    }
    if !user.directory.phone_numbers.is_empty() {
        r.insert("phoneNumbers".into(), contacts(&user.directory.phone_numbers));
    }
    if !unassigned("active") {
        r.insert("active".into(), json!(!user.disabled));
    }
    if !unassigned("timezone") {
        r.insert("timezone".into(), json!(user.timezone.as_str()));
    }
    if !unassigned("preferredLanguage") {
        r.insert("preferredLanguage".into(), json!(user.language.as_str()));
    }
    if !unassigned("roles") {
        r.insert("roles".into(), json!([{"value": user.role.name.as_str()}]));
    }
    let mut telephony = Map::new();
    if let Some(extension) = user.extensions.first() {
        telephony.insert("extension".into(), json!(extension.number));
    }
    if let Some(number) = &user.phone_number {
        telephony.insert("phoneNumber".into(), json!(number.number));
    }
    if let Some(code) = user.station.as_ref().and_then(|s| station_codes.get(&s.id)) {
        telephony.insert("stationType".into(), json!(code));
    }
    if let Some(device) = &user.device {
        telephony.insert("deviceMacAddress".into(), json!(device.mac));
    }
    let mut schemas = vec![json!(CORE_USER)];
    if !telephony.is_empty() {
        schemas.push(json!(EXTENSION));
        r.insert(EXTENSION.into(), Value::Object(telephony));
    }
    r.insert("schemas".into(), Value::Array(schemas));
    r.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": user.created_at,
            "lastModified": user.updated_at,
            "location": format!("{base}/Users/{}", user.id),
        }),
    );
    Value::Object(r)
}

/// Attribute names as a request lists them: comma-separated, each an
/// attribute, `attr.sub`, or either behind a schema URN.
#[derive(Debug, Default, Clone)]
pub struct Projection {
    only: Vec<String>,
    without: Vec<String>,
}

/// An attribute reference, lower case, with the core schema's URN dropped
/// and the extension's kept as `<urn>:<attr>`.
fn normalise(raw: &str) -> String {
    let lower = raw.trim().to_ascii_lowercase();
    let core = format!("{}:", CORE_USER.to_ascii_lowercase());
    lower.strip_prefix(&core).map(str::to_owned).unwrap_or(lower)
}

impl Projection {
    pub fn new(attributes: Option<&str>, excluded: Option<&str>) -> Self {
        let split = |s: Option<&str>| -> Vec<String> {
            s.map(|s| s.split(',').map(normalise).filter(|a| !a.is_empty()).collect()).unwrap_or_default()
        };
        Self { only: split(attributes), without: split(excluded) }
    }

    pub fn from_lists(attributes: &[String], excluded: &[String]) -> Self {
        Self {
            only: attributes.iter().map(|a| normalise(a)).collect(),
            without: excluded.iter().map(|a| normalise(a)).collect(),
        }
    }

    /// `resource` with only what was asked for; `id`, `schemas` and
    /// `meta.resourceType` are always returned (RFC 7643 §7).
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(mut r) = resource else { return resource };
        let ext = EXTENSION.to_ascii_lowercase();
        let always = ["id", "schemas", "meta"];
        if !self.only.is_empty() {
            let mut kept = Map::new();
            for (key, value) in std::mem::take(&mut r) {
                let k = key.to_ascii_lowercase();
                if always.contains(&k.as_str()) {
                    kept.insert(key, value);
                } else if k == ext {
                    let Value::Object(inner) = value else { continue };
                    let wanted: Map<String, Value> = inner
                        .into_iter()
                        .filter(|(a, _)| {
                            self.only.iter().any(|o| *o == ext || *o == format!("{ext}:{}", a.to_ascii_lowercase()))
                        })
                        .collect();
                    if !wanted.is_empty() {
                        kept.insert(key, Value::Object(wanted));
                    }
                } else if self.only.contains(&k) {
                    kept.insert(key, value);
                } else if let Value::Object(inner) = value {
                    let prefix = format!("{k}.");
                    let wanted: Map<String, Value> = inner
                        .into_iter()
                        .filter(|(a, _)| self.only.iter().any(|o| *o == format!("{prefix}{}", a.to_ascii_lowercase())))
                        .collect();
                    if !wanted.is_empty() {
                        kept.insert(key, Value::Object(wanted));
                    }
                }
            }
            r = kept;
        }
        for gone in &self.without {
            if ["id", "schemas"].contains(&gone.as_str()) {
                continue;
            }
            match gone.split_once('.') {
                _ if gone.starts_with(&format!("{ext}:")) => {
                    let attr = &gone[ext.len() + 1..];
                    if let Some(Value::Object(inner)) =
                        r.iter_mut().find(|(k, _)| k.to_ascii_lowercase() == ext).map(|(_, v)| v)
                    {
                        inner.retain(|a, _| a.to_ascii_lowercase() != attr);
                    }
                }
                Some((parent, child)) if !gone.starts_with("urn:") => {
                    if let Some(Value::Object(inner)) =
                        r.iter_mut().find(|(k, _)| k.to_ascii_lowercase() == parent).map(|(_, v)| v)
                    {
                        inner.retain(|a, _| a.to_ascii_lowercase() != child);
                    }
                }
                _ => r.retain(|k, _| k.to_ascii_lowercase() != *gone),
            }
        }
        // The extension's object goes when nothing of it is left, and so
        // does its URN.
        let has_ext =
            r.iter().any(|(k, v)| k.to_ascii_lowercase() == ext && v.as_object().is_some_and(|o| !o.is_empty()));
        if !has_ext {
            r.retain(|k, _| k.to_ascii_lowercase() != ext);
            if let Some(Value::Array(schemas)) = r.get_mut("schemas") {
                schemas.retain(|s| s.as_str() != Some(EXTENSION));
            }
        }
        Value::Object(r)
    }
}
