//! Postmortems: their sections, status, authors, reviewers and factors.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, types::Json};
use uuid::Uuid;

use super::{
    action_items::ActionItem,
    attachments::AttachmentInfo,
    comments::Comment,
    incidents::{Incident, LinkedIncident, Reader, TeamRef},
    participants::Participant,
    timeline::TimelineEntry,
};
use crate::domain::{
    document::{ImportedFrom, Sections},
    incident::{IncidentKind, Severity},
    postmortem::PostmortemStatus,
    taxonomy::Taxonomy,
};

#[derive(Clone, Debug)]
pub struct Postmortem {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub status: PostmortemStatus,
    pub sections: Sections,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// Readable only by its authors, reviewers, admins and access list.
    pub restricted: bool,
    /// The review checklist as of the last revision: rules passed, of how
    /// many, and the failing rules' ids (unset until the next save).
    pub checklist: Option<(i16, i16, Vec<String>)>,
}

/// Creates the (empty, draft) postmortem of a new incident, with its author.
pub async fn insert_postmortem(
    db: &mut PgConnection,
    incident_id: Uuid,
    author_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO postmortems (id, incident_id, created_at, updated_at) VALUES ($1, $2, $3, $3)",
        id,
        incident_id,
        now
    )
    .execute(&mut *db)
    .await?;
    if let Some(author_id) = author_id {
        add_author(&mut *db, id, author_id).await?;
    }
    Ok(id)
}

/// An incident and its postmortem by the incident's number, in one round trip.
/// An incident with its postmortem and the people named on it, as read in
/// one round trip; for the reading page also its [`PageStamp`].
pub struct Found {
    pub incident: Incident,
    pub postmortem: Postmortem,
    pub authors: Vec<Person>,
    pub reviewers: Vec<Person>,
    /// Whether the viewer asked about is on a restricted postmortem's
    /// access list (by name or team); false without a viewer.
    pub on_access_list: bool,
    /// Read only when asked for with a reader (who decides which linked
    /// incidents are listed); the other parts are skipped by the database.
    pub stamp: Option<PageStamp>,
}

