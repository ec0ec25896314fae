//! Personal feed links (`feed_links`) and what the feeds read: published
//! postmortems the person may read, and their own action items with a due
//! date.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::incidents::Reader;
use crate::domain::{action::ActionStatus, role::Role};

/// A person's live feed link (its secret is never stored).
#[derive(Clone, Debug)]
pub struct FeedLink {
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn current(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Option<FeedLink>> {
    sqlx::query_as!(
        FeedLink,
        "SELECT created_at, last_used_at FROM feed_links
         WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1",
        user_id
    )
    .fetch_optional(db)
    .await
}

/// Revokes every live link of the person; returns how many there were.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE feed_links SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
        user_id,
        now
    )
    .execute(db)
    .await?
    .rows_affected())
}

/// Makes a new link (the old ones stop working).
pub async fn replace(
    tx: &mut PgConnection,
    user_id: Uuid,
    digest: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    revoke(&mut *tx, user_id, now).await?;
    sqlx::query!(
        "INSERT INTO feed_links (id, user_id, token_hash, created_at) VALUES ($1, $2, $3, $4)",
        Uuid::now_v7(),
        user_id,
        digest,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Who a feed secret stands for: an active person with a live link. The
/// link's last use is noted (at most once a minute; a data-modifying `WITH`
/// runs whether or not the query reads it).
pub struct FeedReader {
    pub user_id: Uuid,
    pub role: Role,
    pub display_name: String,
    pub time_zone: String,
}

pub async fn reader(
    db: impl PgExecutor<'_>,
    digest: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<FeedReader>> {
    sqlx::query_as!(
        FeedReader,
        r#"WITH used AS (
               UPDATE feed_links f SET last_used_at = $2::timestamptz
               WHERE f.token_hash = $1 AND f.revoked_at IS NULL
                 AND (f.last_used_at IS NULL OR f.last_used_at < $2::timestamptz - interval '1 minute')
               RETURNING f.user_id)
           SELECT u.id AS user_id, u.role AS "role: Role", u.display_name, u.time_zone
           FROM feed_links f JOIN users u ON u.id = f.user_id
           WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND u.active"#,
        digest,
        now
    )
    .fetch_optional(db)
    .await
}

/// A published postmortem, as a feed entry.
#[derive(Clone, Debug)]
pub struct Published {
    pub postmortem_id: Uuid,
    pub number: i32,
    pub title: String,
    pub summary: String,
    pub published_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub authors: Vec<String>,
}

/// What a feed of postmortems may be narrowed to.
#[derive(Clone, Debug, Default)]
pub struct Narrow {
    pub team_id: Option<Uuid>,
    pub service: Option<String>,
    pub theme_id: Option<Uuid>,
}

/// The newest published postmortems the reader may read, newest first.
pub async fn published(
    db: impl PgExecutor<'_>,
    reader: Reader,
    narrow: &Narrow,
    since: Option<DateTime<Utc>>,
    limit: i64,
) -> sqlx::Result<Vec<Published>> {
    sqlx::query_as!(
        Published,
        r#"SELECT p.id AS postmortem_id, i.number, i.title, p.summary,
                  p.published_at AS "published_at!", p.updated_at, i.services, i.tags,
                  ARRAY(SELECT u.display_name FROM postmortem_authors a JOIN users u ON u.id = a.user_id
                        WHERE a.postmortem_id = p.id ORDER BY lower(u.display_name)) AS "authors!"
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id
           WHERE p.status = 'published' AND p.published_at IS NOT NULL
             AND (NOT p.restricted OR $2 OR $1 = ANY (postmortem_audience(p.id)))
             AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM incident_teams t WHERE t.incident_id = i.id AND t.team_id = $3))
             AND ($4::text IS NULL OR i.services @> ARRAY[$4])
             AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM theme_factors tf JOIN contributing_factors f ON f.id = tf.factor_id
                                              WHERE tf.theme_id = $5 AND tf.state = 'linked' AND f.postmortem_id = p.id))
             AND ($6::timestamptz IS NULL OR p.published_at >= $6)
           ORDER BY p.published_at DESC, i.number DESC LIMIT $7"#,
        reader.user_id,
        reader.is_admin,
        narrow.team_id,
        narrow.service,
        narrow.theme_id,
        since,
        limit
    )
    .fetch_all(db)
    .await
}

/// An action item of the person's with a due date, for the calendar.
#[derive(Clone, Debug)]
pub struct DueItem {
    pub id: Uuid,
    pub title: String,
    pub number: i32,
    pub incident_title: String,
    pub due_on: NaiveDate,
    pub status: ActionStatus,
    pub updated_at: DateTime<Utc>,
}

/// The person's open items that have a due date.
pub async fn due_items(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<DueItem>> {
    sqlx::query_as!(
        DueItem,
        r#"SELECT ai.id, ai.title, i.number, i.title AS incident_title, ai.due_on AS "due_on!",
                  ai.status AS "status: ActionStatus", ai.updated_at
           FROM action_items ai JOIN postmortems p ON p.id = ai.postmortem_id JOIN incidents i ON i.id = p.incident_id
           WHERE ai.owner_id = $1 AND ai.due_on IS NOT NULL AND ai.status IN ('open', 'in_progress')
           ORDER BY ai.due_on, ai.id"#,
        user_id
    )
    .fetch_all(db)
    .await
}

/// A postmortem from a past year, for "on this day".
#[derive(Clone, Debug)]
pub struct Anniversary {
    pub number: i32,
    pub title: String,
    pub started_at: DateTime<Utc>,
    pub services: Vec<String>,
}

/// Published postmortems the reader may read whose incidents started
/// within three days of this date in an earlier year (in `zone`), the most
/// recent years first.
pub async fn on_this_day(
    db: impl PgExecutor<'_>,
    reader: Reader,
    today: NaiveDate,
    zone: &str,
    limit: i64,
) -> sqlx::Result<Vec<Anniversary>> {
    use chrono::Datelike;
    sqlx::query_as!(
        Anniversary,
        r#"SELECT i.number, i.title, i.started_at AS "started_at!", i.services
           FROM search_entries s JOIN incidents i ON i.id = s.incident_id
           WHERE s.status = 'published' AND (s.audience IS NULL OR $1 = ANY (s.audience) OR $2)
             AND i.started_at IS NOT NULL
             AND extract(year FROM i.started_at AT TIME ZONE $5)::int < $3::int
             AND abs(extract(doy FROM i.started_at AT TIME ZONE $5)::int - $4::int) <= 3
           ORDER BY extract(year FROM i.started_at AT TIME ZONE $5) DESC, i.started_at DESC LIMIT $6"#,
        reader.user_id,
        reader.is_admin,
        today.year(),
        today.ordinal() as i32,
        zone,
        limit
    )
    .fetch_all(db)
    .await
}
