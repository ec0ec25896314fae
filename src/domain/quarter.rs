//! Calendar quarters, as the quarterly review names and bounds them:
//! `2026-Q4` runs from 1 October to 31 December in the organization's zone.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    /// 1 to 4.
    number: u32,
}

impl Quarter {
    pub fn new(year: i32, number: u32) -> Option<Quarter> {
        ((1..=4).contains(&number) && (1970..=9999).contains(&year))
            .then_some(Quarter { year, number })
    }

    /// The quarter `date` falls in.
    pub fn of(date: NaiveDate) -> Quarter {
        Quarter {
            year: date.year(),
            number: date.month0() / 3 + 1,
        }
    }

    /// The quarter it is at `now` in `zone`.
    pub fn current(now: DateTime<Utc>, zone: Tz) -> Quarter {
        Quarter::of(now.with_timezone(&zone).date_naive())
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn number(self) -> u32 {
        self.number
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1).expect("a valid quarter")
    }

    /// Its last day.
    pub fn last_day(self) -> NaiveDate {
        self.next().first_day() - Duration::days(1)
    }

    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter {
                year: self.year + 1,
                number: 1,
            }
        } else {
            Quarter {
                number: self.number + 1,
                ..self
            }
        }
    }

    pub fn previous(self) -> Quarter {
        if self.number == 1 {
            Quarter {
                year: self.year - 1,
                number: 4,
            }
        } else {
            Quarter {
                number: self.number - 1,
                ..self
            }
        }
    }

    /// This quarter and the `count - 1` before it, oldest first.
    pub fn trailing(self, count: usize) -> Vec<Quarter> {
        let mut quarters: Vec<Quarter> = std::iter::successors(Some(self), |q| Some(q.previous()))
            .take(count)
            .collect();
        quarters.reverse();
        quarters
    }

    /// The instant it starts in `zone` (midnight of its first day there).
    pub fn starts_at(self, zone: Tz) -> DateTime<Utc> {
        midnight(self.first_day(), zone)
    }

    /// The instant it ends in `zone`: the next quarter's start.
    pub fn ends_at(self, zone: Tz) -> DateTime<Utc> {
        self.next().starts_at(zone)
    }

    /// Whether `at` falls in it, in `zone`.
    pub fn contains(self, at: DateTime<Utc>, zone: Tz) -> bool {
        self.starts_at(zone) <= at && at < self.ends_at(zone)
    }

    /// Short label for charts: `Q4 '26`.
    pub fn short(self) -> String {
        format!("Q{} '{:02}", self.number, self.year.rem_euclid(100))
    }
}

/// The first instant of `date` in `zone`. Where midnight does not exist
/// (a zone that moves its clocks at midnight) the day starts an hour later.
fn midnight(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let start = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    match zone.from_local_datetime(&start) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
        LocalResult::None => zone
            .from_local_datetime(&(start + Duration::hours(1)))
            .earliest()
            .map_or_else(|| start.and_utc(), |at| at.with_timezone(&Utc)),
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

impl FromStr for Quarter {
    type Err = &'static str;

    /// `2026-Q4` (or `2026-q4`).
    fn from_str(text: &str) -> Result<Quarter, Self::Err> {
        const HELP: &str = "Name a quarter as 2026-Q4.";
        let (year, number) = text.trim().split_once(['Q', 'q']).ok_or(HELP)?;
        let year = year.strip_suffix('-').ok_or(HELP)?;
        if year.len() != 4 || number.len() != 1 {
            return Err(HELP);
        }
        let year = year.parse().map_err(|_| HELP)?;
        let number = number.parse().map_err(|_| HELP)?;
        Quarter::new(year, number).ok_or(HELP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn names_parse_and_print_the_same() {
        let q: Quarter = "2026-Q4".parse().unwrap();
        assert_eq!(q.to_string(), "2026-Q4");
        assert_eq!("2026-q1".parse::<Quarter>().unwrap().to_string(), "2026-Q1");
        for bad in [
            "2026-Q5", "2026-Q0", "2026Q1", "26-Q1", "2026-Q", "Q1-2026", "", "2026-Q10",
        ] {
            assert!(bad.parse::<Quarter>().is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn days_fall_in_the_right_quarter() {
        assert_eq!(Quarter::of(day(2026, 1, 1)).to_string(), "2026-Q1");
        assert_eq!(Quarter::of(day(2026, 3, 31)).to_string(), "2026-Q1");
        assert_eq!(Quarter::of(day(2026, 4, 1)).to_string(), "2026-Q2");
        assert_eq!(Quarter::of(day(2026, 9, 30)).to_string(), "2026-Q3");
        assert_eq!(Quarter::of(day(2026, 12, 31)).to_string(), "2026-Q4");
        let q = Quarter::new(2024, 1).unwrap();
        assert_eq!(
            (q.first_day(), q.last_day()),
            (day(2024, 1, 1), day(2024, 3, 31))
        );
        let q = Quarter::new(2026, 4).unwrap();
        assert_eq!(
            (q.first_day(), q.last_day()),
            (day(2026, 10, 1), day(2026, 12, 31))
        );
    }

    #[test]
    fn quarters_step_across_years() {
        let q = Quarter::new(2026, 1).unwrap();
        assert_eq!(q.previous().to_string(), "2025-Q4");
        assert_eq!(q.previous().next(), q);
        let eight: Vec<String> = Quarter::new(2026, 4)
            .unwrap()
            .trailing(8)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(eight.first().map(String::as_str), Some("2025-Q1"));
        assert_eq!(eight.last().map(String::as_str), Some("2026-Q4"));
        assert_eq!(eight.len(), 8);
    }

    #[test]
    fn boundaries_are_midnight_in_the_organizations_zone() {
        let zone: Tz = "Europe/Berlin".parse().unwrap();
        let q = Quarter::new(2026, 4).unwrap();
        // 1 October 2026 00:00 in Berlin is 30 September 22:00 UTC (summer time).
        let start = Utc.with_ymd_and_hms(2026, 9, 30, 22, 0, 0).unwrap();
        assert_eq!(q.starts_at(zone), start);
        assert!(q.contains(start, zone));
        assert!(!q.contains(start - Duration::seconds(1), zone));
        // 1 January 2027 00:00 in Berlin is 31 December 23:00 UTC (winter time).
        let end = Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap();
        assert_eq!(q.ends_at(zone), end);
        assert!(q.contains(end - Duration::seconds(1), zone));
        assert!(!q.contains(end, zone));
        // At 23:30 UTC on 31 December it is already 2027-Q1 in Berlin, still 2026-Q4 in UTC.
        let late = Utc.with_ymd_and_hms(2026, 12, 31, 23, 30, 0).unwrap();
        assert_eq!(Quarter::current(late, zone).to_string(), "2027-Q1");
        assert_eq!(
            Quarter::current(late, chrono_tz::UTC).to_string(),
            "2026-Q4"
        );
    }
}
