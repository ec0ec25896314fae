//! The search box in the top bar. Until the full-text archive search
//! exists, a search is a title search in the incident list.

use axum::{
    Router,
    extract::Query,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

use super::{AppState, error::urlencode, session::CurrentUser};

pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(_user: CurrentUser, Query(query): Query<SearchQuery>) -> Response {
    let text = query.q.trim();
    if text.is_empty() {
        return Redirect::to("/incidents").into_response();
    }
    Redirect::to(&format!("/incidents?q={}", urlencode(text))).into_response()
}
