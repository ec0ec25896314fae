//! Incidents and their postmortems: the list, the reading page, the
//! authoring pages, the timeline, workflow, history and exports.

mod edit;
mod export;
mod form;
mod history;
mod list;
mod show;
mod timeline;
mod views;
mod workflow;

use axum::Router;
use chrono_tz::Tz;
use sqlx::PgConnection;

use super::{AppError, AppState, session::CurrentUser};
use crate::{
    domain::{
        document::{ActionLine, Document, Factor, TimelineLine},
        incident::parse_number,
        postmortem::PostmortemStatus,
        time,
    },
    store::{
        self,
        incidents::Incident,
        postmortems::{Person, Postmortem},
    },
};

pub use edit::EditorPage;
pub use views::{ItemView, item_views};

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(list::routes())
        .merge(form::routes())
        .merge(show::routes())
        .merge(edit::routes())
        .merge(timeline::routes())
        .merge(workflow::routes())
        .merge(history::routes())
        .merge(export::routes())
}

/// What the signed-in user may do with one postmortem.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    /// Change the incident, the sections, the timeline and the items.
    pub can_edit: bool,
}

/// An incident with its postmortem, loaded for a user who may read it.
pub struct Case {
    pub incident: Incident,
    pub postmortem: Postmortem,
    pub authors: Vec<Person>,
    pub reviewers: Vec<Person>,
    pub access: Access,
}

impl Case {
    /// Loads `INC-n` (or `n`). Someone who may not read it gets "not found",
    /// so drafts do not even reveal that they exist.
    pub async fn load(
        state: &AppState,
        user: &CurrentUser,
        raw_number: &str,
    ) -> Result<Case, AppError> {
        let number = parse_number(raw_number).ok_or(AppError::NotFound)?;
        let incident = store::incidents::find_by_number(&state.db, number)
            .await?
            .ok_or(AppError::NotFound)?;
        let postmortem = store::postmortems::find_for_incident(&state.db, incident.id)
            .await?
            .ok_or(AppError::NotFound)?;
        let authors = store::postmortems::list_authors(&state.db, postmortem.id).await?;
        let reviewers = store::postmortems::list_reviewers(&state.db, postmortem.id).await?;
        let is_author = authors.iter().any(|person| person.id == user.id);
        let is_reviewer = reviewers.iter().any(|person| person.id == user.id);
        let can_read = postmortem.status == PostmortemStatus::Published
            || user.is_admin()
            || is_author
            || is_reviewer;
        if !can_read {
            return Err(AppError::NotFound);
        }
        let access = Access {
            can_edit: user.can_write() && (user.is_admin() || is_author),
        };
        Ok(Case {
            incident,
            postmortem,
            authors,
            reviewers,
            access,
        })
    }

    /// Loads a case the user must be able to change.
    pub async fn load_for_edit(
        state: &AppState,
        user: &CurrentUser,
        raw_number: &str,
    ) -> Result<Case, AppError> {
        let case = Case::load(state, user, raw_number).await?;
        if !case.access.can_edit {
            let why = if user.can_write() {
                "Only this postmortem's authors and admins can change it. Ask an author to add you."
            } else {
                "Viewers can read the archive but not change it. Ask an admin for the member role."
            };
            return Err(AppError::Forbidden(why));
        }
        Ok(case)
    }

    pub fn path(&self) -> String {
        format!("/incidents/{}", self.incident.number)
    }

    pub fn zone(&self) -> Tz {
        time::parse_zone(&self.incident.time_zone).unwrap_or(Tz::UTC)
    }
}

/// The postmortem as it stands now, as one document.
pub async fn load_document(
    db: &mut PgConnection,
    incident_number: i32,
) -> Result<Document, AppError> {
    let incident = store::incidents::find_by_number(&mut *db, incident_number)
        .await?
        .ok_or(AppError::NotFound)?;
    let postmortem = store::postmortems::find_for_incident(&mut *db, incident.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let teams = store::incidents::list_teams(&mut *db, incident.id).await?;
    let authors = store::postmortems::list_authors(&mut *db, postmortem.id).await?;
    let factors = store::postmortems::list_factors(&mut *db, postmortem.id).await?;
    let entries = store::timeline::list_entries(&mut *db, postmortem.id).await?;
    let items = store::action_items::list_for_postmortem(&mut *db, postmortem.id).await?;
    Ok(Document {
        number: incident.number,
        title: incident.title,
        kind: incident.kind,
        severity: incident.severity,
        status: postmortem.status,
        services: incident.services,
        tags: incident.tags,
        teams: teams.into_iter().map(|team| team.name).collect(),
        authors: authors
            .into_iter()
            .map(|person| person.display_name)
            .collect(),
        started_at: incident.started_at,
        detected_at: incident.detected_at,
        mitigated_at: incident.mitigated_at,
        resolved_at: incident.resolved_at,
        sections: postmortem.sections,
        factors: factors
            .into_iter()
            .map(|factor| Factor {
                category: factor.category,
                description: factor.description,
            })
            .collect(),
        timeline: entries
            .into_iter()
            .map(|entry| TimelineLine {
                at: entry.occurred_at,
                kind: entry.kind,
                text: entry.text,
                source: entry.source,
                link: entry.link,
            })
            .collect(),
        action_items: items
            .into_iter()
            .map(|item| ActionLine {
                title: item.title,
                kind: item.kind,
                priority: item.priority,
                status: item.status,
                owner: item.owner_name,
                team: item.team_name,
                due_on: item.due_on,
                tracker_url: item.tracker_url,
            })
            .collect(),
    })
}

/// Keeps a revision of the postmortem as it is now, inside the caller's
/// transaction, so the change and its record land together.
pub async fn record_revision(
    db: &mut PgConnection,
    case: &Case,
    author: &CurrentUser,
    summary: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i32, AppError> {
    let document = load_document(&mut *db, case.incident.number).await?;
    let number = store::revisions::insert_revision(
        &mut *db,
        case.postmortem.id,
        author.id,
        summary,
        &document,
        now,
    )
    .await?;
    Ok(number)
}
