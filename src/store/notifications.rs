//! Notifications: recorded with the change that causes them (one per
//! event and person, only for people who may read the postmortem and have
//! not switched the kind off), gathered per person into outbox messages,
//! and what people follow and switched off.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::notice::Kind;

/// Something that happened, to tell `recipients` about.
pub struct Event<'a> {
    pub kind: Kind,
    /// Names the event: recording it again for a person stores nothing.
    pub key: String,
    pub postmortem_id: Uuid,
    pub summary: String,
    pub detail: String,
    pub path: String,
    /// Who did it: never told about their own doing.
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
    pub recipients: &'a [Uuid],
}

/// Records the event for each recipient who is active, may read the
/// postmortem and has not switched its kind off. Returns how many.
pub async fn record(db: impl PgExecutor<'_>, event: &Event<'_>) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "INSERT INTO notifications (recipient_id, kind, event_key, postmortem_id, summary, detail, path, created_at)
         SELECT u.id, $2, $3, $4, $5, $6, $7, $8 FROM users u
         WHERE u.id = ANY ($1) AND u.id <> $9 AND u.active
           AND NOT EXISTS (SELECT 1 FROM notification_opt_outs o WHERE o.user_id = u.id AND o.kind = $2)
           AND may_read($4, u.id)
         ON CONFLICT (recipient_id, event_key) DO NOTHING",
        event.recipients,
        event.kind.as_str(),
        event.key,
        event.postmortem_id,
        event.summary,
        event.detail,
        event.path,
        event.at,
        event.actor_id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// The active people a text `@mentions` (handles as `domain::notice::handle`
/// makes them), by the part of their email before the `@` or their name.
pub async fn mentioned_people(
    db: impl PgExecutor<'_>,
    handles: &[String],
) -> sqlx::Result<Vec<Uuid>> {
    if handles.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar!(
        "SELECT id FROM users WHERE active
           AND (lower(regexp_replace(split_part(email, '@', 1), '[^[:alnum:]]', '', 'g')) = ANY ($1)
                OR lower(regexp_replace(display_name, '[^[:alnum:]]', '', 'g')) = ANY ($1))",
        handles
    )
    .fetch_all(db)
    .await
}

/// Tells everyone who follows a team, service or tag of the postmortem's
/// incident that it was published (once, whatever they follow it by).
pub async fn record_published(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    summary: &str,
    path: &str,
    actor_id: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "INSERT INTO notifications (recipient_id, kind, event_key, postmortem_id, summary, detail, path, created_at)
         SELECT DISTINCT ON (f.user_id) f.user_id, 'followed_published', 'published:' || $1::uuid, $1, $2,
                'You follow ' || CASE f.subject WHEN 'team' THEN 'the team ' || COALESCE(t.name, '')
                                                WHEN 'service' THEN 'the service ' || f.value
                                                ELSE 'the tag ' || f.value END,
                $3, $4
         FROM follows f
         JOIN postmortems p ON p.id = $1 JOIN incidents i ON i.id = p.incident_id
         JOIN users u ON u.id = f.user_id
         LEFT JOIN teams t ON f.subject = 'team' AND t.id::text = f.value
         WHERE ((f.subject = 'team' AND EXISTS (SELECT 1 FROM incident_teams it
                                                WHERE it.incident_id = i.id AND it.team_id::text = f.value))
                OR (f.subject = 'service' AND f.value = ANY (i.services))
                OR (f.subject = 'tag' AND f.value = ANY (i.tags)))
           AND u.active AND u.id <> $5
           AND NOT EXISTS (SELECT 1 FROM notification_opt_outs o
                           WHERE o.user_id = u.id AND o.kind = 'followed_published')
           AND may_read($1, u.id)
         ORDER BY f.user_id, f.subject DESC
         ON CONFLICT (recipient_id, event_key) DO NOTHING",
        postmortem_id,
        summary,
        path,
        at,
        actor_id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// An action item as a notification about it needs it.
pub struct ItemFacts {
    pub postmortem_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub title: String,
    pub incident_number: i32,
    pub incident_title: String,
    pub due_on: Option<chrono::NaiveDate>,
}

pub async fn item_facts(db: impl PgExecutor<'_>, item_id: Uuid) -> sqlx::Result<Option<ItemFacts>> {
    sqlx::query_as!(
        ItemFacts,
        "SELECT a.postmortem_id, a.owner_id, a.title, i.number AS incident_number, i.title AS incident_title, a.due_on
         FROM action_items a JOIN postmortems p ON p.id = a.postmortem_id JOIN incidents i ON i.id = p.incident_id
         WHERE a.id = $1",
        item_id
    )
    .fetch_optional(db)
    .await
}

/// The postmortem's items that have an owner with an account.
pub async fn owned_items(db: impl PgExecutor<'_>, postmortem_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT id FROM action_items WHERE postmortem_id = $1 AND owner_id IS NOT NULL ORDER BY id",
        postmortem_id
    )
    .fetch_all(db)
    .await
}

