//! Inside the server: sends the tracker outbox every few seconds and reads
//! every linked issue again every DEBRIEF_TRACKER_RECONCILE_MINUTES. Safe on
//! every replica at once: calls are leased, and reading an issue twice
//! changes its item once.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use sqlx::PgPool;

use super::supervisor::{Stop, next_tick};
use crate::{
    clock::Clock,
    config::ServerConfig,
    trackers::{
        Trackers,
        sync::{Delivered, Reconciled, deliver_due, reconcile},
    },
};

/// How often the outbox is looked at.
const TICK: Duration = Duration::from_secs(5);

pub async fn run(pool: PgPool, clock: Clock, config: Arc<ServerConfig>, stop: Stop) {
    let trackers = Trackers::from_config(&config.integrations);
    let base_url = config.public_base_url();
    let every = Duration::from_secs(config.integrations.tracker_reconcile_minutes * 60);
    let mut reconciled_at: Option<Instant> = None;
    let mut ticker = tokio::time::interval(TICK);
    while next_tick(&mut ticker, &stop).await {
        let delivering = deliver_due(&pool, &clock, &trackers, &base_url, config.review_due_days);
        match crate::metrics::pass("tracker_sender", delivering).await {
            Ok(Delivered { done: 0, failed: 0 }) => {}
            Ok(Delivered { done, failed }) => tracing::info!(done, failed, "tracker outbox pass"),
            Err(error) => tracing::warn!(%error, "sending the tracker outbox failed; will retry"),
        }
        if reconciled_at.is_some_and(|at| at.elapsed() < every) {
            continue;
        }
        reconciled_at = Some(Instant::now());
        let reconciling = reconcile(&pool, &clock, &trackers, config.review_due_days);
        match crate::metrics::pass("tracker_reconcile", reconciling).await {
            Ok(Reconciled {
                read: 0, failed: 0, ..
            }) => {}
            Ok(Reconciled {
                read,
                changed,
                failed,
            }) => {
                tracing::info!(read, changed, failed, "tracker reconcile pass")
            }
            Err(error) => tracing::warn!(%error, "reconciling tracker issues failed; will retry"),
        }
    }
}
