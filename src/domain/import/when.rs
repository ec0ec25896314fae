//! Times as postmortems write them: `2020-02-03 11:21`, `29-11-2024 13:00`,
//! `6th Nov 2023 11:10`, `November 6, 2023 at 3:26 PM`, `2018-08-22, 03:26pm`,
//! `~2025-03-03 19:30`, `**14:05 UTC**`, partial dates such as `2022-05-??`,
//! the zone named in a line such as "All times in CET.", and durations such
//! as "3h 45m". Whether `04/05/2024` is the 4th of May or April the 5th is
//! decided once per file, from the dates in it that can only be read one way.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use regex::Regex;

use crate::domain::time::parse_local;

/// Month names and their usual abbreviations.
const MONTH: &str = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const WEEKDAY: &str =
    r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\.?,?\s+)?";
/// `14:05`, `3:26 PM`, `03:26pm`, `3pm`, `14:05:33`.
const CLOCK: &str = r"\d{1,2}(?::\d{2}(?::\d{2})?(?:\s*[ap]\.?m\b\.?)?|\s*[ap]\.?m\b\.?)";
/// As [`CLOCK`], also with a dot (`14.05`): only after a date, where it
/// cannot be a figure.
const CLOCK_AFTER_DATE: &str = r"(?:\d{1,2}(?:[:.h]\d{2}(?::\d{2})?(?:\s*[ap]\.?m\b\.?)?|\s*[ap]\.?m\b\.?)|(?:[01]\d|2[0-3])[0-5]\d\b)";

/// A date with its month as a word: `6th Nov 2023`, `November 6, 2023`,
/// `Tue 6 Nov`; the year may be missing.
static WORDED_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b{WEEKDAY}(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{MONTH})\b\.?|(?P<m2>{MONTH})\b\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b)(?:,?\s+(?P<y>\d{{4}})\b)?"
    ))
    .expect("worded date pattern")
});

/// Day and month as numbers before a year: `29-11-2024`, `04/05/24`,
/// `24.03.2026`.
static NUMERIC_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4}|\d{2})\b")
        .expect("numeric date pattern")
});

/// A year first, possibly missing its month or day (`2022-05-??`), and
/// written with a stray digit (`20202`).
static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<y>\d{4})(?P<extra>\d?)(?:/\d{2})?[-/.](?P<m>\d{1,2}|\?\?|MM|mm)?(?:[-/.](?P<d>\d{1,2}|\?\?|DD|dd))?")
        .expect("date pattern")
});

/// `2022-03-10 1156`: a time without its colon, read only after a date.
static HHMM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[\s,T]*(?:at\s+)?([01]\d|2[0-3])([0-5]\d)\b").expect("hhmm pattern")
});

static TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2})(?::\d{2})?\s*(?P<half>[ap]\.?m\.?)?|\s*(?P<half_only>[ap]\.?m)\b)")
        .expect("time pattern")
});

/// A time at the start of a line, with the marks people put around it
/// (`~`, `**`, `` ` ``, `[ ]`, a zone word) and the separator after it.
static LEADING: LazyLock<Regex> = LazyLock::new(|| {
    let date = format!(
        r"(?:{WEEKDAY}\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}\b\.?(?:,?\s+\d{{4}})?|{WEEKDAY}{MONTH}\b\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?|\d{{1,2}}[-/.]\d{{1,2}}[-/.](?:\d{{4}}|\d{{2}})\b|\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}})"
    );
    Regex::new(&format!(
        r"(?i)^[\s~≈*_`\[(]*(?P<when>(?:{date}(?:(?:\s*,\s*|\s+at\s+|\s*@\s*|T|\s+){CLOCK_AFTER_DATE})?|{CLOCK})(?:\s?-?ish\b)?(?:\s*(?-i:UTC|GMT|Z|[A-Z]{{2,4}}T)\b)?)[\s~*_`\])]*(?::{{2,}}\s*|--\s*|[-–—:|]\s*|\s+|$)"
    ))
    .expect("leading time pattern")
});

