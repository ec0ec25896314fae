//! Times as old postmortems write them: table cells such as
//! `2020-02-03 11:21`, `2021-12-10`, `~2025-03-03 19:30`, `2022-05-?? HH:mm`
//! or `20202-01-16 12:00`, the zone named in a line such as "All times in
//! CET.", and durations such as "31 minutes".

use std::sync::LazyLock;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use regex::Regex;

use crate::domain::time::parse_local;

/// A date, possibly missing its month or day (`2022-05-??`), and the year
/// written with a stray digit (`20202`).
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<y>\d{4})(?P<extra>\d?)(?:/\d{2})?[-/.](?P<m>\d{1,2}|\?\?|MM|mm)?(?:[-/.](?P<d>\d{1,2}|\?\?|DD|dd))?")
        .expect("date pattern")
});

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?P<h>\d{1,2})[:.](?P<m>\d{2})(?::\d{2})?\s*(?P<half>[ap]\.?m\.?)?")
        .expect("time pattern")
});

/// A date with its month as a word: `6th Nov 2023`, `November 6, 2023`,
/// `Nov 6 2023`.
static WORDED_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>[a-z]{3,9})\.?,?\s+(?P<y1>\d{4})|(?P<m2>[a-z]{3,9})\.?\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{4}))\b",
    )
    .expect("worded date pattern")
});

/// The month a word names (`Nov`, `november`, `Sept`).
fn month_named(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let word = word.to_ascii_lowercase();
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    MONTHS
        .iter()
        .zip(full)
        .position(|(short, long)| {
            word == *short || word == long || (word == "sept" && *short == "sep")
        })
        .map(|index| index as u32 + 1)
}

static ZONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(UTC|GMT|CET|CEST|EET|EEST|WET|WEST|BST|PST|PDT|EST|EDT|CST|CDT|MST|MDT|[A-Z][a-z]+/[A-Z][A-Za-z_]+)\b")
        .expect("zone pattern")
});

static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\d+(?:\.\d+)?)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b")
        .expect("duration pattern")
});

/// What a time cell said, read in a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// A date and a time of day.
    Exact(DateTime<Utc>),
    /// Only part of it: a date without a time, a month, a year, or a time
    /// whose day comes from the rows before. The moment is the start of what
    /// is known.
    Partial(DateTime<Utc>),
    /// Nothing usable (`20xx-MM-DD HH:mm`).
    Unknown,
}

impl Reading {
    pub fn at(self) -> Option<DateTime<Utc>> {
        match self {
            Reading::Exact(at) | Reading::Partial(at) => Some(at),
            Reading::Unknown => None,
        }
    }
}

/// Reads a time cell in `zone`; `day` is the day of the row before, for
/// cells that give only a time of day.
pub fn read_time(cell: &str, zone: Tz, day: Option<NaiveDate>) -> Reading {
    let worded = WORDED_DATE.captures(cell).and_then(|found| {
        let (d, m, y) = match (found.name("d1"), found.name("m1"), found.name("y1")) {
            (Some(d), Some(m), Some(y)) => (d, m, y),
            _ => (found.name("d2")?, found.name("m2")?, found.name("y2")?),
        };
        let date = NaiveDate::from_ymd_opt(
            y.as_str().parse().ok()?,
            month_named(m.as_str())?,
            d.as_str().parse().ok()?,
        )?;
        Some((date, found.get(0)?.end()))
    });
    let date = DATE.captures(cell).filter(|_| worded.is_none());
    let after_date = match (&worded, &date) {
        (Some((_, end)), _) => &cell[*end..],
        (None, Some(found)) => found.get(0).map_or(cell, |whole| &cell[whole.end()..]),
        (None, None) => cell,
    };
    let time = TIME.captures(after_date).and_then(|found| {
        let mut hour: u32 = found["h"].parse().ok()?;
        let minute = found["m"].parse().ok()?;
        if let Some(half) = found.name("half") {
            let pm = half.as_str().to_ascii_lowercase().starts_with('p');
            hour = match (hour, pm) {
                (12, false) => 0,
                (12, true) => 12,
                (hour, true) if hour < 12 => hour + 12,
                (hour, _) => hour,
            };
        }
        NaiveTime::from_hms_opt(hour, minute, 0)
    });
    let has_date = worded.is_some() || date.is_some();
    let (day_read, whole_date) = match (&worded, &date) {
        (Some((on, _)), _) => (Some(*on), true),
        (None, Some(found)) => read_date(found),
        (None, None) => (day, false),
    };
    let Some(on) = day_read else {
        return Reading::Unknown;
    };
    let at_time = time.filter(|_| whole_date || !has_date);
    let local = on.and_time(at_time.unwrap_or(NaiveTime::MIN));
    let Ok(at) = parse_local(&local.format("%Y-%m-%d %H:%M").to_string(), zone) else {
        return Reading::Unknown;
    };
    let exact = has_date && whole_date && at_time.is_some();
    if exact {
        Reading::Exact(at)
    } else {
        Reading::Partial(at)
    }
}

/// The day a date match names, and whether all of year, month and day were
/// given; a missing month or day reads as the first.
fn read_date(found: &regex::Captures<'_>) -> (Option<NaiveDate>, bool) {
    let number = |name: &str| {
        found
            .name(name)
            .and_then(|m| m.as_str().parse::<u32>().ok())
    };
    let Some(year) = found["y"].parse::<i32>().ok() else {
        return (None, false);
    };
    let month = number("m");
    let day = number("d");
    let whole = month.is_some() && day.is_some();
    let date = NaiveDate::from_ymd_opt(year, month.unwrap_or(1), day.unwrap_or(1));
    (date, whole && date.is_some())
}

