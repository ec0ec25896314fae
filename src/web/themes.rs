//! Themes: `/themes` lists them, `/themes/{slug}` shows one with its
//! incidents, their factors, the open items that answer them and the trend
//! per quarter. Anyone who may write starts a theme (from a factor, from a
//! search, or here) and links, dismisses or unlinks factors.

use std::collections::BTreeMap;

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

use crate::{
    domain::{
        chart::{self, Chart, Point},
        markdown,
        name::parse_name,
        quarter::Quarter,
        taxonomy::{Taxonomy, slug_of},
        time,
    },
    store::{
        self,
        audit::AuditEvent,
        themes::{FactorOf, ItemLine, Theme, ThemeSummary},
    },
    web::{
        AppError, AppState,
        form::FormErrors,
        layout::{Layout, Nav},
        session::CurrentUser,
    },
};

/// Longest theme name.
pub const NAME_MAX: usize = 120;
const DESCRIPTION_MAX: usize = 4000;
/// Quarters the trend goes back.
const TREND_QUARTERS: usize = 8;
/// Candidates offered on a theme's page at once.
const CANDIDATES: i64 = 30;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/themes", get(index).post(create))
        .route("/themes/link", post(link_factor))
        .route("/themes/{slug}", get(show).post(update))
        .route("/themes/{slug}/factors", post(decide))
}

#[derive(Template, WebTemplate)]
#[template(path = "themes/index.html")]
struct IndexPage {
    layout: Layout,
    themes: Vec<ThemeSummary>,
    theme_name: String,
    description: String,
    query: String,
    errors: FormErrors,
}

async fn index(State(state): State<AppState>, user: CurrentUser) -> Result<IndexPage, AppError> {
    IndexPage::load(&state, &user, NewTheme::default(), FormErrors::default()).await
}

impl IndexPage {
    async fn load(
        state: &AppState,
        user: &CurrentUser,
        typed: NewTheme,
        errors: FormErrors,
    ) -> Result<IndexPage, AppError> {
        Ok(IndexPage {
            layout: Layout::for_user(user, Nav::Themes),
            themes: store::themes::list(&state.db, user.reader()).await?,
            theme_name: typed.name,
            description: typed.description,
            query: typed.query,
            errors,
        })
    }
}

#[derive(Debug, Default, Deserialize)]
struct NewTheme {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    /// The search it was started from.
    #[serde(default)]
    query: String,
}

fn check_description(errors: &mut FormErrors, description: &str) {
    if description.chars().count() > DESCRIPTION_MAX {
        errors.add(
            "description",
            format!("Keep the description to {DESCRIPTION_MAX} characters or fewer."),
        );
    }
}

