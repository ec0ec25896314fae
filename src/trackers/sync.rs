//! Keeping items and issues in step: the outbox sender that makes and reads
//! issues, the reconcile pass that reads every linked issue again, and the
//! one rule both (and the webhooks) apply when an issue's state is read.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::{Issue, NewIssue, RemoteState, Tracker, TrackerError, TrackerKind, Trackers};
use crate::{
    clock::Clock,
    domain::{action::ActionStatus, incident::display_number},
    store::{
        self,
        action_items::{ActionFields, NewChange},
        revisions::Change,
        trackers::Job,
    },
};

/// How long a sender holds the calls it took before another may.
const LEASE: Duration = Duration::minutes(5);
/// Calls a sender takes at once (each within the client's 20 s timeout).
const BATCH: i64 = 5;
/// Issues one reconcile pass reads at most.
const RECONCILE_BATCH: i64 = 500;

/// What reading an issue did to its item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    Unchanged,
    Closed(ActionStatus),
    Reopened,
}

/// Records what an issue's state now is and moves its item along: closed
/// as done makes the item done with the issue as its evidence; closed
/// without doing it makes it won't do with the tracker's reason; reopened
/// (after being read closed) reopens an item that was closed. An item is
/// only ever moved by a change of the issue's state, so a person's own
/// decision on the item stands until the issue changes again.
pub async fn apply(
    pool: &PgPool,
    item_id: Uuid,
    issue: &Issue,
    review_due_days: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Applied> {
    let mut tx = crate::store::begin(pool).await?;
    let Some(before) = store::trackers::lock_state(&mut tx, item_id).await? else {
        return Ok(Applied::Unchanged);
    };
    let state = issue.state.as_str();
    store::trackers::record_state(
        &mut tx,
        item_id,
        (state, issue.state.reason(), &issue.url),
        now,
    )
    .await?;
    let changed_state = before.as_deref() != Some(state);
    let Some(item) = store::action_items::lock_item(&mut tx, item_id).await? else {
        tx.commit().await?;
        return Ok(Applied::Unchanged);
    };
    let was_closed_remotely = matches!(before.as_deref(), Some("done" | "wont_do"));
    let (status, reason, applied) = match &issue.state {
        _ if !changed_state => (item.status, item.closing_reason.clone(), Applied::Unchanged),
        RemoteState::Done if item.status.is_open() => (
            ActionStatus::Done,
            Some(format!("Closed as done in {}", issue.key)),
            Applied::Closed(ActionStatus::Done),
        ),
        RemoteState::WontDo(why) if item.status.is_open() => (
            ActionStatus::WontDo,
            Some(why.clone()),
            Applied::Closed(ActionStatus::WontDo),
        ),
        RemoteState::Open if was_closed_remotely && !item.status.is_open() => {
            (ActionStatus::Open, None, Applied::Reopened)
        }
        _ => (item.status, item.closing_reason.clone(), Applied::Unchanged),
    };
    if applied == Applied::Unchanged {
        tx.commit().await?;
        return Ok(Applied::Unchanged);
    }
    let fields = ActionFields {
        title: item.title.clone(),
        description: item.description.clone(),
        kind: item.kind,
        priority: item.priority,
        owner_id: item.owner_id,
        team_id: item.team_id,
        due_on: item.due_on,
        // The issue is the evidence: the item links to it.
        tracker_url: Some(issue.url.clone()),
        status,
        factor_id: item.factor_id,
        closing_reason: reason,
    };
    store::action_items::update_item(&mut *tx, item.id, item.version, &fields, now).await?;
    let note = format!("from {}", issue.key);
    store::action_items::record_change(
        &mut *tx,
        item.id,
        None,
        NewChange {
            field: "status",
            old_value: Some(item.status.as_str().to_owned()),
            new_value: Some(status.as_str().to_owned()),
            note: Some(&note),
        },
        now,
    )
    .await?;
    let summary = match applied {
        Applied::Reopened => format!("Action item reopened from {}", issue.key),
        _ => format!("Action item closed from {}", issue.key),
    };
    let change = Change {
        postmortem_id: item.postmortem_id,
        incident_number: item.incident_number,
        author_id: None,
        summary: &summary,
        at: now,
    };
    store::revisions::record(&mut tx, &change, review_due_days, now).await?;
    tx.commit().await?;
    Ok(applied)
}

/// What one outbox pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub done: u64,
    pub failed: u64,
}

/// The wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    crate::jobs::supervisor::backoff(attempts, Duration::seconds(30), Duration::hours(1))
}