/// A zone as lines name it: an offset (`UTC+1`, `GMT-7`), an abbreviation,
/// a tz name (`Europe/Zurich`), "Pacific" or "Eastern", or a `Z` after a time.
static ZONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:UTC|GMT)\s?(?P<offset>[+-]\d{1,2})(?::?00)?\b|\b(UTC|GMT|CET|CEST|EET|EEST|WET|WEST|BST|PST|PDT|PT|EST|EDT|ET|CST|CDT|MST|MDT|Pacific|Eastern|[A-Z][a-z]+/[A-Z][A-Za-z_]+)\b|\d(Z)\b")
        .expect("zone pattern")
});

static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\d+(?:\.\d+)?)\s*(days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)\b")
        .expect("duration pattern")
});

/// Which number comes first in a date written `04/05/2024`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DateOrder {
    #[default]
    DayFirst,
    MonthFirst,
}

/// How one file writes its times: the zone they are in unless a time names
/// its own, and the order of day and month in numeric dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect {
    pub zone: Tz,
    pub order: DateOrder,
}

impl Dialect {
    /// Times read in `zone`, day first.
    pub fn in_zone(zone: Tz) -> Dialect {
        Dialect {
            zone,
            order: DateOrder::DayFirst,
        }
    }
}

impl DateOrder {
    /// Decides from the numeric dates in `text` that can be read only one
    /// way (`29-11-2024`, `11/29/2024`); says how it decided, or `None` when
    /// the text has no numeric dates at all.
    pub fn decide(text: &str) -> (DateOrder, Option<String>) {
        let (mut day_first, mut month_first, mut either) = (Vec::new(), Vec::new(), 0);
        for found in NUMERIC_DATE.captures_iter(text) {
            let (Ok(a), Ok(b)) = (found["a"].parse::<u32>(), found["b"].parse::<u32>()) else {
                continue;
            };
            match (a, b) {
                (13..=31, 1..=12) => day_first.push(found[0].to_owned()),
                (1..=12, 13..=31) => month_first.push(found[0].to_owned()),
                (1..=12, 1..=12) => either += 1,
                _ => {}
            }
        }
        let example = |dates: &[String]| dates.first().cloned().unwrap_or_default();
        match (day_first.len(), month_first.len()) {
            (0, 0) if either == 0 => (DateOrder::DayFirst, None),
            (0, 0) => (
                DateOrder::DayFirst,
                Some(format!(
                    "dates: {either} numeric dates could be read either way and none settles it; read day first"
                )),
            ),
            (days, months) if days >= months => (
                DateOrder::DayFirst,
                Some(format!(
                    "dates: read day first, as “{}” shows{}",
                    example(&day_first),
                    conflict(months, &month_first)
                )),
            ),
            (days, _) => (
                DateOrder::MonthFirst,
                Some(format!(
                    "dates: read month first, as “{}” shows{}",
                    example(&month_first),
                    conflict(days, &day_first)
                )),
            ),
        }
    }
}

fn conflict(count: usize, dates: &[String]) -> String {
    match dates.first() {
        Some(first) => format!(" ({count} dates such as “{first}” read the other way)"),
        None => String::new(),
    }
}

/// What a time cell said, read in a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// A date and a time of day.
    Exact(DateTime<Utc>),
    /// Only part of it: a date without a time, a month, a year, or a time
    /// whose day comes from the rows before. The moment is the start of what
    /// is known.
    Partial(DateTime<Utc>),
    /// Nothing usable (`20xx-MM-DD HH:mm`, a time with no day to put it on).
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

/// The time written at the start of `text` and the text after it and its
/// separator: `**14:05 UTC** – Paged` gives `14:05 UTC` and `Paged`.
pub fn leading_time(text: &str) -> Option<(&str, &str)> {
    let found = LEADING.captures(text)?;
    let when = found.name("when")?.as_str().trim();
    let rest = &text[found.get(0)?.end()..];
    Some((when, rest.trim()))
}

/// A date found in `text`: where it ends, the day, and whether year, month
/// and day were all given.
struct DateFound {
    end: usize,
    day: Option<NaiveDate>,
    whole: bool,
}

