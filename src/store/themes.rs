//! Themes (`themes`) and the factors linked to them (`theme_factors`).
//! Everything a reader is shown by name passes the same rule as search
//! (`search_entries`: published and open to them, or theirs to read).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::incidents::Reader;
use crate::domain::{action::ActionStatus, incident::Severity, theme::Profile};

#[derive(Clone, Debug)]
pub struct Theme {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub query: String,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A theme in the index: how many incidents it links and how many of its
/// action items are still open (counted over what the reader may see).
#[derive(Clone, Debug)]
pub struct ThemeSummary {
    pub slug: String,
    pub name: String,
    pub incidents: i64,
    pub open_items: i64,
    pub latest: Option<DateTime<Utc>>,
}

pub async fn list(db: impl PgExecutor<'_>, reader: Reader) -> sqlx::Result<Vec<ThemeSummary>> {
    sqlx::query_as!(
        ThemeSummary,
        r#"SELECT t.slug, t.name,
                  count(DISTINCT s.incident_id) AS "incidents!",
                  (SELECT count(*) FROM action_items ai
                   JOIN theme_factors x ON x.factor_id = ai.factor_id AND x.theme_id = t.id AND x.state = 'linked'
                   JOIN search_entries v ON v.postmortem_id = ai.postmortem_id
                   WHERE ai.status IN ('open', 'in_progress')
                     AND ((v.status = 'published' AND (v.audience IS NULL OR $1 = ANY (v.audience)))
                          OR $2 OR $1 = ANY (v.readers))) AS "open_items!",
                  max(s.happened_at) AS latest
           FROM themes t
           LEFT JOIN theme_factors tf ON tf.theme_id = t.id AND tf.state = 'linked'
           LEFT JOIN contributing_factors f ON f.id = tf.factor_id
           LEFT JOIN search_entries s ON s.postmortem_id = f.postmortem_id
                AND ((s.status = 'published' AND (s.audience IS NULL OR $1 = ANY (s.audience)))
                     OR $2 OR $1 = ANY (s.readers))
           GROUP BY t.id ORDER BY count(DISTINCT s.incident_id) DESC, lower(t.name)"#,
        reader.user_id,
        reader.is_admin
    )
    .fetch_all(db)
    .await
}

/// Every theme's name, for the pickers.
pub async fn names(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT name FROM themes ORDER BY lower(name)")
        .fetch_all(db)
        .await
}

pub async fn find(db: impl PgExecutor<'_>, slug: &str) -> sqlx::Result<Option<Theme>> {
    sqlx::query_as!(
        Theme,
        r#"SELECT t.id, t.slug, t.name, t.description, t.query, u.display_name AS "created_by?", t.created_at
           FROM themes t LEFT JOIN users u ON u.id = t.created_by WHERE t.slug = $1"#,
        slug
    )
    .fetch_optional(db)
    .await
}

/// The theme called `name` (any case), made if there is none. The slug
/// comes from the name, numbered when taken. Returns its slug and id.
pub async fn find_or_create(
    tx: &mut PgConnection,
    name: &str,
    description: &str,
    query: &str,
    slug: &str,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<(Uuid, String, bool)> {
    // Two people naming the same new theme at once make one theme.
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtext('theme:' || lower($1)))",
        name
    )
    .execute(&mut *tx)
    .await?;
    if let Some(found) = sqlx::query!(
        "SELECT id, slug FROM themes WHERE lower(name) = lower($1)",
        name
    )
    .fetch_optional(&mut *tx)
    .await?
    {
        return Ok((found.id, found.slug, false));
    }
    let id = Uuid::now_v7();
    let slug = sqlx::query_scalar!(
        r#"INSERT INTO themes (id, slug, name, description, query, created_by, created_at, updated_at)
           VALUES ($1::uuid, CASE WHEN EXISTS (SELECT 1 FROM themes WHERE slug = $2) THEN $2 || '-' || left(($1::uuid)::text, 8) ELSE $2 END,
                   $3, $4, $5, $6, $7, $7)
           RETURNING slug"#,
        id,
        slug,
        name,
        description,
        query,
        actor_id,
        now
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok((id, slug, true))
}

/// Renames a theme or changes its description; `false` when another theme
/// already has the name.
pub async fn update(
    tx: &mut PgConnection,
    id: Uuid,
    name: &str,
    description: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let taken = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM themes WHERE lower(name) = lower($1) AND id <> $2) AS "taken!""#,
        name,
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    if taken {
        return Ok(false);
    }
    sqlx::query!(
        "UPDATE themes SET name = $2, description = $3, updated_at = $4 WHERE id = $1",
        id,
        name,
        description,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(true)
}

/// Links a factor to a theme (`linked`), or keeps a suggestion away
/// (`dismissed`), or forgets either (`None`). Returns the factor's
/// postmortem, whose cached page parts this changes.
pub async fn decide(
    tx: &mut PgConnection,
    theme_id: Uuid,
    factor_id: Uuid,
    state: Option<&str>,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    match state {
        Some(state) => {
            sqlx::query!(
                "INSERT INTO theme_factors (theme_id, factor_id, state, decided_by, decided_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (theme_id, factor_id) DO UPDATE SET state = $3, decided_by = $4, decided_at = $5",
                theme_id,
                factor_id,
                state,
                actor_id,
                now
            )
            .execute(&mut *tx)
            .await?;
        }
        None => {
            sqlx::query!(
                "DELETE FROM theme_factors WHERE theme_id = $1 AND factor_id = $2",
                theme_id,
                factor_id
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    let postmortem_id = sqlx::query_scalar!(
        "SELECT postmortem_id FROM contributing_factors WHERE id = $1",
        factor_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(postmortem_id) = postmortem_id {
        touch(tx, postmortem_id).await?;
    }
    Ok(postmortem_id)
}

/// Gives the postmortem's search entry a new row version, which is what
/// says that its cached reading-page parts are out of date (the parts name
/// each factor's themes).
pub async fn touch(db: impl PgExecutor<'_>, postmortem_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE search_entries SET status = status WHERE postmortem_id = $1",
        postmortem_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A factor the reader may see, with its postmortem's incident.
#[derive(Clone, Debug)]
pub struct FactorOf {
    pub factor_id: Uuid,
    pub description: String,
    pub categories: Vec<String>,
    pub number: i32,
    pub title: String,
    pub severity: Severity,
    pub started_at: Option<DateTime<Utc>>,
    pub services: Vec<String>,
}

/// The factors linked to a theme that the reader may see, newest incident
/// first.
pub async fn linked_factors(
    db: impl PgExecutor<'_>,
    reader: Reader,
    theme_id: Uuid,
) -> sqlx::Result<Vec<FactorOf>> {
    sqlx::query_as!(
        FactorOf,
        r#"SELECT f.id AS factor_id, f.description, f.categories, i.number, i.title,
                  i.severity AS "severity: Severity", i.started_at, i.services
           FROM theme_factors tf
           JOIN contributing_factors f ON f.id = tf.factor_id
           JOIN search_entries s ON s.postmortem_id = f.postmortem_id
           JOIN incidents i ON i.id = s.incident_id
           WHERE tf.theme_id = $3 AND tf.state = 'linked'
             AND ((s.status = 'published' AND (s.audience IS NULL OR $1 = ANY (s.audience)))
                  OR $2 OR $1 = ANY (s.readers))
           ORDER BY i.started_at DESC NULLS LAST, i.number DESC, f.position"#,
        reader.user_id,
        reader.is_admin,
        theme_id
    )
    .fetch_all(db)
    .await
}

/// How many incidents a theme links in all, the ones the reader may not
/// open included (so its page can say that some are hidden).
pub async fn count_all_incidents(db: impl PgExecutor<'_>, theme_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(DISTINCT f.postmortem_id) AS "n!"
           FROM theme_factors tf JOIN contributing_factors f ON f.id = tf.factor_id
           WHERE tf.theme_id = $1 AND tf.state = 'linked'"#,
        theme_id
    )
    .fetch_one(db)
    .await
}

/// An action item as the theme and service pages list it.
#[derive(Clone, Debug)]
pub struct ItemLine {
    pub id: Uuid,
    pub title: String,
    pub number: i32,
    pub owner: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: ActionStatus,
}

/// The open items that answer a factor of the theme, soonest due first.
pub async fn open_items(
    db: impl PgExecutor<'_>,
    reader: Reader,
    theme_id: Uuid,
) -> sqlx::Result<Vec<ItemLine>> {
    sqlx::query_as!(
        ItemLine,
        r#"SELECT ai.id, ai.title, i.number, COALESCE(u.display_name, ai.owner_name) AS owner, ai.due_on,
                  ai.status AS "status: ActionStatus"
           FROM theme_factors tf
           JOIN action_items ai ON ai.factor_id = tf.factor_id
           JOIN search_entries s ON s.postmortem_id = ai.postmortem_id
           JOIN incidents i ON i.id = s.incident_id
           LEFT JOIN users u ON u.id = ai.owner_id
           WHERE tf.theme_id = $3 AND tf.state = 'linked' AND ai.status IN ('open', 'in_progress')
             AND ((s.status = 'published' AND (s.audience IS NULL OR $1 = ANY (s.audience)))
                  OR $2 OR $1 = ANY (s.readers))
           ORDER BY ai.due_on NULLS LAST, i.number, ai.id"#,
        reader.user_id,
        reader.is_admin,
        theme_id
    )
    .fetch_all(db)
    .await
}

/// Factors a theme's page offers to link: those that use a word of the
/// theme's name, or (for a theme started from a search) those of the
/// postmortems that match it; only what the reader may see, and nothing
/// anybody has linked or dismissed yet.
pub async fn candidates(
    db: impl PgExecutor<'_>,
    reader: Reader,
    theme: &Theme,
    limit: i64,
) -> sqlx::Result<Vec<FactorOf>> {
    let query = if theme.query.trim().is_empty() {
        &theme.name
    } else {
        &theme.query
    };
    sqlx::query_as!(
        FactorOf,
        r#"WITH q AS (SELECT CASE WHEN $5 THEN websearch_to_tsquery('english', $4)
                                   ELSE replace(plainto_tsquery('english', $4)::text, '&', '|')::tsquery END AS q)
           SELECT f.id AS factor_id, f.description, f.categories, i.number, i.title,
                  i.severity AS "severity: Severity", i.started_at, i.services
           FROM q, search_entries s
           JOIN contributing_factors f ON f.postmortem_id = s.postmortem_id
           JOIN incidents i ON i.id = s.incident_id
           WHERE s.document @@ q.q
             AND ((s.status = 'published' AND (s.audience IS NULL OR $1 = ANY (s.audience)))
                  OR $2 OR $1 = ANY (s.readers))
             AND NOT EXISTS (SELECT 1 FROM theme_factors tf WHERE tf.theme_id = $3 AND tf.factor_id = f.id)
             -- From a theme's name, the factor itself must use one of its
             -- words; from a search, any factor of a matching postmortem.
             AND ($5 OR to_tsvector('english', f.description) @@ q.q)
           ORDER BY (to_tsvector('english', f.description) @@ q.q) DESC,
                    ts_rank(to_tsvector('english', f.description), q.q) DESC,
                    i.started_at DESC NULLS LAST, f.position
           LIMIT $6"#,
        reader.user_id,
        reader.is_admin,
        theme.id,
        query,
        !theme.query.trim().is_empty(),
        limit
    )
    .fetch_all(db)
    .await
}

/// Every theme as the suggestions compare factors with it: its name, the
/// text of (up to 200 of) its linked factors, their categories and their
/// incidents' services.
pub async fn profiles(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Profile>> {
    let rows = sqlx::query!(
        r#"SELECT t.slug, t.name,
                  ARRAY(SELECT f.description FROM theme_factors tf JOIN contributing_factors f ON f.id = tf.factor_id
                        WHERE tf.theme_id = t.id AND tf.state = 'linked' ORDER BY tf.decided_at DESC LIMIT 200)
                    AS "texts!",
                  ARRAY(SELECT DISTINCT s FROM theme_factors tf JOIN contributing_factors f ON f.id = tf.factor_id
                        JOIN postmortems p ON p.id = f.postmortem_id JOIN incidents i ON i.id = p.incident_id,
                        unnest(i.services) AS s
                        WHERE tf.theme_id = t.id AND tf.state = 'linked') AS "services!",
                  ARRAY(SELECT DISTINCT c FROM theme_factors tf JOIN contributing_factors f ON f.id = tf.factor_id,
                        unnest(f.categories) AS c
                        WHERE tf.theme_id = t.id AND tf.state = 'linked') AS "categories!"
           FROM themes t ORDER BY t.slug"#
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Profile::new(row.slug, row.name, &row.texts, row.services, row.categories))
        .collect())
}

/// Which (theme, factor) pairs were decided already, for these factors.
pub async fn decided(
    db: impl PgExecutor<'_>,
    factor_ids: &[Uuid],
) -> sqlx::Result<Vec<(String, Uuid)>> {
    let rows = sqlx::query!(
        "SELECT t.slug, tf.factor_id FROM theme_factors tf JOIN themes t ON t.id = tf.theme_id
         WHERE tf.factor_id = ANY ($1)",
        factor_ids
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.factor_id)).collect())
}

/// The id of a theme by slug, and the factor's postmortem's incident
/// number if the factor exists.
pub async fn factor_incident(
    db: impl PgExecutor<'_>,
    factor_id: Uuid,
) -> sqlx::Result<Option<(Uuid, i32)>> {
    let row = sqlx::query!(
        "SELECT p.id, i.number FROM contributing_factors f JOIN postmortems p ON p.id = f.postmortem_id
         JOIN incidents i ON i.id = p.incident_id WHERE f.id = $1",
        factor_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.id, r.number)))
}
