//! The HTTP layer: the router, one module per area, and the pieces every
//! page shares (session, layout, errors, security headers).

mod account;
mod action_items;
mod admin;
mod api;
mod assets;
mod auth;
pub mod cache;
mod checklist;
mod credentials;
mod csv;
mod digest;
pub(crate) mod error;
mod feeds;
mod form;
mod home;
mod incidents;
mod item_form;
mod item_tracker;
mod layout;
mod net;
mod notify;
mod nul;
mod ops;
mod pagination;
mod query;
mod review;
mod search;
mod security;
mod services;
pub mod session;
mod setup;
pub mod sso;
mod themes;
mod throttle;
mod trends;
mod welcome;

use std::{sync::Arc, time::Duration};

use axum::{Router, http::StatusCode, middleware};
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};

use crate::{clock::Clock, config::ServerConfig};

pub use error::AppError;

/// What every handler can reach: the pool, the settings, the clock and the
/// in-process caches.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<ServerConfig>,
    pub clock: Clock,
    pub caches: Arc<Caches>,
}

/// Caches of one server process (each replica has its own).
pub struct Caches {
    /// Services named on published incidents, for the list's filter.
    pub published_services: cache::Refreshed<(), Vec<String>>,
    /// The rest of the list's filter choices (teams, and the services of
    /// the drafts a reader sees) by reader (admins share one entry).
    pub list_choices: cache::Refreshed<uuid::Uuid, crate::store::incidents::FilterOptions>,
    /// Rendered and sanitized Markdown sections by (postmortem, version).
    pub rendered_sections: cache::Versioned<(uuid::Uuid, i32), Vec<String>>,
    /// The reading page's parts and stemmed words by (postmortem, content
    /// stamp, directory stamp): see `store::postmortems::PageStamp`.
    pub page_parts: cache::Versioned<(uuid::Uuid, String, String), incidents::show::CachedParts>,
    /// Comments rendered, by (comment, version): a comment's version
    /// changes with every edit of its text.
    pub rendered_comments: cache::Versioned<(uuid::Uuid, i32), String>,
    /// Each postmortem's comments and participants by incident number, with
    /// the stamps they were read at: the reading page's query sends them
    /// again only when those stamps have moved.
    pub discussions: cache::Versioned<i32, crate::store::postmortems::HeldDiscussion>,
    /// The active people for pickers, by the directory stamp.
    pub people: cache::Versioned<String, Vec<crate::store::users::PersonOption>>,
    /// Short Markdown (timeline entries, factors) rendered, by its text.
    pub rendered_inline: cache::Versioned<String, String>,
    /// Similar incidents and theme profiles by (postmortem, reader, access
    /// epoch, content stamp), refreshed each minute:
    /// they change only when other postmortems do, and finding them costs
    /// more than the rest of the page.
    pub similar: cache::Refreshed<(uuid::Uuid, uuid::Uuid, i64, String), incidents::show::Related>,
    /// The quarterly review's outcomes of earlier quarters by (quarter's
    /// first day, team), refreshed every five minutes.
    pub review_history: cache::Refreshed<
        (chrono::NaiveDate, Option<uuid::Uuid>),
        Vec<crate::store::review::QuarterOutcomes>,
    >,
    /// The review's trends by (quarter's first day, team), refreshed each
    /// minute: they read every incident of eight quarters.
    pub review_trends: cache::Refreshed<(chrono::NaiveDate, Option<uuid::Uuid>), trends::TrendData>,
    /// A service page's figures over all its incidents, by (service, day),
    /// refreshed each minute.
    pub service_figures: cache::Refreshed<(String, chrono::NaiveDate), services::ServiceFigures>,
    /// Each API token's request budget (not a cache, but kept per process
    /// like one).
    pub api_limits: api::RateLimits,
    /// The installation's key for anonymous visitors' CSRF tokens, read
    /// from the database on first use.
    pub anonymous_key: tokio::sync::OnceCell<Vec<u8>>,
    /// Permits for heavy requests (bulk timeline imports), so a few of them
    /// cannot take every database connection from everyone else.
    pub heavy_work: tokio::sync::Semaphore,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            published_services: cache::Refreshed::new(1, Duration::from_secs(30)),
            list_choices: cache::Refreshed::new(2000, Duration::from_secs(30)),
            rendered_sections: cache::Versioned::new(2000),
            rendered_inline: cache::Versioned::new(20_000),
            people: cache::Versioned::new(8),
            rendered_comments: cache::Versioned::new(5000),
            page_parts: cache::Versioned::new(500),
            discussions: cache::Versioned::new(500),
            similar: cache::Refreshed::new(2000, Duration::from_secs(60)),
            review_history: cache::Refreshed::new(500, review::HISTORY_TTL),
            review_trends: cache::Refreshed::new(200, Duration::from_secs(60)),
            service_figures: cache::Refreshed::new(500, Duration::from_secs(60)),
            api_limits: api::RateLimits::default(),
            anonymous_key: tokio::sync::OnceCell::new(),
            heavy_work: tokio::sync::Semaphore::new(HEAVY_WORK_AT_ONCE),
        }
    }
}

