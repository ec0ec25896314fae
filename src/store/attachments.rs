//! Attachments: images stored in Postgres, so every replica serves them.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// An attachment without its bytes, for lists and thumbnails.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AttachmentInfo {
    pub id: Uuid,
    pub timeline_entry_id: Option<Uuid>,
    pub file_name: String,
    pub content_type: String,
    pub byte_size: i32,
}

/// An attachment's bytes and what a response needs to serve them.
pub struct AttachmentContent {
    pub postmortem_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A new attachment.
pub struct NewAttachment<'a> {
    pub postmortem_id: Uuid,
    pub timeline_entry_id: Option<Uuid>,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
    pub created_by: Option<Uuid>,
}

pub async fn insert_attachment(
    db: impl PgExecutor<'_>,
    new: &NewAttachment<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(new.content));
    sqlx::query!(
        "INSERT INTO attachments (id, postmortem_id, timeline_entry_id, file_name, content_type, byte_size, sha256,
                                  content, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        id,
        new.postmortem_id,
        new.timeline_entry_id,
        new.file_name,
        new.content_type,
        new.content.len() as i32,
        sha256,
        new.content,
        new.created_by,
        now
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// The attachment of a postmortem with the same name and bytes, if any (so
/// importing a document again does not store its images twice).
pub async fn find_same(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    file_name: &str,
    content: &[u8],
) -> sqlx::Result<Option<Uuid>> {
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(content));
    sqlx::query_scalar!(
        "SELECT id FROM attachments WHERE postmortem_id = $1 AND sha256 = $2 AND file_name = $3 AND removed_at IS NULL LIMIT 1",
        postmortem_id,
        sha256,
        file_name
    )
    .fetch_optional(db)
    .await
}

pub async fn list_for_postmortem(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
) -> sqlx::Result<Vec<AttachmentInfo>> {
    sqlx::query_as!(
        AttachmentInfo,
        "SELECT id, timeline_entry_id, file_name, content_type, byte_size FROM attachments
         WHERE postmortem_id = $1 AND removed_at IS NULL ORDER BY created_at, id",
        postmortem_id
    )
    .fetch_all(db)
    .await
}

pub async fn get_content(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> sqlx::Result<Option<AttachmentContent>> {
    sqlx::query_as!(
        AttachmentContent,
        "SELECT postmortem_id, file_name, content_type, content FROM attachments WHERE id = $1 AND removed_at IS NULL",
        id
    )
    .fetch_optional(db)
    .await
}

/// Removes an attachment from the postmortem, keeping its row and bytes
/// with who removed it and when. Gives its file name, or none when there is
/// no such live attachment.
pub async fn remove_attachment(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    id: Uuid,
    removed_by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "UPDATE attachments SET removed_at = $3, removed_by = $4
         WHERE id = $1 AND postmortem_id = $2 AND removed_at IS NULL
         RETURNING file_name",
        id,
        postmortem_id,
        now,
        removed_by
    )
    .fetch_optional(db)
    .await
}