pub async fn find_by_number(
    db: impl PgExecutor<'_>,
    number: i32,
    viewer: Option<Uuid>,
    page_for: Option<Reader>,
    held: Option<&HeldDiscussion>,
) -> sqlx::Result<Option<Found>> {
    let row = sqlx::query!(
        r#"SELECT i.id AS incident_id, i.number, i.title, i.kind AS "kind: IncidentKind",
                  i.severity AS "severity: Severity", i.services, i.tags, i.started_at, i.detected_at,
                  i.mitigated_at, i.resolved_at, i.time_zone, i.version AS incident_version,
                  p.id, p.status AS "status: PostmortemStatus", p.summary, p.impact, p.users_affected,
                  p.failed_requests, p.revenue_lost_cents, p.slo_budget_consumed, p.trigger, p.went_well,
                  p.went_poorly, p.got_lucky, p.lessons, p.detection, p.resolution, p.other_notes, p.published_at, p.updated_at, p.version,
                  p.checklist_passed, p.checklist_total, p.checklist_failing, p.restricted,
                  (p.restricted AND $5::uuid IS NOT NULL AND $5 = ANY (postmortem_audience(p.id))) AS "on_access_list!",
                  (SELECT COALESCE(json_agg(json_build_object('id', u.id, 'display_name', u.display_name)
                                            ORDER BY lower(u.display_name), u.id), '[]')
                   FROM postmortem_authors a JOIN users u ON u.id = a.user_id
                   WHERE a.postmortem_id = p.id) AS "authors!: Json<Vec<Person>>",
                  (SELECT COALESCE(json_agg(json_build_object('id', u.id, 'display_name', u.display_name,
                                                              'decision', d.decision, 'note', d.note)
                                            ORDER BY lower(u.display_name), u.id), '[]')
                   FROM postmortem_reviewers r JOIN users u ON u.id = r.user_id
                   LEFT JOIN reviewer_decisions d ON d.postmortem_id = r.postmortem_id AND d.reviewer_id = r.user_id
                   WHERE r.postmortem_id = p.id) AS "reviewers!: Json<Vec<Person>>",
                  CASE WHEN $2 THEN
                    (SELECT s.xmin::text FROM search_entries s WHERE s.postmortem_id = p.id)
                  END AS "content_stamp",
                  CASE WHEN $2 THEN (SELECT value FROM epochs WHERE name = 'access') END AS "access_epoch",
                  CASE WHEN $2 THEN directory.value::text END AS "directory_stamp",
                  CASE WHEN $2 THEN COALESCE(ds.stamp, 0) END AS "discussion_stamp",
                  CASE WHEN $2 THEN
                    (SELECT COALESCE(json_agg(json_build_object(
                               'number', o.number, 'title', o.title, 'severity', o.severity, 'kind', l.kind,
                               'incoming', l.other_id = i.id) ORDER BY o.number), '[]')
                     FROM incident_links l
                     JOIN incidents o ON o.id = CASE WHEN l.incident_id = i.id THEN l.other_id ELSE l.incident_id END
                     JOIN postmortems op ON op.incident_id = o.id
                     WHERE (l.incident_id = i.id OR l.other_id = i.id)
                       AND ((op.status = 'published' AND NOT op.restricted) OR $3 OR may_read(op.id, $4)))
                  END AS "links: Json<Vec<LinkedIncident>>",
                  CASE WHEN $2 AND (COALESCE(ds.stamp, 0), directory.value::text) IS DISTINCT FROM ($6::bigint, $7::text) THEN
                    (SELECT COALESCE(json_agg(json_build_object(
                               'id', c.id, 'parent_id', c.parent_id, 'author_id', c.author_id,
                               'author', cu.display_name, 'section', c.section, 'quote', c.quote,
                               'body', c.body, 'created_at', c.created_at, 'edited_at', c.edited_at,
                               'resolved_at', c.resolved_at, 'resolved_by', rb.display_name,
                               'version', c.version) ORDER BY c.created_at, c.id), '[]')
                     FROM comments c JOIN users cu ON cu.id = c.author_id
                     LEFT JOIN users rb ON rb.id = c.resolved_by
                     WHERE c.postmortem_id = p.id)
                  END AS "comments: Json<Vec<Comment>>",
                  CASE WHEN $2 AND (COALESCE(ds.stamp, 0), directory.value::text) IS DISTINCT FROM ($6::bigint, $7::text) THEN
                    (SELECT COALESCE(json_agg(json_build_object(
                               'id', pa.id, 'user_id', pa.user_id, 'name', COALESCE(pa.name, pu.display_name),
                               'role', pa.role) ORDER BY pa.created_at, pa.id), '[]')
                     FROM participants pa LEFT JOIN users pu ON pu.id = pa.user_id
                     WHERE pa.postmortem_id = p.id)
                  END AS "participants: Json<Vec<Participant>>"
           FROM incidents i JOIN postmortems p ON p.incident_id = i.id
           LEFT JOIN discussion_stamps ds ON ds.postmortem_id = p.id
           LEFT JOIN epochs directory ON directory.name = 'directory'
           WHERE i.number = $1"#,
        number,
        page_for.is_some(),
        page_for.is_some_and(|reader| reader.is_admin),
        page_for.map(|reader| reader.user_id),
        viewer,
        held.map(|held| held.stamp),
        held.map(|held| held.directory.as_str())
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| {
        let incident = Incident {
            id: row.incident_id,
            number: row.number,
            title: row.title,
            kind: row.kind,
            severity: row.severity,
            services: row.services,
            tags: row.tags,
            started_at: row.started_at,
            detected_at: row.detected_at,
            mitigated_at: row.mitigated_at,
            resolved_at: row.resolved_at,
            time_zone: row.time_zone,
            version: row.incident_version,
        };
        let postmortem = Postmortem {
            id: row.id,
            incident_id: row.incident_id,
            status: row.status,
            sections: Sections {
                summary: row.summary,
                impact: row.impact,
                users_affected: row.users_affected,
                failed_requests: row.failed_requests,
                revenue_lost_cents: row.revenue_lost_cents,
                slo_budget_consumed: row.slo_budget_consumed,
                trigger: row.trigger,
                went_well: row.went_well,
                went_poorly: row.went_poorly,
                got_lucky: row.got_lucky,
                lessons: row.lessons,
                detection: row.detection,
                resolution: row.resolution,
                other_notes: row.other_notes,
            },
            published_at: row.published_at,
            updated_at: row.updated_at,
            version: row.version,
            restricted: row.restricted,
            checklist: match (row.checklist_passed, row.checklist_total) {
                (Some(passed), Some(total)) => {
                    Some((passed, total, row.checklist_failing.unwrap_or_default()))
                }
                _ => None,
            },
        };
        Found {
            incident,
            postmortem,
            authors: row.authors.0,
            reviewers: row.reviewers.0,
            on_access_list: row.on_access_list,
            stamp: page_for.map(|_| PageStamp {
                // Without a search entry (it is written in the same
                // transaction as the postmortem, so only by hand) nothing
                // is cached.
                content: row.content_stamp.unwrap_or_default(),
                directory: row.directory_stamp.unwrap_or_default(),
                access_epoch: row.access_epoch.unwrap_or_default(),
                links: row.links.map(|links| links.0).unwrap_or_default(),
                discussion: match (row.comments, row.participants, held) {
                    (Some(comments), Some(participants), _) => Arc::new(Discussion {
                        comments: comments.0,
                        participants: participants.0,
                    }),
                    // Skipped by the database: what the caller holds is current.
                    (_, _, Some(held)) => held.discussion.clone(),
                    _ => Arc::default(),
                },
                discussion_stamp: row.discussion_stamp.unwrap_or_default(),
            }),
        }
    }))
}

