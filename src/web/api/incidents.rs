//! `/api/v1/incidents`: list, read and create incidents (with their
//! postmortems).

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{
    Problem,
    caller::Caller,
    problem::{ApiJson, ApiQuery},
    views::{IncidentDetail, IncidentItem, Page, given, incident_detail, resolve_page},
};
use crate::{
    domain::{
        incident::{IncidentKind, Severity, parse_number},
        postmortem::PostmortemStatus,
    },
    store::{
        self,
        incidents::{IncidentFilter, IncidentSort},
    },
    web::{
        AppState,
        incidents::{Case, IncidentForm, create},
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/incidents",
            get(list_incidents).post(create_incident),
        )
        .route("/api/v1/incidents/{number}", get(get_incident))
}

/// Filters of the incident list; each one left out means "any".
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words in the title.
    q: Option<String>,
    severity: Option<Severity>,
    kind: Option<IncidentKind>,
    status: Option<PostmortemStatus>,
    service: Option<String>,
    /// A team's id.
    team: Option<uuid::Uuid>,
    /// A participant's name.
    participant: Option<String>,
    /// `newest` (the default), `oldest`, `severity` or `number`.
    sort: Option<String>,
    /// From 1 (the default).
    #[param(minimum = 1, maximum = 100000)]
    page: Option<i64>,
    /// From 1 to 100; 25 by default.
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i64>,
}

/// The incidents the token's owner may read, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    tag = "incidents",
    params(ListParams),
    responses(
        (status = 200, description = "A page of incidents", body = Page<IncidentItem>),
        (status = 400, description = "A filter that cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's request budget is spent", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_incidents(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Page<IncidentItem>>, Problem> {
    let (page, per_page) = resolve_page(params.page, params.per_page)?;
    let filter = IncidentFilter {
        text: given(params.q.as_deref()),
        severity: params.severity,
        kind: params.kind,
        status: params.status,
        service: given(params.service.as_deref()),
        team_id: params.team,
        participant: given(params.participant.as_deref()),
    };
    let sort = IncidentSort::parse(params.sort.as_deref().unwrap_or_default());
    let rows = store::incidents::list_incidents(
        &state.db,
        caller.user.reader(),
        &filter,
        sort,
        per_page + 1,
        (page - 1) * per_page,
    )
    .await?;
    let items = rows.into_iter().map(IncidentItem::from).collect();
    Ok(Json(Page::from_rows(items, page, per_page)))
}

/// One incident with its whole postmortem.
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{number}",
    tag = "incidents",
    params(("number" = String, Path, description = "`12` or `INC-12`")),
    responses(
        (status = 200, description = "The incident and its postmortem", body = IncidentDetail),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident, or not one the token's owner may read", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's request budget is spent", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_incident(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<IncidentDetail>, Problem> {
    let case = load_case(&state, &caller, &number).await?;
    let id = case.postmortem.id;
    let parts = (
        store::timeline::list_entries(&state.db, id).await?,
        store::postmortems::list_factors(&state.db, id).await?,
        store::action_items::list_for_postmortem(&state.db, id).await?,
    );
    Ok(Json(incident_detail(case.incident, case.postmortem, parts)))
}

/// The case `number` names, if the caller may read it.
pub async fn load_case(state: &AppState, caller: &Caller, number: &str) -> Result<Case, Problem> {
    parse_number(number).ok_or_else(Problem::not_found)?;
    Ok(Case::load(state, &caller.user, number).await?)
}

/// A new incident. Times are local to `time_zone` (`2026-11-24 14:12`) or
/// carry an offset; labels are lists.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// `incident` unless given.
    pub kind: Option<IncidentKind>,
    /// `sev3` unless given.
    pub severity: Option<Severity>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Team ids.
    #[serde(default)]
    pub teams: Vec<uuid::Uuid>,
    /// An IANA zone name; the token owner's zone unless given.
    pub time_zone: Option<String>,
    pub started_at: Option<String>,
    pub detected_at: Option<String>,
    pub mitigated_at: Option<String>,
    pub resolved_at: Option<String>,
}

/// Opens an incident with an empty draft postmortem, written by the
/// token's owner.
#[utoipa::path(
    post,
    path = "/api/v1/incidents",
    tag = "incidents",
    request_body = NewIncident,
    responses(
        (status = 201, description = "Created; the incident as stored", body = IncidentDetail),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A read-only token, or a viewer's", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields refused, each named", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's request budget is spent", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_incident(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewIncident>,
) -> Result<(StatusCode, Json<IncidentDetail>), Problem> {
    let user = caller.writer()?;
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let form = IncidentForm {
        title: body.title,
        kind: body
            .kind
            .unwrap_or(IncidentKind::Incident)
            .as_str()
            .to_owned(),
        severity: body.severity.unwrap_or(Severity::Sev3).as_str().to_owned(),
        services: body.services.join(", "),
        tags: body.tags.join(", "),
        teams: body.teams.iter().map(uuid::Uuid::to_string).collect(),
        time_zone: body
            .time_zone
            .filter(|zone| !zone.trim().is_empty())
            .unwrap_or_else(|| user.time_zone.name().to_owned()),
        started_at: text(&body.started_at),
        detected_at: text(&body.detected_at),
        mitigated_at: text(&body.mitigated_at),
        resolved_at: text(&body.resolved_at),
        version: String::new(),
    };
    let teams = store::teams::list_team_options(&state.db).await?;
    let (fields, team_ids) = form
        .parse(&teams)
        .map_err(|errors| Problem::invalid(&errors))?;
    let number = create(&state, user, &fields, &team_ids).await?;
    let Json(detail) = get_incident(State(state), caller, Path(number.to_string())).await?;
    Ok((StatusCode::CREATED, Json(detail)))
}
