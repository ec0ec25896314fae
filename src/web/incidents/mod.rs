//! Incidents and their postmortems: the list, the reading page, the
//! authoring pages, the timeline, workflow, history and exports.

mod access;
mod attachments;
mod comments;
mod editor;
mod export;
mod form;
mod history;
mod list;
mod participants;
pub(super) mod show;
mod views;
mod workflow;

use std::sync::Arc;

use axum::{
    Router,
    extract::{FromRequestParts, RawPathParams},
    http::request::Parts,
};
use chrono_tz::Tz;
use sqlx::PgConnection;

use super::{AppError, AppState, session::CurrentUser};
use crate::{
    domain::{incident::parse_number, postmortem::PostmortemStatus, time},
    store::{
        self,
        incidents::Incident,
        postmortems::{Person, Postmortem},
    },
};

pub use comments::{Posting, Refusal, post_comment};
pub use editor::saved_panel;
pub use form::{IncidentForm, create};
pub use views::{ItemView, item_views};

pub fn routes(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .merge(access::routes())
        .merge(attachments::routes(max_upload_bytes))
        .merge(comments::routes())
        .merge(editor::routes(max_upload_bytes))
        .merge(list::routes())
        .merge(participants::routes())
        .merge(form::routes())
        .merge(show::routes())
        .merge(workflow::routes())
        .merge(history::routes())
        .merge(export::routes())
}

/// Why a viewer's attempt to change something is refused.
pub const VIEWERS_READ_ONLY: &str =
    "Viewers can read the archive but not change it. Ask an admin for the member role.";

/// What the signed-in user may do with one postmortem.
#[derive(Clone, Copy, Debug)]
pub struct Access {
    /// Asked to review: may read the draft, publish it or send it back.
    pub is_reviewer: bool,
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
    /// Days after resolution by which the review is due (the setting).
    pub review_due_days: i64,
}

impl Case {
    /// Loads `INC-n` (or `n`). Someone who may not read it gets "not found",
    /// so drafts do not even reveal that they exist.
    pub async fn load(
        state: &AppState,
        user: &CurrentUser,
        raw_number: &str,
    ) -> Result<Case, AppError> {
        Ok(Case::find(state, user, raw_number, false).await?.0)
    }

    /// Loads `INC-n` with what its reading page shows fresh on every view
    /// (the links this user may see) and the stamps of its cached parts, in
    /// the same round trip.
    pub async fn load_for_page(
        state: &AppState,
        user: &CurrentUser,
        raw_number: &str,
    ) -> Result<(Case, store::postmortems::PageStamp), AppError> {
        let (case, stamp) = Case::find(state, user, raw_number, true).await?;
        Ok((case, stamp.unwrap_or_default()))
    }

    async fn find(
        state: &AppState,
        user: &CurrentUser,
        raw_number: &str,
        with_page: bool,
    ) -> Result<(Case, Option<store::postmortems::PageStamp>), AppError> {
        let number = parse_number(raw_number).ok_or(AppError::NotFound)?;
        let page_for = with_page.then(|| user.reader());
        let held = with_page
            .then(|| state.caches.discussions.get(&number))
            .flatten();
        let store::postmortems::Found {
            incident,
            postmortem,
            authors,
            reviewers,
            on_access_list,
            stamp,
        } = store::postmortems::find_by_number(
            &state.db,
            number,
            Some(user.id),
            page_for,
            held.as_deref(),
        )
        .await?
        .ok_or(AppError::NotFound)?;
        let is_author = authors.iter().any(|person| person.id == user.id);
        let is_reviewer = reviewers.iter().any(|person| person.id == user.id);
        let open_to_all = postmortem.status == PostmortemStatus::Published
            && (!postmortem.restricted || on_access_list);
        let can_read = open_to_all || user.is_admin() || is_author || is_reviewer;
        if !can_read {
            return Err(AppError::NotFound);
        }
        let access = Access {
            is_reviewer,
            can_edit: user.can_write() && (user.is_admin() || is_author),
        };
        let case = Case {
            incident,
            postmortem,
            authors,
            reviewers,
            access,
            review_due_days: state.config.review_due_days,
        };
        if let Some(stamp) = &stamp
            && held
                .as_ref()
                .is_none_or(|held| !Arc::ptr_eq(&held.discussion, &stamp.discussion))
        {
            // Sent afresh: kept for the next view to hold.
            state.caches.discussions.insert(
                number,
                store::postmortems::HeldDiscussion {
                    stamp: stamp.discussion_stamp,
                    directory: stamp.directory.clone(),
                    discussion: stamp.discussion.clone(),
                },
            );
        }
        Ok((case, stamp))
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
                VIEWERS_READ_ONLY
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

/// The `{number}` of the request's path.
async fn path_number(parts: &mut Parts, state: &AppState) -> Result<String, AppError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| AppError::NotFound)?;
    params
        .iter()
        .find(|(name, _)| *name == "number")
        .map(|(_, value)| value.to_owned())
        .ok_or(AppError::NotFound)
}

/// Extracts the case of the path's `{number}` for a user who may read it.
impl FromRequestParts<AppState> for Case {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Case, AppError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let number = path_number(parts, state).await?;
        Case::load(state, &user, &number).await
    }
}

/// The case of the path's `{number}` with its reading page's stamp.
pub struct ForReading(pub Case, pub store::postmortems::PageStamp);

impl FromRequestParts<AppState> for ForReading {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<ForReading, AppError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let number = path_number(parts, state).await?;
        let (case, stamp) = Case::load_for_page(state, &user, &number).await?;
        Ok(ForReading(case, stamp))
    }
}

/// The case of the path's `{number}`, for a user who may change it.
pub struct Editable(pub Case);

impl FromRequestParts<AppState> for Editable {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Editable, AppError> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let number = path_number(parts, state).await?;
        Case::load_for_edit(state, &user, &number)
            .await
            .map(Editable)
    }
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
    record_revision_of(
        db,
        (case.postmortem.id, case.incident.number),
        author,
        summary,
        case.review_due_days,
        now,
    )
    .await
}

/// [`record_revision`] for a postmortem known by its ids (one just created).
pub async fn record_revision_of(
    db: &mut PgConnection,
    (postmortem_id, incident_number): (uuid::Uuid, i32),
    author: &CurrentUser,
    summary: &str,
    review_due_days: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i32, AppError> {
    let change = store::revisions::Change {
        postmortem_id,
        incident_number,
        author_id: Some(author.id),
        summary,
        at: now,
    };
    Ok(store::revisions::record(db, &change, review_due_days, now).await?)
}
