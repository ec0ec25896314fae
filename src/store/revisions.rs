//! Revisions: a full snapshot of the postmortem at every save.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::document::Document;

/// A revision without its snapshot, for the history list.
#[derive(Clone, Debug)]
pub struct RevisionSummary {
    pub number: i32,
    pub at: DateTime<Utc>,
    pub author: Option<String>,
    pub summary: String,
}

/// A change to a postmortem that keeps a revision.
pub struct Change<'a> {
    pub postmortem_id: Uuid,
    pub incident_number: i32,
    pub author_id: Option<Uuid>,
    pub summary: &'a str,
    /// When the revision was written (the demo dates its revisions back).
    pub at: DateTime<Utc>,
}

/// Keeps a revision of the postmortem as it stands now and refreshes its
/// checklist result, inside the caller's transaction. Every write path (the
/// pages, imports, the demo seed) goes through here, so none can forget
/// either half. Returns the revision's number.
pub async fn record(
    db: &mut sqlx::PgConnection,
    change: &Change<'_>,
    review_due_days: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<i32> {
    let document = super::documents::load_document(&mut *db, change.incident_number)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    let number = insert_revision(
        &mut *db,
        change.postmortem_id,
        change.author_id,
        change.summary,
        &document,
        change.at,
    )
    .await?;
    super::checklist::refresh(
        &mut *db,
        change.postmortem_id,
        &document,
        review_due_days,
        now,
    )
    .await?;
    Ok(number)
}

/// Records a revision; its number is one more than the last.
async fn insert_revision(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    author_id: Option<Uuid>,
    summary: &str,
    document: &Document,
    now: DateTime<Utc>,
) -> sqlx::Result<i32> {
    let snapshot =
        serde_json::to_value(document).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    sqlx::query_scalar!(
        r#"INSERT INTO postmortem_revisions (postmortem_id, number, at, author_id, summary, snapshot)
           VALUES ($1, (SELECT COALESCE(max(number), 0) + 1 FROM postmortem_revisions WHERE postmortem_id = $1),
                   $2, $3, $4, $5)
           RETURNING number"#,
        postmortem_id,
        now,
        author_id,
        summary,
        snapshot
    )
    .fetch_one(db)
    .await
}

/// Records the failing checks an author acknowledged with a revision.
pub async fn set_acknowledged(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    number: i32,
    checks: &[String],
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE postmortem_revisions SET acknowledged_checks = $3 WHERE postmortem_id = $1 AND number = $2",
        postmortem_id,
        number,
        checks
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Newest first.
pub async fn list_revisions(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
) -> sqlx::Result<Vec<RevisionSummary>> {
    sqlx::query_as!(
        RevisionSummary,
        r#"SELECT r.number, r.at, u.display_name AS "author?", r.summary
           FROM postmortem_revisions r LEFT JOIN users u ON u.id = r.author_id
           WHERE r.postmortem_id = $1 ORDER BY r.number DESC"#,
        postmortem_id
    )
    .fetch_all(db)
    .await
}

/// The snapshot of one revision.
pub async fn get_snapshot(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    number: i32,
) -> sqlx::Result<Option<Document>> {
    let snapshot = sqlx::query_scalar!(
        "SELECT snapshot FROM postmortem_revisions WHERE postmortem_id = $1 AND number = $2",
        postmortem_id,
        number
    )
    .fetch_optional(db)
    .await?;
    snapshot
        .map(|value| {
            serde_json::from_value(value).map_err(|error| sqlx::Error::Decode(Box::new(error)))
        })
        .transpose()
}
