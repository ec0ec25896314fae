//! Reading pasted or uploaded incident data (chat logs, Slack exports, CSV,
//! alert and deploy JSON lines) into timeline entries, keeping every line.

mod csv;
pub mod duplicates;
mod jsonl;
pub mod kind;
mod plain;
mod slack;
mod stamp;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

pub use stamp::parse_timestamp;

/// Which kind of input; Auto guesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Auto,
    SlackJson,
    PlainText,
    Csv,
    JsonLines,
}

impl Format {
    /// Every format, in the order a picker shows them.
    pub const ALL: [Format; 5] = [
        Format::Auto,
        Format::SlackJson,
        Format::PlainText,
        Format::Csv,
        Format::JsonLines,
    ];

    /// The short name used in forms and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::SlackJson => "slack",
            Format::PlainText => "text",
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }

    /// What a picker shows for this format.
    pub fn label(self) -> &'static str {
        match self {
            Format::Auto => "Guess from the content",
            Format::SlackJson => "Slack export (JSON)",
            Format::PlainText => "Chat log (plain text)",
            Format::Csv => "CSV with time and text columns",
            Format::JsonLines => "JSON lines (alerts, deploys)",
        }
    }

    /// The format whose short name is `s` (ignoring case and surrounding space).
    pub fn parse(s: &str) -> Option<Format> {
        let s = s.trim();
        Format::ALL
            .into_iter()
            .find(|format| format.as_str().eq_ignore_ascii_case(s))
    }
}

/// One message or event read from the input, placed in UTC.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedEntry {
    pub at: DateTime<Utc>,
    /// Who wrote the message, or which system reported the event.
    pub author: Option<String>,
    /// The message, trimmed; a multi-line message keeps its inner newlines.
    pub text: String,
    /// Where it came from: "Slack", "chat log", "CSV", "alert", "deploy", ...
    pub source: String,
    /// The 1-based line it starts on (array position + 1 for Slack JSON).
    pub line: usize,
}

/// A line or record that could not become an entry, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Unparsed {
    pub line: usize,
    pub text: String,
    /// A short sentence a person can act on.
    pub reason: String,
}

/// Everything read from one input: nothing is dropped without a reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Transcript {
    /// The format actually used; never `Auto`.
    pub format: Format,
    /// In input order, not sorted by time.
    pub entries: Vec<ParsedEntry>,
    pub unparsed: Vec<Unparsed>,
}

/// Reads `input` as `format` (guessing when `Auto`).
///
/// `zone`: the zone times without an offset are read in. `date`: the day for
/// lines that give only a time.
pub fn parse(input: &str, format: Format, zone: Tz, date: Option<NaiveDate>) -> Transcript {
    match format {
        Format::Auto => parse(input, detect(input), zone, date),
        Format::SlackJson => slack::parse(input, zone),
        Format::PlainText => plain::parse(input, zone, date),
        Format::Csv => csv::parse(input, zone, date),
        Format::JsonLines => jsonl::parse(input, zone, date),
    }
}

/// Guesses the format from the content; plain text when nothing else fits.
fn detect(input: &str) -> Format {
    let trimmed = input.trim_start();
    if trimmed.starts_with('[')
        && matches!(
            serde_json::from_str::<serde_json::Value>(trimmed),
            Ok(serde_json::Value::Array(_))
        )
    {
        return Format::SlackJson;
    }
    let mut lines = input.lines().filter(|line| !line.trim().is_empty());
    let Some(first) = lines.clone().next() else {
        return Format::PlainText;
    };
    if lines.all(|line| line.trim_start().starts_with('{')) {
        return Format::JsonLines;
    }
    if csv::looks_like_csv(first) {
        return Format::Csv;
    }
    Format::PlainText
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detected(input: &str) -> Format {
        parse(input, Format::Auto, Tz::UTC, None).format
    }

    #[test]
    fn every_format_round_trips_through_its_short_name() {
        for format in Format::ALL {
            assert_eq!(Format::parse(format.as_str()), Some(format));
            assert!(!format.label().is_empty());
        }
        assert_eq!(Format::parse(" JSONL "), Some(Format::JsonLines));
        assert_eq!(Format::parse("xml"), None);
    }

    #[test]
    fn a_json_array_is_taken_for_a_slack_export() {
        let input = r#"  [{"ts": "1624350060.000200", "text": "hi"}]"#;
        assert_eq!(detected(input), Format::SlackJson);
    }

    #[test]
    fn a_bracketed_chat_log_is_not_mistaken_for_json() {
        let input = "[2021-06-22 08:21] alice: db is down\n[2021-06-22 08:22] bob: on it";
        assert_eq!(detected(input), Format::PlainText);
    }

    #[test]
    fn lines_of_objects_are_json_lines() {
        let input =
            "{\"ts\": 1624350060, \"msg\": \"a\"}\n\n  {\"ts\": 1624350061, \"msg\": \"b\"}";
        assert_eq!(detected(input), Format::JsonLines);
    }

    #[test]
    fn a_header_naming_a_time_column_is_csv_whatever_the_delimiter() {
        assert_eq!(
            detected("Timestamp,Message\n2021-06-22 08:21,x"),
            Format::Csv
        );
        assert_eq!(detected("when;what\n2021-06-22 08:21;x"), Format::Csv);
        assert_eq!(detected("@timestamp\tmessage\n"), Format::Csv);
    }

    #[test]
    fn headerless_rows_starting_with_a_time_are_csv() {
        assert_eq!(detected("2021-06-22T08:21:00Z,deploy started"), Format::Csv);
    }

    #[test]
    fn anything_else_is_a_plain_chat_log() {
        assert_eq!(detected("08:21 alice: hello, world"), Format::PlainText);
        assert_eq!(detected(""), Format::PlainText);
        assert_eq!(detected("[not json"), Format::PlainText);
    }

    #[test]
    fn the_format_used_is_reported_when_named_explicitly() {
        let transcript = parse("time,text", Format::Csv, Tz::UTC, None);
        assert_eq!(transcript.format, Format::Csv);
        assert!(transcript.entries.is_empty() && transcript.unparsed.is_empty());
    }

    #[test]
    fn a_copenhagen_log_is_read_into_utc_through_auto() {
        let day = NaiveDate::from_ymd_opt(2021, 6, 22);
        let transcript = parse(
            "10:21 alice: paged",
            Format::Auto,
            chrono_tz::Europe::Copenhagen,
            day,
        );
        assert_eq!(transcript.format, Format::PlainText);
        assert_eq!(
            transcript.entries[0].at.to_rfc3339(),
            "2021-06-22T08:21:00+00:00"
        );
    }

    #[test]
    fn every_non_blank_line_ends_up_somewhere() {
        let log = "Title\n\n[08:21] alice: a\n  more\n???\n[08:22] bob: b\nnoise\n";
        let day = NaiveDate::from_ymd_opt(2021, 6, 22);
        let transcript = parse(log, Format::Auto, Tz::UTC, day);
        let kept: Vec<String> = transcript
            .entries
            .iter()
            .map(|entry| entry.text.clone())
            .chain(
                transcript
                    .unparsed
                    .iter()
                    .map(|skipped| skipped.text.clone()),
            )
            .collect();
        let kept = kept.join("\n");
        for line in log.lines().filter(|line| !line.trim().is_empty()) {
            let words = line.rsplit(' ').next().unwrap_or(line).trim();
            assert!(kept.contains(words), "{line:?} was dropped");
        }
    }
}
