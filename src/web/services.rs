//! Services: `/services` lists them (and loads a Backstage catalog file),
//! `/services/{name}` shows one: owner team, incidents, open and overdue
//! items, themes, and time to detect and resolve per quarter. A former name
//! (after a rename or merge) leads to the service as it is called now.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::Form;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::trends::TimesView;
use crate::{
    domain::{catalog, quarter::Quarter},
    store::{
        self,
        audit::AuditEvent,
        services::{Counts, Lookup, Service, ServiceIncident, ServiceSummary},
        teams::Team,
        themes::ItemLine,
        trends::Scope,
    },
    web::{
        AppError, AppState,
        layout::{Layout, Nav},
        session::{Admin, CurrentUser},
    },
};

/// Quarters a service's times go back.
const QUARTERS: usize = 8;
/// Incidents and items listed on a service's page.
const LISTED: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/services", get(index))
        .route("/services/catalog", post(load_catalog))
        .route("/services/{name}", get(show).post(update))
        .route("/services/{name}/rename", post(rename))
        .route("/services/{name}/merge", post(merge))
}

/// The path of a service's page.
pub fn path(name: &str) -> String {
    format!(
        "/services/{}",
        form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    )
}

#[derive(Template, WebTemplate)]
#[template(path = "services/index.html")]
struct IndexPage {
    layout: Layout,
    services: Vec<ServiceSummary>,
    catalog_text: String,
    /// What the last catalog load did, line by line.
    report: Vec<String>,
}

impl IndexPage {
    fn path(&self, name: &str) -> String {
        path(name)
    }

    fn date(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map_or_else(
            || "–".to_owned(),
            |at| {
                at.with_timezone(&self.layout.zone())
                    .format("%Y-%m-%d")
                    .to_string()
            },
        )
    }
}

async fn index(State(state): State<AppState>, user: CurrentUser) -> Result<IndexPage, AppError> {
    Ok(IndexPage {
        layout: Layout::for_user(&user, Nav::Services),
        services: store::services::list(&state.db).await?,
        catalog_text: String::new(),
        report: Vec::new(),
    })
}

#[derive(Debug, Default, Deserialize)]
struct CatalogForm {
    #[serde(default)]
    catalog: String,
}

