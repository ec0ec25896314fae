//! Failed sign-ins, counted per account and per client address.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Recent failures for one attempt's account and address.
pub struct RecentFailures {
    pub for_email: i64,
    pub from_address: i64,
}

pub async fn count_recent_failures(
    db: impl PgExecutor<'_>,
    email: &str,
    client_ip: &str,
    since: DateTime<Utc>,
) -> sqlx::Result<RecentFailures> {
    sqlx::query_as!(
        RecentFailures,
        r#"SELECT
             count(*) FILTER (WHERE email = $1) AS "for_email!",
             count(*) FILTER (WHERE client_ip = $2) AS "from_address!"
           FROM sign_in_failures
           WHERE failed_at > $3 AND (email = $1 OR client_ip = $2)"#,
        email,
        client_ip,
        since
    )
    .fetch_one(db)
    .await
}

pub async fn record_failure(
    db: impl PgExecutor<'_>,
    email: &str,
    client_ip: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO sign_in_failures (email, client_ip, failed_at) VALUES ($1, $2, $3)",
        email,
        client_ip,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets an account's failures after a successful sign-in ("in a row").
pub async fn clear_failures(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM sign_in_failures WHERE email = $1", email)
        .execute(db)
        .await?;
    Ok(())
}

/// Drops failures older than the window; they no longer count.
pub async fn delete_old_failures(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!("DELETE FROM sign_in_failures WHERE failed_at <= $1", before)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
