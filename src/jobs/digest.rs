//! Digest delivery: composing each period's digests into the outbox once,
//! and senders that deliver the outbox with retries.
//!
//! Exactly once, on our side: composing a period writes its messages and
//! marks the period composed in one transaction, under an advisory lock, and
//! the outbox is unique per (recipient, kind, period). A sender leases a
//! batch (`FOR UPDATE SKIP LOCKED`, then a lease time) before talking to the
//! SMTP server, so two senders never hold the same message; each delivery
//! is cut off well within the lease, and a message is marked sent right
//! after the server accepted it (only by the sender whose claim it is). The one duplicate window
//! left is between that acceptance and the mark: a process killed there
//! sends the message again when its lease ends.

use std::time::{Duration, Instant};

use chrono::{Duration as Span, NaiveDate};
use sqlx::PgPool;

use super::supervisor::{Stop, next_tick};

use crate::{
    clock::Clock,
    domain::{
        digest::{DUE_SOON_DAYS, Frequency, Schedule},
        quarter::Quarter,
    },
    jobs::sweeper::STALE_AFTER_DAYS,
    mail::{
        Mailer,
        digest::{Context, lead_digests, owner_digests},
    },
    metrics::pass,
    store::{self, outbox::NewMessage},
};

/// The name of the key that signs unsubscribe links.
pub const UNSUBSCRIBE_KEY: &str = "unsubscribe";
/// How long a sender holds the messages it took before another may take
/// them; a live sender renews it every [`HEARTBEAT`], so a dead sender's
/// messages are free again within this.
pub const LEASE: Span = Span::minutes(1);
/// How often a sender renews the lease of the messages it is delivering.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(15);
/// Messages a sender takes at once.
const BATCH: i64 = 5;
/// The longest one delivery may take, whatever the SMTP server does.
const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How often the background task looks for work.
const TICK: Duration = Duration::from_secs(30);

/// What composing and sending need to know.
#[derive(Clone)]
pub struct Settings {
    pub schedule: Schedule,
    pub base_url: String,
}

/// What composing one period did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Composed {
    /// Messages stored (and how long it took).
    Done { messages: i64, duration_ms: i32 },
    /// The period was composed before.
    AlreadyDone,
    /// Another composer is at it.
    Busy,
}

/// The messages of a period for every user with `frequency` (or only
/// `user`, for a preview), without storing them.
pub async fn render(
    pool: &PgPool,
    settings: &Settings,
    frequency: Frequency,
    today: NaiveDate,
    user: Option<uuid::Uuid>,
    clock: &Clock,
) -> sqlx::Result<Vec<NewMessage>> {
    let key = store::outbox::app_secret(pool, UNSUBSCRIBE_KEY).await?;
    let now = clock.now();
    let ctx = Context {
        base_url: &settings.base_url,
        key: &key,
        today,
        now,
        quarter: Quarter::current(now, settings.schedule.zone),
    };
    let (owners, leads) = tokio::try_join!(
        store::outbox::owner_rows(pool, frequency, today + Span::days(DUE_SOON_DAYS), user),
        store::outbox::lead_rows(
            pool,
            frequency,
            today,
            now - Span::days(STALE_AFTER_DAYS),
            user
        ),
    )?;
    let mut messages = owner_digests(&owners, &ctx);
    messages.extend(lead_digests(&leads, &ctx));
    Ok(messages)
}

/// Composes the digests of `period` for every user with `frequency`, once:
/// the messages and the mark that the period is composed commit together.
pub async fn compose(
    pool: &PgPool,
    clock: &Clock,
    settings: &Settings,
    frequency: Frequency,
    period: &str,
) -> sqlx::Result<Composed> {
    let timer = Instant::now();
    if store::outbox::is_composed(pool, frequency, period).await? {
        return Ok(Composed::AlreadyDone);
    }
    let today = clock
        .now()
        .with_timezone(&settings.schedule.zone)
        .date_naive();
    let messages = render(pool, settings, frequency, today, None, clock).await?;
    let mut tx = crate::store::begin(pool).await?;
    if !store::outbox::try_lock_compose(&mut tx).await? {
        return Ok(Composed::Busy);
    }
    if store::outbox::is_composed(&mut *tx, frequency, period).await? {
        return Ok(Composed::AlreadyDone);
    }
    let now = clock.now();
    let mut stored = 0;
    for chunk in messages.chunks(1000) {
        stored += store::outbox::insert_messages(&mut *tx, period, chunk, now).await?;
    }
    let duration_ms = i32::try_from(timer.elapsed().as_millis()).unwrap_or(i32::MAX);
    let stored = i64::try_from(stored).unwrap_or(i64::MAX);
    store::outbox::record_composed(&mut *tx, frequency, period, stored, duration_ms, now).await?;
    tx.commit().await?;
    Ok(Composed::Done {
        messages: stored,
        duration_ms,
    })
}

