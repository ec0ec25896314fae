//! CSV (or `;` / tab separated) exports with a time column and a text column.

mod records;

use chrono::NaiveDate;
use chrono_tz::Tz;

use self::records::{Record, guess_delimiter, records};
use super::stamp::{Calendar, read_stamp};
use super::{Format, ParsedEntry, Transcript, Unparsed};

const SOURCE: &str = "CSV";

const TIME_NAMES: [&str; 8] = [
    "time",
    "timestamp",
    "date",
    "datetime",
    "at",
    "when",
    "created_at",
    "@timestamp",
];
const TEXT_NAMES: [&str; 7] = [
    "text",
    "message",
    "event",
    "description",
    "summary",
    "title",
    "what",
];
const AUTHOR_NAMES: [&str; 4] = ["author", "user", "who", "name"];
const SOURCE_NAMES: [&str; 3] = ["source", "system", "type"];

/// Whether a first line reads like a CSV header naming a time column, or like
/// a headerless row that starts with a time.
pub(super) fn looks_like_csv(first_line: &str) -> bool {
    let Some(delimiter) = guess_delimiter(first_line) else {
        return false;
    };
    let Some(first) = records(first_line, delimiter).into_iter().next() else {
        return false;
    };
    let names_time = find(&first.fields, &TIME_NAMES).is_some();
    names_time
        || first
            .fields
            .first()
            .is_some_and(|cell| read_stamp(cell).is_some())
}

/// Reads CSV rows into entries; a recognised header row picks the columns.
pub(super) fn parse(input: &str, zone: Tz, date: Option<NaiveDate>) -> Transcript {
    let first_line = input.lines().find(|line| !line.trim().is_empty());
    let delimiter = first_line.and_then(guess_delimiter).unwrap_or(',');
    let mut rows = records(input, delimiter)
        .into_iter()
        .filter(|record| !record.raw.trim().is_empty())
        .peekable();
    let columns = match rows.peek() {
        Some(first) if is_header(&first.fields) => {
            let columns = Columns::named(&first.fields);
            rows.next();
            columns
        }
        _ => Columns::positional(),
    };
    let mut calendar = Calendar::new(zone, date);
    let mut transcript = Transcript {
        format: Format::Csv,
        entries: Vec::new(),
        unparsed: Vec::new(),
    };
    for row in rows {
        match columns.read(&row, &mut calendar) {
            Ok(entry) => transcript.entries.push(entry),
            Err(reason) => transcript.unparsed.push(Unparsed {
                line: row.line,
                text: row.raw.trim().to_owned(),
                reason,
            }),
        }
    }
    transcript
}

/// A header names a known column and holds no time itself.
fn is_header(cells: &[String]) -> bool {
    let all_names = [&TIME_NAMES[..], &TEXT_NAMES, &AUTHOR_NAMES, &SOURCE_NAMES];
    all_names.iter().any(|names| find(cells, names).is_some())
        && cells.iter().all(|cell| read_stamp(cell).is_none())
}

/// The first of `names` (in order of preference) that is one of the cells.
fn find(cells: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|name| {
        cells
            .iter()
            .position(|cell| cell.trim().eq_ignore_ascii_case(name))
    })
}

/// Which cell holds what. `None` for `text` means the row's last cell.
struct Columns {
    time: Column,
    /// A separate date column, when the time column holds only the time.
    date: Option<usize>,
    text: Option<Column>,
    author: Option<usize>,
    source: Option<usize>,
}

struct Column {
    index: usize,
    /// How a reason names it: `column "when"` or `column 1`.
    label: String,
}

impl Column {
    fn named(cells: &[String], index: usize) -> Self {
        let name = cells[index].trim();
        Column {
            index,
            label: format!("column \"{name}\""),
        }
    }
}

impl Columns {
    fn named(cells: &[String]) -> Self {
        let date = find(cells, &["date"]);
        let clock = find(cells, &["time"]);
        let (time, date) = match (clock, date) {
            (Some(clock), Some(date)) => (Some(clock), Some(date)),
            _ => (find(cells, &TIME_NAMES), None),
        };
        Columns {
            time: time.map_or_else(
                || Column {
                    index: 0,
                    label: "column 1".to_owned(),
                },
                |index| Column::named(cells, index),
            ),
            date,
            text: find(cells, &TEXT_NAMES).map(|index| Column::named(cells, index)),
            author: find(cells, &AUTHOR_NAMES),
            source: find(cells, &SOURCE_NAMES),
        }
    }

    fn positional() -> Self {
        Columns {
            time: Column {
                index: 0,
                label: "column 1".to_owned(),
            },
            date: None,
            text: None,
            author: None,
            source: None,
        }
    }

    fn read(&self, row: &Record<'_>, calendar: &mut Calendar) -> Result<ParsedEntry, String> {
        if !row.closed {
            return Err("a quoted cell is never closed".to_owned());
        }
        let cell = |index: usize| row.fields.get(index).map_or("", |cell| cell.trim());
        let time = cell(self.time.index);
        if time.is_empty() {
            return Err(format!("no time in {}", self.time.label));
        }
        let stamp = self
            .date
            .and_then(|date| read_stamp(&format!("{} {time}", cell(date))))
            .or_else(|| read_stamp(time))
            .ok_or_else(|| format!("\"{time}\" in {} is not a time", self.time.label))?;
        let at = calendar.place(stamp)?;
        let text = self.text(row)?;
        let named = |column: Option<usize>| column.map(cell).filter(|value| !value.is_empty());
        Ok(ParsedEntry {
            at,
            author: named(self.author).map(str::to_owned),
            text: text.to_owned(),
            source: named(self.source).unwrap_or(SOURCE).to_owned(),
            line: row.line,
        })
    }

