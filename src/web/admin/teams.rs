//! Managing teams: create them, add and remove members, mark leads.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

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
        form::{FormErrors, parse_id},
        layout::{Layout, Nav},
        pagination::{PageQuery, Pagination},
        session::{Admin, CurrentUser},
    },
};

const PAGE_SIZE: i64 = 100;

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
    pagination: Pagination,
    team_name: String,
    errors: FormErrors,
}

impl TeamsPage {
    async fn load(
        state: &AppState,
        admin: &CurrentUser,
        query: &PageQuery,
    ) -> Result<Self, AppError> {
        let mut pagination = query.pagination(PAGE_SIZE);
        let mut teams =
            store::teams::list_teams(&state.db, pagination.limit(), pagination.offset()).await?;
        pagination.trim(&mut teams);
        Ok(TeamsPage {
            layout: Layout::for_user(admin, Nav::Admin),
            teams,
            pagination,
            team_name: String::new(),
            errors: FormErrors::default(),
        })
    }
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

impl TeamPage {
    async fn load(state: &AppState, admin: &CurrentUser, raw_id: &str) -> Result<Self, AppError> {
        let team = store::teams::get_team(&state.db, parse_id(raw_id)?)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok(TeamPage {
            layout: Layout::for_user(admin, Nav::Admin),
            members: store::teams::list_members(&state.db, team.id).await?,
            candidates: store::users::list_users_outside_team(&state.db, team.id).await?,
            team,
            errors: FormErrors::default(),
        })
    }

    fn member(&self, raw_user_id: &str) -> Result<&TeamMember, AppError> {
        let user_id = parse_id(raw_user_id)?;
        self.members
            .iter()
            .find(|member| member.user_id == user_id)
            .ok_or(AppError::NotFound)
    }

    fn back(&self) -> Response {
        Redirect::to(&format!("/admin/teams/{}", self.team.id)).into_response()
    }
}

async fn list_teams(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Query(query): Query<PageQuery>,
) -> Result<TeamsPage, AppError> {
    TeamsPage::load(&state, &admin, &query).await
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
    if let Some(name) = errors.check("name", name::parse_name(&form.name, name::TEAM_NAME_MAX)) {
        let now = state.clock.now();
        let mut tx = crate::store::begin(&state.db).await?;
        match store::teams::insert_team(&mut *tx, &name, now).await {
            Ok(id) => {
                let event =
                    AuditEvent::new(admin.id, "team_created").detail(json!({ "team": name }));
                store::audit::record(&mut *tx, event, now).await?;
                tx.commit().await?;
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
    let mut page = TeamsPage::load(&state, &admin, &PageQuery::default()).await?;
    page.team_name = form.name;
    page.errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

async fn show_team(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<TeamPage, AppError> {
    TeamPage::load(&state, &admin, &id).await
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
    let mut page = TeamPage::load(&state, &admin, &id).await?;
    let chosen = parse_id(&form.user_id)
        .ok()
        .and_then(|user_id| page.candidates.iter().find(|user| user.id == user_id));
    let Some(user) = chosen else {
        page.errors
            .add("user_id", "Pick an active user who is not in the team yet.");
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let is_lead = form.is_lead.is_some();
    let detail = json!({ "team": page.team.name, "user": user.email, "lead": is_lead });
    change_membership(
        &state,
        &admin,
        &page.team,
        user.id,
        Some(is_lead),
        "team_member_added",
        detail,
    )
    .await?;
    admin
        .flash(
            &state,
            &format!("{} joined {}.", user.display_name, page.team.name),
        )
        .await?;
    Ok(page.back())
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
    let page = TeamPage::load(&state, &admin, &id).await?;
    let member = page.member(&user_id)?;
    let is_lead = form.is_lead == "true";
    let detail = json!({ "team": page.team.name, "user": member.email, "lead": is_lead });
    change_membership(
        &state,
        &admin,
        &page.team,
        member.user_id,
        Some(is_lead),
        "team_lead_changed",
        detail,
    )
    .await?;
    let message = if is_lead {
        format!("{} now leads {}.", member.display_name, page.team.name)
    } else {
        format!(
            "{} no longer leads {}.",
            member.display_name, page.team.name
        )
    };
    admin.flash(&state, &message).await?;
    Ok(page.back())
}

async fn remove_member(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let page = TeamPage::load(&state, &admin, &id).await?;
    let member = page.member(&user_id)?;
    let detail = json!({ "team": page.team.name, "user": member.email });
    change_membership(
        &state,
        &admin,
        &page.team,
        member.user_id,
        None,
        "team_member_removed",
        detail,
    )
    .await?;
    admin
        .flash(
            &state,
            &format!("{} left {}.", member.display_name, page.team.name),
        )
        .await?;
    Ok(page.back())
}

/// Adds, re-leads (`Some(is_lead)`) or removes (`None`) a member, with its
/// audit record, in one transaction.
async fn change_membership(
    state: &AppState,
    admin: &CurrentUser,
    team: &Team,
    user_id: uuid::Uuid,
    lead: Option<bool>,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    match lead {
        Some(is_lead) => store::teams::upsert_member(&mut *tx, team.id, user_id, is_lead).await?,
        None => store::teams::remove_member(&mut *tx, team.id, user_id).await?,
    }
    let event = AuditEvent::new(admin.id, action)
        .target(user_id)
        .detail(detail);
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    Ok(())
}
