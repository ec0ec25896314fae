//! Timestamps as people and tools write them, and the running day of a log
//! whose lines give only a time.

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};
use chrono_tz::Tz;

/// What a timestamp says before a zone or a day is applied.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Stamp {
    /// It carried an offset, or was an epoch count: already an instant.
    Instant(DateTime<Utc>),
    /// A date and a time, to be read in the log's zone.
    Local(NaiveDateTime),
    /// A time of day only.
    Clock(NaiveTime),
}

const DATE_TIMES: [&str; 6] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M",
];

const CLOCKS: [&str; 2] = ["%H:%M:%S%.f", "%H:%M"];

/// One timestamp as people and tools write it, read in `zone` when it carries
/// no offset, into UTC.
///
/// Accepts RFC 3339 with an offset or `Z`, naive date-times with `-` or `/`
/// dates and a space or `T`, a time alone (only with `date`), and Unix epoch
/// seconds (with Slack's fraction) or milliseconds. A local time that happens
/// twice when clocks go back is the earlier one; one the clocks skip is `None`.
pub fn parse_timestamp(text: &str, zone: Tz, date: Option<NaiveDate>) -> Option<DateTime<Utc>> {
    match read_stamp(text)? {
        Stamp::Instant(at) => Some(at),
        Stamp::Local(naive) => to_utc(naive, zone),
        Stamp::Clock(time) => to_utc(date?.and_time(time), zone),
    }
}

/// Recognises a timestamp without deciding its zone or day.
pub(super) fn read_stamp(text: &str) -> Option<Stamp> {
    let text = text.trim();
    if let Some(at) = read_epoch(text) {
        return Some(Stamp::Instant(at));
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(Stamp::Instant(at.to_utc()));
    }
    if let Some((rest, offset)) = split_offset(text) {
        let at = offset
            .from_local_datetime(&read_date_time(rest)?)
            .single()?;
        return Some(Stamp::Instant(at.to_utc()));
    }
    if let Some(naive) = read_date_time(text) {
        return Some(Stamp::Local(naive));
    }
    CLOCKS
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(text, format).ok())
        .map(Stamp::Clock)
}

fn read_date_time(text: &str) -> Option<NaiveDateTime> {
    DATE_TIMES
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text.trim(), format).ok())
}

/// Epoch seconds (9 or 10 digits, optional fraction) or milliseconds (13).
fn read_epoch(text: &str) -> Option<DateTime<Utc>> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || fraction.len() > 9 {
        return None;
    }
    let count: i64 = whole.parse().ok()?;
    match (whole.len(), fraction.is_empty()) {
        (9 | 10, _) => {
            let nanos = format!("{fraction:0<9}").parse().ok()?;
            DateTime::from_timestamp(count, nanos)
        }
        (13, true) => DateTime::from_timestamp_millis(count),
        _ => None,
    }
}

/// Splits a trailing `Z`, `+HH:MM`, `+HHMM` or `+HH` off a date-time.
fn split_offset(text: &str) -> Option<(&str, FixedOffset)> {
    if let Some(rest) = text.strip_suffix(['Z', 'z'])
        && rest.ends_with(|c: char| c.is_ascii_digit())
    {
        return Some((rest, FixedOffset::east_opt(0)?));
    }
    let sign_at = text.rfind(['+', '-'])?;
    let (rest, suffix) = text.split_at(sign_at);
    // The offset must follow a time, or the date's own dashes would match.
    if !rest.contains(':') {
        return None;
    }
    let digits: String = suffix[1..].chars().filter(|c| *c != ':').collect();
    if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().unwrap_or(0);
    let seconds = (hours * 60 + minutes) * 60;
    let offset = if suffix.starts_with('-') {
        FixedOffset::west_opt(seconds)?
    } else {
        FixedOffset::east_opt(seconds)?
    };
    Some((rest, offset))
}

/// A local time in `zone` as UTC: the earlier of a repeated hour, none in a gap.
pub(super) fn to_utc(naive: NaiveDateTime, zone: Tz) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.to_utc()),
        LocalResult::None => None,
    }
}

/// Places a log's stamps in time, remembering the day for lines that give
/// only a time and moving to the next day when the log crosses midnight.
pub(super) struct Calendar {
    zone: Tz,
    day: Option<NaiveDate>,
    last: Option<NaiveDateTime>,
}

impl Calendar {
    pub(super) fn new(zone: Tz, date: Option<NaiveDate>) -> Self {
        Calendar {
            zone,
            day: date,
            last: None,
        }
    }

    /// The instant a stamp stands for, or a sentence saying why there is none.
    pub(super) fn place(&mut self, stamp: Stamp) -> Result<DateTime<Utc>, String> {
        let local = match stamp {
            Stamp::Instant(at) => {
                self.remember(at.with_timezone(&self.zone).naive_local());
                return Ok(at);
            }
            Stamp::Local(naive) => naive,
            Stamp::Clock(time) => self.on_current_day(time)?,
        };
        self.remember(local);
        to_utc(local, self.zone).ok_or_else(|| {
            format!(
                "{} does not exist in {}: the clocks skipped it",
                local.format("%Y-%m-%d %H:%M"),
                self.zone
            )
        })
    }

    fn on_current_day(&self, time: NaiveTime) -> Result<NaiveDateTime, String> {
        let day = self.day.ok_or("only a time: pick the day the log starts")?;
        let local = day.and_time(time);
        // A jump back of more than half a day is the log passing midnight,
        // not a message from the morning arriving late.
        match self.last {
            Some(last) if local < last - Duration::hours(12) => Ok(local + Duration::days(1)),
            _ => Ok(local),
        }
    }

