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

    /// Whether the list after the change lets in an address the list
    /// `before` kept out. An empty list lets everyone in.
    #[must_use]
    pub fn loosens(&self, before: &[Cidr]) -> bool {
        if before.is_empty() {
            return false;
        }
        let after = self.apply(before);
        after.is_empty() || after.iter().any(|net| !before.iter().any(|b| b.covers(net)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|n| Cidr::parse(n).unwrap()).collect()
    }

    #[test]
    fn a_change_loosens_a_list_when_it_lets_in_an_address_the_list_kept_out() {
        let office = nets(&["10.0.0.0/8", "2001:db8::/32"]);
        let loosening = [
            NetworkChange::Replace(vec![]),
            NetworkChange::Add(Cidr::parse("192.0.2.0/24").unwrap()),
            NetworkChange::Replace(nets(&["10.0.0.0/7"])),
        ];
        for change in &loosening {
            assert!(change.loosens(&office), "{change:?}");
        }
        // Removing one of two entries narrows the list; removing the last
        // one empties it, which lets everyone in.
        assert!(!NetworkChange::Remove(office[0]).loosens(&office));
        assert!(NetworkChange::Remove(office[0]).loosens(&office[..1]));
        let narrowing = [
            NetworkChange::Replace(nets(&["10.1.0.0/16"])),
            NetworkChange::Add(Cidr::parse("10.2.0.0/16").unwrap()),
            NetworkChange::Replace(office.clone()),
        ];
        for change in &narrowing {
            assert!(!change.loosens(&office), "{change:?}");
        }
        assert!(!NetworkChange::Replace(nets(&["192.0.2.1"])).loosens(&[]), "an empty list is already the loosest");
    }
}
