//! Deletes what can no longer be used: ended sessions, sign-in failures
//! older than the throttle window, expired links and single sign-ons that
//! never came back. Safe to run on every replica at once.

use std::time::Duration;

use chrono::Duration as Span;
use sqlx::PgPool;

use super::supervisor::{Stop, next_tick};

use crate::{clock::Clock, config::ServerConfig, store};

/// How often the janitor runs.
const EVERY: Duration = Duration::from_secs(15 * 60);

/// One pass; returns how many sessions, failures, links and unfinished
/// single sign-ons were removed.
pub async fn run_once(
    pool: &PgPool,
    clock: &Clock,
    config: &ServerConfig,
) -> sqlx::Result<(u64, u64, u64, u64)> {
    let now = clock.now();
    let idle_cutoff = now - Span::minutes(config.session_idle_minutes);
    let sessions = store::sessions::delete_expired_sessions(pool, now, idle_cutoff).await?;
    let failures = store::throttle::delete_old_failures(pool, now - Span::days(1)).await?;
    let links = store::links::delete_expired_links(pool, now).await?;
    let sign_ons = store::sso::delete_stale(
        pool,
        now - Span::minutes(crate::web::sso::STARTED_WITHIN_MINUTES),
    )
    .await?;
    Ok((sessions, failures, links, sign_ons))
}

/// Runs until `stop`; errors (a database restart, say) are logged and retried next time.
pub async fn run(pool: PgPool, clock: Clock, config: std::sync::Arc<ServerConfig>, stop: Stop) {
    let mut ticker = tokio::time::interval(EVERY);
    while next_tick(&mut ticker, &stop).await {
        match crate::metrics::pass("janitor", run_once(&pool, &clock, &config)).await {
            Ok((sessions, failures, links, sign_ons)) => {
                tracing::debug!(
                    sessions,
                    failures,
                    links,
                    sign_ons,
                    "janitor removed expired rows"
                )
            }
            Err(error) => tracing::warn!(%error, "janitor pass failed; will retry"),
        }
    }
}
