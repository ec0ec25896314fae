//! Which of our incidents a sender's incident became, and which of its
//! events are already on the timeline.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::alerts::AlertSource;

/// The incident a sender's incident is linked to.
pub struct Linked {
    pub incident_id: Uuid,
    pub number: i32,
    pub postmortem_id: Uuid,
}

/// Holds, until the transaction ends, the right to act on one sender's
/// incident: two notifications about it arriving at once (on two replicas)
/// take turns, so the second finds what the first made.
pub async fn lock(db: &mut PgConnection, source: AlertSource, key: &str) -> sqlx::Result<()> {
    let name = format!("alert:{source}:{key}");
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        name
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

pub async fn find_incident(
    db: &mut PgConnection,
    source: AlertSource,
    key: &str,
) -> sqlx::Result<Option<Linked>> {
    sqlx::query_as!(
        Linked,
        r#"SELECT a.incident_id, i.number, p.id AS postmortem_id
           FROM alert_incidents a
           JOIN incidents i ON i.id = a.incident_id
           JOIN postmortems p ON p.incident_id = i.id
           WHERE a.source = $1 AND a.external_key = $2"#,
        source as AlertSource,
        key
    )
    .fetch_optional(&mut *db)
    .await
}

pub async fn link_incident(
    db: &mut PgConnection,
    source: AlertSource,
    key: &str,
    incident_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO alert_incidents (source, external_key, incident_id, created_at) VALUES ($1, $2, $3, $4)",
        source as AlertSource,
        key,
        incident_id,
        now
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Records an event as seen; false when it was seen before.
pub async fn claim_event(
    db: &mut PgConnection,
    source: AlertSource,
    key: &str,
    incident_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "INSERT INTO alert_events (source, event_key, incident_id, received_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        source as AlertSource,
        key,
        incident_id,
        now
    )
    .execute(&mut *db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_event_entry(
    db: &mut PgConnection,
    source: AlertSource,
    key: &str,
    entry_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE alert_events SET entry_id = $3 WHERE source = $1 AND event_key = $2",
        source as AlertSource,
        key,
        entry_id
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Sets an incident's resolution time when it has none yet; whether it did.
pub async fn mark_resolved(
    db: &mut PgConnection,
    incident_id: Uuid,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE incidents SET resolved_at = $2, updated_at = $3, version = version + 1
         WHERE id = $1 AND resolved_at IS NULL",
        incident_id,
        at,
        now
    )
    .execute(&mut *db)
    .await?;
    Ok(done.rows_affected() == 1)
}
