//! The first-run page that creates the first admin, and is gone afterwards.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Query, State},
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
    domain::{email::Email, name, role::Role, token::Token},
    store::{self, audit::AuditEvent, links::LinkPurpose, users::NewUser},
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/setup", get(show_setup).post(complete_setup))
}

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    token: String,
    /// Whether the token came in the link (so the field can stay hidden).
    token_from_link: bool,
    email: String,
    display_name: String,
    errors: FormErrors,
}

#[derive(Deserialize)]
struct SetupQuery {
    #[serde(default)]
    token: String,
}

async fn show_setup(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<SetupQuery>,
) -> Result<Response, AppError> {
    if store::users::count_users(&state.db).await? > 0 {
        return Err(AppError::NotFound);
    }
    let mut errors = FormErrors::default();
    let token = query.token.trim().to_owned();
    let link_is_live = !token.is_empty()
        && store::links::find_live_link(
            &state.db,
            &Token::from_presented(&token).digest(),
            state.clock.now(),
        )
        .await?
        .is_some_and(|link| link.purpose == LinkPurpose::Setup);
    if !token.is_empty() && !link_is_live {
        errors.add(
            "token",
            "This setup link has expired. Restart the server to get a new one.",
        );
    }
    Ok(SetupPage {
        layout: Layout::for_session(&session),
        token_from_link: link_is_live,
        token,
        email: String::new(),
        display_name: String::new(),
        errors,
    }
    .into_response())
}

#[derive(Deserialize)]
struct SetupForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn complete_setup(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
    Form(form): Form<SetupForm>,
) -> Result<Response, AppError> {
    if store::users::count_users(&state.db).await? > 0 {
        return Err(AppError::NotFound);
    }
    let mut errors = FormErrors::default();
    let email = errors.check("email", Email::parse(&form.email));
    let display_name = errors.check(
        "display_name",
        name::parse_name(&form.display_name, name::DISPLAY_NAME_MAX),
    );
    credentials::check_new_password(
        &mut errors,
        &form.password,
        &form.password_confirm,
        form.email.trim(),
    );
    if form.token.trim().is_empty() {
        errors.add(
            "token",
            "Paste the setup code from the link in the server log.",
        );
    }
    let (Some(email), Some(display_name), true) = (email, display_name, errors.is_empty()) else {
        return Ok(invalid(&session, form, errors));
    };
    let password_hash = credentials::hash_password(&form.password).await?;
    let first_admin = NewUser {
        email: &email,
        display_name: &display_name,
        role: Role::Admin,
        password_hash: Some(&password_hash),
    };
    let Some(user_id) = create_first_admin(&state, form.token.trim(), first_admin).await? else {
        errors.add(
            "token",
            "This setup code is not valid or has expired. Restart the server to get a new link.",
        );
        return Ok(invalid(&session, form, errors));
    };

    tracing::info!("first admin created; setup is closed");
    let welcome = "Welcome to Debrief. Your admin account is ready: invite your colleagues next.";
    let jar = session::start_session(&state, jar, user_id, Some(welcome)).await?;
    Ok((jar, Redirect::to("/")).into_response())
}

/// Uses up the setup code and creates the admin, once, even across replicas.
/// `None` when the code is not (or no longer) a live setup code.
async fn create_first_admin(
    state: &AppState,
    token: &str,
    admin: NewUser<'_>,
) -> Result<Option<uuid::Uuid>, AppError> {
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::users::lock_for_setup(&mut *tx).await?;
    if store::users::count_users(&mut *tx).await? > 0 {
        return Err(AppError::NotFound);
    }
    let link =
        store::links::consume_link(&mut *tx, &Token::from_presented(token).digest(), now).await?;
    if !link.is_some_and(|link| link.purpose == LinkPurpose::Setup) {
        return Ok(None);
    }
    let user_id = store::users::insert_user(&mut *tx, admin, now).await?;
    store::links::delete_setup_links(&mut *tx).await?;
    let event = AuditEvent::new(user_id, "setup_first_admin").target(user_id);
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    Ok(Some(user_id))
}

fn invalid(session: &Session, form: SetupForm, errors: FormErrors) -> Response {
    let page = SetupPage {
        layout: Layout::for_session(session),
        token_from_link: errors.get("token").is_none() && !form.token.trim().is_empty(),
        token: form.token.trim().to_owned(),
        email: form.email.trim().to_owned(),
        display_name: form.display_name.trim().to_owned(),
        errors,
    };
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}
