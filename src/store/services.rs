//! Services (`services`, `service_names`). Incidents name their services
//! as text; a service may also have a row here with its owner team and
//! description, and every name it had before a rename or a merge.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::incidents::Reader;
use crate::domain::{
    action::ActionStatus,
    catalog::{Catalog, owner_matches},
    incident::Severity,
};

/// A service in the index.
#[derive(Clone, Debug)]
pub struct ServiceSummary {
    pub name: String,
    pub owner: Option<String>,
    pub incidents: i64,
    pub latest: Option<DateTime<Utc>>,
    pub former_names: Vec<String>,
}

/// Every service: those with a row and those incidents merely name.
/// Counts take in every incident (figures, not names).
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ServiceSummary>> {
    sqlx::query_as!(
        ServiceSummary,
        r#"WITH used AS (
               SELECT s AS name, count(*) AS incidents, max(i.started_at) AS latest
               FROM incidents i, unnest(i.services) AS s GROUP BY s)
           SELECT COALESCE(sv.name, u.name) AS "name!", t.name AS "owner?",
                  COALESCE(u.incidents, 0) AS "incidents!", u.latest,
                  ARRAY(SELECT n.name FROM service_names n WHERE n.service_id = sv.id ORDER BY n.at) AS "former_names!"
           FROM services sv FULL JOIN used u ON u.name = sv.name
           LEFT JOIN teams t ON t.id = sv.owner_team_id
           ORDER BY COALESCE(u.incidents, 0) DESC, lower(COALESCE(sv.name, u.name))"#
    )
    .fetch_all(db)
    .await
}

/// A service's own row, if it has one.
#[derive(Clone, Debug)]
pub struct Service {
    pub id: Uuid,
    pub name: String,
    pub owner_team_id: Option<Uuid>,
    pub owner: Option<String>,
    pub description: String,
    pub source: String,
    pub former_names: Vec<String>,
}

/// What a name leads to.
pub enum Lookup {
    /// A service of that name (with its row, if it has one).
    Current(Option<Service>),
    /// A former name: the service is called this now.
    Renamed(String),
    /// Nothing is called that.
    Missing,
}

pub async fn lookup(db: &mut PgConnection, name: &str) -> sqlx::Result<Lookup> {
    let row = sqlx::query_as!(
        Service,
        r#"SELECT sv.id, sv.name, sv.owner_team_id, t.name AS "owner?", sv.description, sv.source,
                  ARRAY(SELECT n.name FROM service_names n WHERE n.service_id = sv.id ORDER BY n.at) AS "former_names!"
           FROM services sv LEFT JOIN teams t ON t.id = sv.owner_team_id WHERE sv.name = $1"#,
        name
    )
    .fetch_optional(&mut *db)
    .await?;
    if let Some(service) = row {
        return Ok(Lookup::Current(Some(service)));
    }
    if let Some(now) = renamed_to(&mut *db, name).await? {
        return Ok(Lookup::Renamed(now));
    }
    let used = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM incidents WHERE services @> ARRAY[$1]) AS "used!""#,
        name
    )
    .fetch_one(&mut *db)
    .await?;
    Ok(if used {
        Lookup::Current(None)
    } else {
        Lookup::Missing
    })
}

/// What a service is called now: `name` itself, or the service it was
/// renamed or merged into. Filters that take a service name use it, so an
/// old name in a bookmark or a feed address still finds its incidents.
pub async fn current_name(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<String> {
    Ok(renamed_to(db, name)
        .await?
        .unwrap_or_else(|| name.to_owned()))
}

/// The service a former name leads to now, if `name` is one.
async fn renamed_to(db: impl PgExecutor<'_>, name: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT sv.name FROM service_names n JOIN services sv ON sv.id = n.service_id WHERE n.name = $1",
        name
    )
    .fetch_optional(db)
    .await
}

/// The row of a service named by incidents only, made on first need.
async fn ensure(tx: &mut PgConnection, name: &str, now: DateTime<Utc>) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "INSERT INTO services (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
        Uuid::now_v7(),
        name,
        now
    )
    .fetch_one(&mut *tx)
    .await
}

/// Sets a service's owner team and description.
pub async fn update(
    tx: &mut PgConnection,
    name: &str,
    owner_team_id: Option<Uuid>,
    description: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let id = ensure(tx, name, now).await?;
    sqlx::query!(
        "UPDATE services SET owner_team_id = $2, description = $3, updated_at = $4 WHERE id = $1",
        id,
        owner_team_id,
        description,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Why a rename or merge was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("A service called “{0}” exists already: merge into it instead.")]
    Taken(String),
    #[error("There is no service called “{0}”.")]
    Missing(String),
    #[error("Pick two different services.")]
    Same,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

async fn exists(tx: &mut PgConnection, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM services WHERE name = $1)
                  OR EXISTS (SELECT 1 FROM incidents WHERE services @> ARRAY[$1]) AS "found!""#,
        name
    )
    .fetch_one(&mut *tx)
    .await
}