/// Makes and reads the issues queued for it until none is due.
pub async fn deliver_due(
    pool: &PgPool,
    clock: &Clock,
    trackers: &Trackers,
    base_url: &str,
    review_due_days: i64,
) -> sqlx::Result<Delivered> {
    let mut result = Delivered::default();
    loop {
        let now = clock.now();
        let batch = store::trackers::claim(pool, now, now + LEASE, BATCH).await?;
        if batch.is_empty() {
            return Ok(result);
        }
        for job in &batch {
            let outcome = match job.tracker {
                TrackerKind::GitHub => match &trackers.github {
                    Some(github) => run(github, job, base_url).await,
                    None => Err(not_connected(TrackerKind::GitHub)),
                },
                TrackerKind::Jira => match &trackers.jira {
                    Some(jira) => run(jira, job, base_url).await,
                    None => Err(not_connected(TrackerKind::Jira)),
                },
            };
            match outcome {
                Ok(issue) => {
                    let now = clock.now();
                    if job.issue_key.is_none() {
                        let mut tx = crate::store::begin(pool).await?;
                        store::trackers::set_issue(&mut tx, job.item_id, &issue.key, &issue.url)
                            .await?;
                        tx.commit().await?;
                    }
                    apply(pool, job.item_id, &issue, review_due_days, now).await?;
                    store::trackers::mark_done(pool, job.id, job.attempts, now).await?;
                    result.done += 1;
                }
                Err(error) => {
                    tracing::warn!(item = %job.item_id, action = %job.action, attempts = job.attempts, %error, "a tracker call failed; will retry");
                    let retry_at = clock.now() + backoff(job.attempts);
                    store::trackers::mark_failed(pool, job.id, job.attempts, &error.0, retry_at)
                        .await?;
                    result.failed += 1;
                }
            }
        }
    }
}

fn not_connected(kind: TrackerKind) -> TrackerError {
    TrackerError(format!(
        "{} is not connected on this server; the call waits until it is",
        kind.label()
    ))
}

/// One queued call: make the issue (or find the one an earlier attempt
/// made), or read it.
async fn run(tracker: &impl Tracker, job: &Job, base_url: &str) -> Result<Issue, TrackerError> {
    if let Some(key) = &job.issue_key {
        return tracker.fetch(key).await;
    }
    if job.attempts > 1
        && let Some(made) = tracker.find_made(&job.project, job.item_id).await?
    {
        return Ok(made);
    }
    let mut body = job.description.trim().to_owned();
    if !body.is_empty() {
        body.push_str("\n\n");
    }
    body.push_str(&format!(
        "Action item of {} in Debrief: {base_url}/action-items/{}",
        display_number(job.incident_number),
        job.item_id
    ));
    let issue = NewIssue {
        item_id: job.item_id,
        title: job.title.clone(),
        body,
    };
    tracker.create(&job.project, &issue).await
}

/// What one reconcile pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub read: u64,
    pub changed: u64,
    pub failed: u64,
}

/// Reads every linked issue again (the longest unread first), for changes
/// whose webhook never arrived.
pub async fn reconcile(
    pool: &PgPool,
    clock: &Clock,
    trackers: &Trackers,
    review_due_days: i64,
) -> sqlx::Result<Reconciled> {
    let mut result = Reconciled::default();
    // A tracker that fails three times running is down: the rest of its
    // issues wait for the next pass rather than each waiting for a timeout.
    let mut failures_running = std::collections::HashMap::<TrackerKind, u32>::new();
    for link in store::trackers::least_recently_read(pool, RECONCILE_BATCH).await? {
        let running = failures_running.entry(link.tracker).or_default();
        if *running >= 3 {
            continue;
        }
        let read = match link.tracker {
            TrackerKind::GitHub => match &trackers.github {
                Some(github) => github.fetch(&link.issue_key).await,
                None => continue,
            },
            TrackerKind::Jira => match &trackers.jira {
                Some(jira) => jira.fetch(&link.issue_key).await,
                None => continue,
            },
        };
        match read {
            Ok(issue) => {
                *running = 0;
                result.read += 1;
                let applied =
                    apply(pool, link.item_id, &issue, review_due_days, clock.now()).await?;
                if applied != Applied::Unchanged {
                    result.changed += 1;
                }
            }
            Err(error) => {
                *running += 1;
                tracing::warn!(issue = %link.issue_key, %error, "reading an issue failed; the next pass tries again");
                result.failed += 1;
            }
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(8), Duration::seconds(3_600));
        assert_eq!(backoff(40), Duration::seconds(3_600));
    }
}
