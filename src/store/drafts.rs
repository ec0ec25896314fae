//! Autosaved work in progress on the authoring page, per author.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A form as typed, and when it was last sent.
pub struct Draft {
    pub form: String,
    pub saved_at: DateTime<Utc>,
}

/// Keeps the latest form of `user_id` on `postmortem_id`.
pub async fn upsert_draft(
    db: impl PgExecutor<'_>,
    (postmortem_id, user_id): (Uuid, Uuid),
    form: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO editor_drafts (postmortem_id, user_id, form, saved_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (postmortem_id, user_id) DO UPDATE SET form = $3, saved_at = $4",
        postmortem_id,
        user_id,
        form,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find_draft(
    db: impl PgExecutor<'_>,
    (postmortem_id, user_id): (Uuid, Uuid),
) -> sqlx::Result<Option<Draft>> {
    sqlx::query_as!(
        Draft,
        "SELECT form, saved_at FROM editor_drafts WHERE postmortem_id = $1 AND user_id = $2",
        postmortem_id,
        user_id
    )
    .fetch_optional(db)
    .await
}

pub async fn delete_draft(
    db: impl PgExecutor<'_>,
    (postmortem_id, user_id): (Uuid, Uuid),
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM editor_drafts WHERE postmortem_id = $1 AND user_id = $2",
        postmortem_id,
        user_id
    )
    .execute(db)
    .await?;
    Ok(())
}
