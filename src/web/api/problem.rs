//! Errors of the API as `application/problem+json` (RFC 9457), and the
//! extractors that turn a malformed request into one instead of a bare
//! text refusal.

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Query, Request, rejection::JsonRejection},
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};
use utoipa::ToSchema;

use crate::web::{AppError, form::FormErrors};

/// A refusal or failure, as the API reports it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status and title say what happened.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// For a failure of Debrief's own: the id its log keeps the cause under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Each field that was refused, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// Seconds to wait before trying again (with 429).
    #[serde(skip)]
    pub retry_after: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail: detail.into(),
            reference: None,
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "Bad request", detail)
    }

    pub fn unauthorized(detail: &str) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
    }

    pub fn forbidden(detail: &str) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "Forbidden", detail)
    }

    pub fn not_found() -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "Nothing at this address, or nothing this token may read.",
        )
    }

    /// A refused write with one field's problem.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Problem {
        let mut errors = FormErrors::default();
        errors.add(field, message);
        Problem::invalid(&errors)
    }

    /// A refused write, each field with its problem.
    pub fn invalid(errors: &FormErrors) -> Problem {
        let mut problem = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid fields",
            match errors.count() {
                1 => "1 field was refused; nothing was saved.".to_owned(),
                n => format!("{n} fields were refused; nothing was saved."),
            },
        );
        problem.errors = errors
            .iter()
            .map(|(field, message)| FieldProblem {
                field: field.to_owned(),
                message: message.to_owned(),
            })
            .collect();
        problem
    }
}

impl From<AppError> for Problem {
    fn from(error: AppError) -> Problem {
        if matches!(error, AppError::NotFound) {
            return Problem::not_found();
        }
        let (status, title, detail) = error.describe();
        let mut problem = Problem::new(status, title, detail);
        problem.reference = error.log_reference();
        problem
    }
}

impl From<sqlx::Error> for Problem {
    fn from(error: sqlx::Error) -> Problem {
        Problem::from(AppError::from(error))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Text the database must never see: a NUL character cannot be stored in
/// Postgres text, so it is refused here, with a clear message.
fn has_nul(text: &str) -> bool {
    text.contains('\0')
}

const NUL_REFUSED: &str = "The request holds a NUL character (U+0000), which no field accepts.";

/// A JSON body, refused as a problem when it does not parse or holds NUL.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let Json(value) = Json::<serde_json::Value>::from_request(request, state)
            .await
            .map_err(|rejection: JsonRejection| match rejection {
                JsonRejection::MissingJsonContentType(_) => Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Unsupported media type",
                    "Send the body as JSON, with `Content-Type: application/json`.",
                ),
                other => Problem::bad_request(format!(
                    "The body is not valid JSON: {}",
                    other.body_text()
                )),
            })?;
        if holds_nul(&value) {
            return Err(Problem::bad_request(NUL_REFUSED));
        }
        serde_json::from_value(value).map(ApiJson).map_err(|error| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid fields",
                error.to_string(),
            )
        })
    }
}

fn holds_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => has_nul(text),
        serde_json::Value::Array(values) => values.iter().any(holds_nul),
        serde_json::Value::Object(fields) => fields
            .iter()
            .any(|(name, value)| has_nul(name) || holds_nul(value)),
        _ => false,
    }
}

/// A query string, refused as a problem when it does not parse or holds NUL.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        let raw = parts.uri.query().unwrap_or_default();
        let decoded = form_urlencoded::parse(raw.as_bytes());
        if decoded
            .into_iter()
            .any(|(name, value)| has_nul(&name) || has_nul(&value))
        {
            return Err(Problem::bad_request(NUL_REFUSED));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| Problem::bad_request(rejection.body_text()))
    }
}
