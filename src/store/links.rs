//! One-time links: first-run setup, invitations and password resets.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// What a one-time link is for (the `link_purpose` enum).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "link_purpose", rename_all = "lowercase")]
pub enum LinkPurpose {
    Setup,
    Invite,
    Reset,
}

/// Stores a new link. Any earlier link of the same user (or, for setup, any
/// earlier setup link) is revoked, so only the newest one works.
pub async fn insert_link(
    db: &mut PgConnection,
    token_hash: &[u8],
    purpose: LinkPurpose,
    user_id: Option<Uuid>,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    match user_id {
        Some(user_id) => delete_user_links(&mut *db, user_id).await?,
        None => delete_setup_links(&mut *db).await?,
    }
    sqlx::query!(
        "INSERT INTO one_time_links (token_hash, purpose, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
        token_hash,
        purpose as LinkPurpose,
        user_id,
        now,
        expires_at
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// A link that is still usable, without using it up (to show its form).
pub struct LiveLink {
    pub purpose: LinkPurpose,
    pub user_id: Option<Uuid>,
}

pub async fn find_live_link(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<LiveLink>> {
    sqlx::query_as!(
        LiveLink,
        r#"SELECT purpose AS "purpose: LinkPurpose", user_id
           FROM one_time_links WHERE token_hash = $1 AND expires_at > $2"#,
        token_hash,
        now
    )
    .fetch_optional(db)
    .await
}

/// Uses a link up. Returns it if it was live: deleting in one statement
/// makes a link work once even when two requests race.
pub async fn consume_link(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<LiveLink>> {
    sqlx::query_as!(
        LiveLink,
        r#"DELETE FROM one_time_links WHERE token_hash = $1 AND expires_at > $2
           RETURNING purpose AS "purpose: LinkPurpose", user_id"#,
        token_hash,
        now
    )
    .fetch_optional(db)
    .await
}

/// Revokes every link of a user (when they are deactivated).
pub async fn delete_user_links(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM one_time_links WHERE user_id = $1", user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Removes links that can no longer be used.
pub async fn delete_expired_links(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!("DELETE FROM one_time_links WHERE expires_at <= $1", now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Drops every setup link (once the first admin exists, or before a newer one).
pub async fn delete_setup_links(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM one_time_links WHERE purpose = 'setup'")
        .execute(db)
        .await?;
    Ok(())
}
