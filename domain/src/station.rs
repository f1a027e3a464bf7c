//! Station licence pools (PRODUCT.md rule 2): a licence type (Basic,
//! Standard, Call Center) bought in a quantity for a customer tenant.
//! Giving a user a station uses one licence; a pool never hands out more
//! than it holds, even to concurrent requests: storage takes a licence with
//! one conditional update (`in_use = in_use + 1 WHERE in_use < quantity`)
//! backed by a CHECK constraint.

use std::fmt;

use uuid::Uuid;

use crate::values::Label;

/// What a station unlocks for its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Application {
    DesktopApp,
    WebDialer,
    MobileApp,
    CallCenter,
}

impl Application {
    pub const ALL: [Application; 4] = [Self::DesktopApp, Self::WebDialer, Self::MobileApp, Self::CallCenter];

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DesktopApp => "desktop_app",
            Self::WebDialer => "web_dialer",
            Self::MobileApp => "mobile_app",
            Self::CallCenter => "call_center",
        }
    }

    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The storage form of a set: codes separated by single spaces, sorted.
    #[must_use]
    pub fn to_codes(apps: &[Application]) -> String {
        let mut sorted = apps.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sorted.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" ")
    }

    #[must_use]
    pub fn from_codes(codes: &str) -> Vec<Application> {
        codes.split_whitespace().filter_map(Self::parse).collect()
    }
}

impl fmt::Display for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A station's short code (`basic`, `call-center`): lower-case ASCII
/// letters, digits, `-` and `_`, 1 to 32 characters, unique in its tenant.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StationCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be 1 to 32 lower-case letters, digits, - or _")]
pub struct InvalidStationCode;

/// The OpenAPI pattern of a station code; keep it in step with `parse`.
pub const STATION_CODE_PATTERN: &str = r"^[a-z0-9_-]{1,32}$";

impl StationCode {
    /// # Errors
    /// `InvalidStationCode` unless `raw` matches [`STATION_CODE_PATTERN`].
    pub fn parse(raw: &str) -> Result<Self, InvalidStationCode> {
        let ok = (1..=32).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok { Ok(Self(raw.to_owned())) } else { Err(InvalidStationCode) }
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for StationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StationCode({:?})", self.0)
    }
}

/// The most licences one pool may hold.
pub const MAX_QUANTITY: u32 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be between 0 and 100000")]
pub struct InvalidQuantity;

/// # Errors
/// `InvalidQuantity` past [`MAX_QUANTITY`].
pub fn check_quantity(quantity: u32) -> Result<u32, InvalidQuantity> {
    if quantity <= MAX_QUANTITY { Ok(quantity) } else { Err(InvalidQuantity) }
}

#[derive(Debug, Clone)]
pub struct Station {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: Label,
    pub code: StationCode,
    pub applications: Vec<Application>,
    pub quantity: u32,
    pub in_use: u32,
}

impl Station {
    #[must_use]
    pub fn available(&self) -> u32 {
        self.quantity.saturating_sub(self.in_use)
    }

    /// Of `wanted`, the applications this station does not unlock: a user
    /// of it may enable none of them (PRODUCT.md rule 9).
    #[must_use]
    pub fn locked(&self, wanted: &[Application]) -> Vec<Application> {
        wanted.iter().copied().filter(|a| !self.applications.contains(a)).collect()
    }

    /// Of `enabled`, the applications this station unlocks: what its user
    /// keeps on taking it, or when its applications change.
    #[must_use]
    pub fn unlocked(&self, enabled: &[Application]) -> Vec<Application> {
        enabled.iter().copied().filter(|a| self.applications.contains(a)).collect()
    }

    /// [`Self::locked`] for a user holding `station`, or none: without a
    /// station, nothing is unlocked.
    #[must_use]
    pub fn locked_for(station: Option<&Station>, wanted: &[Application]) -> Vec<Application> {
        station.map_or_else(|| wanted.to_vec(), |s| s.locked(wanted))
    }

    /// [`Self::unlocked`] for a user holding `station`, or none.
    #[must_use]
    pub fn unlocked_for(station: Option<&Station>, enabled: &[Application]) -> Vec<Application> {
        station.map_or_else(Vec::new, |s| s.unlocked(enabled))
    }
}

/// What a user view shows of their station.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StationRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct NewStation {
    pub name: Label,
    pub code: StationCode,
    pub applications: Vec<Application>,
    pub quantity: u32,
}

#[derive(Debug, Clone, Default)]
pub struct StationChanges {
    pub name: Option<Label>,
    pub applications: Option<Vec<Application>>,
    pub quantity: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_documented_pattern() {
        for ok in ["basic", "call-center", "std_2", "x"] {
            assert!(StationCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Basic", "call center", &"a".repeat(33), "é"] {
            assert_eq!(StationCode::parse(bad), Err(InvalidStationCode), "{bad:?}");
        }
    }

    #[test]
    fn application_sets_store_sorted_and_unique() {
        let apps = [Application::WebDialer, Application::DesktopApp, Application::WebDialer];
        assert_eq!(Application::to_codes(&apps), "desktop_app web_dialer");
        assert_eq!(
            Application::from_codes("desktop_app web_dialer"),
            vec![Application::DesktopApp, Application::WebDialer]
        );
    }

    #[test]
    fn available_never_goes_below_zero() {
        let s = Station {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            name: Label::parse("Basic").unwrap(),
            code: StationCode::parse("basic").unwrap(),
            applications: vec![],
            quantity: 2,
            in_use: 3,
        };
        assert_eq!(s.available(), 0);
        assert!(check_quantity(MAX_QUANTITY + 1).is_err());
    }

    #[test]
    fn a_station_unlocks_its_applications_and_no_others() {
        let s = Station {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            name: Label::parse("Basic").unwrap(),
            code: StationCode::parse("basic").unwrap(),
            applications: vec![Application::WebDialer],
            quantity: 1,
            in_use: 0,
        };
        let wanted = [Application::DesktopApp, Application::WebDialer];
        assert_eq!(s.locked(&wanted), vec![Application::DesktopApp]);
        assert_eq!(s.unlocked(&wanted), vec![Application::WebDialer]);
    }
}
