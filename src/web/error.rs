//! The one error type handlers return, and the error pages it renders.
//! Internal causes are logged with a reference id; the page shows only the id.

use askama::Template;
use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};

use super::layout::Layout;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The request fits an older state of the thing it changes.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Not signed in; carries the path to come back to afterwards.
    #[error("sign-in needed")]
    NeedsSignIn { next: String },
    /// A one-time link that expired or was used.
    #[error("link gone")]
    LinkGone,
    /// A form that is not a form of this page (a hand-made or broken post).
    #[error("malformed form")]
    BadForm,
    /// The request body is larger than the limit.
    #[error("request body too large")]
    TooLarge,
    /// The client did not send the request's body within its time limit.
    #[error("request body too slow")]
    TooSlow,
    /// Other heavy requests hold every turn for heavy work.
    #[error("busy with heavy work")]
    Busy,
    /// The database could not be reached in time.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        if matches!(error, sqlx::Error::PoolTimedOut) {
            crate::metrics::METRICS.pool_timeouts.inc();
        }
        match error {
            // Connection-level failures: the database is down or unreachable.
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => AppError::Unavailable(error),
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: &'static str,
    reference: Option<String>,
}

impl AppError {
    /// A request body that could not be read: too slow (its time limit ran
    /// out) or too large.
    pub fn unreadable_body(error: axum::Error) -> AppError {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(current) = cause {
            if current.is::<tower_http::timeout::TimeoutError>() {
                return AppError::TooSlow;
            }
            cause = current.source();
        }
        AppError::TooLarge
    }

    /// The status, heading and message this error is shown with.
    pub fn describe(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            AppError::NeedsSignIn { .. } => (
                StatusCode::UNAUTHORIZED,
                "Sign-in needed",
                "Sign in to see this.",
            ),
            AppError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address. It may have moved, or the link may be mistyped.",
            ),
            AppError::Forbidden(why) => (StatusCode::FORBIDDEN, "Not allowed", why),
            AppError::Conflict(why) => (StatusCode::CONFLICT, "That changed in the meantime", why),
            AppError::LinkGone => (
                StatusCode::GONE,
                "This link no longer works",
                "One-time links work once and for a limited time, and a newer link replaces an older one. Ask an admin for a new link.",
            ),
            AppError::BadForm => (
                StatusCode::BAD_REQUEST,
                "That form could not be read",
                "What was sent is not a form this page makes. Reload the page and try again.",
            ),
            AppError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "That was too much to send",
                "The form was larger than Debrief accepts. Shorten it and try again.",
            ),
            AppError::TooSlow => (
                StatusCode::REQUEST_TIMEOUT,
                "That took too long to arrive",
                "The form did not reach Debrief in time, so nothing was saved. Check your connection and submit it again.",
            ),
            AppError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Debrief is busy with other large imports",
                "Nothing was added. Try again in a minute; the rest of Debrief is not affected.",
            ),
            AppError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Debrief is briefly unavailable",
                "The database did not answer in time. Nothing you submitted was lost in a half-saved state; try again in a moment.",
            ),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The error has been logged. If it keeps happening, give an admin the reference below.",
            ),
        }
    }

    /// For a failure of Debrief's own (not of the request): logs the cause
    /// under a new reference id and returns the id, which is all the
    /// response shows.
    pub fn log_reference(&self) -> Option<String> {
        match self {
            AppError::Internal(_) | AppError::Unavailable(_) => {
                let reference = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
                tracing::error!(%reference, error = ?self, "request failed");
                Some(reference)
            }
            _ => None,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::NeedsSignIn { next } = &self {
            let target = format!("/login?{}", super::query::encode([("next", next.as_str())]));
            return Redirect::to(&target).into_response();
        }
        let (status, heading, message) = self.describe();
        error_page(status, heading, message, self.log_reference())
    }
}

/// What an error page says. Kept in the response's extensions so the session
/// middleware can render the page again in the signed-in user's layout.
#[derive(Clone, Debug)]
pub struct ErrorDetails {
    pub status: StatusCode,
    pub heading: &'static str,
    pub message: &'static str,
    pub reference: Option<String>,
}

impl ErrorDetails {
    /// The error page in `layout`.
    pub fn render(self, layout: Layout) -> Response {
        let page = ErrorPage {
            layout,
            status: self.status.as_u16(),
            heading: self.heading,
            message: self.message,
            reference: self.reference.clone(),
        };
        let mut response = match page.render() {
            Ok(html) => (
                self.status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(error) => {
                tracing::error!(?error, "could not render the error page");
                (self.status, self.heading).into_response()
            }
        };
        response.extensions_mut().insert(self);
        response
    }
}

/// Renders an error page in the layout of someone not signed in.
pub fn error_page(
    status: StatusCode,
    heading: &'static str,
    message: &'static str,
    reference: Option<String>,
) -> Response {
    let details = ErrorDetails {
        status,
        heading,
        message,
        reference,
    };
    details.render(Layout::anonymous())
}

/// What to say for a response that left the framework without a page of
/// its own: 405, 413 and 503 from the router and the tower layers, and the
/// plain-text refusals of extractors (a query value that is not a number,
/// a form field of the wrong type).
pub fn details_for_bare_status(status: StatusCode) -> Option<ErrorDetails> {
    let (heading, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => (
            "Not available this way",
            "This address exists but does not answer this kind of request.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "That was too much to send",
            "The form was larger than Debrief accepts. Shorten it and try again.",
        ),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => (
            "That took too long",
            "Debrief could not answer in time. Try again in a moment.",
        ),
        StatusCode::BAD_REQUEST
        | StatusCode::UNPROCESSABLE_ENTITY
        | StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "That request could not be read",
            "A value in the address or the form is not one this page accepts (a page number that is not a number, say). Go back, or open the page from its link.",
        ),
        _ => return None,
    };
    Some(ErrorDetails {
        status,
        heading,
        message,
        reference: None,
    })
}

/// Whether `response` is a bare refusal that should become an error page:
/// an error status whose body is not a page (plain text or nothing).
pub fn is_bare_error(response: &Response) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<ErrorDetails>().is_some()
    {
        return false;
    }
    match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value.as_bytes().starts_with(b"text/plain"),
    }
}