async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<NewTheme>,
) -> Result<Response, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden("viewers cannot start themes"));
    }
    let mut errors = FormErrors::default();
    let name = errors.check("name", parse_name(&form.name, NAME_MAX));
    check_description(&mut errors, &form.description);
    let query: String = form.query.trim().chars().take(500).collect();
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        let page = IndexPage::load(&state, &user, form, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let slug = slug_of(&name, 80).unwrap_or_else(|| "theme".to_owned());
    let (id, slug, made) = store::themes::find_or_create(
        &mut tx,
        &name,
        form.description.trim(),
        &query,
        &slug,
        user.id,
        now,
    )
    .await?;
    if made {
        store::audit::record(
            &mut *tx,
            AuditEvent::new(user.id, "theme_created").detail(json!({ "theme": id, "name": name })),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    let message = if made {
        format!("Theme “{name}” started. Link the factors that belong to it below.")
    } else {
        format!("A theme called “{name}” exists already; here it is.")
    };
    user.flash(&state, &message).await?;
    Ok(Redirect::to(&format!("/themes/{slug}")).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "themes/show.html")]
struct ThemePage {
    layout: Layout,
    theme: Theme,
    description_html: String,
    incidents: Vec<IncidentFactors>,
    hidden: i64,
    items: Vec<ItemLine>,
    candidates: Vec<FactorOf>,
    trend: Chart,
    trend_rows: Vec<(String, usize)>,
    taxonomy: Taxonomy,
    can_write: bool,
    theme_name: String,
    description: String,
    errors: FormErrors,
    today: chrono::NaiveDate,
    zone: chrono_tz::Tz,
}

/// One incident on a theme's page and its factors that the theme links.
struct IncidentFactors {
    number: i32,
    title: String,
    severity: crate::domain::incident::Severity,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    services: Vec<String>,
    factors: Vec<(Uuid, String, Vec<String>)>,
}

impl ThemePage {
    fn labels(&self, categories: &[String]) -> String {
        self.taxonomy.labels(categories).join(", ")
    }

    fn date(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map_or_else(
            || "–".to_owned(),
            |at| at.with_timezone(&self.zone).format("%Y-%m-%d").to_string(),
        )
    }

    fn overdue(&self, item: &ItemLine) -> bool {
        item.due_on.is_some_and(|due| due < self.today)
    }

    async fn load(
        state: &AppState,
        user: &CurrentUser,
        theme: Theme,
        typed: Option<(String, String, FormErrors)>,
    ) -> Result<ThemePage, AppError> {
        let reader = user.reader();
        let factors = store::themes::linked_factors(&state.db, reader, theme.id).await?;
        let all = store::themes::count_all_incidents(&state.db, theme.id).await?;
        let mut incidents: Vec<IncidentFactors> = Vec::new();
        for factor in factors {
            match incidents.iter_mut().find(|i| i.number == factor.number) {
                Some(found) => {
                    found
                        .factors
                        .push((factor.factor_id, factor.description, factor.categories))
                }
                None => incidents.push(IncidentFactors {
                    number: factor.number,
                    title: factor.title,
                    severity: factor.severity,
                    started_at: factor.started_at,
                    services: factor.services,
                    factors: vec![(factor.factor_id, factor.description, factor.categories)],
                }),
            }
        }
        let zone = state.config.time_zone;
        let now = state.clock.now();
        let (trend, trend_rows) = trend(&incidents, Quarter::current(now, zone), zone);
        let hidden = (all - incidents.len() as i64).max(0);
        let candidates = if user.can_write() {
            store::themes::candidates(&state.db, reader, &theme, CANDIDATES).await?
        } else {
            Vec::new()
        };
        let (name, description, errors) = typed.unwrap_or_else(|| {
            (
                theme.name.clone(),
                theme.description.clone(),
                FormErrors::default(),
            )
        });
        Ok(ThemePage {
            layout: Layout::for_user(user, Nav::Themes),
            description_html: markdown::render(&theme.description),
            items: store::themes::open_items(&state.db, reader, theme.id).await?,
            taxonomy: store::taxonomy::load(&state.db).await?,
            can_write: user.can_write(),
            today: user.today(now),
            zone: user.time_zone,
            theme,
            incidents,
            hidden,
            candidates,
            trend,
            trend_rows,
            theme_name: name,
            description,
            errors,
        })
    }
}

/// Incidents per quarter over the last [`TREND_QUARTERS`] quarters, by
/// when each started in the organization's zone.
fn trend(
    incidents: &[IncidentFactors],
    current: Quarter,
    zone: chrono_tz::Tz,
) -> (Chart, Vec<(String, usize)>) {
    let mut counts: BTreeMap<Quarter, usize> = BTreeMap::new();
    for incident in incidents {
        if let Some(at) = incident.started_at {
            *counts
                .entry(Quarter::of(at.with_timezone(&zone).date_naive()))
                .or_default() += 1;
        }
    }
    let quarters = current.trailing(TREND_QUARTERS);
    let rows: Vec<(String, usize)> = quarters
        .iter()
        .map(|q| (q.to_string(), counts.get(q).copied().unwrap_or(0)))
        .collect();
    let points: Vec<Point> = quarters
        .iter()
        .zip(&rows)
        .map(|(q, (_, n))| Point {
            label: q.short(),
            value: *n as f64,
            shown: n.to_string(),
        })
        .collect();
    (chart::columns(&points, None), rows)
}

async fn find(state: &AppState, slug: &str) -> Result<Theme, AppError> {
    store::themes::find(&state.db, slug)
        .await?
        .ok_or(AppError::NotFound)
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
) -> Result<ThemePage, AppError> {
    let theme = find(&state, &slug).await?;
    ThemePage::load(&state, &user, theme, None).await
}

#[derive(Debug, Default, Deserialize)]
struct ThemeEdit {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<ThemeEdit>,
) -> Result<Response, AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden("viewers cannot change themes"));
    }
    let theme = find(&state, &slug).await?;
    let mut errors = FormErrors::default();
    let name = errors.check("name", parse_name(&form.name, NAME_MAX));
    check_description(&mut errors, &form.description);
    if let Some(name) = name.filter(|_| errors.is_empty()) {
        let now = state.clock.now();
        let mut tx = crate::store::begin(&state.db).await?;
        if store::themes::update(&mut tx, theme.id, &name, form.description.trim(), now).await? {
            store::audit::record(
                &mut *tx,
                AuditEvent::new(user.id, "theme_changed")
                    .detail(json!({ "theme": theme.id, "from": theme.name, "to": name })),
                now,
            )
            .await?;
            tx.commit().await?;
            user.flash(&state, "Theme saved.").await?;
            return Ok(Redirect::to(&format!("/themes/{}", theme.slug)).into_response());
        }
        errors.add("name", format!("Another theme is already called “{name}”."));
    }
    let page = ThemePage::load(
        &state,
        &user,
        theme,
        Some((form.name, form.description, errors)),
    )
    .await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct LinkForm {
    #[serde(default)]
    factor: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    back: String,
}