/// Loads a pasted `catalog-info.yaml`: its components, systems and
/// resources become services (owners matched to teams by name); what it
/// could not take is listed on the page that comes back.
async fn load_catalog(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<CatalogForm>,
) -> Result<Response, AppError> {
    let parsed = catalog::parse(&form.catalog);
    let mut report = Vec::new();
    if parsed.services.is_empty() {
        report.push(
            "Nothing was loaded: the text holds no Component, System or Resource with a name."
                .to_owned(),
        );
        report.extend(parsed.skipped);
        let page = IndexPage {
            layout: Layout::for_user(&admin, Nav::Services),
            services: store::services::list(&state.db).await?,
            catalog_text: form.catalog,
            report,
        };
        return Ok(page.into_response());
    }
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let loaded = store::services::load_catalog(&mut tx, &parsed, now).await?;
    store::audit::record(
        &mut *tx,
        AuditEvent::new(admin.id, "services_loaded").detail(json!({
            "created": loaded.created, "updated": loaded.updated,
            "unmatched_owners": loaded.unmatched_owners, "skipped": parsed.skipped.len(),
        })),
        now,
    )
    .await?;
    tx.commit().await?;
    report.push(format!(
        "Loaded the catalog: {} services created, {} updated.",
        loaded.created, loaded.updated
    ));
    for owner in &loaded.unmatched_owners {
        report.push(format!(
            "Owner not matched to a team (the service has no owner yet): {owner}."
        ));
    }
    report.extend(parsed.skipped);
    Ok(IndexPage {
        layout: Layout::for_user(&admin, Nav::Services),
        services: store::services::list(&state.db).await?,
        catalog_text: String::new(),
        report,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "services/show.html")]
struct ServicePage {
    layout: Layout,
    name: String,
    service: Option<Service>,
    counts: Counts,
    incidents: Vec<ServiceIncident>,
    items: Vec<ItemLine>,
    themes: Vec<(String, String, i64)>,
    times: TimesView,
    teams: Vec<Team>,
    today: chrono::NaiveDate,
    can_write: bool,
    is_admin: bool,
    problem: Option<String>,
}

impl ServicePage {
    fn path(&self) -> String {
        path(&self.name)
    }

    fn date(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map_or_else(
            || "–".to_owned(),
            |at| {
                at.with_timezone(&self.layout.zone())
                    .format("%Y-%m-%d")
                    .to_string()
            },
        )
    }

    fn overdue(&self, item: &ItemLine) -> bool {
        item.due_on.is_some_and(|due| due < self.today)
    }

    fn is_owner(&self, team: &Team) -> bool {
        self.service
            .as_ref()
            .is_some_and(|s| s.owner_team_id == Some(team.id))
    }

    /// How many incidents the page does not list by name (restricted or
    /// still in draft for this reader, or beyond the list).
    fn unlisted(&self) -> i64 {
        (self.counts.incidents - self.incidents.len() as i64).max(0)
    }

    async fn load(
        state: &AppState,
        user: &CurrentUser,
        name: String,
        service: Option<Service>,
        problem: Option<String>,
    ) -> Result<ServicePage, AppError> {
        let zone = state.config.time_zone;
        let now = state.clock.now();
        let today = user.today(now);
        let quarters = Quarter::current(now, zone).trailing(QUARTERS);
        let figures = {
            let (db, shown, service) = (state.db.clone(), quarters.clone(), name.clone());
            state
                .caches
                .service_figures
                .get((name.clone(), today), move || async move {
                    ServiceFigures::load(&db, &service, &shown, zone, today).await
                })
        };
        let reader = user.reader();
        // Each part is its own query on the pool, run side by side.
        let (figures, incidents, items, teams) = tokio::try_join!(
            figures,
            store::services::incidents(&state.db, reader, &name, LISTED),
            store::services::open_items(&state.db, reader, &name, LISTED),
            store::teams::list_team_options(&state.db),
        )?;
        Ok(ServicePage {
            layout: Layout::for_user(user, Nav::Services),
            counts: figures.counts.clone(),
            incidents,
            items,
            themes: figures.themes.clone(),
            times: TimesView::build(&quarters, &figures.quarters),
            teams,
            today,
            can_write: user.can_write(),
            is_admin: user.is_admin(),
            name,
            service,
            problem,
        })
    }
}

/// What a service page counts over every incident of the service, whoever
/// reads it (restricted incidents are counted, never named): cached per
/// service and day for a minute (`Caches::service_figures`), since it reads
/// all of the service's incidents, items and linked factors.
#[derive(Clone, Debug, Default)]
pub struct ServiceFigures {
    counts: Counts,
    themes: Vec<(String, String, i64)>,
    quarters: Vec<crate::store::trends::QuarterFigures>,
}

impl ServiceFigures {
    async fn load(
        db: &sqlx::PgPool,
        name: &str,
        quarters: &[Quarter],
        zone: chrono_tz::Tz,
        today: chrono::NaiveDate,
    ) -> sqlx::Result<ServiceFigures> {
        let scope = Scope {
            team_id: None,
            service: Some(name.to_owned()),
        };
        let (from, until) = (
            quarters[0].starts_at(zone),
            quarters[quarters.len() - 1].ends_at(zone),
        );
        let (counts, themes, quarters) = tokio::try_join!(
            store::services::counts(db, name, today),
            store::services::themes(db, name),
            store::trends::by_quarter(db, &scope, zone.name(), from, until),
        )?;
        Ok(ServiceFigures {
            counts,
            themes,
            quarters,
        })
    }
}

enum Found {
    Page(String, Option<Service>),
    Moved(String),
}

async fn find(state: &AppState, name: &str) -> Result<Found, AppError> {
    let mut connection = state.db.acquire().await?;
    match store::services::lookup(&mut connection, name).await? {
        Lookup::Current(service) => Ok(Found::Page(name.to_owned(), service)),
        Lookup::Renamed(now) => Ok(Found::Moved(now)),
        Lookup::Missing => Err(AppError::NotFound),
    }
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    match find(&state, &name).await? {
        Found::Moved(now) => Ok(Redirect::permanent(&path(&now)).into_response()),
        Found::Page(name, service) => Ok(ServicePage::load(&state, &user, name, service, None)
            .await?
            .into_response()),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ServiceForm {
    #[serde(default)]
    owner: String,
    #[serde(default)]
    description: String,
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Form(form): Form<ServiceForm>,
) -> Result<Response, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden("viewers cannot change services"));
    }
    let Found::Page(name, service) = find(&state, &name).await? else {
        return Err(AppError::NotFound);
    };
    let owner = match form.owner.trim() {
        "" => None,
        raw => Some(Uuid::parse_str(raw).map_err(|_| AppError::BadForm)?),
    };
    if form.description.chars().count() > 2000 {
        let problem = "Keep the description to 2,000 characters or fewer.".to_owned();
        return refused(&state, &user, name, service, problem).await;
    }
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::services::update(&mut tx, &name, owner, form.description.trim(), now).await?;
    store::audit::record(
        &mut *tx,
        AuditEvent::new(user.id, "service_changed")
            .detail(json!({ "service": name, "owner_team": owner })),
        now,
    )
    .await?;
    tx.commit().await?;
    user.flash(&state, "Service saved.").await?;
    Ok(Redirect::to(&path(&name)).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct NameForm {
    #[serde(default)]
    to: String,
}

fn new_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("Give the new name.".to_owned());
    }
    if name.chars().count() > catalog::NAME_MAX || name.chars().any(char::is_control) {
        return Err(format!(
            "A service name is at most {} characters, without control characters.",
            catalog::NAME_MAX
        ));
    }
    Ok(name.to_owned())
}

