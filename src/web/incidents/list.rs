//! The incident list: filters, sorting and pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Query, State},
    routing::get,
};
use serde::Deserialize;

use crate::{
    domain::{
        incident::{IncidentKind, Severity, display_number},
        postmortem::PostmortemStatus,
        time,
    },
    store::{
        self,
        incidents::{IncidentFilter, IncidentSort, IncidentSummary, Reader},
        teams::Team,
    },
    web::{
        AppError, AppState,
        layout::{Layout, Nav},
        pagination::{PageQuery, Pagination},
        query,
        session::CurrentUser,
    },
};

const PAGE_SIZE: i64 = 25;

pub fn routes() -> Router<AppState> {
    Router::new().route("/incidents", get(list_incidents))
}

/// The list's query string, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    team: String,
    /// A participant's name.
    #[serde(default)]
    participant: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/list.html")]
struct IncidentListPage {
    layout: Layout,
    query: ListQuery,
    incidents: Vec<IncidentSummary>,
    pagination: Pagination,
    services: Vec<String>,
    teams: Vec<Team>,
    can_create: bool,
    sort: IncidentSort,
}

impl IncidentListPage {
    fn severities(&self) -> &'static [Severity] {
        Severity::ALL
    }

    fn kinds(&self) -> &'static [IncidentKind] {
        IncidentKind::ALL
    }

    fn statuses(&self) -> &'static [PostmortemStatus] {
        PostmortemStatus::ALL
    }

    fn sorts(&self) -> [(&'static str, &'static str); 4] {
        [
            ("newest", "Newest first"),
            ("oldest", "Oldest first"),
            ("severity", "Most severe"),
            ("number", "Number"),
        ]
    }

    fn is_sort(&self, value: &str) -> bool {
        self.sort.as_str() == value
    }

    fn label(&self, number: &i32) -> String {
        display_number(*number)
    }

    fn started(&self, incident: &IncidentSummary) -> String {
        incident
            .started_at
            .map(|at| time::format_in(at, self.layout.zone()))
            .unwrap_or_else(|| "not set".to_owned())
    }

    fn is_filtered(&self) -> bool {
        let q = &self.query;
        [
            &q.q,
            &q.severity,
            &q.kind,
            &q.status,
            &q.service,
            &q.team,
            &q.participant,
        ]
        .iter()
        .any(|value| !value.is_empty())
    }

    /// The list's address with its filters, for the pager.
    fn path(&self) -> String {
        let q = &self.query;
        let pairs = [
            ("q", &q.q),
            ("severity", &q.severity),
            ("kind", &q.kind),
            ("status", &q.status),
            ("service", &q.service),
            ("team", &q.team),
            ("participant", &q.participant),
            ("sort", &q.sort),
        ];
        query::prefix(
            "/incidents",
            pairs.iter().map(|(name, value)| (*name, value.as_str())),
        )
    }
}

/// The list's filter choices: the services of published incidents (the
/// same for everyone), those of the drafts this reader sees, and the teams;
/// each cached for half a minute, so a new team or a new draft's service
/// is offered within that time.
async fn choices(state: &AppState, reader: Reader) -> Result<(Vec<String>, Vec<Team>), AppError> {
    let db = state.db.clone();
    let published = state
        .caches
        .published_services
        .get((), move || async move {
            store::incidents::list_published_services(&db).await
        })
        .await?;
    let db = state.db.clone();
    let key = if reader.is_admin {
        uuid::Uuid::nil()
    } else {
        reader.user_id
    };
    let own = state
        .caches
        .list_choices
        .get(key, move || async move {
            store::incidents::list_filter_options(&db, reader).await
        })
        .await?;
    let mut services = published.as_ref().clone();
    services.extend(own.draft_services.iter().cloned());
    services.sort();
    services.dedup();
    Ok((services, own.teams.clone()))
}

async fn list_incidents(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<IncidentListPage, AppError> {
    let filter = IncidentFilter {
        text: Some(query.q.trim().to_owned()).filter(|text| !text.is_empty()),
        severity: Severity::parse(&query.severity),
        kind: IncidentKind::parse(&query.kind),
        status: PostmortemStatus::parse(&query.status),
        service: Some(query.service.clone()).filter(|service| !service.is_empty()),
        // An id that names no team matches nothing, as a filter should.
        team_id: uuid::Uuid::parse_str(query.team.trim()).ok(),
        participant: Some(query.participant.trim().to_owned()).filter(|name| !name.is_empty()),
    };
    let sort = IncidentSort::parse(&query.sort);
    let mut pagination = PageQuery::from_raw(query.page.clone()).pagination(PAGE_SIZE);
    let (services, teams) = choices(&state, user.reader()).await?;
    let mut incidents = store::incidents::list_incidents(
        &state.db,
        user.reader(),
        &filter,
        sort,
        pagination.limit(),
        pagination.offset(),
    )
    .await?;
    pagination.trim(&mut incidents);
    Ok(IncidentListPage {
        layout: Layout::for_user(&user, Nav::Incidents),
        query,
        incidents,
        pagination,
        services,
        teams,
        can_create: user.can_write(),
        sort,
    })
}
