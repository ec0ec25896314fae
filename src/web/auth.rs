//! Signing in and out, with throttling of repeated failures.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::CookieJar;
use chrono::Duration;
use serde::Deserialize;
use serde_json::json;

use super::{
    AppError, AppState, credentials,
    form::FormErrors,
    layout::Layout,
    net::ClientIp,
    session::{self, Session},
};
use crate::store::{self, audit::AuditEvent};

/// Failures counted within this window.
const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// Failed attempts for one account within the window before it is locked.
const MAX_FAILURES_PER_ACCOUNT: i64 = 20;
/// Failed attempts from one address within the window (many accounts).
const MAX_FAILURES_PER_ADDRESS: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(show_sign_in).post(sign_in))
        .route("/logout", post(sign_out))
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct SignInPage {
    layout: Layout,
    email: String,
    next: String,
    errors: FormErrors,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct SignInQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

async fn show_sign_in(session: Session, Query(query): Query<SignInQuery>) -> Response {
    let next = local_path(query.next.as_deref());
    if session.user.is_some() {
        return Redirect::to(next).into_response();
    }
    SignInPage {
        layout: Layout::for_session(&session),
        email: String::new(),
        next: next.to_owned(),
        errors: FormErrors::default(),
        notice: query.signed_out.map(|_| "You are signed out."),
    }
    .into_response()
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn sign_in(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    session: Session,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    let email = form.email.trim().to_lowercase();
    let next = local_path(Some(&form.next)).to_owned();
    let page = |errors: FormErrors| SignInPage {
        layout: Layout::for_session(&session),
        email: form.email.trim().to_owned(),
        next: next.clone(),
        errors,
        notice: None,
    };

    let mut errors = FormErrors::default();
    if email.is_empty() {
        errors.add("email", "Enter the email address you were invited with.");
    }
    if form.password.is_empty() {
        errors.add("password", "Enter your password.");
    }
    if !errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(errors)).into_response());
    }

    // The throttle is checked before the password, so a locked account
    // cannot be probed further even with the right password.
    let now = state.clock.now();
    let since = now - Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let recent =
        store::throttle::count_recent_failures(&state.db, &email, &client_ip, since).await?;
    if recent.for_email >= MAX_FAILURES_PER_ACCOUNT
        || recent.from_address >= MAX_FAILURES_PER_ADDRESS
    {
        let mut errors = FormErrors::default();
        errors.add(
            "form",
            format!(
                "Too many failed sign-ins. Wait {THROTTLE_WINDOW_MINUTES} minutes and try again, or ask an admin for a password reset link."
            ),
        );
        let mut response = (StatusCode::TOO_MANY_REQUESTS, page(errors)).into_response();
        let retry_after = HeaderValue::from(THROTTLE_WINDOW_MINUTES * 60);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after);
        return Ok(response);
    }

    let credentials = store::users::find_credentials(&state.db, &email).await?;
    let stored_hash = credentials.as_ref().and_then(|c| c.password_hash.clone());
    let matched = credentials::verify_password(&form.password, stored_hash).await?;

    let user = match credentials {
        Some(credentials) if matched && credentials.active => credentials,
        Some(credentials) if matched => {
            let mut errors = FormErrors::default();
            errors.add(
                "form",
                "This account has been deactivated. Ask an admin if you need it back.",
            );
            record_audit(&state, Some(credentials.id), "sign_in_refused_inactive").await?;
            return Ok((StatusCode::FORBIDDEN, page(errors)).into_response());
        }
        _ => {
            store::throttle::record_failure(&state.db, &email, &client_ip, now).await?;
            let mut errors = FormErrors::default();
            errors.add("form", "That email and password do not match an account.");
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(errors)).into_response());
        }
    };

    store::throttle::clear_failures(&state.db, &email).await?;
    record_audit(&state, Some(user.id), "sign_in").await?;
    let (_, jar) = session::start_session(&state, jar, Some(user.id), None).await?;
    Ok((jar, Redirect::to(&next)).into_response())
}

async fn record_audit(
    state: &AppState,
    user: Option<uuid::Uuid>,
    action: &str,
) -> Result<(), AppError> {
    let event = AuditEvent {
        actor_id: user,
        action,
        target_id: user,
        detail: json!({}),
    };
    store::audit::record(&state.db, event, state.clock.now()).await?;
    Ok(())
}

async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
) -> Result<Response, AppError> {
    if let Some(user) = session.user {
        record_audit(&state, Some(user.id), "sign_out").await?;
    }
    let jar = session::end_session(&state, jar).await?;
    Ok((jar, Redirect::to("/login?signed_out=1")).into_response())
}

/// Only local paths are followed after sign-in: no open redirects.
pub fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control) =>
        {
            path
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/admin/users")), "/admin/users");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(Some("/\nLocation: x")), "/");
        assert_eq!(local_path(None), "/");
    }
}