    fn text<'r>(&self, row: &'r Record<'_>) -> Result<&'r str, String> {
        let (index, label) = match &self.text {
            Some(column) => (column.index, column.label.clone()),
            None => {
                let last = row.fields.len().saturating_sub(1);
                (last, format!("column {}", last + 1))
            }
        };
        match row.fields.get(index).map(|cell| cell.trim()) {
            Some(text) if !text.is_empty() && index != self.time.index => Ok(text),
            _ => Err(format!("no text in {label}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Transcript {
        parse(
            input,
            chrono_tz::Europe::Copenhagen,
            NaiveDate::from_ymd_opt(2021, 6, 22),
        )
    }

    #[test]
    fn a_header_picks_the_columns_by_name() {
        let csv = "Source,Who,Message,Timestamp\nPagerDuty,alice,paged,2021-06-22 10:21\n";
        let transcript = read(csv);
        let entry = &transcript.entries[0];
        assert_eq!(entry.at.to_rfc3339(), "2021-06-22T08:21:00+00:00");
        assert_eq!(
            (entry.author.as_deref(), entry.text.as_str()),
            (Some("alice"), "paged")
        );
        assert_eq!((entry.source.as_str(), entry.line), ("PagerDuty", 2));
        assert!(transcript.unparsed.is_empty());
    }

    #[test]
    fn without_a_header_the_first_cell_is_the_time_and_the_last_the_text() {
        let transcript = read("1624350060,api,deploy started\n2021-06-22T08:30:00Z,done\n");
        let texts: Vec<&str> = transcript.entries.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["deploy started", "done"]);
        assert_eq!(transcript.entries[0].source, "CSV");
        assert_eq!(transcript.entries[0].author, None);
        assert_eq!(transcript.entries[0].line, 1);
    }

    #[test]
    fn quoted_cells_keep_commas_quotes_and_newlines() {
        let csv = "time,text\n08:21,\"a, b \"\"quoted\"\"\nand more\"\n08:22,next\n";
        let transcript = read(csv);
        assert_eq!(transcript.entries[0].text, "a, b \"quoted\"\nand more");
        assert_eq!(transcript.entries[1].line, 4);
    }

    #[test]
    fn semicolons_and_tabs_are_delimiters_when_the_header_uses_them() {
        let semicolons = read("when;what\n08:21;price 1,50 EUR\n");
        assert_eq!(semicolons.entries[0].text, "price 1,50 EUR");
        let tabs = read("@timestamp\tmessage\n2021-06-22T08:21:00Z\tup, again\n");
        assert_eq!(tabs.entries[0].text, "up, again");
    }

    #[test]
    fn separate_date_and_time_columns_are_combined() {
        let transcript = read("date,time,event\n2021-06-23,09:00,restart\n");
        let at = transcript.entries[0].at;
        assert_eq!(at.to_rfc3339(), "2021-06-23T07:00:00+00:00");
    }

    #[test]
    fn rows_that_cannot_be_read_name_the_cell() {
        let csv = "created_at,summary\nsoon,x\n,y\n08:21,\n";
        let reasons: Vec<String> = read(csv).unparsed.into_iter().map(|u| u.reason).collect();
        assert_eq!(
            reasons,
            [
                "\"soon\" in column \"created_at\" is not a time",
                "no time in column \"created_at\"",
                "no text in column \"summary\"",
            ]
        );
    }

    #[test]
    fn a_row_of_one_cell_has_no_text() {
        let transcript = read("2021-06-22 08:21,a\n2021-06-22 08:22\n");
        assert_eq!(transcript.unparsed[0].reason, "no text in column 1");
        assert_eq!(transcript.unparsed[0].line, 2);
    }

    #[test]
    fn times_alone_cross_midnight_and_need_a_day() {
        let transcript = read("time,text\n23:55,late\n00:05,early\n");
        let second = transcript.entries[1].at;
        assert_eq!(second.to_rfc3339(), "2021-06-22T22:05:00+00:00");
        let dayless = parse("time,text\n08:21,x\n", Tz::UTC, None);
        assert_eq!(
            dayless.unparsed[0].reason,
            "only a time: pick the day the log starts"
        );
    }

    #[test]
    fn an_unclosed_quote_is_reported_not_swallowed() {
        let transcript = read("time,text\n08:21,\"never closed\n08:22,x\n");
        assert!(transcript.entries.is_empty());
        assert_eq!(
            transcript.unparsed[0].reason,
            "a quoted cell is never closed"
        );
        assert_eq!(transcript.unparsed[0].text, "08:21,\"never closed\n08:22,x");
    }

    #[test]
    fn blank_lines_and_the_header_are_the_only_rows_left_out() {
        let transcript = read("\ntime,text\n\n08:21,a\n\n08:22,b\n");
        assert_eq!(transcript.entries.len(), 2);
        assert!(transcript.unparsed.is_empty());
    }
}
