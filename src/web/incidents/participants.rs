//! Who took part in the incident and how: accounts or names, with a role
//! from the usual ones or in the author's words. Each change is a revision.

use axum::{
    Form, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{Editable, record_revision};
use crate::{
    store::{self, audit::AuditEvent, participants::Who},
    web::{AppError, AppState, session::CurrentUser},
};

/// The roles offered; any other is typed.
pub const ROLES: &[&str] = &[
    "Incident commander",
    "Communications",
    "Responder",
    "Subject expert",
    "Scribe",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{number}/participants", post(add))
        .route("/incidents/{number}/participants/{id}/remove", post(remove))
}

#[derive(Deserialize)]
struct ParticipantForm {
    /// An account's id, or empty for a name.
    #[serde(default)]
    user: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    /// The role in the author's words, when `role` is "other".
    #[serde(default)]
    other_role: String,
}

async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    Form(form): Form<ParticipantForm>,
) -> Result<Response, AppError> {
    let back = format!("{}#participants", case.path());
    let role = if form.role == "other" {
        form.other_role.trim().to_owned()
    } else {
        form.role.trim().to_owned()
    };
    let name = form.name.split_whitespace().collect::<Vec<_>>().join(" ");
    let account = Uuid::parse_str(form.user.trim()).ok();
    let problem = if role.is_empty() || role.chars().count() > 60 {
        Some("Give the role in up to 60 characters, such as “Incident commander”.")
    } else if account.is_none() && name.is_empty() {
        Some("Pick a person, or type the name of someone without an account.")
    } else if name.chars().count() > 120 {
        Some("Keep a name under 120 characters.")
    } else {
        None
    };
    if let Some(problem) = problem {
        return refused(&state, &user, case, form, problem).await;
    }
    let people = store::users::list_active_people(&state.db).await?;
    let (who, shown) = match account.and_then(|id| people.iter().find(|p| p.id == id)) {
        Some(person) => (Who::User(person.id), person.display_name.clone()),
        None if account.is_some() => {
            let problem = "That person has no active account; type their name instead.";
            return refused(&state, &user, case, form, problem).await;
        }
        None => (Who::Name(&name), name.clone()),
    };
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::postmortems::lock_postmortem(&mut *tx, case.postmortem.id).await?;
    store::participants::insert(&mut *tx, case.postmortem.id, who, &role, now).await?;
    let summary = format!("{shown} added as {role}");
    record_revision(&mut tx, &case, &user, &summary, now).await?;
    let event = AuditEvent::new(user.id, "participant_added")
        .detail(serde_json::json!({ "incident": case.incident.number, "role": role }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&back).into_response())
}

/// What was typed into the participant form, back in it with its problem.
#[derive(Clone, Debug, Default)]
pub struct ParticipantDraft {
    pub user: String,
    pub name: String,
    pub role: String,
    pub other_role: String,
    pub problem: String,
}

/// The reading page again, the participant form filled as it was sent.
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    case: super::Case,
    form: ParticipantForm,
    problem: &str,
) -> Result<Response, AppError> {
    let number = case.incident.number.to_string();
    let (case, stamp) = super::Case::load_for_page(state, user, &number).await?;
    let mut page = super::show::PostmortemPage::load(state, user, case, &stamp).await?;
    page.participant_draft = Some(ParticipantDraft {
        user: form.user,
        name: form.name,
        role: form.role,
        other_role: form.other_role,
        problem: problem.to_owned(),
    });
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

async fn remove(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    Path((_, raw_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let back = format!("{}#participants", case.path());
    let id = Uuid::parse_str(&raw_id).map_err(|_| AppError::NotFound)?;
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::postmortems::lock_postmortem(&mut *tx, case.postmortem.id).await?;
    let Some(name) = store::participants::remove(&mut *tx, case.postmortem.id, id).await? else {
        user.flash_refusal(&state, "That participant was removed already.")
            .await?;
        return Ok(Redirect::to(&back).into_response());
    };
    let summary = format!("{name} removed from the participants");
    record_revision(&mut tx, &case, &user, &summary, now).await?;
    let event = AuditEvent::new(user.id, "participant_removed")
        .detail(serde_json::json!({ "incident": case.incident.number }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&back).into_response())
}