/// The zone a line names ("All times in CET.", "Time (UTC)"), if any.
pub fn zone_named_in(line: &str) -> Option<Tz> {
    ZONE.captures_iter(line)
        .find_map(|found| zone_for(&found[1]))
}

fn zone_for(name: &str) -> Option<Tz> {
    let iana = match name {
        "UTC" | "GMT" => "UTC",
        // Written loosely for "the time on the wall in Central Europe":
        // the tz database's CET zone follows the summer-time rule.
        "CET" | "CEST" => "CET",
        "EET" | "EEST" => "EET",
        "WET" | "WEST" => "WET",
        "BST" => "Europe/London",
        "PST" | "PDT" => "America/Los_Angeles",
        "EST" | "EDT" => "America/New_York",
        "CST" | "CDT" => "America/Chicago",
        "MST" | "MDT" => "America/Denver",
        other => other,
    };
    iana.parse().ok()
}

/// A duration such as "8 minutes", "1 hour 30 min" or "2h"; `None` for
/// "?" or anything without a number and a unit.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0_f64;
    let mut found = false;
    for part in DURATION.captures_iter(text) {
        let amount: f64 = part[1].parse().ok()?;
        let unit = part[2].to_ascii_lowercase();
        let seconds = match unit.chars().next() {
            Some('d') => 86_400.0,
            Some('h') => 3_600.0,
            Some('m') => 60.0,
            _ => 1.0,
        };
        total += amount * seconds;
        found = true;
    }
    found.then(|| Duration::seconds(total.round() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn a_whole_time_is_exact_and_read_in_the_zone() {
        assert_eq!(
            read_time("2020-02-03 11:21", Tz::CET, None),
            Reading::Exact(utc(2020, 2, 3, 10, 21))
        );
        assert_eq!(
            read_time("2020-06-09 12:20", Tz::CET, None),
            Reading::Exact(utc(2020, 6, 9, 10, 20)),
            "summer time in Central Europe"
        );
        assert_eq!(
            read_time("2024-04-09 8:40", Tz::UTC, None),
            Reading::Exact(utc(2024, 4, 9, 8, 40))
        );
    }

    #[test]
    fn dates_with_month_words_and_twelve_hour_clocks_are_read() {
        assert_eq!(
            read_time("6th Nov 2023 11:10", Tz::UTC, None),
            Reading::Exact(utc(2023, 11, 6, 11, 10))
        );
        assert_eq!(
            read_time("November 6, 2023 at 3:26 PM", Tz::UTC, None),
            Reading::Exact(utc(2023, 11, 6, 15, 26))
        );
        assert_eq!(
            read_time("2018-08-22, 03:26pm", Tz::UTC, None),
            Reading::Exact(utc(2018, 8, 22, 15, 26))
        );
        assert_eq!(
            read_time("12:05 am", Tz::UTC, NaiveDate::from_ymd_opt(2026, 3, 10)),
            Reading::Partial(utc(2026, 3, 10, 0, 5)),
            "a time of day takes the day before it"
        );
        assert_eq!(
            read_time("Sept 3 2021", Tz::UTC, None),
            Reading::Partial(utc(2021, 9, 3, 0, 0)),
            "a date alone"
        );
    }

    #[test]
    fn marks_around_a_time_are_ignored() {
        assert_eq!(
            read_time("~2025-03-03 19:30", Tz::UTC, None),
            Reading::Exact(utc(2025, 3, 3, 19, 30))
        );
        assert_eq!(
            read_time("2020-11-17 10:45~", Tz::UTC, None),
            Reading::Exact(utc(2020, 11, 17, 10, 45))
        );
        assert_eq!(
            read_time("2020-10-06 09:00 - 11:00", Tz::UTC, None),
            Reading::Exact(utc(2020, 10, 6, 9, 0)),
            "a range starts at its start"
        );
        assert_eq!(
            read_time("20202-01-16 12:00", Tz::UTC, None),
            Reading::Exact(utc(2020, 1, 16, 12, 0)),
            "a stray digit in the year"
        );
    }

    #[test]
    fn partial_times_start_at_what_is_known() {
        assert_eq!(
            read_time("2021-12-10", Tz::UTC, None),
            Reading::Partial(utc(2021, 12, 10, 0, 0))
        );
        assert_eq!(
            read_time("2022-05-?? HH:mm", Tz::UTC, None),
            Reading::Partial(utc(2022, 5, 1, 0, 0))
        );
        assert_eq!(
            read_time("2024-03-13 14:??", Tz::UTC, None),
            Reading::Partial(utc(2024, 3, 13, 0, 0))
        );
        let day = NaiveDate::from_ymd_opt(2026, 3, 10);
        assert_eq!(
            read_time("14:02", Tz::UTC, day),
            Reading::Partial(utc(2026, 3, 10, 14, 2))
        );
        assert_eq!(
            read_time("20xx-MM-DD HH:mm", Tz::UTC, None),
            Reading::Unknown
        );
    }

    #[test]
    fn zones_are_found_in_notes_and_headers() {
        assert_eq!(zone_named_in("All times in CET."), Some(Tz::CET));
        assert_eq!(zone_named_in("Date and Time in CET"), Some(Tz::CET));
        assert_eq!(zone_named_in("Time (UTC)"), Some(Tz::UTC));
        assert_eq!(
            zone_named_in("Times are Europe/Copenhagen"),
            Some(Tz::Europe__Copenhagen)
        );
        assert_eq!(zone_named_in("Time"), None);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("8 minutes"), Some(Duration::minutes(8)));
        assert_eq!(parse_duration("1 hour 30 min"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("2h"), Some(Duration::hours(2)));
        assert_eq!(parse_duration("?"), None);
    }
}
