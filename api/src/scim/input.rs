//! A SCIM user document (a create, a replace, or the result of a PATCH)
//! read into what voxport keeps, naming the attribute at fault.
//!
//! Attribute names are case-insensitive (RFC 7643 §2.1); `null` is the
//! same as absent (§2.5); read-only values (`id`, `meta`), `schemas`,
//! `groups` and attributes of schemas voxport does not know are ignored,
//! as identity providers send them (Entra ID, Okta).

use serde_json::{Map, Value};
use voxport_domain::{
    device::MacAddress,
    phone_number::E164,
    user::{Contact, Directory, MAX_CONTACTS, MAX_DIRECTORY_TEXT},
    values::{Email, Language, Login, PersonName, Secret, Timezone},
};

use super::{ScimError, ScimType, discovery::EXTENSION};

/// What a SCIM document asks a user to be.
#[derive(Debug)]
pub struct Desired {
    pub login: Login,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub email: Option<Email>,
    pub directory: Directory,
    /// `None`: unassigned (the portal keeps its value).
    pub active: Option<bool>,
    pub timezone: Option<Timezone>,
    pub language: Option<Language>,
    pub role: WantedRole,
    pub password: Option<Secret>,
    pub telephony: WantedTelephony,
}

/// What a document says of the user's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WantedRole {
    /// Nothing (`roles` absent): the role stays as it is.
    Unsaid,
    /// None (`roles: []`, or removed): the built-in User role, the least
    /// one, so that an administrator whose role the directory takes away
    /// does not stay one.
    Least,
    /// The tenant's role of this name.
    Named(String),
}

/// The telephony extension's values.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WantedTelephony {
    /// Whether the document has the extension at all; without it, what the
    /// user holds stays as it is (a directory that does not map it).
    pub asserted: bool,
    /// `Some("")`: the next free number.
    pub extension: Option<String>,
    pub phone_number: Option<String>,
    pub station: Option<String>,
    pub device: Option<String>,
}

/// The value of `name` in `object`, compared without regard to case;
/// `null` counts as absent.
pub fn get<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v).filter(|v| !v.is_null())
}

fn invalid(attr: &str, message: impl std::fmt::Display) -> ScimError {
    ScimError::bad(ScimType::InvalidValue, format!("{attr}: {message}"))
}

fn text<'a>(object: &'a Map<String, Value>, attr: &str, path: &str) -> Result<Option<&'a str>, ScimError> {
    match get(object, attr) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(invalid(path, "must be a string")),
    }
}

/// A boolean as SCIM sends it, or as Entra ID does: `"True"` / `"False"`.
pub fn boolean(value: &Value, path: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid(path, "must be true or false")),
    }
}

fn bounded(value: &str, path: &str) -> Result<String, ScimError> {
    if value.chars().count() > MAX_DIRECTORY_TEXT {
        return Err(invalid(path, format!("at most {MAX_DIRECTORY_TEXT} characters")));
    }
    Ok(value.to_owned())
}

fn contacts(object: &Map<String, Value>, attr: &str) -> Result<Vec<Contact>, ScimError> {
    match get(object, attr) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => contacts_of(items, attr),
        // One value where a list belongs, as some directories send it.
        Some(one @ Value::Object(_)) => contacts_of(std::slice::from_ref(one), attr),
        Some(_) => Err(invalid(attr, "must be a list")),
    }
}

fn contacts_of(items: &[Value], attr: &str) -> Result<Vec<Contact>, ScimError> {
    if items.len() > MAX_CONTACTS {
        return Err(ScimError::bad(ScimType::TooMany, format!("{attr}: at most {MAX_CONTACTS}")));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let path = format!("{attr}[{i}]");
            let Value::Object(o) = item else { return Err(invalid(&path, "must be an object")) };
            let value = text(o, "value", &path)?.ok_or_else(|| invalid(&path, "needs a value"))?;
            Ok(Contact {
                value: bounded(value, &path)?,
                kind: text(o, "type", &path)?.map(|t| bounded(t, &path)).transpose()?,
                primary: get(o, "primary").map(|p| boolean(p, &format!("{path}.primary"))).transpose()?,
            })
        })
        .collect()
}

