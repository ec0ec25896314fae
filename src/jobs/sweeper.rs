//! The sweeper: every few minutes, flags action items past their due date
//! (overdue) or open for more than 180 days (stale), and postmortems past
//! their review due date, and clears the flags that no longer hold.
//!
//! Every replica runs it; a Postgres advisory lock lets one sweep at a
//! time, and the flags' unique index keeps each raised once. A failed pass
//! (the database away, say) is logged and the next tick tries again.

use std::time::{Duration, Instant};

use chrono::Duration as Span;
use chrono_tz::Tz;
use sqlx::PgPool;

use super::supervisor::{Stop, next_tick};

use crate::{
    clock::Clock,
    store::{self, follow_up::Changes},
};

/// An item open this long needs a decision: it is either wrong or not a priority.
pub const STALE_AFTER_DAYS: i64 = 180;

/// What the sweeper needs to know.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Time between sweeps.
    pub every: Duration,
    /// The organization's time zone: an item is overdue once its due date
    /// has ended there.
    pub zone: Tz,
    /// Days after resolution by which a postmortem's review is due.
    pub review_due_days: i64,
}

/// A flag as people read it.
pub fn describe(flag: &str) -> &'static str {
    match flag {
        "overdue" => "overdue action items",
        "stale" => "stale action items (open too long: they need a decision)",
        "review_overdue" => "postmortems past their review due date",
        _ => "other flags",
    }
}

/// What one pass did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Swept {
        changes: Changes,
        duration_ms: i32,
    },
    /// Another sweeper was running; this one left it alone.
    Busy,
}

/// One pass, in one transaction.
pub async fn run_once(pool: &PgPool, clock: &Clock, settings: &Settings) -> sqlx::Result<Outcome> {
    let now = clock.now();
    let timer = Instant::now();
    let mut tx = crate::store::begin(pool).await?;
    if !store::follow_up::try_lock(&mut tx).await? {
        return Ok(Outcome::Busy);
    }
    let today = now.with_timezone(&settings.zone).date_naive();
    let items =
        store::follow_up::sweep_items(&mut tx, now, today, now - Span::days(STALE_AFTER_DAYS))
            .await?;
    let reviews =
        store::follow_up::sweep_reviews(&mut tx, now, now - Span::days(settings.review_due_days))
            .await?;
    let changes = items + reviews;
    let duration_ms = i32::try_from(timer.elapsed().as_millis()).unwrap_or(i32::MAX);
    store::follow_up::record_run(&mut *tx, now, duration_ms, changes, &runner()).await?;
    tx.commit().await?;
    Ok(Outcome::Swept {
        changes,
        duration_ms,
    })
}

/// This process, as the runs page names it.
fn runner() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "debrief".to_owned());
    format!("{host}:{}", std::process::id())
}

/// Sweeps every `settings.every` until `stop`.
pub async fn run(pool: PgPool, clock: Clock, settings: Settings, stop: Stop) {
    let mut ticker = tokio::time::interval(settings.every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while next_tick(&mut ticker, &stop).await {
        match crate::metrics::pass("sweeper", run_once(&pool, &clock, &settings)).await {
            Ok(Outcome::Swept {
                changes,
                duration_ms,
            }) => {
                crate::metrics::METRICS
                    .flags_raised
                    .inc_by(changes.raised as u64);
                tracing::info!(
                    raised = changes.raised,
                    cleared = changes.cleared,
                    duration_ms,
                    "sweep done"
                )
            }
            Ok(Outcome::Busy) => tracing::debug!("another replica is sweeping"),
            Err(error) => tracing::warn!(
                %error,
                "sweep failed (is the database reachable?); trying again at the next tick"
            ),
        }
    }
}