fn find_date(text: &str, order: DateOrder, year_hint: Option<i32>) -> Option<DateFound> {
    if let Some(found) = WORDED_DATE.captures(text) {
        let (d, m) = match (found.name("d1"), found.name("m1")) {
            (Some(d), Some(m)) => (d, m),
            _ => (found.name("d2")?, found.name("m2")?),
        };
        // `Mar 14:00` is a month and a time, not the 14th of March.
        let end = found.get(0)?.end();
        let cut_clock = found.name("y").is_none()
            && found.name("d2").is_some()
            && text[d.end()..].starts_with([':', '.']);
        if !cut_clock {
            let year = found
                .name("y")
                .and_then(|y| y.as_str().parse().ok())
                .or(year_hint);
            let day = year.and_then(|year| {
                NaiveDate::from_ymd_opt(year, month_named(m.as_str())?, d.as_str().parse().ok()?)
            });
            // Without a year anywhere the day cannot be placed; a day that
            // does not exist (`00 may`) was no date at all.
            if day.is_some() || year.is_none() {
                return Some(DateFound {
                    end,
                    whole: day.is_some(),
                    day,
                });
            }
        }
    }
    if let Some(found) = NUMERIC_DATE.captures(text) {
        let a: u32 = found["a"].parse().ok()?;
        let b: u32 = found["b"].parse().ok()?;
        let year: i32 = match found["y"].parse::<i32>().ok()? {
            short @ 0..=99 => 2000 + short,
            year => year,
        };
        let (day, month) = match order {
            DateOrder::DayFirst => (a, b),
            DateOrder::MonthFirst => (b, a),
        };
        // A date the file's order cannot make sense of is read the other way.
        let date = NaiveDate::from_ymd_opt(year, month, day)
            .or_else(|| NaiveDate::from_ymd_opt(year, day, month));
        if date.is_some() {
            return Some(DateFound {
                end: found.get(0)?.end(),
                day: date,
                whole: true,
            });
        }
    }
    let found = ISO_DATE.captures(text)?;
    let number = |name: &str| {
        found
            .name(name)
            .and_then(|m| m.as_str().parse::<u32>().ok())
    };
    let year = found["y"].parse::<i32>().ok()?;
    let (month, day) = (number("m"), number("d"));
    let date = NaiveDate::from_ymd_opt(year, month.unwrap_or(1), day.unwrap_or(1));
    Some(DateFound {
        end: found.get(0)?.end(),
        whole: month.is_some() && day.is_some() && date.is_some(),
        day: date,
    })
}

/// Reads a time as written, in the file's dialect; `day` is the day of the
/// row before (or of the incident), for times without a date of their own.
/// A zone word in the text (`14:05 UTC`) wins over the dialect's zone.
pub fn read_time(cell: &str, dialect: Dialect, day: Option<NaiveDate>) -> Reading {
    let date = find_date(cell, dialect.order, day.map(|d| d.year()));
    let after_date = date.as_ref().map_or(cell, |found| &cell[found.end..]);
    let hhmm = HHMM
        .captures(after_date)
        .filter(|_| date.is_some())
        .and_then(|hhmm| NaiveTime::from_hms_opt(hhmm[1].parse().ok()?, hhmm[2].parse().ok()?, 0));
    let time = hhmm.or_else(|| {
        TIME.captures(after_date).and_then(|found| {
            let mut hour: u32 = found["h"].parse().ok()?;
            let minute = match found.name("m") {
                Some(m) => m.as_str().parse().ok()?,
                None => 0,
            };
            if let Some(half) = found.name("half").or(found.name("half_only")) {
                let pm = half.as_str().to_ascii_lowercase().starts_with('p');
                hour = match (hour, pm) {
                    (12, false) => 0,
                    (12, true) => 12,
                    (hour, true) if hour < 12 => hour + 12,
                    (hour, _) => hour,
                };
            }
            NaiveTime::from_hms_opt(hour, minute, 0)
        })
    });
    // No date and no time of day: nothing here says when.
    if date.is_none() && time.is_none() {
        return Reading::Unknown;
    }
    let (on, whole_date) = match &date {
        Some(found) => (found.day, found.whole),
        None => (day, false),
    };
    let Some(on) = on else {
        return Reading::Unknown;
    };
    // A time after a partial date (`2024-03-13 14:??`) is no time at all.
    let at_time = time.filter(|_| whole_date || date.is_none());
    let zone = zone_named_in(after_date).unwrap_or(dialect.zone);
    let local = on.and_time(at_time.unwrap_or(NaiveTime::MIN));
    let Ok(at) = parse_local(&local.format("%Y-%m-%d %H:%M").to_string(), zone) else {
        return Reading::Unknown;
    };
    if date.is_some() && whole_date && at_time.is_some() {
        Reading::Exact(at)
    } else {
        Reading::Partial(at)
    }
}