/// Composes every period whose hour has come and that is not composed yet.
pub async fn compose_due(pool: &PgPool, clock: &Clock, settings: &Settings) -> sqlx::Result<i64> {
    let mut stored = 0;
    for frequency in [Frequency::Weekly, Frequency::Daily] {
        if let Some(period) = settings.schedule.due_period(frequency, clock.now())
            && let Composed::Done { messages, .. } =
                compose(pool, clock, settings, frequency, &period).await?
        {
            tracing::info!(%period, messages, "composed the digests");
            stored += messages;
        }
    }
    Ok(stored)
}

/// The wait before attempt `attempts + 1`: one minute, doubling, at most six hours.
pub fn backoff(attempts: i32) -> Span {
    super::supervisor::backoff(attempts, Span::minutes(1), Span::hours(6))
}

/// What one sending pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sent {
    pub sent: u64,
    pub failed: u64,
}

/// Delivers due messages until none is left (or, without SMTP, does nothing).
pub async fn send_due(pool: &PgPool, clock: &Clock, mailer: &Mailer) -> sqlx::Result<Sent> {
    let mut result = Sent::default();
    if !mailer.is_on() {
        return Ok(result);
    }
    loop {
        let now = clock.now();
        let batch = store::outbox::claim(pool, now, now + LEASE, BATCH).await?;
        if batch.is_empty() {
            return Ok(result);
        }
        let claims: Vec<(i64, i32)> = batch.iter().map(|m| (m.id, m.attempts)).collect();
        let heartbeat = async {
            let mut every = tokio::time::interval(HEARTBEAT);
            every.tick().await;
            loop {
                every.tick().await;
                let until = clock.now() + LEASE;
                if let Err(error) = store::outbox::extend_lease(pool, &claims, until).await {
                    tracing::warn!(%error, "could not renew the lease of the messages being sent");
                }
            }
        };
        tokio::select! {
            done = deliver_batch(pool, clock, mailer, &batch, &mut result) => done?,
            () = heartbeat => {}
        }
    }
}

/// Delivers each message of a claimed batch and marks it sent or failed.
async fn deliver_batch(
    pool: &PgPool,
    clock: &Clock,
    mailer: &Mailer,
    batch: &[store::outbox::Message],
    result: &mut Sent,
) -> sqlx::Result<()> {
    for message in batch {
        let delivered = tokio::time::timeout(DELIVERY_TIMEOUT, mailer.deliver(message))
            .await
            .unwrap_or_else(|_| Err("SMTP: no answer within 30 s".to_owned()));
        match delivered {
            Ok(()) => {
                store::outbox::mark_sent(pool, message.id, message.attempts, clock.now()).await?;
                result.sent += 1;
            }
            Err(error) => {
                tracing::warn!(id = message.id, attempts = message.attempts, %error, "digest delivery failed; will retry");
                let retry_at = clock.now() + backoff(message.attempts);
                store::outbox::mark_failed(pool, message.id, message.attempts, &error, retry_at)
                    .await?;
                result.failed += 1;
            }
        }
    }
    Ok(())
}

/// Runs inside the server until `stop`: composes what is due, gathers
/// notifications, then sends.
/// Errors (the database away, say) are logged and the next tick retries.
pub async fn run(pool: PgPool, clock: Clock, settings: Settings, mailer: Mailer, stop: Stop) {
    if !mailer.is_on() {
        tracing::info!(
            "mail is off (DEBRIEF_SMTP_URL is not set): digests are composed into the outbox but not sent"
        );
    }
    let mut ticker = tokio::time::interval(TICK);
    while next_tick(&mut ticker, &stop).await {
        if let Err(error) = pass("composer", compose_due(&pool, &clock, &settings)).await {
            tracing::warn!(%error, "composing digests failed; will retry");
        }
        match pass("weekly_notes", super::notices::record_weekly(&pool, &clock)).await {
            Ok(0) => {}
            Ok(people) => tracing::info!(people, "recorded the weekly newly-published notes"),
            Err(error) => tracing::warn!(%error, "recording the weekly notes failed; will retry"),
        }
        match pass(
            "notices",
            super::notices::gather_due(&pool, &clock, &settings.base_url),
        )
        .await
        {
            Ok(0) => {}
            Ok(messages) => tracing::info!(messages, "gathered notifications into the outbox"),
            Err(error) => tracing::warn!(%error, "gathering notifications failed; will retry"),
        }
        match pass("sender", send_due(&pool, &clock, &mailer)).await {
            Ok(Sent { sent: 0, failed: 0 }) => {}
            Ok(Sent { sent, failed }) => tracing::info!(sent, failed, "digest delivery pass"),
            Err(error) => tracing::warn!(%error, "sending digests failed; will retry"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_six_hours() {
        assert_eq!(backoff(1), Span::minutes(1));
        assert_eq!(backoff(2), Span::minutes(2));
        assert_eq!(backoff(5), Span::minutes(16));
        assert_eq!(backoff(10), Span::minutes(360));
        assert_eq!(backoff(50), Span::minutes(360));
    }
}
