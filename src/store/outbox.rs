//! The outbox of emails (digests and gathered notifications): what each
//! digest is composed from, the messages themselves (one per recipient,
//! kind and period), and the senders' claims, deliveries and failures.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::digest::Frequency;

/// An open item of a digest recipient's, overdue or due soon.
#[derive(Clone, Debug)]
pub struct OwnerRow {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub item_id: Uuid,
    pub title: String,
    pub incident_number: i32,
    pub due_on: Option<NaiveDate>,
}

/// Every open item owned by a user who wants `frequency` digests that is
/// overdue or due before `due_before`, by owner then due date. A digest
/// names only items of postmortems its reader may read (`may_read`).
pub async fn owner_rows(
    db: impl PgExecutor<'_>,
    frequency: Frequency,
    due_before: NaiveDate,
    only_user: Option<Uuid>,
) -> sqlx::Result<Vec<OwnerRow>> {
    sqlx::query_as!(
        OwnerRow,
        r#"SELECT u.id AS user_id, u.email, u.display_name, a.id AS item_id, a.title,
                  i.number AS incident_number, a.due_on
           FROM action_items a JOIN users u ON u.id = a.owner_id
           JOIN postmortems p ON p.id = a.postmortem_id JOIN incidents i ON i.id = p.incident_id
           WHERE a.status IN ('open', 'in_progress') AND a.due_on < $2
             AND u.active AND u.digest_frequency = $1 AND ($3::uuid IS NULL OR u.id = $3)
             AND ((p.status = 'published' AND NOT p.restricted) OR may_read(p.id, u.id))
           ORDER BY u.id, a.due_on, a.id"#,
        frequency as Frequency,
        due_before,
        only_user
    )
    .fetch_all(db)
    .await
}

/// An overdue or stale item of a team, for the rollup of its lead.
#[derive(Clone, Debug)]
pub struct LeadRow {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub team_name: String,
    pub item_id: Uuid,
    pub title: String,
    pub incident_number: i32,
    pub owner_name: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    pub stale: bool,
}

/// For each lead who wants `frequency` digests, their teams' open items
/// that are overdue (due before `today`) or stale (open or last kept
/// before `stale_before`), by lead, team and owner.
pub async fn lead_rows(
    db: impl PgExecutor<'_>,
    frequency: Frequency,
    today: NaiveDate,
    stale_before: DateTime<Utc>,
    only_user: Option<Uuid>,
) -> sqlx::Result<Vec<LeadRow>> {
    sqlx::query_as!(
        LeadRow,
        r#"SELECT u.id AS user_id, u.email, u.display_name, t.name AS team_name, a.id AS item_id, a.title,
                  i.number AS incident_number, COALESCE(o.display_name, a.owner_name) AS owner_name, a.due_on,
                  COALESCE(a.due_on < $2, false) AS "overdue!",
                  COALESCE(a.kept_at, a.created_at) < $3 AS "stale!"
           FROM team_members m JOIN users u ON u.id = m.user_id JOIN teams t ON t.id = m.team_id
           JOIN action_items a ON a.team_id = m.team_id
           JOIN postmortems p ON p.id = a.postmortem_id JOIN incidents i ON i.id = p.incident_id
           LEFT JOIN users o ON o.id = a.owner_id
           WHERE m.is_lead AND u.active AND u.digest_frequency = $1 AND ($4::uuid IS NULL OR u.id = $4)
             AND a.status IN ('open', 'in_progress')
             AND (a.due_on < $2 OR COALESCE(a.kept_at, a.created_at) < $3)
             AND ((p.status = 'published' AND NOT p.restricted) OR may_read(p.id, u.id))
           ORDER BY u.id, t.name, 8 NULLS LAST, a.due_on, a.id"#,
        frequency as Frequency,
        today,
        stale_before,
        only_user
    )
    .fetch_all(db)
    .await
}

/// A composed message, ready to store.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub recipient_id: Uuid,
    pub email: String,
    pub kind: &'static str,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub unsubscribe_url: String,
}

/// Stores messages for `period`; a message whose (recipient, kind, period)
/// is already stored is skipped. Returns how many were stored.
pub async fn insert_messages(
    db: impl PgExecutor<'_>,
    period: &str,
    messages: &[NewMessage],
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let column = |get: fn(&NewMessage) -> String| messages.iter().map(get).collect::<Vec<_>>();
    let recipients: Vec<Uuid> = messages.iter().map(|m| m.recipient_id).collect();
    let done = sqlx::query!(
        "INSERT INTO outbox (recipient_id, email, kind, period, subject, text_body, html_body, unsubscribe_url,
                             next_attempt_at, created_at)
         SELECT r, e, k, $1, s, t, h, u, $9, $9
         FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
              AS m(r, e, k, s, t, h, u)
         ON CONFLICT (recipient_id, kind, period) DO NOTHING",
        period,
        &recipients,
        &column(|m| m.email.clone()),
        &column(|m| m.kind.to_owned()),
        &column(|m| m.subject.clone()),
        &column(|m| m.text_body.clone()),
        &column(|m| m.html_body.clone()),
        &column(|m| m.unsubscribe_url.clone()),
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Stores one message for `period`, returning its id, or `None` when a
/// message of its (recipient, kind, period) is stored already.
pub async fn insert_message(
    db: impl PgExecutor<'_>,
    period: &str,
    message: &NewMessage,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "INSERT INTO outbox (recipient_id, email, kind, period, subject, text_body, html_body, unsubscribe_url,
                             next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (recipient_id, kind, period) DO NOTHING RETURNING id",
        message.recipient_id,
        message.email,
        message.kind,
        period,
        message.subject,
        message.text_body,
        message.html_body,
        message.unsubscribe_url,
        now
    )
    .fetch_optional(db)
    .await
}