/// Where to go back to: a path of this site, or the fallback.
fn back_to(back: &str, fallback: &str) -> String {
    if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
        back.to_owned()
    } else {
        fallback.to_owned()
    }
}

/// The factor's postmortem, if the user may read it; writing needs the
/// member role. A factor the user may not read is not found.
async fn readable_factor(
    state: &AppState,
    user: &CurrentUser,
    raw: &str,
) -> Result<(Uuid, Uuid, i32), AppError> {
    if !user.can_write() {
        return Err(AppError::Forbidden("viewers cannot link factors to themes"));
    }
    let factor_id = Uuid::parse_str(raw.trim()).map_err(|_| AppError::BadForm)?;
    let (postmortem_id, number) = store::themes::factor_incident(&state.db, factor_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !store::postmortems::may_read(&state.db, postmortem_id, user.id).await? {
        return Err(AppError::NotFound);
    }
    Ok((factor_id, postmortem_id, number))
}

/// Links a factor to the theme named in the form, starting the theme if
/// there is none by that name.
async fn link_factor(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<LinkForm>,
) -> Result<Response, AppError> {
    let (factor_id, _, number) = readable_factor(&state, &user, &form.factor).await?;
    let back = back_to(&form.back, &format!("/incidents/{number}#factors"));
    let name = match parse_name(&form.name, NAME_MAX) {
        Ok(name) => name,
        Err(problem) => {
            user.flash_refusal(&state, &format!("Name the theme: {problem}"))
                .await?;
            return Ok(Redirect::to(&back).into_response());
        }
    };
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let slug = slug_of(&name, 80).unwrap_or_else(|| "theme".to_owned());
    let (theme_id, slug, made) =
        store::themes::find_or_create(&mut tx, &name, "", "", &slug, user.id, now).await?;
    store::themes::decide(&mut tx, theme_id, factor_id, Some("linked"), user.id, now).await?;
    store::audit::record(
        &mut *tx,
        AuditEvent::new(user.id, "theme_linked")
            .detail(json!({ "theme": theme_id, "factor": factor_id, "new_theme": made })),
        now,
    )
    .await?;
    tx.commit().await?;
    let started = if made { " (a new theme)" } else { "" };
    user.flash(
        &state,
        &format!("Linked to the theme “{name}”{started}. See it at /themes/{slug}."),
    )
    .await?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct DecideForm {
    /// The factors decided on (several from a theme's candidate list).
    #[serde(default)]
    factor: Vec<String>,
    /// `link`, `dismiss` or `unlink`.
    #[serde(default)]
    decision: String,
    #[serde(default)]
    back: String,
}

/// Links, dismisses or unlinks factors for one theme.
async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<DecideForm>,
) -> Result<Response, AppError> {
    let theme = find(&state, &slug).await?;
    let back = back_to(&form.back, &format!("/themes/{}", theme.slug));
    let (state_name, done) = match form.decision.as_str() {
        "link" => (Some("linked"), "linked to"),
        "dismiss" => (Some("dismissed"), "kept out of"),
        "unlink" => (None, "unlinked from"),
        _ => return Err(AppError::BadForm),
    };
    if form.factor.is_empty() {
        user.flash_refusal(&state, "Tick at least one factor first.")
            .await?;
        return Ok(Redirect::to(&back).into_response());
    }
    let mut factors = Vec::with_capacity(form.factor.len());
    for raw in form.factor.iter().take(200) {
        factors.push(readable_factor(&state, &user, raw).await?.0);
    }
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    for factor_id in &factors {
        store::themes::decide(&mut tx, theme.id, *factor_id, state_name, user.id, now).await?;
    }
    store::audit::record(
        &mut *tx,
        AuditEvent::new(user.id, "theme_decided")
            .detail(json!({ "theme": theme.id, "decision": form.decision, "factors": factors })),
        now,
    )
    .await?;
    tx.commit().await?;
    let count = match factors.len() {
        1 => "1 factor".to_owned(),
        n => format!("{n} factors"),
    };
    user.flash(&state, &format!("{count} {done} “{}”.", theme.name))
        .await?;
    Ok(Redirect::to(&back).into_response())
}

impl IndexPage {
    fn date(&self, at: &Option<chrono::DateTime<chrono::Utc>>) -> String {
        at.map_or_else(
            || "–".to_owned(),
            |at| time::format_in(at, self.layout.zone()),
        )
    }
}
