//! The whole archive as one JSON document (`debrief export`, `debrief
//! import --json`): every row of every table that makes up the record, with
//! its ids, so an export imported into an empty database and exported again
//! gives the same bytes.

use anyhow::{Context, bail};
use sqlx::PgPool;

use crate::store::archive::{self, TABLES};

/// Names the format, so other JSON is refused with a clear message.
const FORMAT: &str = "debrief-archive";
const VERSION: u64 = 1;

/// Writes the archive: one row per line, tables in dependency order.
/// Password hashes are left out unless asked for.
pub async fn export(
    pool: &PgPool,
    with_password_hashes: bool,
    mut progress: impl FnMut(&str, usize),
) -> anyhow::Result<String> {
    let mut tx = crate::store::begin(pool).await?;
    // One snapshot for every table, however long the export takes.
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let mut out = format!("{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"tables\":{{");
    for (index, (table, order)) in TABLES.iter().enumerate() {
        let without: &[&str] = match *table {
            "users" if !with_password_hashes => &["password_hash"],
            _ => &[],
        };
        let rows = archive::export_rows(&mut tx, table, order, without).await?;
        progress(table, rows.len());
        if index > 0 {
            out.push(',');
        }
        out.push_str(&format!("\n\"{table}\":["));
        for (row_index, row) in rows.iter().enumerate() {
            out.push_str(if row_index == 0 { "\n" } else { ",\n" });
            out.push_str(&serde_json::to_string(row)?);
        }
        out.push_str("\n]");
    }
    out.push_str("\n}}\n");
    tx.commit().await?;
    Ok(out)
}

#[derive(serde::Deserialize)]
struct Archive {
    format: String,
    version: u64,
    tables: serde_json::Map<String, serde_json::Value>,
}

/// Loads an exported archive into an empty database, in one transaction:
/// either all of it lands or none of it. Returns rows per table.
pub async fn import(
    pool: &PgPool,
    text: &str,
    mut progress: impl FnMut(&str, u64),
) -> anyhow::Result<Vec<(&'static str, u64)>> {
    let archive: Archive = serde_json::from_str(text)
        .context("this is not a Debrief archive (it is not valid JSON)")?;
    if archive.format != FORMAT || archive.version != VERSION {
        bail!(
            "this is not a Debrief archive of version {VERSION} (format {:?}, version {})",
            archive.format,
            archive.version
        );
    }
    let unknown: Vec<&String> = archive
        .tables
        .keys()
        .filter(|name| !TABLES.iter().any(|(t, _)| t == name))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "the archive has tables this version of Debrief does not know: {unknown:?}; nothing was imported"
        );
    }
    let mut tx = crate::store::begin(pool).await?;
    if !archive::is_empty(&mut tx).await? {
        bail!(
            "the database already has accounts or incidents; import a whole archive into an empty one"
        );
    }
    // The search documents are left out of archives: computed once at the end.
    crate::store::search::defer_refresh(&mut *tx).await?;
    let mut counts = Vec::new();
    for (table, _) in TABLES {
        let rows = match archive.tables.get(*table) {
            Some(serde_json::Value::Array(rows)) => rows.as_slice(),
            Some(_) => bail!("the table {table} in the archive is not a list of rows"),
            None => &[],
        };
        let inserted = archive::import_rows(&mut tx, table, rows)
            .await
            .with_context(|| format!("importing the table {table}"))?;
        progress(table, inserted);
        counts.push((*table, inserted));
    }
    archive::reset_counters(&mut tx).await?;
    archive::refresh_all_search(&mut tx).await?;
    tx.commit().await?;
    Ok(counts)
}
