//! The checklist's settings and each postmortem's latest result.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{
    checklist::{self, Context, Finding, Settings},
    document::Document,
};

/// The organization's settings, or the defaults.
pub async fn settings(db: impl PgExecutor<'_>) -> sqlx::Result<Settings> {
    let stored = sqlx::query_scalar!("SELECT settings FROM checklist_settings WHERE id")
        .fetch_optional(db)
        .await?;
    Ok(stored
        .and_then(|value| serde_json::from_value(value).ok())
        .unwrap_or_default())
}

pub async fn save_settings(
    db: impl PgExecutor<'_>,
    settings: &Settings,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let value =
        serde_json::to_value(settings).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    sqlx::query!(
        "INSERT INTO checklist_settings (id, settings, updated_at, updated_by) VALUES (true, $1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at,
                                        updated_by = EXCLUDED.updated_by",
        value,
        now,
        by
    )
    .execute(db)
    .await?;
    Ok(())
}

/// What the checks need to know about a postmortem besides its document.
pub struct Facts {
    pub people: Vec<String>,
    pub attachments: usize,
    pub published_at: Option<DateTime<Utc>>,
}

pub async fn facts(db: &mut PgConnection, postmortem_id: Uuid) -> sqlx::Result<Facts> {
    // The directory's names and those of the incident's participants
    // without an account: naming any of them as the cause is blame.
    let people = sqlx::query_scalar!(
        r#"SELECT display_name AS "name!" FROM users
           UNION SELECT name AS "name!" FROM participants WHERE postmortem_id = $1 AND name IS NOT NULL"#,
        postmortem_id
    )
    .fetch_all(&mut *db)
    .await?;
    let row = sqlx::query!(
        r#"SELECT p.published_at,
                  (SELECT count(*) FROM attachments a WHERE a.postmortem_id = p.id AND a.removed_at IS NULL) AS "attachments!"
           FROM postmortems p WHERE p.id = $1"#,
        postmortem_id
    )
    .fetch_one(&mut *db)
    .await?;
    Ok(Facts {
        people,
        attachments: usize::try_from(row.attachments).unwrap_or(0),
        published_at: row.published_at,
    })
}

/// Checks a document as it stands.
pub async fn evaluate(
    db: &mut PgConnection,
    postmortem_id: Uuid,
    document: &Document,
    review_due_days: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Finding>> {
    let settings = settings(&mut *db).await?;
    let facts = facts(&mut *db, postmortem_id).await?;
    let ctx = Context {
        people: &facts.people,
        attachments: facts.attachments,
        review_due_days,
        published_at: facts.published_at,
        now,
    };
    Ok(checklist::evaluate(document, &ctx, &settings))
}

/// Checks the document and keeps the result on the postmortem (for lists,
/// search and the quarterly review). Called with every revision.
pub async fn refresh(
    db: &mut PgConnection,
    postmortem_id: Uuid,
    document: &Document,
    review_due_days: i64,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Finding>> {
    let findings = evaluate(&mut *db, postmortem_id, document, review_due_days, now).await?;
    let (passed, total) = checklist::score(&findings);
    let failing: Vec<String> = findings
        .iter()
        .filter(|finding| !finding.passed())
        .map(|finding| finding.rule.id.to_owned())
        .collect();
    sqlx::query!(
        "UPDATE postmortems SET checklist_passed = $2, checklist_total = $3, checklist_failing = $4 WHERE id = $1",
        postmortem_id,
        i16::try_from(passed).unwrap_or(i16::MAX),
        i16::try_from(total).unwrap_or(i16::MAX),
        &failing
    )
    .execute(&mut *db)
    .await?;
    Ok(findings)
}
