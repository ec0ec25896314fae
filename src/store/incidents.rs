//! Incidents: their numbers, kinds, severities, key times, teams and links.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder, Row};

use super::teams::Team;
use uuid::Uuid;

use crate::domain::{
    incident::{IncidentKind, LinkKind, Severity},
    postmortem::PostmortemStatus,
};

/// Who is asking: reads are filtered by what they may see.
#[derive(Clone, Copy, Debug)]
pub struct Reader {
    pub user_id: Uuid,
    pub is_admin: bool,
}

#[derive(Clone, Debug)]
pub struct Incident {
    pub id: Uuid,
    pub number: i32,
    pub title: String,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub detected_at: Option<DateTime<Utc>>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub time_zone: String,
    pub version: i32,
}

/// The fields an author sets on an incident.
#[derive(Clone, Debug)]
pub struct IncidentFields {
    pub title: String,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub detected_at: Option<DateTime<Utc>>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub time_zone: String,
}

/// Inserts an incident; the database assigns its number. `created_by` is
/// none for one opened by an alert.
pub async fn insert_incident(
    db: impl PgExecutor<'_>,
    fields: &IncidentFields,
    created_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<(Uuid, i32)> {
    let id = Uuid::now_v7();
    let number = sqlx::query_scalar!(
        r#"INSERT INTO incidents (id, title, kind, severity, services, tags, started_at, detected_at,
                                  mitigated_at, resolved_at, time_zone, created_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
           RETURNING number"#,
        id,
        fields.title,
        fields.kind as IncidentKind,
        fields.severity as Severity,
        &fields.services,
        &fields.tags,
        fields.started_at,
        fields.detected_at,
        fields.mitigated_at,
        fields.resolved_at,
        fields.time_zone,
        created_by,
        now
    )
    .fetch_one(db)
    .await?;
    Ok((id, number))
}

/// Updates an incident if it is still at `expected_version`; returns
/// whether it was (false: someone else saved first).
pub async fn update_incident(
    db: impl PgExecutor<'_>,
    id: Uuid,
    expected_version: i32,
    fields: &IncidentFields,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE incidents SET title = $3, kind = $4, severity = $5, services = $6, tags = $7,
                  started_at = $8, detected_at = $9, mitigated_at = $10, resolved_at = $11,
                  time_zone = $12, updated_at = $13, version = version + 1
           WHERE id = $1 AND version = $2"#,
        id,
        expected_version,
        fields.title,
        fields.kind as IncidentKind,
        fields.severity as Severity,
        &fields.services,
        &fields.tags,
        fields.started_at,
        fields.detected_at,
        fields.mitigated_at,
        fields.resolved_at,
        fields.time_zone,
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count_incidents(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM incidents"#)
        .fetch_one(db)
        .await
}

pub async fn find_by_number(
    db: impl PgExecutor<'_>,
    number: i32,
) -> sqlx::Result<Option<Incident>> {
    sqlx::query_as!(
        Incident,
        r#"SELECT id, number, title, kind AS "kind: IncidentKind", severity AS "severity: Severity",
                  services, tags, started_at, detected_at, mitigated_at, resolved_at, time_zone, version
           FROM incidents WHERE number = $1"#,
        number
    )
    .fetch_optional(db)
    .await
}

/// Replaces the teams an incident belongs to.
pub async fn set_teams(
    db: &mut PgConnection,
    incident_id: Uuid,
    team_ids: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM incident_teams WHERE incident_id = $1",
        incident_id
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "INSERT INTO incident_teams (incident_id, team_id) SELECT $1, unnest($2::uuid[])",
        incident_id,
        team_ids
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// A team, by id and name.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct TeamRef {
    pub id: Uuid,
    pub name: String,
}

pub async fn list_teams(db: impl PgExecutor<'_>, incident_id: Uuid) -> sqlx::Result<Vec<TeamRef>> {
    sqlx::query_as!(
        TeamRef,
        r#"SELECT t.id, t.name FROM incident_teams it JOIN teams t ON t.id = it.team_id
           WHERE it.incident_id = $1 ORDER BY lower(t.name)"#,
        incident_id
    )
    .fetch_all(db)
    .await
}

/// One row of the incident list.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct IncidentSummary {
    pub number: i32,
    pub title: String,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub services: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub status: PostmortemStatus,
    pub open_actions: i64,
    /// The review checklist: rules passed, of how many (unset until saved).
    pub checklist_passed: Option<i16>,
    pub checklist_total: Option<i16>,
    /// Readable only by its access list (this reader is on it).
    pub restricted: bool,
}

/// Filters of the incident list; `None` means "any".
#[derive(Clone, Debug, Default)]
pub struct IncidentFilter {
    pub text: Option<String>,
    pub severity: Option<Severity>,
    pub kind: Option<IncidentKind>,
    pub status: Option<PostmortemStatus>,
    pub service: Option<String>,
    pub team_id: Option<Uuid>,
    /// A participant's name (an account's or a typed one).
    pub participant: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncidentSort {
    #[default]
    Newest,
    Oldest,
    Severity,
    Number,
}

impl IncidentSort {
    pub fn parse(text: &str) -> IncidentSort {
        match text {
            "oldest" => IncidentSort::Oldest,
            "severity" => IncidentSort::Severity,
            "number" => IncidentSort::Number,
            _ => IncidentSort::Newest,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentSort::Newest => "newest",
            IncidentSort::Oldest => "oldest",
            IncidentSort::Severity => "severity",
            IncidentSort::Number => "number",
        }
    }

    fn order_by(self) -> &'static str {
        match self {
            IncidentSort::Newest => " ORDER BY i.started_at DESC NULLS LAST, i.number DESC",
            IncidentSort::Oldest => " ORDER BY i.started_at ASC NULLS LAST, i.number ASC",
            IncidentSort::Severity => {
                " ORDER BY i.severity ASC, i.started_at DESC NULLS LAST, i.number DESC"
            }
            IncidentSort::Number => " ORDER BY i.number DESC",
        }
    }
}

/// Adds the rule "this reader may see this postmortem" (alias `p`) to a
/// query: published and not restricted (or restricted to them), or theirs
/// to write or review. The same rule as the `may_read` SQL function, spelt
/// out so that the planner sees the cheap test first.
///
/// An admin sees everything, so their rule is the literal `TRUE` rather than
/// a bound flag: Postgres can then plan the statement once and reuse the
/// plan, where `... OR $1` made it plan again on every run.
pub fn push_visible_to(query: &mut QueryBuilder<Postgres>, reader: Reader) {
    if reader.is_admin {
        query.push(" TRUE");
        return;
    }
    query.push(" ((p.status = 'published' AND (NOT p.restricted OR ");
    query.push_bind(reader.user_id);
    query.push(" = ANY (postmortem_audience(p.id))))");
    query.push(" OR EXISTS (SELECT 1 FROM postmortem_authors a WHERE a.postmortem_id = p.id AND a.user_id = ");
    query.push_bind(reader.user_id);
    query.push(") OR EXISTS (SELECT 1 FROM postmortem_reviewers r WHERE r.postmortem_id = p.id AND r.user_id = ");
    query.push_bind(reader.user_id);
    query.push("))");
}

/// Adds ` LIMIT n OFFSET m` as literals, not bound values: with the row
/// count known, the statement's reusable plan is as good as one made for
/// each run, so Postgres stops planning it every time.
pub fn push_page(query: &mut QueryBuilder<Postgres>, limit: i64, offset: i64) {
    query.push(format_args!(" LIMIT {limit} OFFSET {offset}"));
}

/// Filters the incident list and the search share (aliases `i`, `p`).
pub struct IncidentFilters<'a> {
    pub severity: Option<Severity>,
    pub kind: Option<IncidentKind>,
    pub status: Option<PostmortemStatus>,
    pub service: Option<&'a str>,
    pub team_id: Option<Uuid>,
}

