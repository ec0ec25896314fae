//! Sign-ins through the OpenID provider in flight.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

pub struct Pending {
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    state_hash: &[u8],
    pending: &Pending,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO sso_logins (state_hash, nonce, pkce_verifier, next_path, created_at) VALUES ($1, $2, $3, $4, $5)",
        state_hash,
        pending.nonce,
        pending.pkce_verifier,
        pending.next_path,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Takes (and so uses up) the sign-in started under `state_hash`, if it
/// started after `started_after`.
pub async fn take(
    db: impl PgExecutor<'_>,
    state_hash: &[u8],
    started_after: DateTime<Utc>,
) -> sqlx::Result<Option<Pending>> {
    sqlx::query_as!(
        Pending,
        "DELETE FROM sso_logins WHERE state_hash = $1 AND created_at > $2
         RETURNING nonce, pkce_verifier, next_path",
        state_hash,
        started_after
    )
    .fetch_optional(db)
    .await
}

/// Forgets sign-ins that never came back.
pub async fn delete_stale(db: impl PgExecutor<'_>, before: DateTime<Utc>) -> sqlx::Result<u64> {
    let done = sqlx::query!("DELETE FROM sso_logins WHERE created_at <= $1", before)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