/// Takes the composer's lock until the transaction ends; false when
/// another composer (another replica) holds it.
pub async fn try_lock_compose(tx: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_xact_lock(hashtext('debrief.digest.compose')) AS "locked!""#
    )
    .fetch_one(tx)
    .await
}

/// Whether the digests of a period have been composed.
pub async fn is_composed(
    db: impl PgExecutor<'_>,
    frequency: Frequency,
    period: &str,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM digest_runs WHERE frequency = $1 AND period = $2) AS "done!""#,
        frequency as Frequency,
        period
    )
    .fetch_one(db)
    .await
}

pub async fn record_composed(
    db: impl PgExecutor<'_>,
    frequency: Frequency,
    period: &str,
    messages: i64,
    duration_ms: i32,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO digest_runs (frequency, period, composed_at, messages, duration_ms)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        frequency as Frequency,
        period,
        now,
        i32::try_from(messages).unwrap_or(i32::MAX),
        duration_ms
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A message as a sender delivers it.
#[derive(Clone, Debug)]
pub struct Message {
    pub id: i64,
    pub email: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub unsubscribe_url: String,
    pub attempts: i32,
}

/// Claims up to `limit` pending messages that are due: each is leased to
/// this sender until `lease_until` (another sender skips it; if this one
/// dies, it is due again then) and its attempt counted. The attempt number
/// is the claim: only its holder may mark the message.
pub async fn claim(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Message>> {
    sqlx::query_as!(
        Message,
        "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = NULL
         WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
                      ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING id, email, subject, text_body, html_body, unsubscribe_url, attempts",
        now,
        lease_until,
        limit
    )
    .fetch_all(db)
    .await
}

/// Moves the lease of messages this sender still holds (each by its
/// attempt number, not yet marked sent or failed) on to `lease_until`: the
/// sender's heartbeat while it delivers.
pub async fn extend_lease(
    db: impl PgExecutor<'_>,
    claims: &[(i64, i32)],
    lease_until: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let ids: Vec<i64> = claims.iter().map(|(id, _)| *id).collect();
    let attempts: Vec<i32> = claims.iter().map(|(_, attempt)| *attempt).collect();
    let done = sqlx::query!(
        "UPDATE outbox SET next_attempt_at = $3
         FROM UNNEST($1::bigint[], $2::int[]) AS held(id, attempt)
         WHERE outbox.id = held.id AND outbox.attempts = held.attempt
           AND outbox.status = 'pending' AND outbox.last_error IS NULL",
        &ids,
        &attempts,
        lease_until
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Marks a message sent, if it is still this sender's claim (`attempt`).
pub async fn mark_sent(
    db: impl PgExecutor<'_>,
    id: i64,
    attempt: i32,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE outbox SET status = 'sent', sent_at = $2, last_error = NULL WHERE id = $1 AND attempts = $3",
        id,
        now,
        attempt
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt (if it is still this sender's claim); the
/// message stays pending until `retry_at`.
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    id: i64,
    attempt: i32,
    error: &str,
    retry_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE outbox SET last_error = $2, next_attempt_at = $3 WHERE id = $1 AND status = 'pending' AND attempts = $4",
        id,
        error,
        retry_at,
        attempt
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Makes a message that failed and waits for its retry due now (the
/// admin's "retry"). One a sender holds (its last error was cleared when
/// taken) is left alone, so it is never sent twice at once.
pub async fn retry_now(db: impl PgExecutor<'_>, id: i64, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE outbox SET next_attempt_at = $2 WHERE id = $1 AND status = 'pending' AND last_error IS NOT NULL",
        id,
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A message as the admin's outbox page lists it.
#[derive(Clone, Debug)]
pub struct OutboxRow {
    pub id: i64,
    pub email: String,
    pub kind: String,
    pub period: String,
    pub subject: String,
    pub sent: bool,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The newest messages first.
pub async fn list_messages(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<OutboxRow>> {
    sqlx::query_as!(
        OutboxRow,
        r#"SELECT id, email, kind, period, subject, status = 'sent' AS "sent!", attempts, next_attempt_at,
                  last_error, created_at, sent_at
           FROM outbox ORDER BY created_at DESC, id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(db)
    .await
}

/// Messages pending, pending after a failure, and sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub pending: i64,
    pub failing: i64,
    pub sent: i64,
}

pub async fn counts(db: impl PgExecutor<'_>) -> sqlx::Result<Counts> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'pending') AS "pending!",
                  count(*) FILTER (WHERE status = 'pending' AND last_error IS NOT NULL) AS "failing!",
                  count(*) FILTER (WHERE status = 'sent') AS "sent!"
           FROM outbox"#
    )
    .fetch_one(db)
    .await?;
    Ok(Counts {
        pending: row.pending,
        failing: row.failing,
        sent: row.sent,
    })
}

/// The installation's secret `name`, made (32 random bytes) on first use.
/// Every replica reads the same one.
pub async fn app_secret(db: &sqlx::PgPool, name: &str) -> sqlx::Result<Vec<u8>> {
    let fresh: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    sqlx::query!(
        "INSERT INTO app_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name,
        fresh
    )
    .execute(db)
    .await?;
    sqlx::query_scalar!("SELECT value FROM app_secrets WHERE name = $1", name)
        .fetch_one(db)
        .await
}

/// A user's digest frequency.
pub async fn set_frequency(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    frequency: Frequency,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE users SET digest_frequency = $2 WHERE id = $1",
        user_id,
        frequency as Frequency
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get_frequency(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
) -> sqlx::Result<Option<Frequency>> {
    sqlx::query_scalar!(
        r#"SELECT digest_frequency AS "frequency: Frequency" FROM users WHERE id = $1"#,
        user_id
    )
    .fetch_optional(db)
    .await
}
