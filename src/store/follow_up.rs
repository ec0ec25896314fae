//! Follow-up flags (overdue and stale action items, overdue reviews) and
//! the runs of the sweeper that raises and clears them.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};

/// What one sweep changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub raised: i64,
    pub cleared: i64,
}

impl std::ops::Add for Changes {
    type Output = Changes;
    fn add(self, other: Changes) -> Changes {
        Changes {
            raised: self.raised + other.raised,
            cleared: self.cleared + other.cleared,
        }
    }
}

/// Takes the sweeper's lock until the transaction ends; false when another
/// sweeper (another replica) holds it. Sweeps run one at a time, so a sweep
/// never finds a flag it is raising already raised; were one to run without
/// the lock, the unique index on open flags would fail it, not duplicate.
pub async fn try_lock(tx: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_xact_lock(hashtext('debrief.sweep')) AS "locked!""#
    )
    .fetch_one(tx)
    .await
}

/// Flags every open action item due before `today` (the organization's
/// date) as overdue, and every one created before `stale_before` as stale;
/// clears the flags of items that no longer qualify. Set-based: one
/// statement for the whole archive; the differences between the flags
/// wanted and those raised are hashed set differences, so a sweep costs
/// the same whether it raises none or a million.
pub async fn sweep_items(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    today: NaiveDate,
    stale_before: DateTime<Utc>,
) -> sqlx::Result<Changes> {
    let row = sqlx::query!(
        r#"WITH wanted AS MATERIALIZED (
             SELECT a.id, f.flag
             FROM action_items a
             CROSS JOIN LATERAL (VALUES ('overdue'::item_flag, a.due_on < $1),
                                        ('stale'::item_flag, COALESCE(a.kept_at, a.created_at) < $2)) AS f (flag, holds)
             WHERE a.status IN ('open', 'in_progress') AND f.holds
           ), open AS MATERIALIZED (
             SELECT f.action_item_id AS id, f.flag FROM item_flags f WHERE f.cleared_at IS NULL
           ), raised AS (
             INSERT INTO item_flags (flag, action_item_id, raised_at)
             SELECT n.flag, n.id, $3 FROM (SELECT id, flag FROM wanted EXCEPT SELECT id, flag FROM open) n
             RETURNING 1
           ), cleared AS (
             UPDATE item_flags f SET cleared_at = $3
             FROM (SELECT id, flag FROM open EXCEPT SELECT id, flag FROM wanted) gone
             WHERE f.action_item_id = gone.id AND f.flag = gone.flag AND f.cleared_at IS NULL
             RETURNING 1
           )
           SELECT (SELECT count(*) FROM raised) AS "raised!", (SELECT count(*) FROM cleared) AS "cleared!""#,
        today,
        stale_before,
        now
    )
    .fetch_one(tx)
    .await?;
    Ok(Changes {
        raised: row.raised,
        cleared: row.cleared,
    })
}

/// Flags every postmortem not yet published whose incident was resolved
/// before `due_before` (its review is overdue); clears the others.
pub async fn sweep_reviews(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    due_before: DateTime<Utc>,
) -> sqlx::Result<Changes> {
    let row = sqlx::query!(
        r#"WITH wanted AS MATERIALIZED (
             SELECT p.id FROM postmortems p JOIN incidents i ON i.id = p.incident_id
             WHERE p.status <> 'published' AND i.resolved_at < $1
           ), open AS MATERIALIZED (
             SELECT f.postmortem_id AS id FROM review_flags f WHERE f.cleared_at IS NULL
           ), raised AS (
             INSERT INTO review_flags (postmortem_id, raised_at)
             SELECT n.id, $2 FROM (SELECT id FROM wanted EXCEPT SELECT id FROM open) n
             RETURNING 1
           ), cleared AS (
             UPDATE review_flags f SET cleared_at = $2
             FROM (SELECT id FROM open EXCEPT SELECT id FROM wanted) gone
             WHERE f.postmortem_id = gone.id AND f.cleared_at IS NULL
             RETURNING 1
           )
           SELECT (SELECT count(*) FROM raised) AS "raised!", (SELECT count(*) FROM cleared) AS "cleared!""#,
        due_before,
        now
    )
    .fetch_one(tx)
    .await?;
    Ok(Changes {
        raised: row.raised,
        cleared: row.cleared,
    })
}

/// Records a finished sweep.
pub async fn record_run(
    db: impl PgExecutor<'_>,
    started_at: DateTime<Utc>,
    duration_ms: i32,
    changes: Changes,
    runner: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO sweep_runs (started_at, duration_ms, raised, cleared, runner) VALUES ($1, $2, $3, $4, $5)",
        started_at,
        duration_ms,
        i32::try_from(changes.raised).unwrap_or(i32::MAX),
        i32::try_from(changes.cleared).unwrap_or(i32::MAX),
        runner
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A sweep as the admin page lists it.
#[derive(Clone, Debug)]
pub struct SweepRun {
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub raised: i32,
    pub cleared: i32,
    pub runner: String,
}

/// The newest sweeps first.
pub async fn list_runs(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<SweepRun>> {
    sqlx::query_as!(
        SweepRun,
        "SELECT started_at, duration_ms, raised, cleared, runner FROM sweep_runs ORDER BY started_at DESC, id DESC LIMIT $1",
        limit
    )
    .fetch_all(db)
    .await
}

/// How many flags of each kind are raised now.
pub async fn count_open_flags(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT flag AS "flag!", n AS "n!" FROM (
             SELECT flag::text AS flag, count(*) AS n FROM item_flags WHERE cleared_at IS NULL GROUP BY flag
             UNION ALL
             SELECT 'review_overdue', count(*) FROM review_flags WHERE cleared_at IS NULL HAVING count(*) > 0) f
           ORDER BY flag"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| (row.flag, row.n)).collect())
}
