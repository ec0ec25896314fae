//! Imported postmortems: one incident per source file, updated in place
//! when the same file is imported again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{
    action::{ActionKind, ActionStatus, Priority},
    document::{ImportedFrom, Sections},
    import::ImportedDocument,
    incident::{IncidentKind, Severity},
};

/// What saving one document did.
#[derive(Clone, Copy, Debug)]
pub struct Saved {
    pub number: i32,
    pub postmortem_id: Uuid,
    pub created: bool,
}

pub async fn find_source(
    db: impl PgExecutor<'_>,
    incident_id: Uuid,
) -> sqlx::Result<Option<ImportedFrom>> {
    let row = sqlx::query!(
        r#"SELECT imported_from AS "file!", source_url, import_report FROM incidents
           WHERE id = $1 AND imported_from IS NOT NULL"#,
        incident_id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| ImportedFrom {
        file: row.file,
        url: row.source_url,
        report: row.import_report,
    }))
}

/// Accounts by lowercased email and display name, to match owners named in
/// imported action items.
pub async fn load_owner_names(db: impl PgExecutor<'_>) -> sqlx::Result<HashMap<String, Uuid>> {
    let rows = sqlx::query!("SELECT id, email, display_name FROM users WHERE active")
        .fetch_all(db)
        .await?;
    let mut names = HashMap::new();
    for row in rows {
        names.insert(row.email.to_lowercase(), row.id);
        names.insert(row.display_name.to_lowercase(), row.id);
    }
    Ok(names)
}

/// Replaces the import report of a postmortem's incident (once its images
/// have added their lines).
pub async fn write_report(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    report: &[String],
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE incidents SET import_report = $2 FROM postmortems p
         WHERE p.incident_id = incidents.id AND p.id = $1",
        postmortem_id,
        report.join("\n")
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Creates or updates the incident and postmortem of `doc` (published),
/// replacing its factors and timeline. Items are matched by title, so their
/// status and history survive a second import. Two imports of one file at
/// once (two replicas, two commands) take turns: the second waits for the
/// first's transaction, then finds its incident and updates it.
pub async fn save_document(
    db: &mut PgConnection,
    doc: &ImportedDocument,
    owners: &HashMap<String, Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<Saved> {
    sqlx::query!(
        "SELECT pg_advisory_xact_lock(hashtext('debrief import: ' || $1))",
        doc.source_name
    )
    .execute(&mut *db)
    .await?;
    let saved = upsert_incident(&mut *db, doc, now).await?;
    let postmortem_id = saved.postmortem_id;
    write_sections(&mut *db, postmortem_id, &doc.sections, now).await?;
    replace_factors(&mut *db, postmortem_id, doc).await?;
    replace_timeline(&mut *db, postmortem_id, doc, now).await?;
    if saved.created {
        insert_actions(&mut *db, postmortem_id, doc, owners, now).await?;
    } else {
        save_actions(&mut *db, postmortem_id, doc, owners, now).await?;
    }
    Ok(saved)
}

/// Overwrites every text section (an import owns the whole text).
pub async fn write_sections(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    s: &Sections,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"UPDATE postmortems SET summary = $2, impact = $3, trigger = $4, detection = $5, resolution = $6,
                  went_well = $7, went_poorly = $8, got_lucky = $9, lessons = $10, other_notes = $11,
                  updated_at = $12, version = version + 1
           WHERE id = $1"#,
        postmortem_id, s.summary, s.impact, s.trigger, s.detection, s.resolution, s.went_well, s.went_poorly,
        s.got_lucky, s.lessons, s.other_notes, now
    )
    .execute(db)
    .await?;
    Ok(())
}

async fn upsert_incident(
    db: &mut PgConnection,
    doc: &ImportedDocument,
    now: DateTime<Utc>,
) -> sqlx::Result<Saved> {
    let f = &doc.fields;
    let kind = f.kind.unwrap_or(IncidentKind::Incident);
    let severity = f.severity.unwrap_or(Severity::Sev3);
    let report = doc.report.join("\n");
    let existing = sqlx::query!(
        r#"UPDATE incidents SET title = $2, kind = $3, severity = $4, services = $5, tags = $6, started_at = $7,
                  detected_at = $8, mitigated_at = $9, resolved_at = $10, source_url = $11, import_report = $12,
                  updated_at = $13, version = version + 1
           WHERE imported_from = $1
           RETURNING id, number, (SELECT p.id FROM postmortems p WHERE p.incident_id = incidents.id) AS "postmortem_id!""#,
        doc.source_name, doc.title, kind as IncidentKind, severity as Severity, &f.services, &f.tags, f.started_at,
        f.detected_at, f.mitigated_at, f.resolved_at, f.source_url, report, now
    )
    .fetch_optional(&mut *db)
    .await?;
    if let Some(row) = existing {
        return Ok(Saved {
            number: row.number,
            postmortem_id: row.postmortem_id,
            created: false,
        });
    }
    let incident_id = Uuid::now_v7();
    let number = sqlx::query_scalar!(
        r#"INSERT INTO incidents (id, title, kind, severity, services, tags, started_at, detected_at, mitigated_at,
                                  resolved_at, time_zone, created_at, updated_at, imported_from, source_url, import_report)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'UTC', $11, $11, $12, $13, $14)
           RETURNING number"#,
        incident_id, doc.title, kind as IncidentKind, severity as Severity, &f.services, &f.tags, f.started_at,
        f.detected_at, f.mitigated_at, f.resolved_at, now, doc.source_name, f.source_url, report
    )
    .fetch_one(&mut *db)
    .await?;
    let postmortem_id = Uuid::now_v7();
    let published_at = f.resolved_at.or(f.started_at).unwrap_or(now);
    sqlx::query!(
        "INSERT INTO postmortems (id, incident_id, status, published_at, created_at, updated_at)
         VALUES ($1, $2, 'published', $3, $4, $4)",
        postmortem_id,
        incident_id,
        published_at,
        now
    )
    .execute(&mut *db)
    .await?;
    Ok(Saved {
        number,
        postmortem_id,
        created: true,
    })
}

