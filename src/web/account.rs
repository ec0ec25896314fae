//! Every user's own account: display name, password and email digests.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    AppError, AppState, credentials,
    form::FormErrors,
    layout::{Layout, Nav},
    net::ClientIp,
    session::CurrentUser,
    throttle,
};
use crate::{
    domain::{digest::Frequency, name},
    store::{self, audit::AuditEvent},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(show_account))
        .route("/account/profile", post(update_profile))
        .route("/account/password", post(change_password))
        .route("/account/digest", post(update_digest))
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    display_name: String,
    time_zone: String,
    teams: Vec<String>,
    frequency: Frequency,
    errors: FormErrors,
}

impl AccountPage {
    async fn load(
        state: &AppState,
        user: &CurrentUser,
        display_name: String,
        errors: FormErrors,
    ) -> Result<Self, AppError> {
        Ok(AccountPage {
            layout: Layout::for_user(user, Nav::Account),
            display_name,
            time_zone: user.time_zone.name().to_owned(),
            teams: store::teams::list_user_teams(&state.db, user.id).await?,
            frequency: store::outbox::get_frequency(&state.db, user.id)
                .await?
                .unwrap_or(Frequency::Weekly),
            errors,
        })
    }

    fn zones(&self) -> Vec<&str> {
        let mut zones = crate::domain::time::COMMON_ZONES.to_vec();
        if !zones.contains(&self.time_zone.as_str()) {
            zones.insert(0, &self.time_zone);
        }
        zones
    }

    fn frequencies(&self) -> &'static [Frequency] {
        Frequency::ALL
    }

    fn user(&self) -> Option<&CurrentUser> {
        self.layout.user.as_ref()
    }
}

async fn show_account(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let page = AccountPage::load(
        &state,
        &user,
        user.display_name.clone(),
        FormErrors::default(),
    )
    .await?;
    Ok(page.into_response())
}

#[derive(Deserialize)]
struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    time_zone: String,
}

async fn update_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ProfileForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let display_name = errors.check(
        "display_name",
        name::parse_name(&form.display_name, name::DISPLAY_NAME_MAX),
    );
    let zone = errors.check(
        "time_zone",
        crate::domain::time::parse_zone(&form.time_zone).ok_or("Pick a time zone from the list."),
    );
    let (Some(display_name), Some(zone)) = (display_name, zone) else {
        let mut page = AccountPage::load(&state, &user, form.display_name, errors).await?;
        page.time_zone = form.time_zone;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::users::update_display_name(&mut *tx, user.id, &display_name, now).await?;
    store::users::update_time_zone(&mut *tx, user.id, zone.name(), now).await?;
    tx.commit().await?;
    user.flash(&state, "Your profile is saved.").await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    user: CurrentUser,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    // Guessing the current password from a borrowed session is throttled
    // like guessing it on the sign-in page.
    if !throttle::admit_attempt(&state, &user.email, &client_ip).await? {
        errors.add("current_password", throttle::locked_message());
        let page = AccountPage::load(&state, &user, user.display_name.clone(), errors).await?;
        return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }
    let stored = store::users::find_credentials(&state.db, &user.email)
        .await?
        .and_then(|credentials| credentials.password_hash);
    if credentials::verify_password(&form.current_password, stored).await? {
        throttle::forget_failures(&state, &user.email).await?;
    } else {
        errors.add("current_password", "That is not your current password.");
    }
    credentials::check_new_password(
        &mut errors,
        &form.password,
        &form.password_confirm,
        &user.email,
    );
    if !errors.is_empty() {
        let page = AccountPage::load(&state, &user, user.display_name.clone(), errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let password_hash = credentials::hash_password(&form.password).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::users::update_password_hash(&mut *tx, user.id, &password_hash, now).await?;
    // Other browsers signed in as this user are signed out; this one stays.
    store::sessions::delete_other_sessions(&mut *tx, user.id, user.session_hash()).await?;
    let event = AuditEvent::new(user.id, "password_changed").target(user.id);
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    user.flash(
        &state,
        "Your password is changed. Other browsers signed in as you were signed out.",
    )
    .await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize)]
struct DigestForm {
    #[serde(default)]
    frequency: String,
}

async fn update_digest(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<DigestForm>,
) -> Result<Response, AppError> {
    let Some(frequency) = Frequency::parse(&form.frequency) else {
        let mut errors = FormErrors::default();
        errors.add("frequency", "Pick weekly, daily or off.");
        let page = AccountPage::load(&state, &user, user.display_name.clone(), errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    store::outbox::set_frequency(&state.db, user.id, frequency).await?;
    let message = match frequency {
        Frequency::Off => "Digests are off: you will get no email about overdue items.",
        _ => "Your digest choice is saved.",
    };
    user.flash(&state, message).await?;
    Ok(Redirect::to("/account#digest").into_response())
}
