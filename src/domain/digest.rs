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

/// How long the unsubscribe link in a message's text works: the next
/// message brings a new one.
pub const PAGE_LINK_DAYS: i64 = 30;
/// How long the `List-Unsubscribe` header link works: as long as a message
/// is likely to sit in an inbox, so a mail client's button keeps working.
pub const HEADER_LINK_DAYS: i64 = 365;

/// A message's two unsubscribe links, as paths under `prefix`: the one in
/// its text and the one in its `List-Unsubscribe` header.
pub struct UnsubscribeLinks {
    pub page: String,
    pub header: String,
}

impl UnsubscribeLinks {
    pub fn new(key: &[u8], prefix: &str, user_id: Uuid, now: DateTime<Utc>) -> UnsubscribeLinks {
        let link = |days: i64| {
            let token = unsubscribe_token(key, user_id, now + chrono::Duration::days(days));
            format!("{prefix}/{user_id}/{token}")
        };
        UnsubscribeLinks {
            page: link(PAGE_LINK_DAYS),
            header: link(HEADER_LINK_DAYS),
        }
    }
}

/// The token of a user's unsubscribe link that works until `expires`: the
/// expiry (Unix seconds), then an HMAC of the user's id and that expiry
/// under the installation's key. The link works without signing in and
/// cannot be made for someone else or made to last longer.
pub fn unsubscribe_token(key: &[u8], user_id: Uuid, expires: DateTime<Utc>) -> String {
    let expires = expires.timestamp();
    format!(
        "{expires}-{}",
        hex::encode(link_mac(key, user_id, expires).finalize().into_bytes())
    )
}

fn link_mac(key: &[u8], user_id: Uuid, expires: i64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"unsubscribe:");
    mac.update(user_id.as_bytes());
    mac.update(b":");
    mac.update(expires.to_string().as_bytes());
    mac
}

/// What an unsubscribe link presented at `now` is worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkCheck {
    Valid,
    /// Made by this installation for this user, but past its lifetime.
    Expired,
    /// Altered, made for someone else, or never made here.
    Invalid,
}

/// Checks `token` for `user_id` (the signature in constant time).
pub fn check_unsubscribe(key: &[u8], user_id: Uuid, token: &str, now: DateTime<Utc>) -> LinkCheck {
    let Some((expires, signature)) = token.trim().split_once('-') else {
        return LinkCheck::Invalid;
    };
    let (Ok(expires), Ok(presented)) = (expires.parse::<i64>(), hex::decode(signature)) else {
        return LinkCheck::Invalid;
    };
    if link_mac(key, user_id, expires)
        .verify_slice(&presented)
        .is_err()
    {
        return LinkCheck::Invalid;
    }
    if now.timestamp() >= expires {
        LinkCheck::Expired
    } else {
        LinkCheck::Valid
    }
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
    fn unsubscribe_tokens_are_bound_to_the_user_the_key_and_their_lifetime() {
        let user = Uuid::now_v7();
        let now = at("2026-11-30T08:00:00Z");
        let until = now + chrono::Duration::days(30);
        let token = unsubscribe_token(b"key one", user, until);
        assert_eq!(
            check_unsubscribe(b"key one", user, &token, now),
            LinkCheck::Valid
        );
        assert_eq!(
            check_unsubscribe(b"key one", user, &token, until),
            LinkCheck::Expired
        );
        assert_eq!(
            check_unsubscribe(b"key two", user, &token, now),
            LinkCheck::Invalid
        );
        assert_eq!(
            check_unsubscribe(b"key one", Uuid::now_v7(), &token, now),
            LinkCheck::Invalid
        );
        // A longer life written into the link breaks its signature.
        let (_, signature) = token.split_once('-').unwrap();
        let stretched = format!(
            "{}-{signature}",
            (until + chrono::Duration::days(1)).timestamp()
        );
        assert_eq!(
            check_unsubscribe(b"key one", user, &stretched, now),
            LinkCheck::Invalid
        );
        for bad in ["not hex", "", "-", "12-zz"] {
            assert_eq!(
                check_unsubscribe(b"key one", user, bad, now),
                LinkCheck::Invalid
            );
        }
        let links = UnsubscribeLinks::new(b"key one", "/unsubscribe", user, now);
        let token_of = |path: &str| path.rsplit('/').next().unwrap().to_owned();
        let later = now + chrono::Duration::days(PAGE_LINK_DAYS);
        assert_eq!(
            check_unsubscribe(b"key one", user, &token_of(&links.page), later),
            LinkCheck::Expired
        );
        assert_eq!(
            check_unsubscribe(b"key one", user, &token_of(&links.header), later),
            LinkCheck::Valid
        );
    }

    #[test]
    fn weekdays_parse_by_name() {
        assert_eq!(parse_weekday("monday"), Ok(Weekday::Mon));
        assert_eq!(parse_weekday("Thu"), Ok(Weekday::Thu));
        assert!(parse_weekday("someday").is_err());
    }
}
