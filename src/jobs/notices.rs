//! Gathering notifications into outbox messages: a person's events go out
//! together once nothing new has come for a few minutes (or the oldest has
//! waited long enough), so a burst of changes is one email. Each event is
//! in exactly one message: it is marked with the message in the same
//! transaction that stores it, under a row lock other gatherers skip.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;

use crate::{clock::Clock, mail::notice, store};

/// The name of the key that signs the links that stop notifications.
pub const UNSUBSCRIBE_KEY: &str = "unsubscribe-notices";
/// How long a person's notifications wait for more of them.
pub const QUIET: Duration = Duration::minutes(2);
/// The longest the first of them waits however many follow.
pub const MAX_WAIT: Duration = Duration::minutes(10);
/// People gathered per pass.
const BATCH: i64 = 200;

/// Records the weekly "newly published" note of the week it is now
/// (covering the week before, Monday to Monday in UTC) for those who follow
/// it; once per person and week however often it runs. Returns how many.
pub async fn record_weekly(pool: &PgPool, clock: &Clock) -> sqlx::Result<u64> {
    use chrono::Datelike;
    let now = clock.now();
    let today = now.date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let until = monday.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let week = today.iso_week();
    let key = format!("weekly:{}-W{:02}", week.year(), week.week());
    store::notifications::record_weekly(pool, &key, until - Duration::days(7), until, now).await
}

/// Stores a message for everyone whose notifications are ready; returns
/// how many messages.
pub async fn gather_due(pool: &PgPool, clock: &Clock, base_url: &str) -> sqlx::Result<u64> {
    let now: DateTime<Utc> = clock.now();
    let ready =
        store::notifications::ready_recipients(pool, now - QUIET, now - MAX_WAIT, BATCH).await?;
    if ready.is_empty() {
        return Ok(0);
    }
    let key = store::outbox::app_secret(pool, UNSUBSCRIBE_KEY).await?;
    let mut stored = 0;
    for recipient in ready {
        let mut tx = crate::store::begin(pool).await?;
        let waiting = store::notifications::take_waiting(&mut tx, recipient).await?;
        let Some(first) = waiting.first() else {
            continue;
        };
        let message = notice::message(base_url, &key, recipient, &waiting, now);
        let period = format!("n{}", first.id);
        let Some(outbox_id) =
            store::outbox::insert_message(&mut *tx, &period, &message, clock.now()).await?
        else {
            continue;
        };
        let ids: Vec<i64> = waiting.iter().map(|w| w.id).collect();
        store::notifications::mark_gathered(&mut tx, &ids, outbox_id).await?;
        tx.commit().await?;
        stored += 1;
    }
    Ok(stored)
}
