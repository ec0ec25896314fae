//! Bulk inserts of generated archives (`debrief seed --synthetic`), one
//! `UNNEST` statement per table per batch.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Columns of generated postmortems, incidents, timeline entries and items.
#[derive(Default)]
pub struct Batch {
    pub incident_ids: Vec<Uuid>,
    pub titles: Vec<String>,
    pub kinds: Vec<String>,
    pub severities: Vec<String>,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub started: Vec<DateTime<Utc>>,
    pub detected: Vec<DateTime<Utc>>,
    pub mitigated: Vec<DateTime<Utc>>,
    pub resolved: Vec<DateTime<Utc>>,
    /// The team of each incident.
    pub teams: Vec<Uuid>,
    pub postmortem_ids: Vec<Uuid>,
    pub authors: Vec<Uuid>,
    pub summaries: Vec<String>,
    pub impacts: Vec<String>,
    pub triggers: Vec<String>,
    pub lessons: Vec<String>,
    pub users_affected: Vec<i64>,
    pub entry_ids: Vec<Uuid>,
    pub entry_postmortems: Vec<Uuid>,
    pub entry_times: Vec<DateTime<Utc>>,
    pub entry_kinds: Vec<String>,
    pub entry_texts: Vec<String>,
    pub item_ids: Vec<Uuid>,
    pub item_postmortems: Vec<Uuid>,
    pub item_titles: Vec<String>,
    pub item_kinds: Vec<String>,
    pub item_priorities: Vec<String>,
    pub item_owners: Vec<Uuid>,
    pub item_due: Vec<NaiveDate>,
    pub item_statuses: Vec<String>,
    pub item_reasons: Vec<Option<String>>,
    pub item_teams: Vec<Uuid>,
    pub item_closed: Vec<Option<DateTime<Utc>>>,
    pub factor_ids: Vec<Uuid>,
    pub factor_postmortems: Vec<Uuid>,
    pub factor_positions: Vec<i32>,
    /// The category slugs of each factor, comma-separated.
    pub factor_categories: Vec<String>,
    pub factor_texts: Vec<String>,
}

/// Inserts a batch in one transaction, one `UNNEST` statement per table.
pub async fn insert_batch(pool: &PgPool, batch: &Batch, now: DateTime<Utc>) -> sqlx::Result<()> {
    let mut tx = crate::store::begin(pool).await?;
    super::search::defer_refresh(&mut *tx).await?;
    sqlx::query!(
        r#"INSERT INTO incidents (id, title, kind, severity, services, tags, started_at, detected_at, mitigated_at,
                                  resolved_at, time_zone, created_at, updated_at)
           SELECT id, title, kind::incident_kind, severity::severity, ARRAY[service], ARRAY[tag], started, detected,
                  mitigated, resolved, 'UTC', resolved, resolved
           FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[])
                AS t(id, title, kind, severity, service, tag, started, detected, mitigated, resolved)"#,
        &batch.incident_ids, &batch.titles, &batch.kinds, &batch.severities, &batch.services, &batch.tags,
        &batch.started, &batch.detected, &batch.mitigated, &batch.resolved
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO postmortems (id, incident_id, status, summary, impact, trigger, lessons, users_affected,
                                    published_at, created_at, updated_at)
           SELECT pm, incident, 'published', summary, impact, trigger, lessons, users, resolved + interval '3 days',
                  resolved, resolved
           FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                       $8::timestamptz[]) AS t(pm, incident, summary, impact, trigger, lessons, users, resolved)"#,
        &batch.postmortem_ids, &batch.incident_ids, &batch.summaries, &batch.impacts, &batch.triggers,
        &batch.lessons, &batch.users_affected, &batch.resolved
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO incident_teams (incident_id, team_id) SELECT * FROM UNNEST($1::uuid[], $2::uuid[])",
        &batch.incident_ids, &batch.teams
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO postmortem_authors (postmortem_id, user_id) SELECT * FROM UNNEST($1::uuid[], $2::uuid[])",
        &batch.postmortem_ids, &batch.authors
    )
    .execute(&mut *tx)
    .await?;
    // One postmortem in 50 is restricted to its own team, so that search
    // and the lists are measured with restrictions in place.
    sqlx::query!(
        "WITH picked AS (
           SELECT pm, team FROM UNNEST($1::uuid[], $2::uuid[]) AS t(pm, team) WHERE abs(hashtext(pm::text)) % 50 = 0
         ), restricted AS (
           UPDATE postmortems SET restricted = true WHERE id IN (SELECT pm FROM picked)
         )
         INSERT INTO postmortem_access (postmortem_id, team_id) SELECT pm, team FROM picked",
        &batch.postmortem_ids, &batch.teams
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO timeline_entries (id, postmortem_id, occurred_at, kind, text, source, created_at)
           SELECT id, pm, at, kind::timeline_kind, text, 'generated', at
           FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[]) AS t(id, pm, at, kind, text)"#,
        &batch.entry_ids, &batch.entry_postmortems, &batch.entry_times, &batch.entry_kinds, &batch.entry_texts
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO action_items (id, postmortem_id, title, kind, priority, owner_id, due_on, status,
                                     closing_reason, created_at, updated_at, team_id, closed_at)
           SELECT t.id, t.pm, t.title, t.kind::action_kind, t.priority::action_priority, t.owner, t.due,
                  t.status::action_status, t.reason, p.created_at, $10, t.team, t.closed
           FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::date[],
                       $8::text[], $9::text[], $11::uuid[], $12::timestamptz[])
                AS t(id, pm, title, kind, priority, owner, due, status, reason, team, closed)
           -- Items are written at the review, when the postmortem is.
           JOIN postmortems p ON p.id = t.pm"#,
        &batch.item_ids, &batch.item_postmortems, &batch.item_titles, &batch.item_kinds, &batch.item_priorities,
        &batch.item_owners, &batch.item_due, &batch.item_statuses, &batch.item_reasons as &[Option<String>], now,
        &batch.item_teams, &batch.item_closed as &[Option<DateTime<Utc>>]
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"INSERT INTO contributing_factors (id, postmortem_id, position, categories, description)
           SELECT id, pm, position, string_to_array(categories, ','), text
           FROM UNNEST($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[])
                AS t(id, pm, position, categories, text)"#,
        &batch.factor_ids,
        &batch.factor_postmortems,
        &batch.factor_positions,
        &batch.factor_categories,
        &batch.factor_texts
    )
    .execute(&mut *tx)
    .await?;
    super::search::refresh(&mut *tx, &batch.postmortem_ids).await?;
    tx.commit().await?;
    Ok(())
}
