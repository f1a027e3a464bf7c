//! Changes to a user's IP allowlist (SECURITY.md "Network"): the list
//! after a change, and what the audit log says of it.

use crate::values::Cidr;

/// A change to an IP allowlist.
#[derive(Debug, Clone)]
pub enum NetworkChange {
    /// The whole list.
    Replace(Vec<Cidr>),
    Add(Cidr),
    Remove(Cidr),
}

impl NetworkChange {
    /// The list after the change.
    #[must_use]
    pub fn apply(&self, current: &[Cidr]) -> Vec<Cidr> {
        let mut list: Vec<Cidr> = match self {
            Self::Replace(new) => new.clone(),
            Self::Add(net) => current.iter().copied().chain([*net]).collect(),
            Self::Remove(net) => current.iter().copied().filter(|n| n != net).collect(),
        };
        let mut seen = std::collections::HashSet::new();
        list.retain(|n| seen.insert(*n));
        list
    }

    /// What the audit log says of it.
    #[must_use]
    pub fn audit_details(&self) -> serde_json::Value {
        let text = |n: &Cidr| n.to_string();
        match self {
            Self::Replace(new) => serde_json::json!({"replace": new.iter().map(text).collect::<Vec<_>>()}),
            Self::Add(net) => serde_json::json!({"add": text(net)}),
            Self::Remove(net) => serde_json::json!({"remove": text(net)}),
        }
    }
}
