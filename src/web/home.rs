//! The home page: where a signed-in user starts, and where a brand-new
//! installation sends its first visitor to setup.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

use super::{
    AppError, AppState,
    layout::{Layout, Nav},
    session::MaybeUser,
};
use crate::store;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    first_name: String,
    user_count: i64,
    team_count: i64,
}

async fn home(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> Result<Response, AppError> {
    let Some(user) = user else {
        if store::users::count_users(&state.db).await? == 0 {
            return Ok(Redirect::to("/setup").into_response());
        }
        return Ok(Redirect::to("/login").into_response());
    };
    let page = HomePage {
        first_name: user
            .display_name
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
        user_count: store::users::count_users(&state.db).await?,
        team_count: store::teams::count_teams(&state.db).await?,
        layout: Layout::for_user(&user, Nav::Home),
    };
    Ok(page.into_response())
}