/// A date as written, in any of the forms [`read_time`] reads; for due dates.
pub fn read_day(text: &str, order: DateOrder) -> Option<NaiveDate> {
    find_date(text, order, None)
        .filter(|found| found.whole)
        .and_then(|found| found.day)
}

/// The month a word names (`Nov`, `november`, `Sept`).
fn month_named(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let word = word.to_ascii_lowercase();
    let prefix = word.get(..3)?;
    MONTHS
        .iter()
        .position(|month| *month == prefix)
        .map(|index| index as u32 + 1)
}

/// The zone a line names ("All times in CET.", "Time (UTC)", `10:00Z`), if any.
pub fn zone_named_in(line: &str) -> Option<Tz> {
    ZONE.captures_iter(line).find_map(|found| {
        if let Some(offset) = found.name("offset") {
            // The tz database names fixed offsets with the sign reversed.
            let hours: i32 = offset.as_str().parse().ok()?;
            let name = match hours {
                0 => "Etc/GMT".to_owned(),
                hours => format!("Etc/GMT{:+}", -hours),
            };
            return name.parse().ok();
        }
        let name = found.get(2).or(found.get(3))?.as_str();
        zone_for(if name == "Z" { "UTC" } else { name })
    })
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
        "PST" | "PDT" | "PT" | "Pacific" => "America/Los_Angeles",
        "EST" | "EDT" | "ET" | "Eastern" => "America/New_York",
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
            read_time("2020-02-03 11:21", Dialect::in_zone(Tz::CET), None),
            Reading::Exact(utc(2020, 2, 3, 10, 21))
        );
        assert_eq!(
            read_time("2020-06-09 12:20", Dialect::in_zone(Tz::CET), None),
            Reading::Exact(utc(2020, 6, 9, 10, 20)),
            "summer time in Central Europe"
        );
        assert_eq!(
            read_time("2024-04-09 8:40", Dialect::in_zone(Tz::UTC), None),
            Reading::Exact(utc(2024, 4, 9, 8, 40))
        );
    }

    #[test]
    fn dates_with_month_words_and_twelve_hour_clocks_are_read() {
        assert_eq!(
            read_time("6th Nov 2023 11:10", Dialect::in_zone(Tz::UTC), None),
            Reading::Exact(utc(2023, 11, 6, 11, 10))
        );
        assert_eq!(
            read_time(
                "November 6, 2023 at 3:26 PM",
                Dialect::in_zone(Tz::UTC),
                None
            ),
            Reading::Exact(utc(2023, 11, 6, 15, 26))
        );
        assert_eq!(
            read_time("2018-08-22, 03:26pm", Dialect::in_zone(Tz::UTC), None),
            Reading::Exact(utc(2018, 8, 22, 15, 26))
        );
        assert_eq!(
            read_time(
                "12:05 am",
                Dialect::in_zone(Tz::UTC),
                NaiveDate::from_ymd_opt(2026, 3, 10)
            ),
            Reading::Partial(utc(2026, 3, 10, 0, 5)),
            "a time of day takes the day before it"
        );
        assert_eq!(
            read_time("Sept 3 2021", Dialect::in_zone(Tz::UTC), None),
            Reading::Partial(utc(2021, 9, 3, 0, 0)),
            "a date alone"
        );
    }

    #[test]
    fn marks_around_a_time_are_ignored() {
        assert_eq!(
            read_time("~2025-03-03 19:30", Dialect::in_zone(Tz::UTC), None),
            Reading::Exact(utc(2025, 3, 3, 19, 30))
        );
        assert_eq!(
            read_time("2020-11-17 10:45~", Dialect::in_zone(Tz::UTC), None),
            Reading::Exact(utc(2020, 11, 17, 10, 45))
        );
        assert_eq!(
            read_time("2020-10-06 09:00 - 11:00", Dialect::in_zone(Tz::UTC), None),
            Reading::Exact(utc(2020, 10, 6, 9, 0)),
            "a range starts at its start"
        );
        assert_eq!(
            read_time("20202-01-16 12:00", Dialect::in_zone(Tz::UTC), None),
            Reading::Exact(utc(2020, 1, 16, 12, 0)),
            "a stray digit in the year"
        );
    }

    #[test]
    fn partial_times_start_at_what_is_known() {
        assert_eq!(
            read_time("2021-12-10", Dialect::in_zone(Tz::UTC), None),
            Reading::Partial(utc(2021, 12, 10, 0, 0))
        );
        assert_eq!(
            read_time("2022-05-?? HH:mm", Dialect::in_zone(Tz::UTC), None),
            Reading::Partial(utc(2022, 5, 1, 0, 0))
        );
        assert_eq!(
            read_time("2024-03-13 14:??", Dialect::in_zone(Tz::UTC), None),
            Reading::Partial(utc(2024, 3, 13, 0, 0))
        );
        let day = NaiveDate::from_ymd_opt(2026, 3, 10);
        assert_eq!(
            read_time("14:02", Dialect::in_zone(Tz::UTC), day),
            Reading::Partial(utc(2026, 3, 10, 14, 2))
        );
        assert_eq!(
            read_time("20xx-MM-DD HH:mm", Dialect::in_zone(Tz::UTC), None),
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
        assert_eq!(
            zone_named_in("All times in UTC+1 (Zurich time)"),
            Some(Tz::Etc__GMTMinus1)
        );
        assert_eq!(
            zone_named_in("All times in PST (UTC-7)"),
            Some(Tz::America__Los_Angeles)
        );
        assert_eq!(
            zone_named_in("All times in UC/Pacific"),
            Some(Tz::America__Los_Angeles)
        );
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("8 minutes"), Some(Duration::minutes(8)));
        assert_eq!(parse_duration("1 hour 30 min"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("2h"), Some(Duration::hours(2)));
        assert_eq!(parse_duration("?"), None);
    }

    fn utc_day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn day_first_and_month_first_dates_follow_the_file() {
        let day_first = Dialect {
            zone: Tz::UTC,
            order: DateOrder::DayFirst,
        };
        let month_first = Dialect {
            order: DateOrder::MonthFirst,
            ..day_first
        };
        assert_eq!(
            read_time("29-11-2024 13:00", day_first, None),
            Reading::Exact(utc(2024, 11, 29, 13, 0))
        );
        assert_eq!(
            read_time("04/05/2024 09:30", day_first, None),
            Reading::Exact(utc(2024, 5, 4, 9, 30))
        );
        assert_eq!(
            read_time("04/05/2024 09:30", month_first, None),
            Reading::Exact(utc(2024, 4, 5, 9, 30))
        );
        assert_eq!(
            read_time("11/29/24 2:15 pm", day_first, None),
            Reading::Exact(utc(2024, 11, 29, 14, 15)),
            "a date the order cannot read is read the other way"
        );
        assert_eq!(
            read_time("24.03.2026 14.05", day_first, None),
            Reading::Exact(utc(2026, 3, 24, 14, 5))
        );
        assert_eq!(
            read_time("2022-03-10 1156", day_first, None),
            Reading::Exact(utc(2022, 3, 10, 11, 56)),
            "a time without its colon, after a date"
        );
    }

    #[test]
    fn a_file_decides_its_order_from_its_unambiguous_dates() {
        let (order, said) = DateOrder::decide(
            "| 03/04/2024 10:00 | a |\n| 03/04/2024 11:00 | b |\n| 03/14/2024 | c |",
        );
        assert_eq!(order, DateOrder::MonthFirst);
        assert!(said.unwrap().contains("03/14/2024"));
        let (order, said) = DateOrder::decide("- 02-03-2024 10:00 x\n- 29-03-2024 10:00 y");
        assert_eq!(order, DateOrder::DayFirst);
        assert!(said.unwrap().contains("29-03-2024"));
        let (order, said) = DateOrder::decide("- 02-03-2024 10:00 x");
        assert_eq!(order, DateOrder::DayFirst);
        assert!(said.unwrap().contains("either way"));
        assert_eq!(
            DateOrder::decide("2024-03-02 10:00"),
            (DateOrder::DayFirst, None)
        );
    }

    #[test]
    fn a_zone_word_in_the_time_wins_over_the_files_zone() {
        assert_eq!(
            read_time("14:05 UTC", Dialect::in_zone(Tz::CET), utc_day(2024, 1, 10)),
            Reading::Partial(utc(2024, 1, 10, 14, 5))
        );
        assert_eq!(
            read_time("2024-01-10 14:05", Dialect::in_zone(Tz::CET), None),
            Reading::Exact(utc(2024, 1, 10, 13, 5))
        );
        assert_eq!(
            read_time("2024-01-10T14:05Z", Dialect::in_zone(Tz::CET), None),
            Reading::Exact(utc(2024, 1, 10, 14, 5))
        );
    }

    #[test]
    fn worded_dates_without_a_year_take_it_from_the_day_before() {
        assert_eq!(
            read_time(
                "Tue 6 Nov, 11:10",
                Dialect::in_zone(Tz::UTC),
                utc_day(2023, 11, 5)
            ),
            Reading::Exact(utc(2023, 11, 6, 11, 10))
        );
        assert_eq!(
            read_time("6 Nov 11:10", Dialect::in_zone(Tz::UTC), None),
            Reading::Unknown,
            "no year anywhere: the day cannot be placed"
        );
        assert_eq!(
            read_time("14:05", Dialect::in_zone(Tz::UTC), None),
            Reading::Unknown,
            "a time alone with no day to put it on"
        );
        assert_eq!(
            read_time(
                "sometime after lunch",
                Dialect::in_zone(Tz::UTC),
                utc_day(2024, 1, 10)
            ),
            Reading::Unknown,
            "words with no time in them say nothing about when"
        );
    }

    #[test]
    fn leading_times_split_from_their_text_without_eating_a_character() {
        let cases = [
            (
                "**14:05 UTC** – Paged the on-call",
                "14:05 UTC",
                "Paged the on-call",
            ),
            (
                "14:05 - -5% error budget left",
                "14:05",
                "-5% error budget left",
            ),
            (
                "2024-11-29 13:00: Alert fired",
                "2024-11-29 13:00",
                "Alert fired",
            ),
            ("29-11-2024 13:00 — Deploy", "29-11-2024 13:00", "Deploy"),
            (
                "6th Nov 2023 11:10 Rollback",
                "6th Nov 2023 11:10",
                "Rollback",
            ),
            (
                "2018-08-22, 03:26pm: Users report",
                "2018-08-22, 03:26pm",
                "Users report",
            ),
            ("~14:00 restart", "14:00", "restart"),
            (
                "2018-01-22 15:00ish UTC ::::: deploys",
                "2018-01-22 15:00ish UTC",
                "deploys",
            ),
            ("May 30 -- deployed code", "May 30", "deployed code"),
            ("[14:06] alert", "14:06", "alert"),
            (
                "November 6, 2023 at 3:26 PM - fixed",
                "November 6, 2023 at 3:26 PM",
                "fixed",
            ),
            ("2024-11-29 - the day", "2024-11-29", "the day"),
            ("3 p.m. the call", "3 p.m.", "the call"),
        ];
        for (line, when, rest) in cases {
            assert_eq!(leading_time(line), Some((when, rest)), "{line}");
        }
        for line in [
            "1.25 million users",
            "2 amazing things",
            "Someone said hi",
            "12 people paged",
        ] {
            assert_eq!(leading_time(line), None, "{line}");
        }
    }

    #[test]
    fn due_dates_are_read_in_every_form() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 24);
        for text in [
            "2026-03-24",
            "24.03.2026",
            "24/03/2026",
            "March 24, 2026",
            "24th Mar 2026",
        ] {
            assert_eq!(read_day(text, DateOrder::DayFirst), day, "{text}");
        }
        assert_eq!(read_day("03/24/2026", DateOrder::MonthFirst), day);
        assert_eq!(read_day("soon", DateOrder::DayFirst), None);
    }

    #[test]
    fn durations_in_impact_tables_are_read() {
        assert_eq!(parse_duration("3h 45m"), Some(Duration::minutes(225)));
    }
}
