//! The archive search page, reached from the search box in the top bar.

use askama::Template;
use askama_web::WebTemplate;
use axum::{Router, extract::Query, routing::get};
use serde::Deserialize;

use super::{
    AppState,
    layout::{Layout, Nav},
    session::CurrentUser,
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    query: String,
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// The archive holds no postmortems yet, so every search comes back empty;
/// the page says so rather than pretending to look.
async fn search(user: CurrentUser, Query(query): Query<SearchQuery>) -> SearchPage {
    SearchPage {
        layout: Layout::for_user(&user, Nav::None),
        query: query.q.trim().to_owned(),
    }
}
