//! One user: change their role, deactivate or reactivate them, and issue a
//! new invite or password reset link.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    accounts::{self, IssuedLink},
    domain::role::Role,
    store::{self, audit::AuditEvent, users::User},
    web::{
        AppError, AppState,
        form::parse_id,
        layout::{Layout, Nav},
        session::{Admin, CurrentUser},
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users/{id}", get(show_user))
        .route("/admin/users/{id}/role", post(change_role))
        .route("/admin/users/{id}/deactivate", post(deactivate))
        .route("/admin/users/{id}/reactivate", post(reactivate))
        .route("/admin/users/{id}/link", post(issue_link))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user.html")]
struct UserPage {
    layout: Layout,
    user: User,
    teams: Vec<String>,
    is_self: bool,
}

/// A freshly made one-time link, shown to the admin once.
#[derive(Template, WebTemplate)]
#[template(path = "admin/link.html")]
pub struct LinkPage {
    layout: Layout,
    user: User,
    link: IssuedLink,
}

impl LinkPage {
    pub fn new(admin: &CurrentUser, user: User, link: IssuedLink) -> LinkPage {
        LinkPage {
            layout: Layout::for_user(admin, Nav::Admin),
            user,
            link,
        }
    }
}

async fn load_user(state: &AppState, raw_id: &str) -> Result<User, AppError> {
    store::users::get_user(&state.db, parse_id(raw_id)?)
        .await?
        .ok_or(AppError::NotFound)
}

fn back_to(user: &User) -> Response {
    Redirect::to(&format!("/admin/users/{}", user.id)).into_response()
}

async fn show_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<UserPage, AppError> {
    let user = load_user(&state, &id).await?;
    Ok(UserPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        teams: store::teams::list_user_teams(&state.db, user.id).await?,
        is_self: user.id == admin.id,
        user,
    })
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

async fn change_role(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    let user = load_user(&state, &id).await?;
    refuse_self(&admin, &user)?;
    let role =
        Role::parse(&form.role).ok_or(AppError::Forbidden("That is not a role Debrief knows."))?;
    if role == user.role {
        return Ok(back_to(&user));
    }
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    keep_an_admin(&mut tx, &user).await?;
    store::users::update_role(&mut *tx, user.id, role, now).await?;
    // A changed role takes effect at once: the user signs in again.
    store::sessions::delete_user_sessions(&mut *tx, user.id).await?;
    let event = AuditEvent::new(admin.id, "role_changed")
        .target(user.id)
        .detail(json!({ "from": user.role, "to": role }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    let message = format!(
        "{} is now {}.",
        user.display_name,
        role.label().to_lowercase()
    );
    admin.flash(&state, &message).await?;
    Ok(back_to(&user))
}

async fn deactivate(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let user = load_user(&state, &id).await?;
    refuse_self(&admin, &user)?;
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    keep_an_admin(&mut tx, &user).await?;
    store::users::set_active(&mut *tx, user.id, false, now).await?;
    // Gone at once: every session, and every link that could start one.
    store::sessions::delete_user_sessions(&mut *tx, user.id).await?;
    store::links::delete_user_links(&mut *tx, user.id).await?;
    let event = AuditEvent::new(admin.id, "user_deactivated").target(user.id);
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    let message = format!(
        "{} is deactivated and was signed out everywhere.",
        user.display_name
    );
    admin.flash(&state, &message).await?;
    Ok(back_to(&user))
}

async fn reactivate(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let user = load_user(&state, &id).await?;
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::users::set_active(&mut *tx, user.id, true, now).await?;
    let event = AuditEvent::new(admin.id, "user_reactivated").target(user.id);
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    admin
        .flash(&state, &format!("{} can sign in again.", user.display_name))
        .await?;
    Ok(back_to(&user))
}

async fn issue_link(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let user = load_user(&state, &id).await?;
    if !user.active {
        return Err(AppError::Forbidden(
            "Reactivate this user before sending them a link.",
        ));
    }
    let now = state.clock.now();
    let base_url = state.config.public_base_url();
    let mut tx = crate::store::begin(&state.db).await?;
    let link = accounts::issue_password_link(
        &mut tx,
        user.id,
        !user.has_password,
        Some(admin.id),
        &base_url,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(LinkPage::new(&admin, user, link).into_response())
}

/// Admins cannot demote or deactivate themselves, so there is always an admin.
fn refuse_self(admin: &CurrentUser, user: &User) -> Result<(), AppError> {
    if admin.id == user.id {
        return Err(AppError::Forbidden(
            "You cannot change your own role or deactivate yourself; ask another admin.",
        ));
    }
    Ok(())
}

/// Refuses to take away the last active admin, even when two admins act on
/// each other at the same moment (the other admins' rows stay locked until
/// the transaction ends).
async fn keep_an_admin(tx: &mut sqlx::PgConnection, user: &User) -> Result<(), AppError> {
    if user.role == Role::Admin
        && store::users::lock_other_active_admins(&mut *tx, user.id).await? == 0
    {
        return Err(AppError::Forbidden(
            "Debrief needs at least one active admin.",
        ));
    }
    Ok(())
}
