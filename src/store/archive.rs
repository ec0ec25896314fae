//! The whole archive as rows: every table that holds the organization's
//! record (people, teams, incidents, postmortems, revisions, timelines,
//! action items and their history, attachments, who may read restricted
//! postmortems, participants, review decisions and comments), read and written table by
//! table. Sessions, one-time links, sign-in failures and the audit log
//! belong to one installation and are not part of it.

use sqlx::{AssertSqlSafe, PgConnection};

/// Tables in an order that satisfies their foreign keys, each with the
/// columns that order its rows (so two exports of one archive are equal).
pub const TABLES: &[(&str, &str)] = &[
    ("users", "id"),
    ("teams", "id"),
    ("team_members", "team_id, user_id"),
    ("incidents", "id"),
    ("incident_teams", "incident_id, team_id"),
    ("incident_links", "incident_id, other_id"),
    ("postmortems", "id"),
    ("postmortem_authors", "postmortem_id, user_id"),
    ("postmortem_reviewers", "postmortem_id, user_id"),
    ("contributing_factors", "id"),
    ("timeline_entries", "id"),
    ("action_items", "id"),
    ("action_item_changes", "id"),
    ("postmortem_revisions", "id"),
    ("attachments", "id"),
    ("postmortem_access", "postmortem_id, user_id, team_id"),
    ("participants", "id"),
    ("reviewer_decisions", "postmortem_id, reviewer_id"),
    // Replies after the comments they answer.
    ("comments", "created_at, id"),
];

/// Rows inserted per statement on import.
const CHUNK: usize = 2000;

/// The rows of one table as JSON objects, in a stable order and with times
/// in UTC; `without` names columns to leave out (password hashes).
pub async fn export_rows(
    db: &mut PgConnection,
    table: &str,
    order: &str,
    without: &[&str],
) -> sqlx::Result<Vec<serde_json::Value>> {
    sqlx::query("SET LOCAL TIME ZONE 'UTC'")
        .execute(&mut *db)
        .await?;
    let without: Vec<String> = without.iter().map(|c| (*c).to_owned()).collect();
    // The table and order come from TABLES, never from input.
    let sql = format!("SELECT to_jsonb(t) - $1::text[] FROM {table} t ORDER BY {order}");
    sqlx::query_scalar::<_, serde_json::Value>(AssertSqlSafe(sql))
        .bind(&without)
        .fetch_all(&mut *db)
        .await
}

/// Inserts rows exported by [`export_rows`], keeping their ids. Only the
/// columns the rows carry are written: an archive from before a column was
/// added leaves it to its default (a new `NOT NULL` column included).
pub async fn import_rows(
    db: &mut PgConnection,
    table: &str,
    rows: &[serde_json::Value],
) -> sqlx::Result<u64> {
    let Some(serde_json::Value::Object(first)) = rows.first() else {
        return Ok(0);
    };
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *db)
    .await?;
    let carried: Vec<String> = columns
        .into_iter()
        .filter(|column| first.contains_key(column))
        .map(|column| format!("\"{}\"", column.replace('"', "\"\"")))
        .collect();
    let list = carried.join(", ");
    // The table comes from TABLES and the columns from the catalogue, never
    // from the archive itself.
    let sql = format!(
        "INSERT INTO {table} ({list}) OVERRIDING SYSTEM VALUE
         SELECT {list} FROM jsonb_populate_recordset(NULL::{table}, $1)"
    );
    let mut inserted = 0;
    for chunk in rows.chunks(CHUNK) {
        let batch = serde_json::Value::Array(chunk.to_vec());
        inserted += sqlx::query(AssertSqlSafe(sql.clone()))
            .bind(batch)
            .execute(&mut *db)
            .await?
            .rows_affected();
    }
    Ok(inserted)
}

/// Moves the counters past the imported rows, so the next incident number
/// and history ids follow on.
pub async fn reset_counters(db: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT setval('incident_number_seq', COALESCE((SELECT max(number) FROM incidents), 0) + 1, false)")
        .execute(&mut *db)
        .await?;
    for table in ["action_item_changes", "postmortem_revisions"] {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        );
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *db).await?;
    }
    Ok(())
}

/// True when no account and no incident exists yet.
pub async fn is_empty(db: &mut PgConnection) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM incidents) AS "empty!""#
    )
    .fetch_one(db)
    .await
}

/// Recomputes every postmortem's search document (after a whole import).
pub async fn refresh_all_search(db: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query_scalar!("SELECT refresh_search(ARRAY(SELECT id FROM postmortems))::text")
        .fetch_one(&mut *db)
        .await?;
    Ok(())
}
