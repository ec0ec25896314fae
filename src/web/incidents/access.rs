//! Restricting a postmortem to named teams and people (a security incident,
//! say), and opening it again. Authors, reviewers and admins always read
//! it; to everyone else a restricted postmortem does not exist.

use axum::{
    Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use axum_extra::extract::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::{Editable, record_revision};
use crate::{
    store::{self, audit::AuditEvent},
    web::{AppError, AppState, session::CurrentUser},
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/incidents/{number}/access", post(change))
}

#[derive(Deserialize)]
struct AccessForm {
    /// "yes" to restrict; absent to open to everyone.
    #[serde(default)]
    restricted: String,
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default)]
    people: Vec<String>,
}

async fn change(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    Form(form): Form<AccessForm>,
) -> Result<Response, AppError> {
    let restricted = form.restricted == "yes";
    let (teams, people) = tokio::try_join!(
        store::teams::list_team_options(&state.db),
        store::users::list_active_people(&state.db),
    )?;
    let picked = |raw: &[String]| -> Vec<Uuid> {
        raw.iter()
            .filter_map(|raw| Uuid::parse_str(raw.trim()).ok())
            .collect()
    };
    let team_ids: Vec<Uuid> = picked(&form.teams)
        .into_iter()
        .filter(|id| teams.iter().any(|team| team.id == *id))
        .collect();
    let user_ids: Vec<Uuid> = picked(&form.people)
        .into_iter()
        .filter(|id| people.iter().any(|person| person.id == *id))
        .collect();
    let names: Vec<&str> = teams
        .iter()
        .filter(|team| team_ids.contains(&team.id))
        .map(|team| team.name.as_str())
        .chain(
            people
                .iter()
                .filter(|person| user_ids.contains(&person.id))
                .map(|person| person.display_name.as_str()),
        )
        .collect();
    let summary = match (restricted, names.is_empty()) {
        (false, _) => "Opened to everyone in the organization".to_owned(),
        (true, true) => "Restricted to its authors, reviewers and admins".to_owned(),
        (true, false) => format!("Restricted to {}", names.join(", ")),
    };
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::postmortems::lock_postmortem(&mut *tx, case.postmortem.id).await?;
    store::access::replace(
        &mut tx,
        case.postmortem.id,
        restricted,
        &user_ids,
        &team_ids,
    )
    .await?;
    record_revision(&mut tx, &case, &user, &summary, now).await?;
    let event = AuditEvent::new(user.id, "access_changed").detail(serde_json::json!({
        "incident": case.incident.number,
        "restricted": restricted,
        "teams": team_ids,
        "people": user_ids,
    }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}#access", case.path())).into_response())
}
