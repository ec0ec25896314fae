//! What the endpoints other tools post to (alerts, tracker webhooks) have in
//! common: reading a header, and the answers for an endpoint that is off, a
//! payload that cannot be read and one that is about nothing Debrief keeps.

use axum::{
    Json,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::Problem;

/// A header's value as text; empty when absent or not text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The answer of an endpoint whose secret is not configured.
pub fn switched_off(what: &str, setting: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "Not found",
        format!("{what} are not taken here: set {setting} to turn this on."),
    )
}

/// The answer to a payload not in the sender's documented shape.
pub fn unreadable(why: &str) -> Response {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Unreadable payload",
        format!("The payload is not one this endpoint reads: {why}. Nothing was changed."),
    )
    .into_response()
}

/// The answer to a well-formed payload about nothing Debrief keeps.
pub fn ignored(why: &str) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(json!({ "ignored": format!("{why}; nothing was changed.") })),
    )
        .into_response()
}
