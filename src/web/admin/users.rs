//! Managing users: invite, change role, deactivate and reactivate, and issue
//! password reset links.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    domain::{email::Email, name, role::Role, token::Token},
    store::{
        self,
        audit::AuditEvent,
        links::LinkPurpose,
        users::{NewUser, User},
    },
    web::{
        AppError, AppState,
        form::FormErrors,
        layout::{Layout, Nav},
        session::{Admin, CurrentUser},
    },
};

const INVITE_LINK_HOURS: i64 = 72;
const RESET_LINK_HOURS: i64 = 24;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(invite_user))
        .route("/admin/users/{id}", get(show_user))
        .route("/admin/users/{id}/role", post(change_role))
        .route("/admin/users/{id}/deactivate", post(deactivate))
        .route("/admin/users/{id}/reactivate", post(reactivate))
        .route("/admin/users/{id}/link", post(issue_link))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    email: String,
    display_name: String,
    role: Role,
    errors: FormErrors,
}

impl UsersPage {
    fn roles(&self) -> [Role; 3] {
        Role::ALL
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/user.html")]
struct UserPage {
    layout: Layout,
    user: User,
    teams: Vec<String>,
    is_self: bool,
}

impl UserPage {
    fn roles(&self) -> [Role; 3] {
        Role::ALL
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/link.html")]
struct LinkPage {
    layout: Layout,
    user: User,
    link: String,
    is_invite: bool,
    hours: i64,
}

/// Parses an id from the path; anything malformed is simply not found.
pub fn parse_id(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::NotFound)
}

async fn load_user(state: &AppState, raw_id: &str) -> Result<User, AppError> {
    store::users::get_user(&state.db, parse_id(raw_id)?)
        .await?
        .ok_or(AppError::NotFound)
}

async fn list_users(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<UsersPage, AppError> {
    Ok(UsersPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        users: store::users::list_users(&state.db).await?,
        email: String::new(),
        display_name: String::new(),
        role: Role::Member,
        errors: FormErrors::default(),
    })
}

#[derive(Deserialize)]
struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
}

async fn invite_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<InviteForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let email = errors.check("email", Email::parse(&form.email));
    let display_name = errors.check(
        "display_name",
        name::parse_name(&form.display_name, name::DISPLAY_NAME_MAX),
    );
    let role = errors.check("role", Role::parse(&form.role).ok_or("Pick a role."));
    let invalid = |errors: FormErrors| async {
        let page = UsersPage {
            layout: Layout::for_user(&admin, Nav::Admin),
            users: store::users::list_users(&state.db).await?,
            email: form.email.trim().to_owned(),
            display_name: form.display_name.trim().to_owned(),
            role: Role::parse(&form.role).unwrap_or(Role::Member),
            errors,
        };
        Ok::<_, AppError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let (Some(email), Some(display_name), Some(role)) = (email, display_name, role) else {
        return invalid(errors).await;
    };

    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let new_user = NewUser {
        email: &email,
        display_name: &display_name,
        role,
        password_hash: None,
    };
    let user_id = match store::users::insert_user(&mut *tx, new_user, now).await {
        Ok(id) => id,
        Err(error) if store::is_unique_violation(&error) => {
            errors.add(
                "email",
                "Someone with this email address already has an account.",
            );
            return invalid(errors).await;
        }
        Err(error) => return Err(error.into()),
    };
    let token = Token::generate();
    let expires_at = now + Duration::hours(INVITE_LINK_HOURS);
    store::links::insert_link(
        &mut tx,
        &token.digest(),
        LinkPurpose::Invite,
        Some(user_id),
        now,
        expires_at,
    )
    .await?;
    audit(
        &mut *tx,
        &admin,
        "user_invited",
        user_id,
        json!({ "email": email.as_str(), "role": role }),
        now,
    )
    .await?;
    tx.commit().await?;

    let user = store::users::get_user(&state.db, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(LinkPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        link: format!(
            "{}/welcome/{}",
            state.config.public_base_url(),
            token.as_str()
        ),
        user,
        is_invite: true,
        hours: INVITE_LINK_HOURS,
    }
    .into_response())
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
    let Some(role) = Role::parse(&form.role) else {
        return Err(AppError::Forbidden("That is not a role Debrief knows."));
    };
    if role != user.role {
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        store::users::update_role(&mut *tx, user.id, role, now).await?;
        // A changed role takes effect at once: the user signs in again.
        store::sessions::delete_user_sessions(&mut *tx, user.id).await?;
        let detail = json!({ "from": user.role, "to": role });
        audit(&mut *tx, &admin, "role_changed", user.id, detail, now).await?;
        tx.commit().await?;
        let message = format!(
            "{} is now {}.",
            user.display_name,
            role.label().to_lowercase()
        );
        admin.flash(&state, &message).await?;
    }
    Ok(Redirect::to(&format!("/admin/users/{}", user.id)).into_response())
}

async fn deactivate(
    state: State<AppState>,
    admin: Admin,
    id: Path<String>,
) -> Result<Response, AppError> {
    set_active(state, admin, id, false).await
}

async fn reactivate(
    state: State<AppState>,
    admin: Admin,
    id: Path<String>,
) -> Result<Response, AppError> {
    set_active(state, admin, id, true).await
}

async fn set_active(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    active: bool,
) -> Result<Response, AppError> {
    let user = load_user(&state, &id).await?;
    refuse_self(&admin, &user)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::users::set_active(&mut *tx, user.id, active, now).await?;
    let action = if active {
        "user_reactivated"
    } else {
        // Deactivation ends every session of the user at once.
        store::sessions::delete_user_sessions(&mut *tx, user.id).await?;
        "user_deactivated"
    };
    audit(&mut *tx, &admin, action, user.id, json!({}), now).await?;
    tx.commit().await?;
    let message = if active {
        format!("{} can sign in again.", user.display_name)
    } else {
        format!(
            "{} is deactivated and was signed out everywhere.",
            user.display_name
        )
    };
    admin.flash(&state, &message).await?;
    Ok(Redirect::to(&format!("/admin/users/{}", user.id)).into_response())
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
    let is_invite = !user.has_password;
    let (purpose, hours) = if is_invite {
        (LinkPurpose::Invite, INVITE_LINK_HOURS)
    } else {
        (LinkPurpose::Reset, RESET_LINK_HOURS)
    };
    let now = state.clock.now();
    let token = Token::generate();
    let mut tx = state.db.begin().await?;
    store::links::insert_link(
        &mut tx,
        &token.digest(),
        purpose,
        Some(user.id),
        now,
        now + Duration::hours(hours),
    )
    .await?;
    let action = if is_invite {
        "invite_link_issued"
    } else {
        "reset_link_issued"
    };
    audit(&mut *tx, &admin, action, user.id, json!({}), now).await?;
    tx.commit().await?;
    Ok(LinkPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        link: format!(
            "{}/welcome/{}",
            state.config.public_base_url(),
            token.as_str()
        ),
        user,
        is_invite,
        hours,
    }
    .into_response())
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

async fn audit(
    db: impl sqlx::PgExecutor<'_>,
    admin: &CurrentUser,
    action: &str,
    target: Uuid,
    detail: serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), AppError> {
    let event = AuditEvent {
        actor_id: Some(admin.id),
        action,
        target_id: Some(target),
        detail,
    };
    store::audit::record(db, event, now).await?;
    Ok(())
}
