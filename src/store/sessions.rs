//! Server-side sessions, looked up by the SHA-256 of the cookie value.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::role::Role;

/// A live session: its CSRF token, and its user when someone is signed in.
#[derive(Clone, Debug)]
pub struct LiveSession {
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
    pub flash: Option<String>,
    pub user: Option<SessionUser>,
}

/// The signed-in user behind a session.
#[derive(Clone, Debug)]
pub struct SessionUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub time_zone: String,
}

pub struct NewSession<'a> {
    pub id_hash: &'a [u8],
    pub user_id: Option<Uuid>,
    pub csrf_token: &'a str,
    pub expires_at: DateTime<Utc>,
    pub flash: Option<&'a str>,
}

pub async fn insert_session(
    db: impl PgExecutor<'_>,
    session: NewSession<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, flash)
         VALUES ($1, $2, $3, $4, $4, $5, $6)",
        session.id_hash,
        session.user_id,
        session.csrf_token,
        now,
        session.expires_at,
        session.flash
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The session if it is neither idle since before `idle_cutoff` nor past
/// its absolute expiry, and its user (if any) is active.
pub async fn find_live_session(
    db: impl PgExecutor<'_>,
    id_hash: &[u8],
    now: DateTime<Utc>,
    idle_cutoff: DateTime<Utc>,
) -> sqlx::Result<Option<LiveSession>> {
    let row = sqlx::query!(
        r#"SELECT s.csrf_token, s.last_seen_at, s.flash,
                  u.id AS "user_id?", u.email AS "email?", u.display_name AS "display_name?",
                  u.role AS "role?: Role", u.time_zone AS "time_zone?"
           FROM sessions s LEFT JOIN users u ON u.id = s.user_id
           WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3
             AND (s.user_id IS NULL OR u.active)"#,
        id_hash,
        now,
        idle_cutoff
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| {
        let user = match (row.user_id, row.email, row.display_name, row.role) {
            (Some(id), Some(email), Some(display_name), Some(role)) => Some(SessionUser {
                id,
                email,
                display_name,
                role,
                time_zone: row.time_zone.unwrap_or_else(|| "UTC".to_owned()),
            }),
            _ => None,
        };
        LiveSession {
            csrf_token: row.csrf_token,
            last_seen_at: row.last_seen_at,
            flash: row.flash,
            user,
        }
    }))
}

/// Records activity (keeps the idle timer from running out) and clears the
/// flash message once it has been shown.
pub async fn touch_session(
    db: impl PgExecutor<'_>,
    id_hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE sessions SET last_seen_at = $2, flash = NULL WHERE id_hash = $1",
        id_hash,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_flash(db: impl PgExecutor<'_>, id_hash: &[u8], message: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE sessions SET flash = $2 WHERE id_hash = $1",
        id_hash,
        message
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_session(db: impl PgExecutor<'_>, id_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM sessions WHERE id_hash = $1", id_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Ends every session of a user (deactivation, role change, password change).
pub async fn delete_user_sessions(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query!("DELETE FROM sessions WHERE user_id = $1", user_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Ends a user's sessions except the one in use (after a password change).
pub async fn delete_other_sessions(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    keep: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2",
        user_id,
        keep
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Removes sessions that can no longer be used.
pub async fn delete_expired_sessions(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    idle_cutoff: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
        now,
        idle_cutoff
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
