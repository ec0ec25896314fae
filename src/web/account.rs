//! Every user's own account: display name, password, email digests, the
//! notifications they get and what they follow.

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
    domain::{digest::Frequency, name, notice::Kind},
    store::{self, audit::AuditEvent},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(show_account))
        .route("/account/profile", post(update_profile))
        .route("/account/password", post(change_password))
        .route("/account/digest", post(update_digest))
        .route("/account/notifications", post(update_notifications))
        .route("/account/follows", post(add_follow))
        .route("/account/follows/remove", post(remove_follow))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
        .route("/account/feeds", post(make_feed_link))
        .route("/account/feeds/revoke", post(revoke_feed_link))
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    display_name: String,
    time_zone: String,
    teams: Vec<String>,
    frequency: Frequency,
    /// Notification kinds switched off.
    opted_out: Vec<String>,
    follows: Vec<store::notifications::Follow>,
    team_options: Vec<store::teams::Team>,
    /// A refused follow, back in its form.
    follow_typed: FollowForm,
    tokens: Vec<store::api_tokens::ApiToken>,
    /// A token just made: shown on this one page, never again.
    new_token: Option<String>,
    /// A refused token, back in its form.
    token_typed: TokenForm,
    /// The live feed link, if any (its secret is not kept).
    feed: Option<store::feeds::FeedLink>,
    /// A feed link just made: its Atom and calendar addresses, shown on
    /// this one page.
    new_feed: Option<(String, String)>,
    now: chrono::DateTime<chrono::Utc>,
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
            opted_out: store::notifications::opted_out(&state.db, user.id).await?,
            follows: store::notifications::list_follows(&state.db, user.id).await?,
            team_options: store::teams::list_team_options(&state.db).await?,
            follow_typed: FollowForm::default(),
            tokens: store::api_tokens::list_for_user(&state.db, user.id).await?,
            new_token: None,
            token_typed: TokenForm::default(),
            feed: store::feeds::current(&state.db, user.id).await?,
            new_feed: None,
            now: state.clock.now(),
            errors,
        })
    }

    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        crate::domain::time::format_in(*at, self.layout.zone())
    }

    /// "revoked", "expired" or "" for a live token.
    fn token_state(&self, token: &store::api_tokens::ApiToken) -> &'static str {
        if token.revoked_at.is_some() {
            "revoked"
        } else if token.expires_at <= self.now {
            "expired"
        } else {
            ""
        }
    }

    fn can_write(&self) -> bool {
        self.user().is_some_and(CurrentUser::can_write)
    }

    fn token_lifetimes(&self) -> [(i64, &'static str); 3] {
        TOKEN_LIFETIMES
    }

    fn kinds(&self) -> [Kind; 6] {
        Kind::ALL
    }

    fn is_on(&self, kind: &Kind) -> bool {
        !self.opted_out.iter().any(|off| off == kind.as_str())
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
    let mut tx = crate::store::begin(&state.db).await?;
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
    let mut tx = crate::store::begin(&state.db).await?;
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

#[derive(Deserialize)]
struct NotificationsForm {
    /// The kinds left on.
    #[serde(default)]
    on: Vec<String>,
}

async fn update_notifications(
    State(state): State<AppState>,
    user: CurrentUser,
    axum_extra::extract::Form(form): axum_extra::extract::Form<NotificationsForm>,
) -> Result<Response, AppError> {
    let off: Vec<String> = Kind::ALL
        .into_iter()
        .filter(|kind| !form.on.iter().any(|on| on == kind.as_str()))
        .map(|kind| kind.as_str().to_owned())
        .collect();
    let mut tx = crate::store::begin(&state.db).await?;
    store::notifications::set_opted_out(&mut tx, user.id, &off).await?;
    tx.commit().await?;
    let message = match off.len() {
        0 => "Saved: you get every kind of notification.".to_owned(),
        n if n == Kind::ALL.len() => "Saved: you get no notifications by email.".to_owned(),
        n => format!("Saved: {n} kinds of notification are off."),
    };
    user.flash(&state, &message).await?;
    Ok(Redirect::to("/account#notifications").into_response())
}

/// What to follow: a team (by id), a service or a tag (by name).
#[derive(Clone, Debug, Default, Deserialize)]
struct FollowForm {
    #[serde(default)]
    team: String,
    #[serde(default, rename = "follow_service")]
    service: String,
    #[serde(default, rename = "follow_tag")]
    tag: String,
    /// `on` to get the weekly email of newly published postmortems.
    #[serde(default)]
    weekly: String,
}

async fn add_follow(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<FollowForm>,
) -> Result<Response, AppError> {
    let teams = store::teams::list_team_options(&state.db).await?;
    let mut errors = FormErrors::default();
    let mut wanted: Vec<(&str, String)> = Vec::new();
    if !form.team.trim().is_empty() {
        match teams
            .iter()
            .find(|team| team.id.to_string() == form.team.trim())
        {
            Some(team) => wanted.push(("team", team.id.to_string())),
            None => errors.add(
                "follow_team",
                "That team no longer exists; pick one from the list.",
            ),
        }
    }
    let typed = [
        ("service", "follow_service", &form.service),
        ("tag", "follow_tag", &form.tag),
    ];
    for (subject, field, typed) in typed {
        let value = typed.split_whitespace().collect::<Vec<_>>().join(" ");
        if value.chars().count() > 200 {
            errors.add(field, "Keep a name under 200 characters.");
        } else if !value.is_empty() {
            wanted.push((subject, value));
        }
    }
    if form.weekly == "on" {
        wanted.push(("weekly", "published".to_owned()));
    }
    if wanted.is_empty() && errors.is_empty() {
        errors.add(
            "follow_team",
            "Pick a team, or type a service or a tag to follow.",
        );
    }
    if !errors.is_empty() {
        let mut page = AccountPage::load(&state, &user, user.display_name.clone(), errors).await?;
        page.follow_typed = form;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let now = state.clock.now();
    for (subject, value) in &wanted {
        store::notifications::follow(&state.db, user.id, subject, value, now).await?;
    }
    user.flash(
        &state,
        "Followed: you hear when their postmortems are published.",
    )
    .await?;
    Ok(Redirect::to("/account#following").into_response())
}

#[derive(Deserialize)]
struct UnfollowForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    value: String,
}

async fn remove_follow(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<UnfollowForm>,
) -> Result<Response, AppError> {
    store::notifications::unfollow(&state.db, user.id, &form.subject, &form.value).await?;
    Ok(Redirect::to("/account#following").into_response())
}

/// How long a new token lives, in days, as offered.
const TOKEN_LIFETIMES: [(i64, &str); 3] = [(30, "30 days"), (90, "90 days"), (365, "A year")];

#[derive(Clone, Debug, Default, Deserialize)]
struct TokenForm {
    #[serde(default, rename = "token_name")]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    days: String,
}

/// Makes a personal API token and shows it on this response only (it is
/// not kept anywhere it could be shown again, not even in the flash).
async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    let mut errors = FormErrors::default();
    let token_name = errors.check("token_name", name::parse_name(&form.name, 80));
    let scope = errors.check(
        "token_scope",
        store::api_tokens::Scope::parse(&form.scope).ok_or("Pick read-only or read and write."),
    );
    if scope == Some(store::api_tokens::Scope::Write) && !user.can_write() {
        errors.add(
            "token_scope",
            "Viewers read the archive, so their tokens only read.",
        );
    }
    let days = errors.check(
        "token_days",
        TOKEN_LIFETIMES
            .iter()
            .find(|(days, _)| days.to_string() == form.days)
            .map(|(days, _)| *days)
            .ok_or("Pick how long the token lives."),
    );
    let (Some(token_name), Some(scope), Some(days), true) =
        (token_name, scope, days, errors.is_empty())
    else {
        let mut page = AccountPage::load(&state, &user, user.display_name.clone(), errors).await?;
        page.token_typed = form;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let secret = format!(
        "{}{}",
        super::api::TOKEN_PREFIX,
        crate::domain::token::Token::generate().as_str()
    );
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let id = store::api_tokens::insert(
        &mut *tx,
        store::api_tokens::NewToken {
            user_id: user.id,
            name: &token_name,
            prefix: &secret[..12],
            hash: &crate::domain::token::Token::from_presented(&secret).digest(),
            scope,
            expires_at: now + chrono::Duration::days(days),
        },
        now,
    )
    .await?;
    let event = AuditEvent::new(user.id, "api_token_created")
        .detail(serde_json::json!({ "token": id, "name": token_name, "scope": scope.as_str(), "days": days }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    let mut page = AccountPage::load(
        &state,
        &user,
        user.display_name.clone(),
        FormErrors::default(),
    )
    .await?;
    page.new_token = Some(secret);
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response())
}

/// Makes a new feed link (the old one stops working) and shows its
/// addresses once.
async fn make_feed_link(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let secret = crate::domain::token::Token::generate();
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::feeds::replace(&mut tx, user.id, &secret.digest(), now).await?;
    store::audit::record(&mut *tx, AuditEvent::new(user.id, "feed_link_made"), now).await?;
    tx.commit().await?;
    let mut page = AccountPage::load(
        &state,
        &user,
        user.display_name.clone(),
        FormErrors::default(),
    )
    .await?;
    page.new_feed = Some(super::feeds::addresses(
        &state.config.public_base_url(),
        secret.as_str(),
    ));
    Ok(page.into_response())
}

async fn revoke_feed_link(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let revoked = store::feeds::revoke(&mut *tx, user.id, now).await?;
    if revoked > 0 {
        store::audit::record(&mut *tx, AuditEvent::new(user.id, "feed_link_revoked"), now).await?;
    }
    tx.commit().await?;
    let message = if revoked > 0 {
        "Feed link revoked: readers and calendars using it get nothing more."
    } else {
        "You had no feed link to revoke."
    };
    user.flash(&state, message).await?;
    Ok(Redirect::to("/account#feeds").into_response())
}

/// Revokes one of the user's tokens, at once for every replica (each
/// request looks its token up).
async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, AppError> {
    let id = super::form::parse_id(&id)?;
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    if !store::api_tokens::revoke(&mut *tx, user.id, id, now).await? {
        return Err(AppError::NotFound);
    }
    let event =
        AuditEvent::new(user.id, "api_token_revoked").detail(serde_json::json!({ "token": id }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    user.flash(&state, "Token revoked: it no longer works anywhere.")
        .await?;
    Ok(Redirect::to("/account#tokens").into_response())
}
