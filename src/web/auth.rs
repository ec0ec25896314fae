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
use serde::Deserialize;

use super::{
    AppError, AppState, credentials,
    form::FormErrors,
    layout::Layout,
    net::ClientIp,
    session::{self, Session},
    throttle,
};
use crate::store::{self, audit::AuditEvent};

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
    /// Sign-in through the organization's provider is offered.
    sso: bool,
    /// The password form is offered.
    passwords: bool,
}

impl SignInPage {
    fn new(state: &AppState, session: &Session, next: &str) -> SignInPage {
        let integrations = &state.config.integrations;
        SignInPage {
            layout: Layout::for_session(session),
            email: String::new(),
            next: next.to_owned(),
            errors: FormErrors::default(),
            notice: None,
            sso: super::sso::Provider::configured(integrations).is_some(),
            passwords: integrations.password_sign_in,
        }
    }
}

/// The sign-in page with a refusal at its top (single sign-on's too).
pub(super) fn sign_in_refusal(
    state: &AppState,
    session: &Session,
    status: StatusCode,
    message: &str,
) -> Response {
    let mut page = SignInPage::new(state, session, "/");
    page.errors.add("form", message);
    (status, page).into_response()
}

#[derive(Deserialize)]
struct SignInQuery {
    next: Option<String>,
    signed_out: Option<String>,
}

async fn show_sign_in(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<SignInQuery>,
) -> Response {
    let next = local_path(query.next.as_deref());
    if session.user.is_some() {
        return Redirect::to(next).into_response();
    }
    let mut page = SignInPage::new(&state, &session, next);
    page.notice = query.signed_out.map(|_| "You are signed out.");
    page.into_response()
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

impl SignInForm {
    /// The form again, with the email kept (never the password).
    fn refused(
        &self,
        state: &AppState,
        session: &Session,
        status: StatusCode,
        errors: FormErrors,
    ) -> Response {
        let mut page = SignInPage::new(state, session, local_path(Some(&self.next)));
        page.email = self.email.trim().to_owned();
        page.errors = errors;
        (status, page).into_response()
    }

    fn refused_with(
        &self,
        state: &AppState,
        session: &Session,
        status: StatusCode,
        message: impl Into<String>,
    ) -> Response {
        let mut errors = FormErrors::default();
        errors.add("form", message);
        self.refused(state, session, status, errors)
    }
}

async fn sign_in(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    session: Session,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    if !state.config.integrations.password_sign_in {
        let message = "Passwords are turned off here: sign in with your organization's account.";
        return Ok(form.refused_with(&state, &session, StatusCode::FORBIDDEN, message));
    }
    let email = form.email.trim().to_lowercase();
    let mut errors = FormErrors::default();
    if email.is_empty() {
        errors.add("email", "Enter the email address you were invited with.");
    }
    if form.password.is_empty() {
        errors.add("password", "Enter your password.");
    }
    if !errors.is_empty() {
        return Ok(form.refused(&state, &session, StatusCode::UNPROCESSABLE_ENTITY, errors));
    }

    // Throttled before the password is looked at: a locked account cannot be
    // probed further, even with the right password.
    if !throttle::admit_attempt(&state, &email, &client_ip).await? {
        crate::metrics::METRICS.sign_in_throttled.inc();
        let mut response = form.refused_with(
            &state,
            &session,
            StatusCode::TOO_MANY_REQUESTS,
            throttle::locked_message(),
        );
        let retry_after = HeaderValue::from(throttle::WINDOW_MINUTES * 60);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, retry_after);
        return Ok(response);
    }

    let credentials = store::users::find_credentials(&state.db, &email).await?;
    let stored_hash = credentials
        .as_ref()
        .and_then(|found| found.password_hash.clone());
    let matched = credentials::verify_password(&form.password, stored_hash).await?;
    let user = match credentials {
        Some(user) if matched => user,
        _ => {
            crate::metrics::METRICS.sign_in_failures.inc();
            let message = "That email and password do not match an account.";
            return Ok(form.refused_with(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                message,
            ));
        }
    };
    throttle::forget_failures(&state, &email).await?;
    if !user.active {
        let event = AuditEvent::new(user.id, "sign_in_refused_inactive").target(user.id);
        store::audit::record(&state.db, event, state.clock.now()).await?;
        let message = "This account has been deactivated. Ask an admin if you need it back.";
        return Ok(form.refused_with(&state, &session, StatusCode::FORBIDDEN, message));
    }

    let event = AuditEvent::new(user.id, "sign_in").target(user.id);
    store::audit::record(&state.db, event, state.clock.now()).await?;
    let jar = session::start_session(&state, jar, user.id, None).await?;
    Ok((jar, Redirect::to(local_path(Some(&form.next)))).into_response())
}

async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    jar: CookieJar,
) -> Result<Response, AppError> {
    if let Some(user) = session.user {
        let event = AuditEvent::new(user.id, "sign_out").target(user.id);
        store::audit::record(&state.db, event, state.clock.now()).await?;
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
