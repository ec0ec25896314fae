//! CSV downloads: RFC 4180 quoting, and cells that a spreadsheet would run
//! as a formula (starting with `=`, `+`, `-`, `@`) are prefixed with `'`,
//! so an item title cannot become a formula in a reviewer's spreadsheet.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

/// A table to download: a header row and rows of the same width.
pub struct Table {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.header.iter().map(|h| (*h).to_owned()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let cells: Vec<String> = row.iter().map(|cell| cell_text(cell)).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// The table as a download named `filename` (which must be plain ASCII).
    pub fn into_response(self, filename: &str) -> Response {
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                ),
            ],
            self.to_csv(),
        )
            .into_response()
    }
}

fn cell_text(cell: &str) -> String {
    let guarded =
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err() {
            format!("'{cell}")
        } else {
            cell.to_owned()
        };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_when_they_must_be() {
        let table = Table {
            header: vec!["title", "count"],
            rows: vec![
                vec!["plain".to_owned(), "3".to_owned()],
                vec!["a, \"quoted\"\nline".to_owned(), "-4".to_owned()],
            ],
        };
        assert_eq!(
            table.to_csv(),
            "title,count\r\nplain,3\r\n\"a, \"\"quoted\"\"\nline\",-4\r\n"
        );
    }

    #[test]
    fn formulas_are_defused_but_negative_numbers_are_not() {
        assert_eq!(cell_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell_text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell_text("-2.5"), "-2.5");
        assert_eq!(cell_text("+cmd"), "'+cmd");
    }
}