async fn replace_factors(
    db: &mut PgConnection,
    postmortem_id: Uuid,
    doc: &ImportedDocument,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM contributing_factors WHERE postmortem_id = $1",
        postmortem_id
    )
    .execute(&mut *db)
    .await?;
    let ids: Vec<Uuid> = doc.factors.iter().map(|_| Uuid::now_v7()).collect();
    let positions: Vec<i32> = (0..doc.factors.len() as i32).collect();
    let categories: Vec<String> = doc.factors.iter().map(|(c, _)| (*c).to_owned()).collect();
    let descriptions: Vec<String> = doc.factors.iter().map(|(_, d)| d.clone()).collect();
    sqlx::query!(
        "INSERT INTO contributing_factors (id, postmortem_id, position, categories, description)
         SELECT id, $2, position, ARRAY[category_now(category)], description
         FROM UNNEST($1::uuid[], $3::int[], $4::text[], $5::text[]) AS t(id, position, category, description)",
        &ids, postmortem_id, &positions, &categories, &descriptions
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

async fn replace_timeline(
    db: &mut PgConnection,
    postmortem_id: Uuid,
    doc: &ImportedDocument,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    // The entries the document replaces are kept as removed ones.
    super::timeline::remove_all(&mut *db, postmortem_id, None, now).await?;
    let entries = &doc.timeline;
    let ids: Vec<Uuid> = entries.iter().map(|_| Uuid::now_v7()).collect();
    // A row whose time is unknown keeps its place after the row before it;
    // with no time anywhere, all sort at the start.
    let known: Vec<Option<DateTime<Utc>>> = entries.iter().map(|e| e.at).collect();
    let start = doc.fields.started_at.unwrap_or(now);
    let times: Vec<DateTime<Utc>> = crate::domain::postmortem::sort_times(&known)
        .into_iter()
        .map(|at| at.unwrap_or(start))
        .collect();
    let unknown: Vec<bool> = entries.iter().map(|e| e.at.is_none()).collect();
    let kinds: Vec<String> = entries.iter().map(|e| e.kind.as_str().to_owned()).collect();
    let texts: Vec<String> = entries.iter().map(|e| e.text.clone()).collect();
    let written: Vec<Option<String>> = entries.iter().map(|e| e.written_at.clone()).collect();
    // `created_at` keeps the source's order among entries at the same time.
    let order: Vec<DateTime<Utc>> = (0..entries.len())
        .map(|i| now + chrono::Duration::microseconds(i as i64))
        .collect();
    // The file is named in the incident's import record.
    let source = "import";
    sqlx::query!(
        r#"INSERT INTO timeline_entries (id, postmortem_id, occurred_at, kind, text, source, written_at, created_at, time_unknown)
           SELECT id, $2, at, kind::timeline_kind, text, $3, written, created, unknown
           FROM UNNEST($1::uuid[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::bool[])
                AS t(id, at, kind, text, written, created, unknown)"#,
        &ids, postmortem_id, source, &times, &kinds, &texts, &written as &[Option<String>], &order, &unknown
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// The owner as an account when one matches the name, else the name.
fn owner_of(
    owner: Option<&String>,
    owners: &HashMap<String, Uuid>,
) -> (Option<Uuid>, Option<String>) {
    let id = owner.and_then(|name| {
        owners
            .get(&name.trim_start_matches('@').to_lowercase())
            .copied()
    });
    (id, owner.cloned().filter(|_| id.is_none()))
}

/// The items of a new import, in one statement.
async fn insert_actions(
    db: &mut PgConnection,
    postmortem_id: Uuid,
    doc: &ImportedDocument,
    owners: &HashMap<String, Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let items = &doc.actions;
    let ids: Vec<Uuid> = items.iter().map(|_| Uuid::now_v7()).collect();
    let (owner_ids, owner_names): (Vec<Option<Uuid>>, Vec<Option<String>>) = items
        .iter()
        .map(|item| owner_of(item.owner.as_ref(), owners))
        .unzip();
    let titles: Vec<String> = items.iter().map(|i| i.title.clone()).collect();
    let descriptions: Vec<String> = items.iter().map(|i| i.description.clone()).collect();
    let kinds: Vec<String> = items.iter().map(|i| i.kind.as_str().to_owned()).collect();
    let priorities: Vec<String> = items
        .iter()
        .map(|i| i.priority.as_str().to_owned())
        .collect();
    let statuses: Vec<String> = items.iter().map(|i| i.status.as_str().to_owned()).collect();
    let due: Vec<Option<chrono::NaiveDate>> = items.iter().map(|i| i.due_on).collect();
    let trackers: Vec<Option<String>> = items.iter().map(|i| i.tracker_url.clone()).collect();
    // Creation order keeps the source's order.
    let created: Vec<DateTime<Utc>> = (0..items.len())
        .map(|i| now + chrono::Duration::microseconds(i as i64))
        .collect();
    sqlx::query!(
        r#"INSERT INTO action_items (id, postmortem_id, title, description, kind, priority, owner_id, owner_name, due_on,
                                     tracker_url, status, closed_at, created_at, updated_at)
           SELECT id, $2, title, description, kind::action_kind, priority::action_priority, owner_id, owner_name, due,
                  tracker, status::action_status, CASE WHEN status IN ('open', 'in_progress') THEN NULL ELSE $12::timestamptz END,
                  created, created
           FROM UNNEST($1::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::text[],
                       $9::date[], $10::text[], $11::text[], $13::timestamptz[])
                AS t(id, title, description, kind, priority, owner_id, owner_name, due, tracker, status, created)"#,
        &ids, postmortem_id, &titles, &descriptions, &kinds, &priorities, &owner_ids as &[Option<Uuid>],
        &owner_names as &[Option<String>], &due as &[Option<chrono::NaiveDate>], &trackers as &[Option<String>],
        &statuses, now, &created
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

async fn save_actions(
    db: &mut PgConnection,
    postmortem_id: Uuid,
    doc: &ImportedDocument,
    owners: &HashMap<String, Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mut touched: Vec<Uuid> = Vec::new();
    for item in &doc.actions {
        let (owner_id, owner_name) = owner_of(item.owner.as_ref(), owners);
        let closed_at = (!item.status.is_open()).then_some(now);
        let updated = sqlx::query_scalar!(
            r#"UPDATE action_items SET description = $3, kind = $4, priority = $5, owner_id = $6, owner_name = $7,
                      due_on = $8, tracker_url = COALESCE($9, tracker_url),
                      status = CASE WHEN $10 = 'done'::action_status THEN $10 ELSE status END,
                      updated_at = $11, version = version + 1
               WHERE id = (SELECT id FROM action_items WHERE postmortem_id = $1 AND title = $2
                           AND NOT (id = ANY ($12)) ORDER BY created_at, id LIMIT 1)
               RETURNING id"#,
            postmortem_id, item.title, item.description, item.kind as ActionKind, item.priority as Priority, owner_id,
            owner_name, item.due_on, item.tracker_url, item.status as ActionStatus, now, &touched
        )
        .fetch_optional(&mut *db)
        .await?;
        if let Some(id) = updated {
            touched.push(id);
        } else {
            let id = Uuid::now_v7();
            touched.push(id);
            sqlx::query!(
                r#"INSERT INTO action_items (id, postmortem_id, title, description, kind, priority, owner_id, owner_name,
                                             due_on, tracker_url, status, closed_at, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)"#,
                id, postmortem_id, item.title, item.description, item.kind as ActionKind, item.priority as Priority,
                owner_id, owner_name, item.due_on, item.tracker_url, item.status as ActionStatus, closed_at, now
            )
            .execute(&mut *db)
            .await?;
        }
    }
    Ok(())
}
