//! Managing teams: create them, add and remove members, mark leads.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

use super::users::parse_id;
use crate::{
    domain::name,
    store::{
        self,
        audit::AuditEvent,
        teams::{Team, TeamMember, TeamSummary},
        users::User,
    },
    web::{
        AppError, AppState,
        form::FormErrors,
        layout::{Layout, Nav},
        session::{Admin, CurrentUser},
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/teams", get(list_teams).post(create_team))
        .route("/admin/teams/{id}", get(show_team))
        .route("/admin/teams/{id}/members", post(add_member))
        .route("/admin/teams/{id}/members/{user_id}/lead", post(set_lead))
        .route(
            "/admin/teams/{id}/members/{user_id}/remove",
            post(remove_member),
        )
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/teams.html")]
struct TeamsPage {
    layout: Layout,
    teams: Vec<TeamSummary>,
    team_name: String,
    errors: FormErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/team.html")]
struct TeamPage {
    layout: Layout,
    team: Team,
    members: Vec<TeamMember>,
    /// Active users who are not in the team yet, for the "add" picker.
    candidates: Vec<User>,
    errors: FormErrors,
}

async fn list_teams(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<TeamsPage, AppError> {
    Ok(TeamsPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        teams: store::teams::list_teams(&state.db).await?,
        team_name: String::new(),
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
struct TeamForm {
    #[serde(default)]
    name: String,
}

async fn create_team(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<TeamForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let now = state.clock.now();
    if let Some(name) = errors.check("name", name::parse_name(&form.name, name::TEAM_NAME_MAX)) {
        match store::teams::insert_team(&state.db, &name, now).await {
            Ok(id) => {
                record(&state, &admin, "team_created", json!({ "team": name })).await?;
                admin
                    .flash(
                        &state,
                        &format!("Team {name} created. Add its members below."),
                    )
                    .await?;
                return Ok(Redirect::to(&format!("/admin/teams/{id}")).into_response());
            }
            Err(error) if store::is_unique_violation(&error) => {
                errors.add("name", "A team with this name exists already.");
            }
            Err(error) => return Err(error.into()),
        }
    }
    let page = TeamsPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        teams: store::teams::list_teams(&state.db).await?,
        team_name: form.name,
        errors,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

async fn team_page(
    state: &AppState,
    admin: &CurrentUser,
    raw_id: &str,
    errors: FormErrors,
) -> Result<TeamPage, AppError> {
    let team = store::teams::get_team(&state.db, parse_id(raw_id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let members = store::teams::list_members(&state.db, team.id).await?;
    let candidates = store::users::list_users(&state.db)
        .await?
        .into_iter()
        .filter(|user| user.active && !members.iter().any(|member| member.user_id == user.id))
        .collect();
    Ok(TeamPage {
        layout: Layout::for_user(admin, Nav::Admin),
        team,
        members,
        candidates,
        errors,
    })
}

async fn show_team(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<TeamPage, AppError> {
    team_page(&state, &admin, &id, FormErrors::default()).await
}

#[derive(Deserialize)]
struct MemberForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    is_lead: Option<String>,
}

async fn add_member(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    Form(form): Form<MemberForm>,
) -> Result<Response, AppError> {
    let page = team_page(&state, &admin, &id, FormErrors::default()).await?;
    let chosen = parse_id(&form.user_id)
        .ok()
        .and_then(|user_id| page.candidates.iter().find(|user| user.id == user_id));
    let Some(user) = chosen else {
        let mut errors = FormErrors::default();
        errors.add("user_id", "Pick an active user who is not in the team yet.");
        let page = team_page(&state, &admin, &id, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let is_lead = form.is_lead.is_some();
    store::teams::upsert_member(&state.db, page.team.id, user.id, is_lead).await?;
    let detail = json!({ "team": page.team.name, "user": user.email, "lead": is_lead });
    record(&state, &admin, "team_member_added", detail).await?;
    admin
        .flash(
            &state,
            &format!("{} joined {}.", user.display_name, page.team.name),
        )
        .await?;
    Ok(Redirect::to(&format!("/admin/teams/{}", page.team.id)).into_response())
}

#[derive(Deserialize)]
struct LeadForm {
    #[serde(default)]
    is_lead: String,
}

async fn set_lead(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path((id, user_id)): Path<(String, String)>,
    Form(form): Form<LeadForm>,
) -> Result<Response, AppError> {
    let page = team_page(&state, &admin, &id, FormErrors::default()).await?;
    let user_id = parse_id(&user_id)?;
    let member = page
        .members
        .iter()
        .find(|member| member.user_id == user_id)
        .ok_or(AppError::NotFound)?;
    let is_lead = form.is_lead == "true";
    store::teams::upsert_member(&state.db, page.team.id, user_id, is_lead).await?;
    let detail = json!({ "team": page.team.name, "user": member.email, "lead": is_lead });
    record(&state, &admin, "team_lead_changed", detail).await?;
    let message = if is_lead {
        format!("{} now leads {}.", member.display_name, page.team.name)
    } else {
        format!(
            "{} no longer leads {}.",
            member.display_name, page.team.name
        )
    };
    admin.flash(&state, &message).await?;
    Ok(Redirect::to(&format!("/admin/teams/{}", page.team.id)).into_response())
}

async fn remove_member(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let page = team_page(&state, &admin, &id, FormErrors::default()).await?;
    let user_id = parse_id(&user_id)?;
    let member = page
        .members
        .iter()
        .find(|member| member.user_id == user_id)
        .ok_or(AppError::NotFound)?;
    store::teams::remove_member(&state.db, page.team.id, user_id).await?;
    let detail = json!({ "team": page.team.name, "user": member.email });
    record(&state, &admin, "team_member_removed", detail).await?;
    admin
        .flash(
            &state,
            &format!("{} left {}.", member.display_name, page.team.name),
        )
        .await?;
    Ok(Redirect::to(&format!("/admin/teams/{}", page.team.id)).into_response())
}

async fn record(
    state: &AppState,
    admin: &CurrentUser,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let event = AuditEvent {
        actor_id: Some(admin.id),
        action,
        target_id: None,
        detail,
    };
    store::audit::record(&state.db, event, state.clock.now()).await?;
    Ok(())
}