/// People whose waiting notifications are ready to go out: nothing new for
/// `quiet_since`, or the oldest waiting since `waited_since`.
pub async fn ready_recipients(
    db: impl PgExecutor<'_>,
    quiet_since: DateTime<Utc>,
    waited_since: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        r#"SELECT recipient_id AS "recipient_id!" FROM notifications WHERE outbox_id IS NULL
           GROUP BY recipient_id
           HAVING max(created_at) <= $1 OR min(created_at) <= $2
           ORDER BY min(created_at) LIMIT $3"#,
        quiet_since,
        waited_since,
        limit
    )
    .fetch_all(db)
    .await
}

/// A waiting notification, with its recipient.
#[derive(Clone, Debug)]
pub struct Waiting {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub summary: String,
    pub detail: String,
    pub path: String,
    pub created_at: DateTime<Utc>,
}

/// Locks and returns a person's waiting notifications, oldest first; those
/// another gatherer holds are skipped (it sends them).
pub async fn take_waiting(tx: &mut PgConnection, recipient_id: Uuid) -> sqlx::Result<Vec<Waiting>> {
    sqlx::query_as!(
        Waiting,
        "SELECT n.id, u.email, u.display_name, n.summary, n.detail, n.path, n.created_at
         FROM notifications n JOIN users u ON u.id = n.recipient_id
         WHERE n.recipient_id = $1 AND n.outbox_id IS NULL
         ORDER BY n.id FOR UPDATE OF n SKIP LOCKED",
        recipient_id
    )
    .fetch_all(tx)
    .await
}

/// Marks notifications as gone out in an outbox message.
pub async fn mark_gathered(tx: &mut PgConnection, ids: &[i64], outbox_id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE notifications SET outbox_id = $2 WHERE id = ANY ($1)",
        ids,
        outbox_id
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// The kinds a person switched off.
pub async fn opted_out(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT kind FROM notification_opt_outs WHERE user_id = $1 ORDER BY kind",
        user_id
    )
    .fetch_all(db)
    .await
}

/// Replaces the kinds a person switched off.
pub async fn set_opted_out(
    tx: &mut PgConnection,
    user_id: Uuid,
    kinds: &[String],
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM notification_opt_outs WHERE user_id = $1",
        user_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO notification_opt_outs (user_id, kind) SELECT $1, k FROM UNNEST($2::text[]) AS k
         ON CONFLICT DO NOTHING",
        user_id,
        kinds
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Something a person follows, named for the account page.
#[derive(Clone, Debug)]
pub struct Follow {
    pub subject: String,
    pub value: String,
    pub label: String,
}

pub async fn list_follows(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<Follow>> {
    sqlx::query_as!(
        Follow,
        r#"SELECT f.subject, f.value,
                  CASE WHEN f.subject = 'weekly' THEN 'the weekly email of newly published postmortems'
                       ELSE COALESCE(t.name, f.value) END AS "label!"
           FROM follows f LEFT JOIN teams t ON f.subject = 'team' AND t.id::text = f.value
           WHERE f.user_id = $1 ORDER BY f.subject, lower(COALESCE(t.name, f.value))"#,
        user_id
    )
    .fetch_all(db)
    .await
}

pub async fn follow(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    subject: &str,
    value: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO follows (user_id, subject, value, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        user_id,
        subject,
        value,
        at
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn unfollow(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    subject: &str,
    value: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM follows WHERE user_id = $1 AND subject = $2 AND value = $3",
        user_id,
        subject,
        value
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The weekly "newly published" note for everyone who follows it: the
/// postmortems published in [from, until) that each may read, as one
/// notification per person and week (`event_key`), so running this again
/// in the same week stores nothing. People with nothing to read get none.
pub async fn record_weekly(
    db: impl PgExecutor<'_>,
    event_key: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    at: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        r#"INSERT INTO notifications (recipient_id, kind, event_key, summary, detail, path, created_at)
           SELECT u.id, 'weekly_published', $1,
                  CASE WHEN count(*) = 1 THEN '1 postmortem was published last week'
                       ELSE count(*) || ' postmortems were published last week' END,
                  string_agg('INC-' || i.number || ': ' || i.title, E'\n' ORDER BY p.published_at, i.number),
                  '/incidents?status=published', $4
           FROM follows f JOIN users u ON u.id = f.user_id AND u.active
           JOIN postmortems p ON p.status = 'published' AND p.published_at >= $2 AND p.published_at < $3
           JOIN incidents i ON i.id = p.incident_id
           WHERE f.subject = 'weekly' AND (NOT p.restricted OR may_read(p.id, u.id))
           GROUP BY u.id
           ON CONFLICT (recipient_id, event_key) DO NOTHING"#,
        event_key,
        from,
        until,
        at
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
