//! Paged lists (PRODUCT.md HTTP contract): `page` counts from 1,
//! `per_page` defaults to 50 and is at most 200.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u64,
    per_page: u64,
    /// Items skipped before the first page (a [`PageRequest::window`]).
    skip: u64,
}

pub const DEFAULT_PER_PAGE: u64 = 50;
pub const MAX_PER_PAGE: u64 = 200;
pub const MAX_PAGE: u64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPage {
    #[error("must be between 1 and 1000000")]
    Page,
    #[error("must be between 1 and 200")]
    PerPage,
}

impl PageRequest {
    /// # Errors
    /// Names the parameter that is out of range.
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Result<Self, InvalidPage> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(InvalidPage::Page);
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(InvalidPage::PerPage);
        }
        Ok(Self { page, per_page, skip: 0 })
    }

    #[must_use]
    pub fn page(&self) -> u64 {
        self.page
    }

    #[must_use]
    pub fn per_page(&self) -> u64 {
        self.per_page
    }

    #[must_use]
    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page + self.skip
    }

    /// At most `limit` items (1 to 200) from the `offset`-th, counting
    /// from 0: SCIM's `startIndex` and `count`.
    #[must_use]
    pub fn window(offset: u64, limit: u64) -> Self {
        Self { page: 1, per_page: limit.clamp(1, MAX_PER_PAGE), skip: offset }
    }

    /// The page after this one, when a list of `total` items goes on past
    /// it (for walking a whole list).
    #[must_use]
    pub fn following(&self, total: u64) -> Option<Self> {
        (self.offset() + self.per_page < total && self.page < MAX_PAGE).then(|| Self { page: self.page + 1, ..*self })
    }

    /// The first page of the longest pages, to walk a whole list.
    #[must_use]
    pub fn walk() -> Self {
        Self { page: 1, per_page: MAX_PER_PAGE, skip: 0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// A sort order: a key and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<K> {
    pub key: K,
    pub direction: Direction,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walking_stops_at_the_last_page() {
        let first = PageRequest::walk();
        assert_eq!(first.following(200), None);
        let second = first.following(201).unwrap();
        assert_eq!((second.page(), second.offset()), (2, 200));
        assert_eq!(second.following(400), None);
    }

    #[test]
    fn defaults_and_bounds() {
        let p = PageRequest::new(None, None).unwrap();
        assert_eq!((p.page(), p.per_page(), p.offset()), (1, 50, 0));
        assert_eq!(PageRequest::new(Some(3), Some(200)).unwrap().offset(), 400);
        assert_eq!(PageRequest::new(Some(0), None), Err(InvalidPage::Page));
        assert_eq!(PageRequest::new(Some(MAX_PAGE + 1), None), Err(InvalidPage::Page));
        assert_eq!(PageRequest::new(None, Some(0)), Err(InvalidPage::PerPage));
        assert_eq!(PageRequest::new(None, Some(201)), Err(InvalidPage::PerPage));
    }
}
