//! Timeline entries of a postmortem.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::postmortem::TimelineKind;

#[derive(Clone, Debug, serde::Deserialize)]
pub struct TimelineEntry {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub kind: TimelineKind,
    /// Who said or reported it, when known.
    #[serde(default)]
    pub speaker: Option<String>,
    pub text: String,
    pub source: String,
    pub link: Option<String>,
    pub version: i32,
    /// The time as an imported source wrote it, when that differs.
    #[serde(default)]
    pub written_at: Option<String>,
    /// The source gave no time that could be read: `occurred_at` is then
    /// only where the entry sorts, never shown and never counted.
    #[serde(default)]
    pub time_unknown: bool,
}

/// What an author types for one entry.
#[derive(Clone, Debug)]
pub struct EntryFields {
    /// When it happened or, for an entry whose time is unknown, where it sorts.
    pub occurred_at: DateTime<Utc>,
    pub time_unknown: bool,
    pub kind: TimelineKind,
    pub speaker: Option<String>,
    pub text: String,
    pub source: String,
    pub link: Option<String>,
}

/// The entries in time order.
pub async fn list_entries(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
) -> sqlx::Result<Vec<TimelineEntry>> {
    sqlx::query_as!(
        TimelineEntry,
        r#"SELECT id, occurred_at, kind AS "kind: TimelineKind", speaker, text, source, link, version, written_at, time_unknown
           FROM timeline_entries WHERE postmortem_id = $1 AND removed_at IS NULL ORDER BY occurred_at, created_at, id"#,
        postmortem_id
    )
    .fetch_all(db)
    .await
}

/// Adds an entry; `created_by` is none for one an alert added.
pub async fn insert_entry(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    fields: &EntryFields,
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO timeline_entries (id, postmortem_id, occurred_at, kind, text, source, link, created_by, created_at, speaker, time_unknown)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        id,
        postmortem_id,
        fields.occurred_at,
        fields.kind as TimelineKind,
        fields.text,
        fields.source,
        fields.link,
        created_by,
        now,
        fields.speaker,
        fields.time_unknown
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// Adds many entries in one statement (an import from chat or logs); they
/// keep their order among entries at the same time. Gives how many.
pub async fn insert_entries(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    entries: &[EntryFields],
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = entries.iter().map(|_| Uuid::now_v7()).collect();
    let at: Vec<DateTime<Utc>> = entries.iter().map(|e| e.occurred_at).collect();
    let kinds: Vec<String> = entries.iter().map(|e| e.kind.as_str().to_owned()).collect();
    let texts: Vec<String> = entries.iter().map(|e| e.text.clone()).collect();
    let sources: Vec<String> = entries.iter().map(|e| e.source.clone()).collect();
    let links: Vec<Option<String>> = entries.iter().map(|e| e.link.clone()).collect();
    let speakers: Vec<Option<String>> = entries.iter().map(|e| e.speaker.clone()).collect();
    let unknown: Vec<bool> = entries.iter().map(|e| e.time_unknown).collect();
    let order: Vec<DateTime<Utc>> = (0..entries.len())
        .map(|i| now + chrono::Duration::microseconds(i as i64))
        .collect();
    let done = sqlx::query!(
        r#"INSERT INTO timeline_entries (id, postmortem_id, occurred_at, kind, text, source, link, speaker,
                                      time_unknown, created_by, created_at)
           SELECT id, $2, at, kind::timeline_kind, text, source, link, speaker, unknown, $10, created
           FROM UNNEST($1::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::bool[], $11::timestamptz[])
                AS t(id, at, kind, text, source, link, speaker, unknown, created)"#,
        &ids,
        postmortem_id,
        &at,
        &kinds,
        &texts,
        &sources,
        &links as &[Option<String>],
        &speakers as &[Option<String>],
        &unknown,
        created_by,
        &order
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// What became of an edit of one entry.
#[derive(Debug, PartialEq, Eq)]
pub enum EntryUpdate {
    Saved,
    /// Someone changed the entry since the page was loaded.
    Stale,
    /// There is no such entry (any more).
    Gone,
}

/// Updates an entry of `postmortem_id` if it is still at `expected_version`.
pub async fn update_entry(
    db: &mut sqlx::PgConnection,
    postmortem_id: Uuid,
    id: Uuid,
    expected_version: i32,
    fields: &EntryFields,
) -> sqlx::Result<EntryUpdate> {
    let done = sqlx::query!(
        "UPDATE timeline_entries SET occurred_at = $4, kind = $5, text = $6, source = $7, link = $8,
                speaker = $9, time_unknown = $10, version = version + 1
         WHERE id = $1 AND postmortem_id = $2 AND version = $3 AND removed_at IS NULL",
        id,
        postmortem_id,
        expected_version,
        fields.occurred_at,
        fields.kind as TimelineKind,
        fields.text,
        fields.source,
        fields.link,
        fields.speaker,
        fields.time_unknown
    )
    .execute(&mut *db)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(EntryUpdate::Saved);
    }
    let exists = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM timeline_entries WHERE id = $1 AND postmortem_id = $2 AND removed_at IS NULL) AS "exists!""#,
        id,
        postmortem_id
    )
    .fetch_one(&mut *db)
    .await?;
    Ok(if exists {
        EntryUpdate::Stale
    } else {
        EntryUpdate::Gone
    })
}

/// Removes an entry from the postmortem, keeping its row with who removed
/// it and when (a restored revision brings it back). False if there is no
/// such live entry.
pub async fn remove_entry(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    id: Uuid,
    removed_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE timeline_entries SET removed_at = $3, removed_by = $4
         WHERE id = $1 AND postmortem_id = $2 AND removed_at IS NULL",
        id,
        postmortem_id,
        now,
        removed_by
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes every live entry of a postmortem (an import replacing its
/// timeline), keeping the rows as [`remove_entry`] does.
pub async fn remove_all(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    removed_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE timeline_entries SET removed_at = $2, removed_by = $3
         WHERE postmortem_id = $1 AND removed_at IS NULL",
        postmortem_id,
        now,
        removed_by
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
