//! CSV downloads, written by the `csv` crate (RFC 4180 quoting, CRLF line
//! ends). Cells that a spreadsheet would run as a formula (starting with
//! `=`, `+`, `-`, `@`) are prefixed with `'`, so an item title cannot become
//! a formula in a reviewer's spreadsheet.

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
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        // Writing to memory cannot fail.
        let _ = writer.write_record(self.header.iter().map(|cell| guard(cell).into_owned()));
        for row in &self.rows {
            let _ = writer.write_record(row.iter().map(|cell| guard(cell).into_owned()));
        }
        let bytes = writer.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
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

/// The cell, with `'` in front when a spreadsheet would read it as a formula.
fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err() {
        format!("'{cell}").into()
    } else {
        cell.into()
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
        let table = Table {
            header: vec!["cell"],
            rows: ["=HYPERLINK(\"x\")", "@SUM(A1)", "-2.5", "+cmd"]
                .iter()
                .map(|cell| vec![(*cell).to_owned()])
                .collect(),
        };
        assert_eq!(
            table.to_csv(),
            "cell\r\n\"'=HYPERLINK(\"\"x\"\")\"\r\n'@SUM(A1)\r\n-2.5\r\n'+cmd\r\n"
        );
    }
}