/// Saves the sections if the postmortem is still at `expected_version`;
/// returns the new version, or `None` when someone else saved first.
pub async fn update_sections(
    db: impl PgExecutor<'_>,
    id: Uuid,
    expected_version: i32,
    sections: &Sections,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar!(
        r#"UPDATE postmortems SET summary = $3, impact = $4, users_affected = $5, failed_requests = $6,
                  revenue_lost_cents = $7, slo_budget_consumed = $8, trigger = $9, went_well = $10,
                  went_poorly = $11, got_lucky = $12, lessons = $13, updated_at = $14, detection = $15,
                  resolution = $16, other_notes = $17, version = version + 1
           WHERE id = $1 AND version = $2
           RETURNING version"#,
        id,
        expected_version,
        sections.summary,
        sections.impact,
        sections.users_affected,
        sections.failed_requests,
        sections.revenue_lost_cents,
        sections.slo_budget_consumed,
        sections.trigger,
        sections.went_well,
        sections.went_poorly,
        sections.got_lucky,
        sections.lessons,
        now,
        sections.detection,
        sections.resolution,
        sections.other_notes
    )
    .fetch_optional(db)
    .await
}

/// Moves a postmortem from `from` to `status`; false if it was no longer at
/// `from` (someone moved it first).
pub async fn set_status(
    db: impl PgExecutor<'_>,
    id: Uuid,
    from: PostmortemStatus,
    status: PostmortemStatus,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"UPDATE postmortems SET status = $2, updated_at = $3,
                  submitted_at = CASE WHEN $2 = 'in_review'::postmortem_status THEN $3 ELSE submitted_at END,
                  published_at = CASE WHEN $2 = 'published'::postmortem_status THEN COALESCE(published_at, $3)
                                      ELSE published_at END
           WHERE id = $1 AND status = $4"#,
        id,
        status as PostmortemStatus,
        now,
        from as PostmortemStatus
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A person named on a postmortem.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Person {
    pub id: Uuid,
    pub display_name: String,
    /// For a reviewer: their decision (`approved`, `changes_requested`), if any.
    #[serde(default)]
    pub decision: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

pub async fn list_authors(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
) -> sqlx::Result<Vec<Person>> {
    sqlx::query_as!(
        Person,
        r#"SELECT u.id, u.display_name, NULL::text AS decision, NULL::text AS note
           FROM postmortem_authors a JOIN users u ON u.id = a.user_id
           WHERE a.postmortem_id = $1 ORDER BY lower(u.display_name)"#,
        postmortem_id
    )
    .fetch_all(db)
    .await
}

pub async fn add_author(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO postmortem_authors (postmortem_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        postmortem_id,
        user_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Removes an author. Callers hold [`lock_postmortem`] and keep at least one.
pub async fn remove_author(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM postmortem_authors WHERE postmortem_id = $1 AND user_id = $2",
        postmortem_id,
        user_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Locks a postmortem's row until the transaction ends, so changes to its
/// status, authors or reviewers happen one at a time.
pub async fn lock_postmortem(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!("SELECT id FROM postmortems WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(db)
        .await?;
    Ok(())
}

/// Replaces who is asked to review.
pub async fn set_reviewers(
    db: &mut PgConnection,
    postmortem_id: Uuid,
    user_ids: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM postmortem_reviewers WHERE postmortem_id = $1",
        postmortem_id
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "INSERT INTO postmortem_reviewers (postmortem_id, user_id) SELECT $1, unnest($2::uuid[])",
        postmortem_id,
        user_ids
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, serde::Deserialize)]
pub struct FactorRow {
    pub id: Uuid,
    /// Category slugs, the main one first.
    pub categories: Vec<String>,
    pub description: String,
    /// The themes it is linked to (only read for the reading page).
    #[serde(default)]
    pub themes: Vec<ThemeRef>,
    /// The slugs of themes someone said it does not belong to.
    #[serde(default)]
    pub dismissed: Vec<String>,
}

/// A theme, as a factor names it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ThemeRef {
    pub slug: String,
    pub name: String,
}

pub async fn list_factors(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
) -> sqlx::Result<Vec<FactorRow>> {
    let rows = sqlx::query!(
        "SELECT id, categories, description
         FROM contributing_factors WHERE postmortem_id = $1 ORDER BY position, id",
        postmortem_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| FactorRow {
            id: row.id,
            categories: row.categories,
            description: row.description,
            themes: Vec::new(),
            dismissed: Vec::new(),
        })
        .collect())
}

/// Saves the factor list as edited: rows with an id are updated (so action
/// items that answer them stay linked), new rows inserted, missing deleted.
pub async fn save_factors(
    db: &mut PgConnection,
    postmortem_id: Uuid,
    factors: &[FactorRow],
) -> sqlx::Result<()> {
    let kept: Vec<Uuid> = factors.iter().map(|factor| factor.id).collect();
    sqlx::query!(
        "DELETE FROM contributing_factors WHERE postmortem_id = $1 AND NOT (id = ANY ($2))",
        postmortem_id,
        &kept
    )
    .execute(&mut *db)
    .await?;
    for (position, factor) in factors.iter().enumerate() {
        sqlx::query!(
            "INSERT INTO contributing_factors (id, postmortem_id, position, categories, description)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET position = $3, categories = $4, description = $5
             WHERE contributing_factors.postmortem_id = $2",
            factor.id,
            postmortem_id,
            position as i32,
            &factor.categories,
            factor.description
        )
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

/// A postmortem that needs something from one person.
#[derive(Clone, Debug)]
pub struct WaitingPostmortem {
    pub number: i32,
    pub title: String,
    pub status: PostmortemStatus,
    /// True when the person is asked to review it, false when they author it.
    pub as_reviewer: bool,
}

/// Drafts and reviews a person authors, and reviews they are asked for.
pub async fn list_waiting_for(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<WaitingPostmortem>> {
    sqlx::query_as!(
        WaitingPostmortem,
        r#"SELECT i.number, i.title, p.status AS "status: PostmortemStatus",
                  EXISTS (SELECT 1 FROM postmortem_reviewers r WHERE r.postmortem_id = p.id AND r.user_id = $1)
                      AND p.status = 'in_review' AS "as_reviewer!"
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id
           WHERE p.status <> 'published'
             AND (EXISTS (SELECT 1 FROM postmortem_authors a WHERE a.postmortem_id = p.id AND a.user_id = $1)
                  OR (p.status = 'in_review'
                      AND EXISTS (SELECT 1 FROM postmortem_reviewers r WHERE r.postmortem_id = p.id AND r.user_id = $1)))
           ORDER BY p.updated_at DESC LIMIT $2"#,
        user_id,
        limit
    )
    .fetch_all(db)
    .await
}

/// What the reading page shows beside the sections and links. It changes
/// only when the postmortem does, so the page caches it by [`PageStamp`].
#[derive(Clone)]
pub struct PageParts {
    pub teams: Vec<TeamRef>,
    pub factors: Vec<FactorRow>,
    pub entries: Vec<TimelineEntry>,
    pub items: Vec<ActionItem>,
    pub attachments: Vec<AttachmentInfo>,
    pub imported_from: Option<ImportedFrom>,
    /// Every team, for the access form (cached with the parts: the
    /// directory stamp covers team names).
    pub all_teams: Vec<TeamRef>,
    /// The factor categories, to name the factors' (covered by the
    /// directory stamp, as are theme names).
    pub taxonomy: Taxonomy,
}

/// What says whether cached [`PageParts`] are current, read with what the
/// reading page shows fresh every time.
#[derive(Clone, Debug, Default)]
pub struct PageStamp {
    /// Changes whenever the postmortem or anything in it does: every such
    /// write refreshes its search entry (by trigger, or at the end of an
    /// import), which gives that row a new transaction id (`xmin`).
    pub content: String,
    /// The directory epoch (see the `transactional_stamps` migration): it
    /// moves whenever a person's name,
    /// role or activity, a team's name, a factor category or a theme
    /// changes (the parts name owners, teams, categories and themes; the
    /// pickers list people).
    pub directory: String,
    /// Moves whenever who may read what could have changed (the access
    /// epoch): views cached per reader key on it.
    pub access_epoch: i64,
    /// Links only to incidents the reader may see, by the same rule as
    /// `incidents::push_visible_to`.
    pub links: Vec<LinkedIncident>,
    /// The review comments and the participants: as the database has them
    /// now (shared with the caller's [`HeldDiscussion`] if that was current).
    pub discussion: Arc<Discussion>,
    /// The discussion's counter (`discussion_stamps`, 0 before its first
    /// comment or participant).
    pub discussion_stamp: i64,
}

/// A postmortem's comments and participants.
#[derive(Clone, Debug, Default)]
pub struct Discussion {
    pub comments: Vec<Comment>,
    pub participants: Vec<Participant>,
}

/// A discussion the caller already holds, read at `stamp` and `directory`:
/// while both are current the database does not send it again.
#[derive(Clone, Debug)]
pub struct HeldDiscussion {
    pub stamp: i64,
    pub directory: String,
    pub discussion: Arc<Discussion>,
}

/// The reading page's parts, in one round trip.
pub async fn load_page_parts(
    db: impl PgExecutor<'_>,
    incident_id: Uuid,
    postmortem_id: Uuid,
) -> sqlx::Result<PageParts> {
    let row = sqlx::query!(
        r#"SELECT
             (SELECT COALESCE(json_agg(json_build_object('id', t.id, 'name', t.name) ORDER BY lower(t.name)), '[]')
              FROM incident_teams it JOIN teams t ON t.id = it.team_id WHERE it.incident_id = $1)
              AS "teams!: Json<Vec<TeamRef>>",
             (SELECT COALESCE(json_agg(json_build_object('id', f.id, 'categories', f.categories,
                                                         'description', f.description,
                                                         'themes', (SELECT COALESCE(json_agg(json_build_object('slug', t.slug, 'name', t.name)
                                                                                             ORDER BY lower(t.name)), '[]')
                                                                    FROM theme_factors tf JOIN themes t ON t.id = tf.theme_id
                                                                    WHERE tf.factor_id = f.id AND tf.state = 'linked'),
                                                         'dismissed', (SELECT COALESCE(json_agg(t.slug), '[]')
                                                                       FROM theme_factors tf JOIN themes t ON t.id = tf.theme_id
                                                                       WHERE tf.factor_id = f.id AND tf.state = 'dismissed'))
                                       ORDER BY f.position, f.id), '[]')
              FROM contributing_factors f WHERE f.postmortem_id = $2) AS "factors!: Json<Vec<FactorRow>>",
             (SELECT COALESCE(json_agg(json_build_object('id', e.id, 'occurred_at', e.occurred_at, 'kind', e.kind,
                                                         'speaker', e.speaker, 'text', e.text, 'source', e.source,
                                                         'link', e.link, 'version', e.version, 'written_at', e.written_at,
                                                         'time_unknown', e.time_unknown)
                                       ORDER BY e.occurred_at, e.created_at, e.id), '[]')
              FROM timeline_entries e WHERE e.postmortem_id = $2 AND e.removed_at IS NULL) AS "entries!: Json<Vec<TimelineEntry>>",
             (SELECT COALESCE(json_agg(json_build_object(
                        'id', ai.id, 'postmortem_id', ai.postmortem_id, 'incident_number', i.number,
                        'incident_title', i.title, 'title', ai.title, 'description', ai.description,
                        'kind', ai.kind, 'priority', ai.priority, 'owner_id', ai.owner_id,
                        'owner_name', COALESCE(u.display_name, ai.owner_name), 'team_id', ai.team_id, 'team_name', t.name,
                        'due_on', ai.due_on, 'tracker_url', ai.tracker_url, 'status', ai.status,
                        'factor_id', ai.factor_id, 'closing_reason', ai.closing_reason, 'version', ai.version)
                      ORDER BY ai.priority, ai.due_on NULLS LAST, ai.created_at, ai.id), '[]')
              FROM action_items ai JOIN incidents i ON i.id = $1
              LEFT JOIN users u ON u.id = ai.owner_id LEFT JOIN teams t ON t.id = ai.team_id
              WHERE ai.postmortem_id = $2) AS "items!: Json<Vec<ActionItem>>",
             (SELECT COALESCE(json_agg(json_build_object('id', a.id, 'timeline_entry_id', a.timeline_entry_id,
                                                         'file_name', a.file_name, 'content_type', a.content_type,
                                                         'byte_size', a.byte_size) ORDER BY a.created_at, a.id), '[]')
              FROM attachments a WHERE a.postmortem_id = $2 AND a.removed_at IS NULL) AS "attachments!: Json<Vec<AttachmentInfo>>",
             (SELECT json_build_object('file', imported_from, 'url', source_url, 'report', import_report)
              FROM incidents WHERE id = $1 AND imported_from IS NOT NULL)
              AS "imported_from: Json<ImportedFrom>",
             (SELECT COALESCE(json_agg(json_build_object('id', t.id, 'name', t.name) ORDER BY lower(t.name), t.id), '[]')
              FROM teams t) AS "all_teams!: Json<Vec<TeamRef>>",
             (SELECT COALESCE(json_agg(json_build_object('id', c.id, 'slug', c.slug, 'name', c.name,
                                                         'description', c.description, 'retired', c.retired_at IS NOT NULL,
                                                         'merged_into', m.slug)), '[]')
              FROM factor_categories c LEFT JOIN factor_categories m ON m.id = c.merged_into)
              AS "taxonomy!: Json<Taxonomy>""#,
        incident_id,
        postmortem_id
    )
    .fetch_one(db)
    .await?;
    Ok(PageParts {
        teams: row.teams.0,
        factors: row.factors.0,
        entries: row.entries.0,
        items: row.items.0,
        attachments: row.attachments.0,
        imported_from: row.imported_from.map(|found| found.0),
        all_teams: row.all_teams.0,
        taxonomy: row.taxonomy.0,
    })
}

/// A reviewer's decision on a postmortem in review.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approved,
    ChangesRequested,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::ChangesRequested => "changes_requested",
        }
    }
}

/// Records `reviewer_id`'s decision, replacing an earlier one.
pub async fn decide(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    reviewer_id: Uuid,
    decision: Decision,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO reviewer_decisions (postmortem_id, reviewer_id, decision, note, decided_at)
         VALUES ($1, $2, $3::text::reviewer_decision, $4, $5)
         ON CONFLICT (postmortem_id, reviewer_id)
         DO UPDATE SET decision = EXCLUDED.decision, note = EXCLUDED.note, decided_at = EXCLUDED.decided_at",
        postmortem_id,
        reviewer_id,
        decision.as_str(),
        note,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets the current decisions (when the postmortem goes back to draft;
/// the revisions keep them).
pub async fn clear_decisions(db: impl PgExecutor<'_>, postmortem_id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM reviewer_decisions WHERE postmortem_id = $1",
        postmortem_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether `user_id` may read the postmortem (the database's `may_read`
/// rule: admins, its authors and reviewers, and anyone once it is
/// published, unless it is restricted to others).
pub async fn may_read(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT may_read($1, $2) AS "ok!""#,
        postmortem_id,
        user_id
    )
    .fetch_one(db)
    .await
}
