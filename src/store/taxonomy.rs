//! The factor categories (`factor_categories`) and their history.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::taxonomy::{Category, Taxonomy};

/// Every category, live ones first in the admins' order.
pub async fn load(db: impl PgExecutor<'_>) -> sqlx::Result<Taxonomy> {
    let rows = sqlx::query_as!(
        Category,
        r#"SELECT c.id, c.slug, c.name, c.description, c.retired_at IS NOT NULL AS "retired!",
                  m.slug AS "merged_into?"
           FROM factor_categories c LEFT JOIN factor_categories m ON m.id = c.merged_into
           ORDER BY c.merged_into IS NOT NULL, c.retired_at IS NOT NULL, c.position, c.slug"#
    )
    .fetch_all(db)
    .await?;
    Ok(Taxonomy(rows))
}

/// One change to the taxonomy, as the admin page lists it.
#[derive(Clone, Debug)]
pub struct Change {
    pub category: String,
    pub change: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub actor: Option<String>,
    pub at: DateTime<Utc>,
}

pub async fn list_changes(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<Change>> {
    sqlx::query_as!(
        Change,
        r#"SELECT c.name AS category, h.change, h.old_value, h.new_value, u.display_name AS "actor?", h.at
           FROM factor_category_changes h JOIN factor_categories c ON c.id = h.category_id
           LEFT JOIN users u ON u.id = h.actor_id
           ORDER BY h.at DESC, h.id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(db)
    .await
}

/// How many factors carry each slug.
pub async fn usage(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT slug AS "slug!", count(*) AS "count!"
           FROM contributing_factors, unnest(categories) AS slug GROUP BY slug"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.count)).collect())
}

async fn record(
    tx: &mut PgConnection,
    category_id: Uuid,
    change: &str,
    old_value: Option<&str>,
    new_value: Option<&str>,
    actor_id: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO factor_category_changes (category_id, change, old_value, new_value, actor_id, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        category_id,
        change,
        old_value,
        new_value,
        actor_id,
        at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Why a change to the taxonomy was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("Another category is already called “{0}”.")]
    NameTaken(String),
    #[error("That category was merged away; change the one it went into.")]
    Merged,
    #[error("Pick two different categories to merge.")]
    SameCategory,
    #[error("There is no such category.")]
    Missing,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

async fn name_taken(tx: &mut PgConnection, name: &str, except: Option<Uuid>) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM factor_categories
                          WHERE lower(name) = lower($1) AND merged_into IS NULL
                            AND id IS DISTINCT FROM $2) AS "taken!""#,
        name,
        except
    )
    .fetch_one(&mut *tx)
    .await
}

/// Adds a category; its slug is made from the name, numbered if taken.
pub async fn create(
    tx: &mut PgConnection,
    name: &str,
    description: &str,
    slug: &str,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<String, Refusal> {
    if name_taken(tx, name, None).await? {
        return Err(Refusal::NameTaken(name.to_owned()));
    }
    let slug = sqlx::query_scalar!(
        r#"SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM factor_categories WHERE slug = $1) THEN $1
                       ELSE $1 || '-' || (SELECT count(*) + 1 FROM factor_categories WHERE slug LIKE $1 || '-%')
                  END AS "slug!""#,
        slug
    )
    .fetch_one(&mut *tx)
    .await?;
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO factor_categories (id, slug, name, description, position, created_at)
         VALUES ($1, $2, $3, $4, (SELECT COALESCE(max(position), 0) + 1 FROM factor_categories), $5)",
        id,
        slug,
        name,
        description,
        now
    )
    .execute(&mut *tx)
    .await?;
    record(tx, id, "created", None, Some(name), actor_id, now).await?;
    Ok(slug)
}

async fn find(tx: &mut PgConnection, slug: &str) -> Result<(Uuid, String, bool), Refusal> {
    let row = sqlx::query!(
        "SELECT id, name, merged_into IS NOT NULL AS merged FROM factor_categories WHERE slug = $1 FOR UPDATE",
        slug
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Refusal::Missing)?;
    Ok((row.id, row.name, row.merged.unwrap_or(false)))
}

/// Renames a category (and its description); its slug stays, so every
/// factor and revision reads under the new name.
pub async fn rename(
    tx: &mut PgConnection,
    slug: &str,
    name: &str,
    description: &str,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let (id, old, merged) = find(tx, slug).await?;
    if merged {
        return Err(Refusal::Merged);
    }
    if name_taken(tx, name, Some(id)).await? {
        return Err(Refusal::NameTaken(name.to_owned()));
    }
    sqlx::query!(
        "UPDATE factor_categories SET name = $2, description = $3 WHERE id = $1",
        id,
        name,
        description
    )
    .execute(&mut *tx)
    .await?;
    if old != name {
        record(tx, id, "renamed", Some(&old), Some(name), actor_id, now).await?;
    }
    Ok(())
}

/// Merges `from` into `into`: every factor that carried `from` carries
/// `into` instead (once), and `from` keeps its row, pointing at `into`,
/// so revisions written before read under the new category.
pub async fn merge(
    tx: &mut PgConnection,
    from: &str,
    into: &str,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, Refusal> {
    if from == into {
        return Err(Refusal::SameCategory);
    }
    let (from_id, from_name, from_merged) = find(tx, from).await?;
    let (into_id, into_name, into_merged) = find(tx, into).await?;
    if from_merged || into_merged {
        return Err(Refusal::Merged);
    }
    let moved = sqlx::query!(
        "UPDATE contributing_factors f SET categories = (
             SELECT array_agg(slug ORDER BY first) FROM (
                 SELECT slug, min(n) AS first
                 FROM unnest(array_replace(f.categories, $1, $2)) WITH ORDINALITY AS u(slug, n)
                 GROUP BY slug) kept)
         WHERE $1 = ANY (f.categories)",
        from,
        into
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query!(
        "UPDATE factor_categories SET merged_into = $2 WHERE id = $1",
        from_id,
        into_id
    )
    .execute(&mut *tx)
    .await?;
    record(
        tx,
        from_id,
        "merged",
        Some(&from_name),
        Some(&into_name),
        actor_id,
        now,
    )
    .await?;
    Ok(moved)
}

/// Retires a category (no longer offered for new factors) or brings it back.
pub async fn set_retired(
    tx: &mut PgConnection,
    slug: &str,
    retired: bool,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    let (id, name, merged) = find(tx, slug).await?;
    if merged {
        return Err(Refusal::Merged);
    }
    let changed = sqlx::query!(
        "UPDATE factor_categories SET retired_at = CASE WHEN $2 THEN $3::timestamptz END
         WHERE id = $1 AND (retired_at IS NOT NULL) <> $2",
        id,
        retired,
        now
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed > 0 {
        let change = if retired { "retired" } else { "restored" };
        record(tx, id, change, Some(&name), None, actor_id, now).await?;
    }
    Ok(())
}
