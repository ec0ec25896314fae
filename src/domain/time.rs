//! Times as people type and read them: in a named zone, stored in UTC.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The zones offered in pickers, most used first; any IANA name is accepted.
pub const COMMON_ZONES: &[&str] = &[
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Amsterdam",
    "Europe/Copenhagen",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
];

pub fn parse_zone(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

/// Parses a time typed in `zone` (`2026-03-01 14:05`, or with a `T` as a
/// pasted ISO time has it, with optional seconds) into UTC.
pub fn parse_local(input: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    let input = input.trim();
    let formats = [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ];
    let naive = formats
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(input, format).ok())
        .ok_or_else(|| "Use the form 2026-03-01 14:05.".to_owned())?;
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(at) => Ok(at.with_timezone(&Utc)),
        // The hour that happens twice when clocks go back: take the first.
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(format!(
            "That time does not exist in {zone}: the clocks skipped it."
        )),
    }
}

/// A time for reading: `2026-03-01 15:05 CET`.
pub fn format_in(at: DateTime<Utc>, zone: Tz) -> String {
    // Pages show many times; the pattern is read once, not on every call.
    static SHOWN: std::sync::LazyLock<Vec<chrono::format::Item<'static>>> =
        std::sync::LazyLock::new(|| {
            chrono::format::StrftimeItems::new("%Y-%m-%d %H:%M %Z")
                .parse_to_owned()
                .expect("a valid pattern")
        });
    at.with_timezone(&zone)
        .format_with_items(SHOWN.iter())
        .to_string()
}

/// A time of day for dense tables: `15:05`.
pub fn format_clock(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%H:%M").to_string()
}

/// A time as the forms show it and take it back: `2026-03-01 14:05` in
/// `zone`, ISO order and 24 hours, with seconds only when there are some.
pub fn to_local_input(at: DateTime<Utc>, zone: Tz) -> String {
    let local = at.with_timezone(&zone);
    if local.second() == 0 {
        local.format("%Y-%m-%d %H:%M").to_string()
    } else {
        local.format("%Y-%m-%d %H:%M:%S").to_string()
    }
}

/// A duration as people say it: `45 s`, `13 min`, `2 h 5 min`, `3 d 4 h`.
pub fn human_duration(duration: Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, minutes) => format!("{minutes} min"),
        (0, hours, 0) => format!("{hours} h"),
        (0, hours, minutes) => format!("{hours} h {minutes} min"),
        (days, 0, _) => format!("{days} d"),
        (days, hours, _) => format!("{days} d {hours} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_times_are_read_in_their_zone() {
        let berlin = parse_zone("Europe/Berlin").unwrap();
        let at = parse_local("2026-03-01T14:05", berlin).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-03-01T13:05:00+00:00");
        assert_eq!(format_in(at, berlin), "2026-03-01 14:05 CET");
        assert_eq!(format_in(at, Tz::UTC), "2026-03-01 13:05 UTC");
        assert_eq!(to_local_input(at, berlin), "2026-03-01 14:05");
    }

    #[test]
    fn skipped_and_repeated_hours_are_handled() {
        let berlin = parse_zone("Europe/Berlin").unwrap();
        assert!(
            parse_local("2026-03-29 02:30", berlin).is_err(),
            "clocks jump 02:00 to 03:00"
        );
        let twice = parse_local("2026-10-25 02:30", berlin).unwrap();
        assert_eq!(
            twice.to_rfc3339(),
            "2026-10-25T00:30:00+00:00",
            "the first 02:30 (CEST)"
        );
    }

    #[test]
    fn nonsense_is_refused() {
        assert!(parse_local("yesterday", Tz::UTC).is_err());
        assert!(parse_zone("Mars/Olympus").is_none());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::seconds(45)), "45 s");
        assert_eq!(human_duration(Duration::minutes(13)), "13 min");
        assert_eq!(human_duration(Duration::minutes(125)), "2 h 5 min");
        assert_eq!(human_duration(Duration::hours(2)), "2 h");
        assert_eq!(human_duration(Duration::hours(76)), "3 d 4 h");
    }
}