/// Adds ` AND ...` for each filter that is set.
pub fn push_incident_filters(query: &mut QueryBuilder<Postgres>, filters: IncidentFilters<'_>) {
    if let Some(severity) = filters.severity {
        query.push(" AND i.severity = ").push_bind(severity);
    }
    if let Some(kind) = filters.kind {
        query.push(" AND i.kind = ").push_bind(kind);
    }
    if let Some(status) = filters.status {
        query.push(" AND p.status = ").push_bind(status);
    }
    if let Some(service) = filters.service {
        query
            .push(" AND ")
            .push_bind(service.to_owned())
            .push(" = ANY (i.services)");
    }
    if let Some(team_id) = filters.team_id {
        query
            .push(" AND EXISTS (SELECT 1 FROM incident_teams it WHERE it.incident_id = i.id AND it.team_id = ")
            .push_bind(team_id)
            .push(")");
    }
}

/// The list's statement: a page of incidents the reader may see, filtered
/// and sorted.
fn list_query(
    reader: Reader,
    filter: &IncidentFilter,
    sort: IncidentSort,
    (limit, offset): (i64, i64),
) -> QueryBuilder<Postgres> {
    let mut query = QueryBuilder::new(
        "SELECT i.number, i.title, i.kind, i.severity, i.services, i.started_at, i.resolved_at, p.status,
                (SELECT count(*) FROM action_items ai WHERE ai.postmortem_id = p.id
                   AND ai.status IN ('open', 'in_progress')) AS open_actions,
                p.checklist_passed, p.checklist_total, p.restricted",
    );
    query.push(" FROM incidents i JOIN postmortems p ON p.incident_id = i.id WHERE");
    push_visible_to(&mut query, reader);
    if let Some(text) = &filter.text {
        query
            .push(" AND i.title ILIKE ")
            .push_bind(format!("%{}%", like_escape(text)));
    }
    push_incident_filters(
        &mut query,
        IncidentFilters {
            severity: filter.severity,
            kind: filter.kind,
            status: filter.status,
            service: filter.service.as_deref(),
            team_id: filter.team_id,
        },
    );
    if let Some(name) = &filter.participant {
        super::participants::push_named(&mut query, "p.id", name);
    }
    query.push(sort.order_by());
    push_page(&mut query, limit, offset);
    query
}

