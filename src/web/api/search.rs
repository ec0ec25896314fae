//! `/api/v1/search`: full-text search over the postmortems the token's
//! owner may read, with the same syntax as the search page.

use axum::{Json, Router, extract::State, routing::get};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Problem, caller::Caller, problem::ApiQuery, views::given};
use crate::{
    domain::{
        incident::{IncidentKind, Severity, display_number},
        postmortem::PostmortemStatus,
    },
    store::{
        self,
        search::{SearchFilter, SearchSort},
    },
    web::AppState,
};

/// Longest query read (the rest is ignored, as on the search page).
const MAX_QUERY_CHARS: usize = 500;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/search", get(search))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words, `"quoted phrases"`, `-excluded`, `or`; empty lists everything.
    q: Option<String>,
    severity: Option<Severity>,
    kind: Option<IncidentKind>,
    status: Option<PostmortemStatus>,
    service: Option<String>,
    tag: Option<String>,
    /// A team's id.
    team: Option<uuid::Uuid>,
    /// `relevance` (the default), `newest` or `oldest`.
    sort: Option<String>,
    /// From 1.
    #[param(minimum = 1, maximum = 500)]
    page: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    /// How many postmortems match (estimated when `estimated`).
    pub total: i64,
    /// The total is estimated from a sample (many matches).
    pub estimated: bool,
    /// Ordered by relevance rather than by date.
    pub ranked: bool,
    pub page: i64,
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub number: i32,
    pub key: String,
    pub title: String,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub status: PostmortemStatus,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub restricted: bool,
}

const PAGE_SIZE: i64 = 20;

/// Searches the archive.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    params(SearchParams),
    responses(
        (status = 200, description = "A page of results", body = SearchResults),
        (status = 400, description = "A parameter that cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's request budget is spent", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<Json<SearchResults>, Problem> {
    let page = params.page.unwrap_or(1);
    if !(1..=500).contains(&page) {
        return Err(Problem::bad_request("`page` is from 1 to 500."));
    }
    let filter = SearchFilter {
        text: params
            .q
            .unwrap_or_default()
            .trim()
            .chars()
            .take(MAX_QUERY_CHARS)
            .collect(),
        severity: params.severity,
        kind: params.kind,
        status: params.status,
        service: given(params.service.as_deref()),
        tag: given(params.tag.as_deref()),
        team_id: params.team,
        participant: None,
        year: None,
        quarter: None,
        zone: state.config.time_zone,
    };
    let sort = match params.sort.as_deref().unwrap_or("relevance") {
        "relevance" => SearchSort::Relevance,
        "newest" => SearchSort::Newest,
        "oldest" => SearchSort::Oldest,
        _ => {
            return Err(Problem::bad_request(
                "`sort` is `relevance`, `newest` or `oldest`.",
            ));
        }
    };
    let mut tx = store::planned(&state.db, store::Plans::Generic).await?;
    let results = store::search::search(
        &mut tx,
        caller.user.reader(),
        &filter,
        sort,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(SearchResults {
        total: results.facets.total,
        estimated: results.facets.estimated,
        ranked: results.ranked,
        page,
        hits: results
            .hits
            .into_iter()
            .map(|hit| SearchHit {
                key: display_number(hit.number),
                number: hit.number,
                title: hit.title,
                kind: hit.kind,
                severity: hit.severity,
                status: hit.status,
                services: hit.services,
                tags: hit.tags,
                started_at: hit.started_at,
                restricted: hit.restricted,
            })
            .collect(),
    }))
}
