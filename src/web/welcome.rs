//! One-time invite and reset links: the user picks a password and is signed in.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{
    AppError, AppState, credentials,
    form::FormErrors,
    layout::Layout,
    session::{self, Session},
};
use crate::{
    domain::token::Token,
    store::{self, audit::AuditEvent, links::LinkPurpose, users::User},
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/welcome/{token}", get(show_link).post(choose_password))
}

#[derive(Template, WebTemplate)]
#[template(path = "welcome.html")]
struct WelcomePage {
    layout: Layout,
    user: User,
    is_invite: bool,
    errors: FormErrors,
}

/// The user a live invite or reset link belongs to.
async fn link_user(state: &AppState, token: &str) -> Result<(User, LinkPurpose), AppError> {
    let hash = Token::from_presented(token).digest();
    let link = store::links::find_live_link(&state.db, &hash, state.clock.now())
        .await?
        .ok_or(AppError::LinkGone)?;
    let user_id = link.user_id.ok_or(AppError::LinkGone)?;
    let user = store::users::get_user(&state.db, user_id)
        .await?
        .filter(|user| user.active)
        .ok_or(AppError::LinkGone)?;
    Ok((user, link.purpose))
}

async fn show_link(
    State(state): State<AppState>,
    session: Session,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let (user, purpose) = link_user(&state, &token).await?;
    Ok(WelcomePage {
        layout: Layout::for_session(&session),
        user,
        is_invite: purpose == LinkPurpose::Invite,
        errors: FormErrors::default(),
    }
    .into_response())
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn choose_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    session: Session,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let (user, purpose) = link_user(&state, &token).await?;
    let mut errors = FormErrors::default();
    credentials::check_new_password(
        &mut errors,
        &form.password,
        &form.password_confirm,
        &user.email,
    );
    if !errors.is_empty() {
        let page = WelcomePage {
            layout: Layout::for_session(&session),
            user,
            is_invite: purpose == LinkPurpose::Invite,
            errors,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let password_hash = credentials::hash_password(&form.password).await?;

    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let hash = Token::from_presented(&token).digest();
    // Used up here, in the same transaction as the password change: a link
    // raced by two tabs works once.
    if store::links::consume_link(&mut *tx, &hash, now)
        .await?
        .is_none()
    {
        return Err(AppError::LinkGone);
    }
    store::users::update_password_hash(&mut *tx, user.id, &password_hash, now).await?;
    store::sessions::delete_user_sessions(&mut *tx, user.id).await?;
    let action = if purpose == LinkPurpose::Invite {
        "invite_accepted"
    } else {
        "password_reset"
    };
    let event = AuditEvent::new(user.id, action).target(user.id);
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;

    let message = format!("Your password is set. Welcome, {}.", user.display_name);
    let jar = session::start_session(&state, jar, user.id, Some(&message)).await?;
    Ok((jar, Redirect::to("/")).into_response())
}
