//! Moving a postmortem through review, its authors and reviewers, and links
//! between incidents.

use axum::{
    Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use axum_extra::extract::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::{Case, Editable, record_revision};
use crate::{
    domain::{
        incident::{LinkKind, parse_number},
        postmortem::{PostmortemStatus, can_move},
    },
    store::{self, audit::AuditEvent},
    web::{AppError, AppState, form::parse_id, session::CurrentUser},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{number}/status", post(change_status))
        .route("/incidents/{number}/people", post(change_people))
        .route("/incidents/{number}/links", post(add_link))
        .route(
            "/incidents/{number}/links/{other}/delete",
            post(remove_link),
        )
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    reviewers: Vec<String>,
    /// "yes": publish although checks of the review checklist fail.
    #[serde(default)]
    acknowledge: String,
    /// "yes": publish although review comments are unresolved.
    #[serde(default)]
    acknowledge_comments: String,
}

/// Kept with a revision published with unresolved review comments.
const UNRESOLVED_COMMENTS: &str = "unresolved-comments";

/// Who may make a move. Authors send to review; publishing needs a review,
/// so only a reviewer (or an admin) publishes; either side may send back.
fn may_move(case: &Case, user: &CurrentUser, to: PostmortemStatus) -> bool {
    let writer = user.can_write();
    let reviewer = case.access.is_reviewer || user.is_admin();
    match to {
        PostmortemStatus::InReview => writer && case.access.can_edit,
        PostmortemStatus::Published => writer && reviewer,
        PostmortemStatus::Draft => writer && (case.access.can_edit || reviewer),
    }
}

async fn change_status(
    State(state): State<AppState>,
    user: CurrentUser,
    case: Case,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    let to = PostmortemStatus::parse(&form.status)
        .ok_or(AppError::Forbidden("That is not a status."))?;
    if !may_move(&case, &user, to) {
        let why = match to {
            PostmortemStatus::Published => {
                "Publishing needs a review: a reviewer or an admin publishes."
            }
            _ => "Only this postmortem's authors, reviewers and admins can move it.",
        };
        return Err(AppError::Forbidden(why));
    }
    let from = case.postmortem.status;
    if !can_move(from, to) {
        return Err(AppError::Conflict(
            "A postmortem goes from draft to review to published, one step at a time.",
        ));
    }
    let reviewers = if to == PostmortemStatus::InReview {
        let chosen = chosen_reviewers(&state, &case, &form.reviewers).await?;
        if chosen.is_empty() && case.reviewers.is_empty() {
            user.flash_refusal(
                &state,
                "Choose at least one reviewer: publishing needs a review.",
            )
            .await?;
            return Ok(Redirect::to(&case.path()).into_response());
        }
        chosen
    } else {
        Vec::new()
    };
    let mut acknowledged = Vec::new();
    if to == PostmortemStatus::Published {
        let panel = super::saved_panel(&state, &case).await?;
        let failing: Vec<&crate::domain::checklist::Finding> =
            panel.findings.iter().filter(|f| !f.passed()).collect();
        let titles = |blocking_only: bool| {
            failing
                .iter()
                .filter(|f| !blocking_only || f.blocking)
                .map(|f| f.rule.title)
                .collect::<Vec<_>>()
                .join("; ")
        };
        if panel.blocking_failures() {
            let message = format!(
                "These checks must pass before publishing: {}.",
                titles(true)
            );
            user.flash_refusal(&state, &message).await?;
            return Ok(Redirect::to(&case.path()).into_response());
        }
        if !failing.is_empty() && form.acknowledge != "yes" {
            let message = format!(
                "Some checks of the review checklist fail ({}). To publish anyway, tick the acknowledgement; it is kept with the revision.",
                titles(false)
            );
            user.flash_refusal(&state, &message).await?;
            return Ok(Redirect::to(&case.path()).into_response());
        }
        acknowledged = failing.iter().map(|f| f.rule.id.to_owned()).collect();
        let unresolved = store::comments::count_unresolved(&state.db, case.postmortem.id).await?;
        if unresolved > 0 && form.acknowledge_comments != "yes" {
            let message = format!(
                "{unresolved} review comment{} unresolved: resolve {} or tick the acknowledgement to publish anyway.",
                if unresolved == 1 { " is" } else { "s are" },
                if unresolved == 1 { "it" } else { "them" },
            );
            user.flash_refusal(&state, &message).await?;
            return Ok(Redirect::to(&format!("{}#comments", case.path())).into_response());
        }
        if unresolved > 0 {
            acknowledged.push(UNRESOLVED_COMMENTS.to_owned());
        }
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::postmortems::lock_postmortem(&mut *tx, case.postmortem.id).await?;
    if !reviewers.is_empty() {
        store::postmortems::set_reviewers(&mut tx, case.postmortem.id, &reviewers).await?;
    }
    if !store::postmortems::set_status(&mut *tx, case.postmortem.id, from, to, now).await? {
        return Err(AppError::Conflict(
            "Someone else moved this postmortem just now. Reload the page to see where it stands.",
        ));
    }
    let summary = match to {
        PostmortemStatus::Draft => "Returned to draft",
        PostmortemStatus::InReview => "Sent to review",
        PostmortemStatus::Published => "Published",
    };
    let revision = record_revision(&mut tx, &case, &user, summary, now).await?;
    if !acknowledged.is_empty() {
        store::revisions::set_acknowledged(&mut *tx, case.postmortem.id, revision, &acknowledged)
            .await?;
    }
    let event = AuditEvent::new(user.id, "postmortem_status_changed")
        .detail(serde_json::json!({ "incident": case.incident.number, "from": from, "to": to }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    let message = match to {
        PostmortemStatus::Draft => "Back to draft.",
        PostmortemStatus::InReview => "Sent to review. Reviewers can now read the draft.",
        PostmortemStatus::Published => "Published: everyone in the organization can read it now.",
    };
    user.flash(&state, message).await?;
    Ok(Redirect::to(&case.path()).into_response())
}

/// The reviewers picked in the form: active members or admins who are not
/// authors of this postmortem.
async fn chosen_reviewers(
    state: &AppState,
    case: &Case,
    raw: &[String],
) -> Result<Vec<Uuid>, AppError> {
    let people = store::users::list_active_people(&state.db).await?;
    Ok(raw
        .iter()
        .filter_map(|raw| Uuid::parse_str(raw).ok())
        .filter(|id| {
            people
                .iter()
                .any(|person| person.id == *id && person.role.can_write())
        })
        .filter(|id| !case.authors.iter().any(|author| author.id == *id))
        .collect())
}

#[derive(Deserialize)]
struct PeopleForm {
    #[serde(default)]
    add_author: String,
    #[serde(default)]
    remove_author: String,
}

async fn change_people(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    Form(form): Form<PeopleForm>,
) -> Result<Response, AppError> {
    let people = store::users::list_active_people(&state.db).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::postmortems::lock_postmortem(&mut *tx, case.postmortem.id).await?;
    if let Ok(id) = parse_id(&form.add_author)
        && people
            .iter()
            .any(|person| person.id == id && person.role.can_write())
    {
        store::postmortems::add_author(&mut *tx, case.postmortem.id, id).await?;
    }
    if let Ok(id) = parse_id(&form.remove_author) {
        // Under the lock, so two removals cannot leave nobody.
        let authors = store::postmortems::list_authors(&mut *tx, case.postmortem.id).await?;
        if authors.len() > 1 {
            store::postmortems::remove_author(&mut *tx, case.postmortem.id, id).await?;
        }
    }
    record_revision(&mut tx, &case, &user, "Changed the authors", now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&case.path()).into_response())
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    other: String,
    #[serde(default)]
    kind: String,
}

async fn add_link(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    Form(form): Form<LinkForm>,
) -> Result<Response, AppError> {
    let kind = LinkKind::parse(&form.kind).unwrap_or(LinkKind::Related);
    let other = match parse_number(&form.other) {
        Some(other) if other != case.incident.number => {
            Case::load(&state, &user, &other.to_string()).await.ok()
        }
        _ => None,
    };
    let Some(other) = other else {
        user.flash_refusal(
            &state,
            "There is no other incident with that number that you can see.",
        )
        .await?;
        return Ok(Redirect::to(&case.path()).into_response());
    };
    let mut tx = state.db.begin().await?;
    store::incidents::insert_link(
        &mut tx,
        case.incident.id,
        other.incident.id,
        kind,
        user.id,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&case.path()).into_response())
}

async fn remove_link(
    State(state): State<AppState>,
    Editable(case): Editable,
    Path((_, other)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let other = store::incidents::find_by_number(
        &state.db,
        parse_number(&other).ok_or(AppError::NotFound)?,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    store::incidents::delete_link(&state.db, case.incident.id, other.id).await?;
    Ok(Redirect::to(&case.path()).into_response())
}