/// Reads a user document.
///
/// # Errors
/// 400 `invalidValue` naming the attribute.
pub fn read(doc: &Value) -> Result<Desired, ScimError> {
    let Value::Object(o) = doc else { return Err(ScimError::bad(ScimType::InvalidSyntax, "A user is a JSON object.")) };
    let login = text(o, "userName", "userName")?.ok_or_else(|| invalid("userName", "is required"))?;
    let login = Login::parse(login).map_err(|e| invalid("userName", e))?;
    let empty = Map::new();
    let name = match get(o, "name") {
        None => &empty,
        Some(Value::Object(n)) => n,
        Some(_) => return Err(invalid("name", "must be an object")),
    };
    let display_name = text(o, "displayName", "displayName")?.map(|d| bounded(d, "displayName")).transpose()?;
    // Names fall back on the display name's words, then on the login:
    // voxport keeps both, and not every directory sends them.
    let words: Vec<&str> = display_name.as_deref().unwrap_or("").split_whitespace().collect();
    let given = text(name, "givenName", "name.givenName")?
        .map(str::to_owned)
        .or_else(|| words.first().map(|w| (*w).to_owned()))
        .unwrap_or_else(|| login.as_str().to_owned());
    let family = text(name, "familyName", "name.familyName")?
        .map(str::to_owned)
        .or_else(|| (words.len() > 1).then(|| words[1..].join(" ")))
        .unwrap_or_else(|| given.clone());
    let first_name = PersonName::parse(&given).map_err(|e| invalid("name.givenName", e))?;
    let last_name = PersonName::parse(&family).map_err(|e| invalid("name.familyName", e))?;
    let emails = contacts(o, "emails")?;
    let email = super::resource::chosen(&emails)
        .map(|c| Email::parse(&c.value).map_err(|e| invalid("emails.value", e)))
        .transpose()?;
    let phone_numbers = contacts(o, "phoneNumbers")?;
    let external_id = text(o, "externalId", "externalId")?.map(|e| bounded(e, "externalId")).transpose()?;
    let active = get(o, "active").map(|a| boolean(a, "active")).transpose()?;
    let timezone =
        text(o, "timezone", "timezone")?.map(|t| Timezone::parse(t).map_err(|e| invalid("timezone", e))).transpose()?;
    let language = text(o, "preferredLanguage", "preferredLanguage")?
        .map(|l| Language::parse(&l.replace('_', "-")).map_err(|e| invalid("preferredLanguage", e)))
        .transpose()?;
    let role = match get(o, "roles") {
        None => WantedRole::Unsaid,
        Some(Value::Array(roles)) if roles.is_empty() => WantedRole::Least,
        Some(Value::Array(roles)) => {
            let pick = roles
                .iter()
                .find(|r| r.get("primary").is_some_and(|p| boolean(p, "roles.primary").unwrap_or(false)))
                .or_else(|| roles.first());
            match pick {
                Some(Value::Object(r)) => WantedRole::Named(
                    text(r, "value", "roles.value")?.ok_or_else(|| invalid("roles.value", "is required"))?.to_owned(),
                ),
                Some(Value::String(s)) => WantedRole::Named(s.clone()),
                _ => return Err(invalid("roles", "must be a list of {value}")),
            }
        }
        Some(_) => return Err(invalid("roles", "must be a list")),
    };
    let password = text(o, "password", "password")?.map(|p| Secret::new(p.to_owned()));
    let telephony = match get(o, EXTENSION) {
        None => WantedTelephony::default(),
        Some(Value::Object(t)) => telephony(t)?,
        Some(_) => return Err(invalid(EXTENSION, "must be an object")),
    };
    let unassigned = [
        ("active", active.is_none()),
        ("timezone", timezone.is_none()),
        ("preferredLanguage", language.is_none()),
        ("roles", !matches!(role, WantedRole::Named(_))),
    ]
    .into_iter()
    .filter(|(_, gone)| *gone)
    .map(|(name, _)| name.to_owned())
    .collect();
    Ok(Desired {
        login,
        first_name,
        last_name,
        email,
        directory: Directory { external_id, display_name, emails, phone_numbers, unassigned, ..Directory::default() },
        active,
        timezone,
        language,
        role,
        password,
        telephony,
    })
}

fn telephony(t: &Map<String, Value>) -> Result<WantedTelephony, ScimError> {
    let path = |a: &str| format!("{EXTENSION}:{a}");
    let extension = text(t, "extension", &path("extension"))?.map(str::trim).map(str::to_owned);
    let phone_number = text(t, "phoneNumber", &path("phoneNumber"))?
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| E164::parse(n).map(|e| e.as_str().to_owned()).map_err(|e| invalid(&path("phoneNumber"), e)))
        .transpose()?;
    let station =
        text(t, "stationType", &path("stationType"))?.map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let device = text(t, "deviceMacAddress", &path("deviceMacAddress"))?
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| MacAddress::parse(m).map(|m| m.as_str().to_owned()).map_err(|e| invalid(&path("deviceMacAddress"), e)))
        .transpose()?;
    Ok(WantedTelephony { asserted: true, extension, phone_number, station, device })
}
