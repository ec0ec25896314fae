//! Email digests: how often a user wants one, which period a digest covers,
//! and the signed link that unsubscribes without signing in.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

crate::closed_set! {
    /// How often a user hears about their overdue items.
    Frequency as "digest_frequency" {
        Weekly = "weekly", "Weekly";
        Daily = "daily", "Daily";
        Off = "off", "Off";
    }
}

/// When digests go out, in the organization's zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The weekday of weekly digests.
    pub day: Weekday,
    /// The hour (0 to 23) of weekly and daily digests.
    pub hour: u32,
    pub zone: Tz,
}

/// Items due within this many days count as "due soon" in a digest.
pub const DUE_SOON_DAYS: i64 = 7;

impl Schedule {
    /// The period whose digest is due at `now`, if its hour has come:
    /// `2026-W48` for weekly digests (from the weekday and hour on), the
    /// date for daily ones (from the hour on). `None` before that moment
    /// and for `Off`.
    pub fn due_period(&self, frequency: Frequency, now: DateTime<Utc>) -> Option<String> {
        let local = now.with_timezone(&self.zone);
        let date = local.date_naive();
        let hour_reached = local.hour() >= self.hour;
        match frequency {
            Frequency::Off => None,
            Frequency::Daily => hour_reached.then(|| period_of(Frequency::Daily, date)),
            Frequency::Weekly => {
                let days_in = date.weekday().days_since(Weekday::Mon);
                let due_day = self.day.days_since(Weekday::Mon);
                (days_in > due_day || (days_in == due_day && hour_reached))
                    .then(|| period_of(Frequency::Weekly, date))
            }
        }
    }

    /// The period a digest sent now would cover, whatever the hour (for
    /// `debrief digest send --now` and the preview).
    pub fn current_period(&self, frequency: Frequency, now: DateTime<Utc>) -> String {
        period_of(frequency, now.with_timezone(&self.zone).date_naive())
    }
}

/// The period key of `date`: its ISO week for weekly digests, the date for
/// daily ones.
pub fn period_of(frequency: Frequency, date: NaiveDate) -> String {
    match frequency {
        Frequency::Daily => date.to_string(),
        _ => {
            let week = date.iso_week();
            format!("{}-W{:02}", week.year(), week.week())
        }
    }
}

/// Parses a weekday name as configured ("monday", "mon", "Mon").
pub fn parse_weekday(text: &str) -> Result<Weekday, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("unknown weekday {text:?}: use monday to sunday"))
}

type HmacSha256 = Hmac<Sha256>;

/// The token of a user's unsubscribe link: an HMAC of their id under the
/// installation's key, so the link works without signing in and cannot be
/// made for someone else.
pub fn unsubscribe_token(key: &[u8], user_id: Uuid) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"unsubscribe:");
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `token` is the user's unsubscribe token (compared in constant time).
pub fn verify_unsubscribe(key: &[u8], user_id: Uuid, token: &str) -> bool {
    let Ok(presented) = hex::decode(token.trim()) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"unsubscribe:");
    mac.update(user_id.as_bytes());
    mac.verify_slice(&presented).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn weekly_digests_are_due_from_their_weekday_and_hour_in_the_zone() {
        let schedule = Schedule {
            day: Weekday::Mon,
            hour: 8,
            zone: "Europe/Berlin".parse().unwrap(),
        };
        // Monday 23 November 2026, 07:59 in Berlin (06:59 UTC): not yet.
        assert_eq!(
            schedule.due_period(Frequency::Weekly, at("2026-11-23T06:59:00Z")),
            None
        );
        // 08:00 in Berlin: week 48.
        assert_eq!(
            schedule
                .due_period(Frequency::Weekly, at("2026-11-23T07:00:00Z"))
                .as_deref(),
            Some("2026-W48")
        );
        // Later in the week, still week 48 (composing again finds it done).
        assert_eq!(
            schedule
                .due_period(Frequency::Weekly, at("2026-11-28T03:00:00Z"))
                .as_deref(),
            Some("2026-W48")
        );
        assert_eq!(
            schedule.due_period(Frequency::Off, at("2026-11-28T12:00:00Z")),
            None
        );
    }

    #[test]
    fn a_later_weekday_waits_for_its_day() {
        let schedule = Schedule {
            day: Weekday::Thu,
            hour: 9,
            zone: chrono_tz::UTC,
        };
        assert_eq!(
            schedule.due_period(Frequency::Weekly, at("2026-11-25T12:00:00Z")),
            None
        );
        assert_eq!(
            schedule
                .due_period(Frequency::Weekly, at("2026-11-26T09:00:00Z"))
                .as_deref(),
            Some("2026-W48")
        );
    }

    #[test]
    fn daily_digests_are_due_from_their_hour_and_keyed_by_date() {
        let schedule = Schedule {
            day: Weekday::Mon,
            hour: 8,
            zone: chrono_tz::UTC,
        };
        assert_eq!(
            schedule.due_period(Frequency::Daily, at("2026-11-28T07:59:00Z")),
            None
        );
        assert_eq!(
            schedule
                .due_period(Frequency::Daily, at("2026-11-28T08:00:00Z"))
                .as_deref(),
            Some("2026-11-28")
        );
        // ISO weeks cross years: 1 January 2027 is in week 53 of 2026.
        assert_eq!(
            period_of(
                Frequency::Weekly,
                NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()
            ),
            "2026-W53"
        );
    }

    #[test]
    fn unsubscribe_tokens_are_bound_to_the_user_and_the_key() {
        let user = Uuid::now_v7();
        let token = unsubscribe_token(b"key one", user);
        assert!(verify_unsubscribe(b"key one", user, &token));
        assert!(!verify_unsubscribe(b"key two", user, &token));
        assert!(!verify_unsubscribe(b"key one", Uuid::now_v7(), &token));
        assert!(!verify_unsubscribe(b"key one", user, "not hex"));
        assert!(!verify_unsubscribe(b"key one", user, ""));
    }

    #[test]
    fn weekdays_parse_by_name() {
        assert_eq!(parse_weekday("monday"), Ok(Weekday::Mon));
        assert_eq!(parse_weekday("Thu"), Ok(Weekday::Thu));
        assert!(parse_weekday("someday").is_err());
    }
}
