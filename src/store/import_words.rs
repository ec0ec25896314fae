//! The importer's vocabulary as the admin keeps it: heading synonyms and
//! severity words.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{
    import::{Target, Vocabulary},
    incident::Severity,
};

/// The vocabulary an import reads with. A stored heading whose target this
/// version does not know is left out.
pub async fn load(db: &sqlx::PgPool) -> sqlx::Result<Vocabulary> {
    let headings = sqlx::query!("SELECT heading, target FROM import_headings ORDER BY heading")
        .fetch_all(db)
        .await?
        .into_iter()
        .filter_map(|row| Target::from_name(&row.target).map(|target| (row.heading, target)))
        .collect();
    let severities = sqlx::query!(
        r#"SELECT word, severity AS "severity: Severity" FROM import_severity_words ORDER BY severity, word"#
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| (row.word, row.severity))
    .collect();
    Ok(Vocabulary {
        headings,
        severities,
    })
}

/// Adds or changes a heading synonym (`heading` normalized).
pub async fn put_heading(
    db: impl PgExecutor<'_>,
    heading: &str,
    target: Target,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO import_headings (heading, target, created_by, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (heading) DO UPDATE SET target = EXCLUDED.target, created_by = EXCLUDED.created_by,
                                             created_at = EXCLUDED.created_at",
        heading,
        target.name(),
        by,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Removes a heading synonym; false if there was none.
pub async fn remove_heading(db: impl PgExecutor<'_>, heading: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM import_headings WHERE heading = $1", heading)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds or changes a severity word (lowercase).
pub async fn put_severity_word(
    db: impl PgExecutor<'_>,
    word: &str,
    severity: Severity,
    by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO import_severity_words (word, severity, created_by, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (word) DO UPDATE SET severity = EXCLUDED.severity, created_by = EXCLUDED.created_by,
                                          created_at = EXCLUDED.created_at",
        word,
        severity as Severity,
        by,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Removes a severity word; false if there was none.
pub async fn remove_severity_word(db: impl PgExecutor<'_>, word: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM import_severity_words WHERE word = $1", word)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
