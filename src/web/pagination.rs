//! Page-by-page lists: `?page=N` in, a limit and offset for the query out,
//! and "newer / older" links back.

use serde::Deserialize;

/// The `?page=` of a list URL (1-based; anything odd means page 1).
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<String>,
}

/// Where a list is, and whether there is more after it.
#[derive(Clone, Copy, Debug)]
pub struct Pagination {
    pub page: i64,
    pub size: i64,
    pub has_next: bool,
}

impl PageQuery {
    /// From a `page` value read along with other query parameters.
    pub fn from_raw(page: Option<String>) -> PageQuery {
        PageQuery { page }
    }

    pub fn pagination(&self, size: i64) -> Pagination {
        let page = self
            .page
            .as_deref()
            .and_then(|text| text.parse::<i64>().ok())
            .filter(|page| (1..=100_000).contains(page))
            .unwrap_or(1);
        Pagination {
            page,
            size,
            has_next: false,
        }
    }
}

impl Pagination {
    /// Rows to ask for: one more than a page, to learn whether a next page exists.
    pub fn limit(&self) -> i64 {
        self.size + 1
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.size
    }

    /// Drops the extra row fetched by [`Pagination::limit`], noting that it existed.
    pub fn trim<T>(&mut self, rows: &mut Vec<T>) {
        self.has_next = rows.len() as i64 > self.size;
        rows.truncate(self.size as usize);
    }

    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    pub fn is_needed(&self) -> bool {
        self.has_previous() || self.has_next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_page_numbers_mean_the_first_page() {
        for raw in [None, Some("0"), Some("-3"), Some("x"), Some("99999999")] {
            let query = PageQuery {
                page: raw.map(str::to_owned),
            };
            assert_eq!(query.pagination(50).page, 1, "{raw:?}");
        }
    }

    #[test]
    fn the_extra_row_reveals_a_next_page() {
        let query = PageQuery {
            page: Some("2".to_owned()),
        };
        let mut pagination = query.pagination(2);
        assert_eq!((pagination.limit(), pagination.offset()), (3, 2));
        let mut rows = vec![1, 2, 3];
        pagination.trim(&mut rows);
        assert_eq!(rows, vec![1, 2]);
        assert!(pagination.has_next && pagination.has_previous());
    }
}
