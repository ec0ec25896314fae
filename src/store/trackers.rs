//! Which issue each action item is kept in step with, and the outbox of
//! calls to the trackers.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::trackers::TrackerKind;

/// An item's issue as the item page shows it, with the call in flight.
#[derive(Clone, Debug)]
pub struct Linked {
    pub tracker: TrackerKind,
    pub project: String,
    pub issue_key: Option<String>,
    pub url: Option<String>,
    pub remote_state: Option<String>,
    pub remote_reason: Option<String>,
    pub synced_at: Option<DateTime<Utc>>,
    /// A call not yet done: its attempts so far and why the last failed.
    pub pending_attempts: Option<i32>,
    pub pending_error: Option<String>,
}

pub async fn find(db: impl PgExecutor<'_>, item_id: Uuid) -> sqlx::Result<Option<Linked>> {
    sqlx::query_as!(
        Linked,
        r#"SELECT t.tracker AS "tracker: TrackerKind", t.project, t.issue_key, t.url, t.remote_state,
                  t.remote_reason, t.synced_at, o.attempts AS "pending_attempts?", o.last_error AS "pending_error?"
           FROM tracker_issues t
           LEFT JOIN LATERAL (SELECT attempts, last_error FROM tracker_outbox
                              WHERE item_id = t.item_id AND status = 'pending'
                              ORDER BY id LIMIT 1) o ON true
           WHERE t.item_id = $1"#,
        item_id
    )
    .fetch_optional(db)
    .await
}

/// What a new link names.
pub struct NewLink<'a> {
    pub item_id: Uuid,
    pub tracker: TrackerKind,
    pub project: &'a str,
    /// The existing issue linked; none when one is to be made.
    pub issue_key: Option<&'a str>,
    pub url: Option<&'a str>,
    pub linked_by: Uuid,
}

/// Links an item to an issue (or to one about to be made); false when the
/// item already has one.
pub async fn link(
    db: &mut PgConnection,
    link: &NewLink<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO tracker_issues (item_id, tracker, project, issue_key, url, linked_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (item_id) DO NOTHING",
        link.item_id,
        link.tracker as TrackerKind,
        link.project,
        link.issue_key,
        link.url,
        link.linked_by,
        now
    )
    .execute(&mut *db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets an item's issue and the calls still queued for it (the issue
/// itself stays in the tracker).
pub async fn unlink(db: &mut PgConnection, item_id: Uuid) -> sqlx::Result<bool> {
    sqlx::query!(
        "DELETE FROM tracker_outbox WHERE item_id = $1 AND status = 'pending'",
        item_id
    )
    .execute(&mut *db)
    .await?;
    let done = sqlx::query!("DELETE FROM tracker_issues WHERE item_id = $1", item_id)
        .execute(&mut *db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues a call for an item; one already queued stands.
pub async fn enqueue(
    db: &mut PgConnection,
    item_id: Uuid,
    action: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO tracker_outbox (item_id, action, next_attempt_at, created_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (item_id, action) WHERE status = 'pending' DO NOTHING",
        item_id,
        action,
        now
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// A queued call with what it needs.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: i64,
    pub item_id: Uuid,
    pub action: String,
    pub attempts: i32,
    pub tracker: TrackerKind,
    pub project: String,
    pub issue_key: Option<String>,
    pub title: String,
    pub description: String,
    pub incident_number: i32,
}

/// Claims up to `limit` due calls, each leased until `lease_until` and its
/// attempt counted (the attempt number is the claim), as the mail outbox does.
pub async fn claim(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Job>> {
    sqlx::query_as!(
        Job,
        r#"WITH claimed AS (
               UPDATE tracker_outbox SET attempts = attempts + 1, next_attempt_at = $2
               WHERE id IN (SELECT id FROM tracker_outbox WHERE status = 'pending' AND next_attempt_at <= $1
                            ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
               RETURNING id, item_id, action, attempts)
           SELECT c.id AS "id!", c.item_id AS "item_id!", c.action AS "action!", c.attempts AS "attempts!",
                  t.tracker AS "tracker: TrackerKind", t.project, t.issue_key, ai.title, ai.description,
                  i.number AS incident_number
           FROM claimed c
           JOIN tracker_issues t ON t.item_id = c.item_id
           JOIN action_items ai ON ai.id = c.item_id
           JOIN postmortems p ON p.id = ai.postmortem_id
           JOIN incidents i ON i.id = p.incident_id
           ORDER BY c.id"#,
        now,
        lease_until,
        limit
    )
    .fetch_all(db)
    .await
}

/// Marks a call done, if it is still this attempt's claim.
pub async fn mark_done(
    db: impl PgExecutor<'_>,
    id: i64,
    attempt: i32,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE tracker_outbox SET status = 'done', done_at = $2, last_error = NULL WHERE id = $1 AND attempts = $3",
        id,
        now,
        attempt
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt; the call waits until `retry_at`.
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    id: i64,
    attempt: i32,
    error: &str,
    retry_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE tracker_outbox SET last_error = $2, next_attempt_at = $3
         WHERE id = $1 AND status = 'pending' AND attempts = $4",
        id,
        error,
        retry_at,
        attempt
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The issue made for an item.
pub async fn set_issue(
    db: &mut PgConnection,
    item_id: Uuid,
    issue_key: &str,
    url: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE tracker_issues SET issue_key = $2, url = $3 WHERE item_id = $1",
        item_id,
        issue_key,
        url
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// The items linked to one issue.
pub async fn items_for_issue(
    db: impl PgExecutor<'_>,
    tracker: TrackerKind,
    issue_key: &str,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT item_id FROM tracker_issues WHERE tracker = $1 AND issue_key = $2",
        tracker as TrackerKind,
        issue_key
    )
    .fetch_all(db)
    .await
}

/// A linked issue to read again.
#[derive(Clone, Debug)]
pub struct ToRead {
    pub item_id: Uuid,
    pub tracker: TrackerKind,
    pub issue_key: String,
}

/// The linked issues read longest ago (never read first).
pub async fn least_recently_read(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<ToRead>> {
    sqlx::query_as!(
        ToRead,
        r#"SELECT item_id, tracker AS "tracker: TrackerKind", issue_key AS "issue_key!"
           FROM tracker_issues WHERE issue_key IS NOT NULL
           ORDER BY synced_at NULLS FIRST, item_id LIMIT $1"#,
        limit
    )
    .fetch_all(db)
    .await
}

/// Locks an item's link for a change; the state last read, if linked.
pub async fn lock_state(
    db: &mut PgConnection,
    item_id: Uuid,
) -> sqlx::Result<Option<Option<String>>> {
    sqlx::query_scalar!(
        "SELECT remote_state FROM tracker_issues WHERE item_id = $1 FOR UPDATE",
        item_id
    )
    .fetch_optional(&mut *db)
    .await
}

/// Records the state just read.
pub async fn record_state(
    db: &mut PgConnection,
    item_id: Uuid,
    (state, reason, url): (&str, Option<&str>, &str),
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE tracker_issues SET remote_state = $2, remote_reason = $3, url = $4, synced_at = $5 WHERE item_id = $1",
        item_id,
        state,
        reason,
        url,
        now
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}
