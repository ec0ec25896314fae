//! Revisions: a full snapshot of the postmortem at every save.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::document::Document;

/// A revision without its snapshot, for the history list.
#[derive(Clone, Debug)]
pub struct RevisionSummary {
    pub number: i32,
    pub at: DateTime<Utc>,
    pub author: Option<String>,
    pub summary: String,
}

/// A change to a postmortem that keeps a revision.
pub struct Change<'a> {
    pub postmortem_id: Uuid,
    pub incident_number: i32,
    pub author_id: Option<Uuid>,
    pub summary: &'a str,
    /// When the revision was written (the demo dates its revisions back).
    pub at: DateTime<Utc>,
}

/// Keeps a revision of the postmortem as it stands now and refreshes its
/// checklist result, inside the caller's transaction. Every write path (the
/// pages, imports, the demo seed) goes through here, so none can forget
/// either half. Returns the revision's number.
pub async fn record(
    db: &mut sqlx::PgConnection,
    change: &Change<'_>,
    review_due_days: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<i32> {
    let document = super::documents::load_document(&mut *db, change.incident_number)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    let number = insert_revision(
        &mut *db,
        change.postmortem_id,
        change.author_id,
        change.summary,
        &document,
        change.at,
    )
    .await?;
    super::checklist::refresh(
        &mut *db,
        change.postmortem_id,
        &document,
        review_due_days,
        now,
    )
    .await?;
    Ok(number)
}

/// Records a revision; its number is one more than the last.
async fn insert_revision(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    author_id: Option<Uuid>,
    summary: &str,
    document: &Document,
    now: DateTime<Utc>,
) -> sqlx::Result<i32> {
    let snapshot =
        serde_json::to_value(document).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    sqlx::query_scalar!(
        r#"INSERT INTO postmortem_revisions (postmortem_id, number, at, author_id, summary, snapshot)
           VALUES ($1, (SELECT COALESCE(max(number), 0) + 1 FROM postmortem_revisions WHERE postmortem_id = $1),
                   $2, $3, $4, $5)
           RETURNING number"#,
        postmortem_id,
        now,
        author_id,
        summary,
        snapshot
    )
    .fetch_one(db)
    .await
}

/// Records the failing checks an author acknowledged with a revision.
pub async fn set_acknowledged(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    number: i32,
    checks: &[String],
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE postmortem_revisions SET acknowledged_checks = $3 WHERE postmortem_id = $1 AND number = $2",
        postmortem_id,
        number,
        checks
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Newest first.
pub async fn list_revisions(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
) -> sqlx::Result<Vec<RevisionSummary>> {
    sqlx::query_as!(
        RevisionSummary,
        r#"SELECT r.number, r.at, u.display_name AS "author?", r.summary
           FROM postmortem_revisions r LEFT JOIN users u ON u.id = r.author_id
           WHERE r.postmortem_id = $1 ORDER BY r.number DESC"#,
        postmortem_id
    )
    .fetch_all(db)
    .await
}

/// The snapshot of one revision.
pub async fn get_snapshot(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    number: i32,
) -> sqlx::Result<Option<Document>> {
    let snapshot = sqlx::query_scalar!(
        "SELECT snapshot FROM postmortem_revisions WHERE postmortem_id = $1 AND number = $2",
        postmortem_id,
        number
    )
    .fetch_optional(db)
    .await?;
    snapshot
        .map(|value| {
            serde_json::from_value(value).map_err(|error| sqlx::Error::Decode(Box::new(error)))
        })
        .transpose()
}

/// What restoring a revision did to the rows it does not keep as text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Removed timeline entries brought back (or written again).
    pub entries_back: u64,
    /// Entries added since the revision, now removed (and kept).
    pub entries_removed: u64,
    pub attachments_back: u64,
    pub attachments_removed: u64,
    /// Action items whose title, description, kind or priority went back.
    pub items_changed: u64,
}

/// Brings the timeline, the attachments and the action items' wording back
/// to `document`, a revision's snapshot, inside the caller's transaction.
/// Nothing is deleted: what the revision did not have is removed the way
/// an author removes it, with `by` and `now`. An action item's owner, due
/// date and status keep their own history and are left alone, as are items
/// added since (items are never removed, only closed).
pub async fn restore_rows(
    db: &mut sqlx::PgConnection,
    postmortem_id: Uuid,
    document: &Document,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Restored> {
    let mut restored = Restored::default();
    (restored.entries_back, restored.entries_removed) =
        restore_timeline(&mut *db, postmortem_id, document, by, now).await?;
    if let Some(attachments) = &document.attachments {
        let ids: Vec<Uuid> = attachments.iter().map(|attachment| attachment.id).collect();
        restored.attachments_removed = sqlx::query!(
            "UPDATE attachments SET removed_at = $3, removed_by = $4
             WHERE postmortem_id = $1 AND removed_at IS NULL AND NOT (id = ANY ($2))",
            postmortem_id,
            &ids,
            now,
            by
        )
        .execute(&mut *db)
        .await?
        .rows_affected();
        restored.attachments_back = sqlx::query!(
            "UPDATE attachments SET removed_at = NULL, removed_by = NULL
             WHERE postmortem_id = $1 AND removed_at IS NOT NULL AND id = ANY ($2)",
            postmortem_id,
            &ids
        )
        .execute(&mut *db)
        .await?
        .rows_affected();
    }
    restored.items_changed = restore_item_wording(&mut *db, postmortem_id, document, now).await?;
    Ok(restored)
}

/// The timeline of `document` made live again: entries it names by id come
/// back as they were, entries of older snapshots (no ids) are matched by
/// time and text or written anew, and live entries it lacks are removed.
async fn restore_timeline(
    db: &mut sqlx::PgConnection,
    postmortem_id: Uuid,
    document: &Document,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<(u64, u64)> {
    let rows = sqlx::query!(
        r#"SELECT id, occurred_at, text, removed_at IS NULL AS "live!"
           FROM timeline_entries WHERE postmortem_id = $1
           ORDER BY removed_at IS NULL DESC, removed_at DESC"#,
        postmortem_id
    )
    .fetch_all(&mut *db)
    .await?;
    let mut claimed: Vec<Uuid> = document
        .timeline
        .iter()
        .filter_map(|line| line.id)
        .collect();
    let mut ids = Vec::with_capacity(document.timeline.len());
    for line in &document.timeline {
        let id = line.id.unwrap_or_else(|| {
            let same = rows.iter().find(|row| {
                row.occurred_at == line.at && row.text == line.text && !claimed.contains(&row.id)
            });
            same.map_or_else(Uuid::now_v7, |row| row.id)
        });
        claimed.push(id);
        ids.push(id);
    }
    let back = rows
        .iter()
        .filter(|row| !row.live && ids.contains(&row.id))
        .count() as u64
        + ids
            .iter()
            .filter(|id| !rows.iter().any(|row| row.id == **id))
            .count() as u64;
    let removed = sqlx::query!(
        "UPDATE timeline_entries SET removed_at = $3, removed_by = $4
         WHERE postmortem_id = $1 AND removed_at IS NULL AND NOT (id = ANY ($2))",
        postmortem_id,
        &ids,
        now,
        by
    )
    .execute(&mut *db)
    .await?
    .rows_affected();
    let lines = &document.timeline;
    let at: Vec<DateTime<Utc>> = lines.iter().map(|line| line.at).collect();
    let kinds: Vec<String> = lines.iter().map(|l| l.kind.as_str().to_owned()).collect();
    let texts: Vec<String> = lines.iter().map(|line| line.text.clone()).collect();
    let sources: Vec<String> = lines.iter().map(|line| line.source.clone()).collect();
    let links: Vec<Option<String>> = lines.iter().map(|line| line.link.clone()).collect();
    let speakers: Vec<Option<String>> = lines.iter().map(|line| line.speaker.clone()).collect();
    let written: Vec<Option<String>> = lines.iter().map(|l| l.written_at.clone()).collect();
    let unknown: Vec<bool> = lines.iter().map(|line| line.time_unknown).collect();
    // An entry written anew sorts among those at its time in snapshot order.
    let order: Vec<DateTime<Utc>> = (0..lines.len())
        .map(|i| now + chrono::Duration::microseconds(i as i64))
        .collect();
    sqlx::query!(
        r#"INSERT INTO timeline_entries AS e
               (id, postmortem_id, occurred_at, kind, text, source, link, speaker, written_at, time_unknown,
                created_by, created_at)
           SELECT id, $2, at, kind::timeline_kind, text, source, link, speaker, written, unknown, $11, created
           FROM UNNEST($1::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::bool[], $12::timestamptz[])
                AS t(id, at, kind, text, source, link, speaker, written, unknown, created)
           ON CONFLICT (id) DO UPDATE SET
               occurred_at = excluded.occurred_at, kind = excluded.kind, text = excluded.text,
               source = excluded.source, link = excluded.link, speaker = excluded.speaker,
               written_at = excluded.written_at, time_unknown = excluded.time_unknown,
               removed_at = NULL, removed_by = NULL, version = e.version + 1
           WHERE e.postmortem_id = excluded.postmortem_id
             AND (e.removed_at IS NOT NULL
                  OR (e.occurred_at, e.kind, e.text, e.source, e.link, e.speaker, e.written_at, e.time_unknown)
                     IS DISTINCT FROM (excluded.occurred_at, excluded.kind, excluded.text, excluded.source,
                                       excluded.link, excluded.speaker, excluded.written_at, excluded.time_unknown))"#,
        &ids,
        postmortem_id,
        &at,
        &kinds,
        &texts,
        &sources,
        &links as &[Option<String>],
        &speakers as &[Option<String>],
        &written as &[Option<String>],
        &unknown,
        by,
        &order
    )
    .execute(&mut *db)
    .await?;
    Ok((back, removed))
}

/// Puts back the title, description, kind and priority each item had in
/// `document`; gives how many items changed.
async fn restore_item_wording(
    db: &mut sqlx::PgConnection,
    postmortem_id: Uuid,
    document: &Document,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let lines: Vec<_> = document
        .action_items
        .iter()
        .filter(|line| line.id.is_some())
        .collect();
    let ids: Vec<Uuid> = lines.iter().filter_map(|line| line.id).collect();
    let titles: Vec<String> = lines.iter().map(|line| line.title.clone()).collect();
    let descriptions: Vec<String> = lines.iter().map(|l| l.description.clone()).collect();
    let kinds: Vec<String> = lines.iter().map(|l| l.kind.as_str().to_owned()).collect();
    let priorities: Vec<String> = lines
        .iter()
        .map(|l| l.priority.as_str().to_owned())
        .collect();
    let done = sqlx::query!(
        r#"UPDATE action_items ai SET title = t.title, description = t.description,
                  kind = t.kind::action_kind, priority = t.priority::action_priority,
                  updated_at = $7, version = ai.version + 1
           FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[])
                AS t(id, title, description, kind, priority)
           WHERE ai.id = t.id AND ai.postmortem_id = $1
             AND (ai.title, ai.description, ai.kind::text, ai.priority::text)
                 IS DISTINCT FROM (t.title, t.description, t.kind, t.priority)"#,
        postmortem_id,
        &ids,
        &titles,
        &descriptions,
        &kinds,
        &priorities,
        now
    )
    .execute(&mut *db)
    .await?;
    Ok(done.rows_affected())
}
