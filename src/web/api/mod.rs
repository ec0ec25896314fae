//! The JSON API under `/api/v1`, for scripts and the organization's other
//! tools. A request carries a personal token (`Authorization: Bearer ...`,
//! made on the account page) and acts as the token's owner, with the same
//! rules as the pages: what the owner may not read is "not found", and a
//! token writes only when it was made to and its owner may. Session cookies
//! are not accepted here, so no page of another site can make a browser
//! call the API. Errors are `application/problem+json`; requests are
//! limited per token. `/api/openapi.json` describes it all.

mod alerts;
mod caller;
mod comments;
mod incidents;
mod items;
pub(crate) mod problem;
mod search;
mod tracker_hooks;
mod views;
mod webhook;

use axum::{Json, Router, routing::get};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use super::AppState;
pub use caller::{RateLimits, TOKEN_PREFIX};
use problem::Problem;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/openapi.json",
            get(|| async { Json(ApiDoc::openapi()) }),
        )
        .merge(incidents::routes())
        .merge(items::routes())
        .merge(comments::routes())
        .merge(search::routes())
        .merge(alerts::routes())
        .merge(tracker_hooks::routes())
        .route(
            "/api/v1/{*rest}",
            axum::routing::any(|| async { Problem::not_found() }),
        )
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Debrief API",
        description = "Incidents, postmortems, action items, comments and search of a Debrief archive. Every request carries a personal API token as a bearer token; it acts as its owner, with the same rules as the pages.",
        version = "1"
    ),
    paths(
        incidents::list_incidents,
        incidents::create_incident,
        incidents::get_incident,
        items::list_items,
        items::get_item,
        items::update_item,
        comments::list_comments,
        comments::add_comment,
        search::search,
    ),
    components(schemas(problem::Problem, problem::FieldProblem)),
    modifiers(&BearerAuth),
    security(("token" = []))
)]
struct ApiDoc;

/// Declares the bearer token scheme that every operation requires.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token from the account page"))
                    .build(),
            ),
        );
    }
}
