//! Comments on a postmortem: threads anchored to a section (and a quoted
//! passage), replies, edits by their author, and resolving.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// One comment as stored, with its author's and resolver's names.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Comment {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub author_id: Uuid,
    pub author: String,
    pub section: String,
    pub quote: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub version: i32,
}

/// The comments of a postmortem, oldest first.
pub async fn list(db: impl PgExecutor<'_>, postmortem_id: Uuid) -> sqlx::Result<Vec<Comment>> {
    sqlx::query_as!(
        Comment,
        r#"SELECT c.id, c.parent_id, c.author_id, u.display_name AS author, c.section, c.quote, c.body,
                  c.created_at, c.edited_at, c.resolved_at, rb.display_name AS "resolved_by?", c.version
           FROM comments c JOIN users u ON u.id = c.author_id LEFT JOIN users rb ON rb.id = c.resolved_by
           WHERE c.postmortem_id = $1 ORDER BY c.created_at, c.id"#,
        postmortem_id
    )
    .fetch_all(db)
    .await
}

/// Threads of a postmortem that nobody has resolved.
pub async fn count_unresolved(db: impl PgExecutor<'_>, postmortem_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM comments
           WHERE postmortem_id = $1 AND parent_id IS NULL AND resolved_at IS NULL"#,
        postmortem_id
    )
    .fetch_one(db)
    .await
}

/// What a new comment says and where.
pub struct NewComment<'a> {
    pub postmortem_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub author_id: Uuid,
    pub section: &'a str,
    pub quote: Option<&'a str>,
    pub body: &'a str,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    new: &NewComment<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO comments (id, postmortem_id, parent_id, author_id, section, quote, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        id,
        new.postmortem_id,
        new.parent_id,
        new.author_id,
        new.section,
        new.quote,
        new.body,
        now
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// One comment of `postmortem_id`, if it exists.
pub async fn find(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<Comment>> {
    sqlx::query_as!(
        Comment,
        r#"SELECT c.id, c.parent_id, c.author_id, u.display_name AS author, c.section, c.quote, c.body,
                  c.created_at, c.edited_at, c.resolved_at, rb.display_name AS "resolved_by?", c.version
           FROM comments c JOIN users u ON u.id = c.author_id LEFT JOIN users rb ON rb.id = c.resolved_by
           WHERE c.postmortem_id = $1 AND c.id = $2"#,
        postmortem_id,
        id
    )
    .fetch_optional(db)
    .await
}

/// Changes a comment's text if it is still at `version`; false if someone
/// (its author, in another tab) changed it since.
pub async fn edit(
    db: impl PgExecutor<'_>,
    id: Uuid,
    version: i32,
    body: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE comments SET body = $3, edited_at = $4, version = version + 1 WHERE id = $1 AND version = $2",
        id,
        version,
        body,
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Resolves (`Some(who)`) or reopens (`None`) a thread.
pub async fn set_resolved(
    db: impl PgExecutor<'_>,
    id: Uuid,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE comments SET resolved_by = $2, resolved_at = CASE WHEN $2::uuid IS NULL THEN NULL ELSE $3::timestamptz END,
                version = version + 1
         WHERE id = $1 AND parent_id IS NULL",
        id,
        by,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}