/// Replaces `from` by `to` in every incident's services (once each) and in
/// what people follow; returns the incidents changed.
async fn rewrite(tx: &mut PgConnection, from: &str, to: &str) -> sqlx::Result<u64> {
    let changed = sqlx::query!(
        "UPDATE incidents i SET services = (
             SELECT array_agg(s ORDER BY first) FROM (
                 SELECT s, min(n) AS first FROM unnest(array_replace(i.services, $1, $2)) WITH ORDINALITY AS u(s, n)
                 GROUP BY s) kept)
         WHERE i.services @> ARRAY[$1]",
        from,
        to
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query!(
        "INSERT INTO follows (user_id, subject, value, created_at)
         SELECT user_id, 'service', $2, created_at FROM follows WHERE subject = 'service' AND value = $1
         ON CONFLICT DO NOTHING",
        from,
        to
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM follows WHERE subject = 'service' AND value = $1",
        from
    )
    .execute(&mut *tx)
    .await?;
    Ok(changed)
}

/// Renames a service everywhere; the old name keeps leading to it.
pub async fn rename(
    tx: &mut PgConnection,
    from: &str,
    to: &str,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, Refusal> {
    if from == to {
        return Err(Refusal::Same);
    }
    lock(tx).await?;
    if !exists(tx, from).await? {
        return Err(Refusal::Missing(from.to_owned()));
    }
    if exists(tx, to).await? {
        return Err(Refusal::Taken(to.to_owned()));
    }
    let id = ensure(tx, from, now).await?;
    sqlx::query!(
        "UPDATE services SET name = $2, updated_at = $3 WHERE id = $1",
        id,
        to,
        now
    )
    .execute(&mut *tx)
    .await?;
    remember(tx, from, id, "renamed", actor_id, now).await?;
    Ok(rewrite(tx, from, to).await?)
}

/// Merges `from` into `into`: its incidents name `into` instead, its former
/// names and its own name lead to `into`, and its row goes.
pub async fn merge(
    tx: &mut PgConnection,
    from: &str,
    into: &str,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, Refusal> {
    if from == into {
        return Err(Refusal::Same);
    }
    lock(tx).await?;
    for name in [from, into] {
        if !exists(tx, name).await? {
            return Err(Refusal::Missing(name.to_owned()));
        }
    }
    let from_id = ensure(tx, from, now).await?;
    let into_id = ensure(tx, into, now).await?;
    sqlx::query!(
        "UPDATE service_names SET service_id = $2 WHERE service_id = $1",
        from_id,
        into_id
    )
    .execute(&mut *tx)
    .await?;
    // The row goes first: its name becomes a former name of `into`.
    sqlx::query!(
        "UPDATE services SET owner_team_id = COALESCE(owner_team_id, (SELECT owner_team_id FROM services WHERE id = $1)),
                             description = CASE WHEN description = '' THEN (SELECT description FROM services WHERE id = $1)
                                                ELSE description END,
                             updated_at = $3
         WHERE id = $2",
        from_id,
        into_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!("DELETE FROM services WHERE id = $1", from_id)
        .execute(&mut *tx)
        .await?;
    remember(tx, from, into_id, "merged", actor_id, now).await?;
    Ok(rewrite(tx, from, into).await?)
}

/// One change to the services at a time, so that two renames cannot
/// cross.
async fn lock(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('services'))")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn remember(
    tx: &mut PgConnection,
    name: &str,
    service_id: Uuid,
    how: &str,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO service_names (name, service_id, how, actor_id, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET service_id = $2, how = $3, actor_id = $4, at = $5",
        name,
        service_id,
        how,
        actor_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    // A name that is current again is no longer a former name.
    sqlx::query!("DELETE FROM service_names n USING services s WHERE n.name = s.name")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// What loading a catalog did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub created: usize,
    pub updated: usize,
    /// Services whose owner names no team here: "checkout-api: payments".
    pub unmatched_owners: Vec<String>,
}

/// Creates or updates a service for each one of the catalog; an owner is
/// matched to a team by name, and an owner that matches none is reported
/// (the service keeps the owner it had).
pub async fn load_catalog(
    tx: &mut PgConnection,
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> sqlx::Result<Loaded> {
    lock(tx).await?;
    let teams = sqlx::query!("SELECT id, name FROM teams")
        .fetch_all(&mut *tx)
        .await?;
    let mut loaded = Loaded::default();
    for service in &catalog.services {
        let owner = match &service.owner {
            Some(owner) => {
                let team = teams.iter().find(|t| owner_matches(owner, &t.name));
                if team.is_none() {
                    loaded
                        .unmatched_owners
                        .push(format!("{}: {owner}", service.name));
                }
                team.map(|t| t.id)
            }
            None => None,
        };
        let made = sqlx::query_scalar!(
            r#"INSERT INTO services (id, name, owner_team_id, description, source, created_at, updated_at)
               VALUES ($1, $2, $3, $4, 'catalog', $5, $5)
               ON CONFLICT (name) DO UPDATE SET
                   owner_team_id = COALESCE(excluded.owner_team_id, services.owner_team_id),
                   description = CASE WHEN excluded.description = '' THEN services.description ELSE excluded.description END,
                   source = 'catalog', updated_at = excluded.updated_at
               RETURNING (xmax = 0) AS "made!""#,
            Uuid::now_v7(),
            service.name,
            owner,
            service.description,
            now
        )
        .fetch_one(&mut *tx)
        .await?;
        if made {
            loaded.created += 1;
        } else {
            loaded.updated += 1;
        }
    }
    Ok(loaded)
}

/// An incident of a service, as its page lists it.
#[derive(Clone, Debug)]
pub struct ServiceIncident {
    pub number: i32,
    pub title: String,
    pub severity: Severity,
    pub started_at: Option<DateTime<Utc>>,
    pub status: crate::domain::postmortem::PostmortemStatus,
}

/// The incidents of a service that the reader may open, newest first.
pub async fn incidents(
    db: impl PgExecutor<'_>,
    reader: Reader,
    name: &str,
    limit: i64,
) -> sqlx::Result<Vec<ServiceIncident>> {
    sqlx::query_as!(
        ServiceIncident,
        r#"SELECT i.number, i.title, i.severity AS "severity: Severity", i.started_at,
                  s.status AS "status: crate::domain::postmortem::PostmortemStatus"
           FROM search_entries s JOIN incidents i ON i.id = s.incident_id
           WHERE s.services @> ARRAY[$3]
             AND ((s.status = 'published' AND (s.audience IS NULL OR $1 = ANY (s.audience)))
                  OR $2 OR $1 = ANY (s.readers))
           ORDER BY s.happened_at DESC NULLS LAST, i.number DESC LIMIT $4"#,
        reader.user_id,
        reader.is_admin,
        name,
        limit
    )
    .fetch_all(db)
    .await
}

/// The open items of a service's incidents that the reader may see.
pub async fn open_items(
    db: impl PgExecutor<'_>,
    reader: Reader,
    name: &str,
    limit: i64,
) -> sqlx::Result<Vec<super::themes::ItemLine>> {
    sqlx::query_as!(
        super::themes::ItemLine,
        r#"SELECT ai.id, ai.title, i.number, COALESCE(u.display_name, ai.owner_name) AS owner, ai.due_on,
                  ai.status AS "status: ActionStatus"
           FROM search_entries s JOIN incidents i ON i.id = s.incident_id
           JOIN action_items ai ON ai.postmortem_id = s.postmortem_id
           LEFT JOIN users u ON u.id = ai.owner_id
           WHERE s.services @> ARRAY[$3] AND ai.status IN ('open', 'in_progress')
             AND ((s.status = 'published' AND (s.audience IS NULL OR $1 = ANY (s.audience)))
                  OR $2 OR $1 = ANY (s.readers))
           ORDER BY ai.due_on NULLS LAST, i.number, ai.id LIMIT $4"#,
        reader.user_id,
        reader.is_admin,
        name,
        limit
    )
    .fetch_all(db)
    .await
}

/// Counts over every incident of a service (restricted ones included, by
/// number only): incidents, open items and overdue items.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub incidents: i64,
    pub open_items: i64,
    pub overdue_items: i64,
}

pub async fn counts(
    db: impl PgExecutor<'_>,
    name: &str,
    today: chrono::NaiveDate,
) -> sqlx::Result<Counts> {
    sqlx::query_as!(
        Counts,
        r#"SELECT count(DISTINCT i.id) AS "incidents!",
                  count(ai.id) FILTER (WHERE ai.status IN ('open', 'in_progress')) AS "open_items!",
                  count(ai.id) FILTER (WHERE ai.status IN ('open', 'in_progress') AND ai.due_on < $2) AS "overdue_items!"
           FROM incidents i
           LEFT JOIN postmortems p ON p.incident_id = i.id
           LEFT JOIN action_items ai ON ai.postmortem_id = p.id
           WHERE i.services @> ARRAY[$1]"#,
        name,
        today
    )
    .fetch_one(db)
    .await
}

/// The themes its incidents' factors are linked to, with how many of its
/// incidents each covers.
pub async fn themes(
    db: impl PgExecutor<'_>,
    name: &str,
) -> sqlx::Result<Vec<(String, String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT t.slug, t.name, count(DISTINCT p.incident_id) AS "incidents!"
           FROM incidents i JOIN postmortems p ON p.incident_id = i.id
           JOIN contributing_factors f ON f.postmortem_id = p.id
           JOIN theme_factors tf ON tf.factor_id = f.id AND tf.state = 'linked'
           JOIN themes t ON t.id = tf.theme_id
           WHERE i.services @> ARRAY[$1]
           GROUP BY t.id ORDER BY count(DISTINCT p.incident_id) DESC, lower(t.name)"#,
        name
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.slug, r.name, r.incidents))
        .collect())
}