/// The service page again with the problem named at its top, as 422.
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    name: String,
    service: Option<Service>,
    problem: String,
) -> Result<Response, AppError> {
    let page = ServicePage::load(state, user, name, service, Some(problem)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// Renames (`merge` false) or merges a service, as an admin.
async fn change_name(
    state: &AppState,
    admin: &CurrentUser,
    from: &str,
    raw_to: &str,
    merge: bool,
) -> Result<Response, AppError> {
    let Found::Page(from, service) = find(state, from).await? else {
        return Err(AppError::NotFound);
    };
    let to = match new_name(raw_to) {
        Ok(to) => to,
        Err(problem) => {
            return refused(state, admin, from, service, problem).await;
        }
    };
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let done = if merge {
        store::services::merge(&mut tx, &from, &to, admin.id, now).await
    } else {
        store::services::rename(&mut tx, &from, &to, admin.id, now).await
    };
    let moved = match done {
        Ok(moved) => moved,
        Err(store::services::Refusal::Db(error)) => return Err(error.into()),
        Err(refusal) => {
            drop(tx);
            return refused(state, admin, from, service, refusal.to_string()).await;
        }
    };
    let action = if merge {
        "service_merged"
    } else {
        "service_renamed"
    };
    store::audit::record(
        &mut *tx,
        AuditEvent::new(admin.id, action)
            .detail(json!({ "from": from, "to": to, "incidents": moved })),
        now,
    )
    .await?;
    tx.commit().await?;
    let message = if merge {
        format!("{from} merged into {to}: {moved} incidents moved. Links to {from} lead here.")
    } else {
        format!("{from} is now called {to}: {moved} incidents changed. Links to {from} lead here.")
    };
    admin.flash(state, &message).await?;
    Ok(Redirect::to(&path(&to)).into_response())
}

async fn rename(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(name): Path<String>,
    Form(form): Form<NameForm>,
) -> Result<Response, AppError> {
    change_name(&state, &admin, &name, &form.to, false).await
}

async fn merge(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(name): Path<String>,
    Form(form): Form<NameForm>,
) -> Result<Response, AppError> {
    change_name(&state, &admin, &name, &form.to, true).await
}
