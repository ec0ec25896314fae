//! The timeline section of an imported document: table rows and
//! timestamped list items become entries; the zone comes from a note such as
//! "All times in CET." or the table header.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{
    blocks::{heading, is_separator, list_item, table_cells},
    when::{Dialect, Reading, leading_time, read_time, zone_named_in},
};
use crate::domain::postmortem::TimelineKind;

/// Longest entry text the database keeps.
const TEXT_MAX: usize = 4000;

/// One entry as read from the source.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedEntry {
    /// `None` when the source gave no usable time: placed next to its
    /// neighbours once the whole timeline is read.
    pub at: Option<DateTime<Utc>>,
    pub kind: TimelineKind,
    pub text: String,
    /// The time as written, kept whenever it differs from the UTC time shown.
    pub written_at: Option<String>,
}

/// A timeline section read: its entries, the zone used, and the lines that
/// are not entries (kept verbatim in other notes).
#[derive(Debug, Default)]
pub struct ReadTimeline {
    pub entries: Vec<ImportedEntry>,
    pub zone: Option<Tz>,
    pub notes: Vec<String>,
    pub report: Vec<String>,
}

/// Reads a timeline section in the zone it names, else the file's; rows
/// with only a time of day take their day from the row before, the first
/// from `first_day` (the incident's, from its title or key times).
pub fn read(
    lines: &[String],
    title: Option<&str>,
    file: Dialect,
    first_day: Option<NaiveDate>,
) -> ReadTimeline {
    // `## Timeline (PST)` names the zone; else the first line that does.
    let named = title
        .and_then(zone_named_in)
        .or_else(|| lines.iter().find_map(|line| zone_named_in(line)));
    let dialect = Dialect {
        zone: named.unwrap_or(file.zone),
        ..file
    };
    let mut out = ReadTimeline {
        zone: named,
        ..ReadTimeline::default()
    };
    let mut day: Option<NaiveDate> = first_day;
    // An entry written as a heading with its time (`### 08:47`) and the
    // paragraphs under it: (time, lines).
    let mut under_heading: Option<(String, Vec<String>)> = None;
    let flush = |out: &mut ReadTimeline,
                 pending: &mut Option<(String, Vec<String>)>,
                 day: &mut Option<NaiveDate>| {
        if let Some((time, text)) = pending.take() {
            // A date alone on its line (`8 Jan`) is the day of the rows
            // under it, not an entry.
            let reading = read_time(&time, dialect, *day);
            let date_only = text.iter().all(|line| line.trim().is_empty())
                && !matches!(reading, Reading::Exact(_))
                && !time.contains(':');
            match reading.at() {
                Some(at) if date_only => *day = Some(at.with_timezone(&dialect.zone).date_naive()),
                _ => push_entry(out, &time, &text.join("\n"), dialect, day),
            }
        }
    };
    // Inside a fenced block (logs, commands) nothing is a new entry: the
    // lines belong to the entry above, or to the notes.
    let mut in_code = false;
    for line in lines {
        if is_fence(line) {
            in_code = !in_code;
        }
        if in_code || is_fence(line) {
            match &mut under_heading {
                Some((_, text)) => text.push(line.to_owned()),
                None => out.notes.push(line.clone()),
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if let Some((_, text)) = heading(line)
            && let Some((time, rest)) = leading_time(text)
        {
            flush(&mut out, &mut under_heading, &mut day);
            let first = (!rest.is_empty()).then(|| rest.to_owned());
            under_heading = Some((time.to_owned(), first.into_iter().collect()));
            continue;
        }
        if let Some(cells) = table_cells(line) {
            flush(&mut out, &mut under_heading, &mut day);
            if is_separator(&cells) {
                continue;
            }
            if is_header(&cells) {
                if !is_plain_header(&cells) {
                    out.notes.push(line.clone());
                }
                continue;
            }
            let time = cells.first().cloned().unwrap_or_default();
            let text = cells[1.min(cells.len())..]
                .iter()
                .filter(|c| !c.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(" | ");
            push_entry(&mut out, &time, &text, dialect, &mut day);
            continue;
        }
        // A line that is only a date or time (`8 Jan`) heads the lines under it.
        if list_item(line).is_none()
            && let Some((time, "")) = leading_time(line)
        {
            flush(&mut out, &mut under_heading, &mut day);
            under_heading = Some((time.to_owned(), Vec::new()));
            continue;
        }
        // A list item or a paragraph line that starts with its time.
        let text = list_item(line).map_or(line.as_str(), |(_, text)| text);
        match leading_time(text) {
            Some((time, text)) => {
                flush(&mut out, &mut under_heading, &mut day);
                push_entry(&mut out, time, text, dialect, &mut day)
            }
            None => match &mut under_heading {
                Some((_, text)) => text.push(line.trim().to_owned()),
                None => out.notes.push(line.clone()),
            },
        }
    }
    flush(&mut out, &mut under_heading, &mut day);
    out
}

fn push_entry(
    out: &mut ReadTimeline,
    time: &str,
    text: &str,
    dialect: Dialect,
    day: &mut Option<NaiveDate>,
) {
    let zone = dialect.zone;
    let reading = read_time(time, dialect, *day);
    let at = reading.at();
    if let Some(at) = at {
        *day = Some(at.with_timezone(&zone).date_naive());
    }
    let shown = at.map(|at| at.format("%Y-%m-%d %H:%M").to_string());
    let exact_utc = matches!(reading, Reading::Exact(_))
        && zone == Tz::UTC
        && shown.as_deref() == Some(time.trim());
    let written_at = (!exact_utc).then(|| {
        if zone == Tz::UTC || zone_named_in(time).is_some() {
            time.trim().to_owned()
        } else {
            format!("{} {}", time.trim(), zone.name())
        }
    });
    // Every entry's time is listed in the check; the report names only the
    // rows whose time could not be read.
    if reading == Reading::Unknown {
        out.report.push(format!(
            "timeline: “{}” has no time that can be read: kept as time unknown",
            time.trim()
        ));
    }
    let mut text = decode_entities(text.trim());
    if text.is_empty() {
        text = "(no description given)".to_owned();
    }
    if text.chars().count() > TEXT_MAX {
        out.notes.push(text.clone());
        text = text.chars().take(TEXT_MAX - 1).collect::<String>() + "…";
    }
    out.entries.push(ImportedEntry {
        at,
        kind: crate::domain::transcript::kind::guess(&text, ""),
        text,
        written_at,
    });
}

/// A line that opens or closes a fenced block: three backticks (or
/// tildes) and no closing ones on the same line.
fn is_fence(line: &str) -> bool {
    let bare = line.trim_start();
    (bare.starts_with("```") && !bare[3..].contains("```")) || bare.starts_with("~~~")
}

/// Table cells are Markdown, where `&amp;` means `&`; entries are plain text.
fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// A first row that names columns rather than giving a time.
fn is_header(cells: &[String]) -> bool {
    cells.first().is_some_and(|first| {
        let lower = first.to_ascii_lowercase();
        (lower.contains("time") || lower.contains("date") || lower.contains("when"))
            && !lower.chars().any(|c| c.is_ascii_digit())
    })
}

/// `| Time | Event |`: columns Debrief's own table shows, nothing to keep.
fn is_plain_header(cells: &[String]) -> bool {
    let names: Vec<String> = cells
        .iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    names
        .iter()
        .all(|name| ["time", "event", "what happened", "description"].contains(&name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_with_a_time_and_the_paragraphs_under_them_are_entries() {
        let read = read(
            &lines(
                "All times in UTC\n\n### 2017-10-17 07:42\n\nUsers report failing launches\n\n\
                 ### 08:47\n\nInvestigation starts.\n\nThe cluster is full.\n",
            ),
            None,
            Dialect::in_zone(Tz::UTC),
            None,
        );
        assert_eq!(read.entries.len(), 2, "{:?}", read.entries);
        assert_eq!(read.entries[0].text, "Users report failing launches");
        assert_eq!(read.entries[0].kind, TimelineKind::Detection);
        assert_eq!(
            read.entries[1].at.map(|at| at.to_rfc3339()).as_deref(),
            Some("2017-10-17T08:47:00+00:00"),
            "a time alone takes the day of the entry before"
        );
        assert_eq!(
            read.entries[1].text,
            "Investigation starts.\nThe cluster is full."
        );
    }
    use chrono::TimeZone;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn a_cet_table_becomes_utc_entries_that_remember_the_written_time() {
        let read = read(
            &lines(
                "All times in CET.\n\n| Time | Event |\n| :--- | --- |\n| 2020-02-03 11:21 | CoreDNS pods crash loop |\n| 2020-02-03 11:52 | Deployment manually downgraded |",
            ),
            None,
            Dialect::in_zone(Tz::UTC),
            None,
        );
        assert_eq!(read.entries.len(), 2);
        assert_eq!(
            read.entries[0].at,
            Some(Utc.with_ymd_and_hms(2020, 2, 3, 10, 21, 0).unwrap())
        );
        assert_eq!(
            read.entries[0].written_at.as_deref(),
            Some("2020-02-03 11:21 CET")
        );
        assert_eq!(read.entries[1].kind, TimelineKind::Mitigation);
        assert_eq!(read.notes, vec!["All times in CET."]);
    }

    #[test]
    fn exact_utc_rows_keep_no_written_time() {
        let read = read(
            &lines("| Time | Event |\n|--|--|\n| 2021-06-22 08:21 | VPC CNI replaced |"),
            None,
            Dialect::in_zone(Tz::UTC),
            None,
        );
        assert_eq!(read.entries[0].written_at, None);
        assert!(read.notes.is_empty(), "a plain header is not kept");
    }

    #[test]
    fn unusual_headers_are_kept_and_name_the_zone() {
        let read = read(
            &lines(
                "| Date and Time in CET | Event |\n|:--|--|\n| 2019-12-04 00:30 | Nodes deleted |",
            ),
            None,
            Dialect::in_zone(Tz::UTC),
            None,
        );
        assert_eq!(read.zone, Some(Tz::CET));
        assert_eq!(
            read.entries[0].at,
            Some(Utc.with_ymd_and_hms(2019, 12, 3, 23, 30, 0).unwrap())
        );
        assert_eq!(read.notes, vec!["| Date and Time in CET | Event |"]);
    }

    #[test]
    fn timestamped_list_items_are_entries_and_take_the_day_before() {
        let read = read(
            &lines(
                "- 2026-03-10 13:55 Canary starts\n- **14:06** p99 alert fires\n- Someone said hi",
            ),
            None,
            Dialect::in_zone(Tz::UTC),
            None,
        );
        assert_eq!(read.entries.len(), 2);
        assert_eq!(
            read.entries[1].at,
            Some(Utc.with_ymd_and_hms(2026, 3, 10, 14, 6, 0).unwrap())
        );
        assert_eq!(read.entries[1].kind, TimelineKind::Detection);
        assert_eq!(read.notes, vec!["- Someone said hi"]);
    }

    #[test]
    fn rows_without_a_usable_time_are_still_entries() {
        let read = read(
            &lines("| Time | Event |\n|--|--|\n| 20xx-MM-DD HH:mm | Short event description |"),
            None,
            Dialect::in_zone(Tz::UTC),
            None,
        );
        assert_eq!(read.entries.len(), 1);
        assert_eq!(read.entries[0].at, None);
        assert_eq!(
            read.entries[0].written_at.as_deref(),
            Some("20xx-MM-DD HH:mm")
        );
    }
}