/// A page of incidents the reader may see, filtered and sorted.
pub async fn list_incidents(
    db: impl PgExecutor<'_>,
    reader: Reader,
    filter: &IncidentFilter,
    sort: IncidentSort,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<IncidentSummary>> {
    list_query(reader, filter, sort, (limit, offset))
        .build_query_as()
        .fetch_all(db)
        .await
}

fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Every service named on a published, unrestricted incident (the same
/// for everyone).
pub async fn list_published_services(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT unnest(i.services) AS "service!"
           FROM incidents i JOIN postmortems p ON p.incident_id = i.id
           WHERE p.status = 'published' AND NOT p.restricted ORDER BY 1"#
    )
    .fetch_all(db)
    .await
}

/// The list's filter choices: every team, and the services named on the
/// unpublished incidents the reader may see (those of published incidents
/// are the same for everyone and kept apart).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct FilterOptions {
    pub teams: Vec<Team>,
    pub draft_services: Vec<String>,
}

/// The list's filter choices for a reader, in one statement (as one JSON
/// value).
pub async fn list_filter_options(
    db: impl PgExecutor<'_>,
    reader: Reader,
) -> sqlx::Result<FilterOptions> {
    let mut query = QueryBuilder::new(
        "SELECT json_build_object(
           'teams', (SELECT COALESCE(json_agg(json_build_object('id', id, 'name', name) ORDER BY lower(name), id), '[]')
                     FROM teams),
           'draft_services', (SELECT COALESCE(json_agg(DISTINCT service), '[]') FROM (
                SELECT unnest(i.services) AS service
                FROM incidents i JOIN postmortems p ON p.incident_id = i.id
                WHERE p.status IN ('draft', 'in_review') AND",
    );
    push_visible_to(&mut query, reader);
    query.push(") AS drafts))::text AS options");
    let row = query.build().fetch_one(db).await?;
    let options: String = row.try_get("options")?;
    serde_json::from_str(&options).map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

/// A link to another incident, seen from one side.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct LinkedIncident {
    pub number: i32,
    pub title: String,
    pub severity: Severity,
    pub kind: LinkKind,
    /// True when the link was made from the other incident.
    pub incoming: bool,
}

/// Links two incidents. A link exists once per pair: linking again, from
/// either side, replaces it.
pub async fn insert_link(
    db: &mut PgConnection,
    incident_id: Uuid,
    other_id: Uuid,
    kind: LinkKind,
    created_by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM incident_links WHERE incident_id = $1 AND other_id = $2",
        other_id,
        incident_id
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "INSERT INTO incident_links (incident_id, other_id, kind, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (incident_id, other_id) DO UPDATE SET kind = EXCLUDED.kind",
        incident_id,
        other_id,
        kind as LinkKind,
        created_by,
        now
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Removes a link made from either side.
pub async fn delete_link(
    db: impl PgExecutor<'_>,
    incident_id: Uuid,
    other_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM incident_links WHERE (incident_id = $1 AND other_id = $2) OR (incident_id = $2 AND other_id = $1)",
        incident_id,
        other_id
    )
    .execute(db)
    .await?;
    Ok(())
}