/// Heavy requests one process runs at once; the next waits briefly, then
/// is answered 503.
const HEAVY_WORK_AT_ONCE: usize = 2;
/// How long a heavy request waits for its turn.
const HEAVY_WORK_WAIT: Duration = Duration::from_secs(5);

impl AppState {
    /// A turn for heavy work, held until dropped; 503 when other heavy
    /// requests keep every turn for longer than a few seconds.
    pub async fn heavy_work(&self) -> Result<tokio::sync::SemaphorePermit<'_>, AppError> {
        match tokio::time::timeout(HEAVY_WORK_WAIT, self.caches.heavy_work.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(AppError::Busy),
        }
    }
}

/// Largest form body accepted; uploads have their own, configured limit.
pub(crate) const BODY_LIMIT_BYTES: usize = 2 * 1024 * 1024;

/// Builds the whole application: routes, then the layers every request passes.
pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .merge(home::routes())
        .merge(auth::routes())
        .merge(sso::routes())
        .merge(setup::routes())
        .merge(welcome::routes())
        .merge(account::routes())
        .merge(admin::routes(state.config.max_upload_bytes()))
        .merge(search::routes())
        .merge(incidents::routes(state.config.max_upload_bytes()))
        .merge(action_items::routes())
        .merge(item_tracker::routes())
        .merge(review::routes())
        .merge(digest::routes())
        .merge(checklist::routes())
        .merge(themes::routes())
        .merge(services::routes())
        .fallback(|| async { AppError::NotFound })
        // Inside the session, so that its refusal is drawn in the viewer's
        // layout like every other error page.
        .layer(security::csrf_layer())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::load_session,
        ));

    let x_request_id = axum::http::HeaderName::from_static("x-request-id");
    Router::new()
        .merge(pages)
        .merge(ops::routes())
        .merge(feeds::routes())
        .merge(api::routes())
        .merge(digest::public_routes().layer(security::csrf_layer()))
        .merge(assets::routes())
        // Inside the routes, so each request is counted by its route.
        .layer(middleware::from_fn(ops::track_requests))
        // Before any handler reads the request (inside the outer layers, so
        // the refusal gets the request id and the security headers).
        .layer(middleware::from_fn(nul::refuse_nul))
        .layer(
            // Outermost first: every response, even one made by an inner
            // layer (413, timeout), gets the request id and security headers.
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(
                    x_request_id.clone(),
                    MakeRequestUuid,
                ))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(net::request_span)
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(x_request_id))
                .layer(middleware::map_response_with_state(
                    state.clone(),
                    security::finish_response,
                ))
                .layer(CompressionLayer::new())
                .layer(RequestBodyLimitLayer::new(
                    BODY_LIMIT_BYTES.max(state.config.max_upload_bytes() + 1024 * 1024),
                ))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Duration::from_secs(state.config.request_timeout_seconds),
                )),
        )
        .with_state(state)
}