    fn remember(&mut self, local: NaiveDateTime) {
        self.day = Some(local.date());
        self.last = Some(local);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COPENHAGEN: Tz = chrono_tz::Europe::Copenhagen;

    fn utc(text: &str) -> Option<String> {
        parse_timestamp(text, COPENHAGEN, None).map(|at| at.to_rfc3339())
    }

    fn day() -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2021, 6, 22)
    }

    #[test]
    fn times_with_an_offset_ignore_the_zone() {
        let expected = Some("2021-06-22T08:21:05+00:00".to_owned());
        assert_eq!(utc("2021-06-22T08:21:05Z"), expected);
        assert_eq!(utc("2021-06-22T10:21:05+02:00"), expected);
        assert_eq!(utc("2021-06-22 10:21:05 +0200"), expected);
        assert_eq!(utc("2021-06-22T03:21:05-05"), expected);
        assert_eq!(
            utc("2021-06-22T08:21Z").as_deref(),
            Some("2021-06-22T08:21:00+00:00")
        );
    }

    #[test]
    fn naive_times_are_read_in_the_zone_with_summer_time() {
        let expected = Some("2021-06-22T08:21:00+00:00".to_owned());
        assert_eq!(utc("2021-06-22 10:21"), expected);
        assert_eq!(utc("2021-06-22T10:21"), expected);
        assert_eq!(utc("2021/06/22 10:21"), expected);
        assert_eq!(utc("2021-06-22 10:21:00"), expected);
        assert_eq!(utc(" 2021-06-22 10:21:00.000 "), expected);
    }

    #[test]
    fn winter_times_use_the_winter_offset() {
        assert_eq!(
            utc("2021-01-15 10:21").as_deref(),
            Some("2021-01-15T09:21:00+00:00")
        );
    }

    #[test]
    fn single_digit_hours_are_accepted() {
        assert_eq!(
            utc("2021-06-22 8:40").as_deref(),
            Some("2021-06-22T06:40:00+00:00")
        );
        let at = parse_timestamp("8:40", COPENHAGEN, day()).unwrap();
        assert_eq!(at.to_rfc3339(), "2021-06-22T06:40:00+00:00");
    }

    #[test]
    fn a_time_alone_needs_a_day() {
        assert_eq!(utc("08:21"), None);
        let at = parse_timestamp("08:21:33", COPENHAGEN, day()).unwrap();
        assert_eq!(at.to_rfc3339(), "2021-06-22T06:21:33+00:00");
    }

    #[test]
    fn epoch_seconds_and_milliseconds_are_instants() {
        let expected = Some("2021-06-22T08:21:00+00:00".to_owned());
        assert_eq!(utc("1624350060"), expected);
        assert_eq!(utc("1624350060000"), expected);
        let slack = parse_timestamp("1624350060.000200", COPENHAGEN, None).unwrap();
        assert_eq!(slack.timestamp(), 1_624_350_060);
        assert_eq!(slack.timestamp_subsec_micros(), 200);
    }

    #[test]
    fn the_repeated_hour_in_autumn_is_the_earlier_one() {
        let at = utc("2021-10-31 02:30").unwrap();
        assert_eq!(at, "2021-10-31T00:30:00+00:00", "02:30 summer time");
    }

    #[test]
    fn the_skipped_hour_in_spring_does_not_exist() {
        assert_eq!(utc("2021-03-28 02:30"), None);
        let mut calendar = Calendar::new(COPENHAGEN, None);
        let stamp = read_stamp("2021-03-28 02:30").unwrap();
        assert!(calendar.place(stamp).unwrap_err().contains("skipped"));
    }

    #[test]
    fn words_and_bare_numbers_are_not_times() {
        for text in [
            "",
            "yesterday",
            "20210622",
            "12345",
            "2021-06-22",
            "25:00",
            "1624350060x",
        ] {
            assert_eq!(utc(text), None, "{text:?}");
        }
    }

    #[test]
    fn the_calendar_moves_to_the_next_day_at_midnight() {
        let mut calendar = Calendar::new(Tz::UTC, day());
        let mut place = |text: &str| {
            calendar
                .place(read_stamp(text).unwrap())
                .unwrap()
                .to_rfc3339()
        };
        assert_eq!(place("23:50"), "2021-06-22T23:50:00+00:00");
        assert_eq!(place("23:40"), "2021-06-22T23:40:00+00:00", "a little back");
        assert_eq!(place("00:10"), "2021-06-23T00:10:00+00:00");
        assert_eq!(place("09:00"), "2021-06-23T09:00:00+00:00");
    }

    #[test]
    fn a_full_date_sets_the_day_for_later_times() {
        let mut calendar = Calendar::new(COPENHAGEN, None);
        let full = calendar.place(read_stamp("2021-06-22 10:00").unwrap());
        assert_eq!(full.unwrap().to_rfc3339(), "2021-06-22T08:00:00+00:00");
        let later = calendar.place(read_stamp("10:30").unwrap());
        assert_eq!(later.unwrap().to_rfc3339(), "2021-06-22T08:30:00+00:00");
    }

    #[test]
    fn without_any_day_a_time_alone_is_explained() {
        let mut calendar = Calendar::new(Tz::UTC, None);
        let reason = calendar.place(read_stamp("08:21").unwrap()).unwrap_err();
        assert_eq!(reason, "only a time: pick the day the log starts");
    }
}
