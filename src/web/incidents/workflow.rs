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
    store::{self, audit::AuditEvent, postmortems::Decision},
    web::{AppError, AppState, form::parse_id, notify, session::CurrentUser},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{number}/status", post(change_status))
        .route("/incidents/{number}/review", post(decide))
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

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// A reviewer approves, or asks for changes with a note saying which; the
/// decision shows beside their name and is kept as a revision.
async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    case: Case,
    Form(form): Form<DecisionForm>,
) -> Result<Response, AppError> {
    if !(user.can_write() && case.access.is_reviewer) {
        return Err(AppError::Forbidden(
            "Only this postmortem's reviewers approve it or ask for changes.",
        ));
    }
    if case.postmortem.status != PostmortemStatus::InReview {
        user.flash_refusal(
            &state,
            "Decisions are taken while a postmortem is in review.",
        )
        .await?;
        return Ok(Redirect::to(&case.path()).into_response());
    }
    let note = form.note.trim();
    let decision = match form.decision.as_str() {
        "approve" => Decision::Approved,
        "request_changes" => Decision::ChangesRequested,
        _ => return Err(AppError::Forbidden("That is not a decision.")),
    };
    if decision == Decision::ChangesRequested && note.is_empty() {
        user.flash_refusal(
            &state,
            "Say which changes you ask for: the note goes to the authors.",
        )
        .await?;
        return Ok(Redirect::to(&format!("{}#review", case.path())).into_response());
    }
    if note.chars().count() > 2000 {
        user.flash_refusal(
            &state,
            "Keep the note under 2,000 characters; longer thoughts fit in a comment.",
        )
        .await?;
        return Ok(Redirect::to(&format!("{}#review", case.path())).into_response());
    }
    let note = Some(note).filter(|note| !note.is_empty());
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::postmortems::lock_postmortem(&mut *tx, case.postmortem.id).await?;
    store::postmortems::decide(&mut *tx, case.postmortem.id, user.id, decision, note, now).await?;
    let said = match (decision, note) {
        (Decision::Approved, None) => format!("Approved by {}", user.display_name),
        (Decision::Approved, Some(note)) => format!("Approved by {}: {note}", user.display_name),
        (Decision::ChangesRequested, note) => format!(
            "Changes requested by {}: {}",
            user.display_name,
            note.unwrap_or_default()
        ),
    };
    let revision = record_revision(&mut tx, &case, &user, &said, now).await?;
    if decision == Decision::ChangesRequested {
        let note = note.unwrap_or_default();
        notify::changes_requested(&mut tx, &case, &user, note, revision, now).await?;
    }
    let event = AuditEvent::new(user.id, "review_decision").detail(
        serde_json::json!({ "incident": case.incident.number, "decision": decision.as_str() }),
    );
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    let message = match decision {
        Decision::Approved => "Approved. Publishing needs the approvals the settings ask for.",
        Decision::ChangesRequested => {
            "Changes requested: the authors see your note beside your name."
        }
    };
    user.flash(&state, message).await?;
    Ok(Redirect::to(&format!("{}#review", case.path())).into_response())
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
        // A reviewer publishing approves; the others' decisions count as
        // they stand.
        let others = case.reviewers.iter().filter(|r| r.id != user.id);
        let approvals = others
            .clone()
            .filter(|r| r.decision.as_deref() == Some("approved"))
            .count() as i64
            + i64::from(case.access.is_reviewer);
        let asking: Vec<&str> = others
            .filter(|r| r.decision.as_deref() == Some("changes_requested"))
            .map(|r| r.display_name.as_str())
            .collect();
        let needed = state.config.required_approvals;
        if !asking.is_empty() || approvals < needed {
            let message = if asking.is_empty() {
                format!(
                    "Publishing needs {needed} approval{}; it has {approvals}. The other reviewers approve on this page.",
                    if needed == 1 { "" } else { "s" }
                )
            } else {
                format!(
                    "{} asked for changes: publishing waits until they approve.",
                    asking.join(", ")
                )
            };
            user.flash_refusal(&state, &message).await?;
            return Ok(Redirect::to(&case.path()).into_response());
        }
    }
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::postmortems::lock_postmortem(&mut *tx, case.postmortem.id).await?;
    if !reviewers.is_empty() {
        store::postmortems::set_reviewers(&mut tx, case.postmortem.id, &reviewers).await?;
    }
    if to == PostmortemStatus::Published && case.access.is_reviewer {
        store::postmortems::decide(
            &mut *tx,
            case.postmortem.id,
            user.id,
            Decision::Approved,
            None,
            now,
        )
        .await?;
    }
    if to == PostmortemStatus::Draft {
        store::postmortems::clear_decisions(&mut *tx, case.postmortem.id).await?;
    }
    if !store::postmortems::set_status(&mut *tx, case.postmortem.id, from, to, now).await? {
        return Err(AppError::Conflict(
            "Someone else moved this postmortem just now. Reload the page to see where it stands.",
        ));
    }
    let summary = match to {
        PostmortemStatus::Draft => "Returned to draft".to_owned(),
        PostmortemStatus::InReview => "Sent to review".to_owned(),
        PostmortemStatus::Published if case.access.is_reviewer => {
            format!("Approved by {} and published", user.display_name)
        }
        PostmortemStatus::Published => "Published".to_owned(),
    };
    let revision = record_revision(&mut tx, &case, &user, &summary, now).await?;
    match to {
        PostmortemStatus::InReview => {
            let asked: Vec<Uuid> = if reviewers.is_empty() {
                case.reviewers.iter().map(|person| person.id).collect()
            } else {
                reviewers.clone()
            };
            notify::review_requested(&mut tx, &case, &user, &asked, revision, now).await?;
        }
        PostmortemStatus::Published => notify::published(&mut tx, &case, &user, now).await?,
        PostmortemStatus::Draft => {}
    }
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
    let mut tx = crate::store::begin(&state.db).await?;
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
    let mut tx = crate::store::begin(&state.db).await?;
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
