//! The review checklist on the authoring page: the panel, and its live
//! refresh (the page posts the sections as typed; the server checks them
//! against the saved rest of the postmortem and answers with the panel).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Path, State},
    routing::post,
};
use axum_extra::extract::Form;

use super::{Case, edit::SectionsForm};
use crate::{
    domain::{
        checklist::{self, Finding},
        document::{Document, Factor},
        postmortem::FactorCategory,
    },
    store,
    web::{AppError, AppState, session::CurrentUser},
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/incidents/{number}/checklist", post(live_panel))
}

/// The panel: every rule switched on, passed or with its problems.
#[derive(Template, WebTemplate)]
#[template(path = "incidents/_checklist.html")]
pub struct ChecklistPanel {
    pub findings: Vec<Finding>,
}

impl ChecklistPanel {
    pub fn score(&self) -> (usize, usize) {
        checklist::score(&self.findings)
    }

    pub fn blocking_failures(&self) -> bool {
        self.findings.iter().any(|f| f.blocking && !f.passed())
    }
}

/// The panel for the postmortem as saved.
pub async fn saved_panel(state: &AppState, case: &Case) -> Result<ChecklistPanel, AppError> {
    panel(state, case, None).await
}

/// The panel for the saved postmortem, with the sections as typed over it
/// when there are some.
async fn panel(
    state: &AppState,
    case: &Case,
    typed: Option<&SectionsForm>,
) -> Result<ChecklistPanel, AppError> {
    let mut db = state.db.acquire().await?;
    let mut document = store::documents::load_document(&mut db, case.incident.number)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(form) = typed {
        overlay(&mut document, form);
    }
    let findings = store::checklist::evaluate(
        &mut db,
        case.postmortem.id,
        &document,
        case.review_due_days,
        state.clock.now(),
    )
    .await?;
    Ok(ChecklistPanel { findings })
}

/// The sections and factors as typed, over the saved document. Numbers
/// that do not parse count as missing; nothing is saved.
fn overlay(document: &mut Document, form: &SectionsForm) {
    let s = &mut document.sections;
    s.summary.clone_from(&form.summary);
    s.impact.clone_from(&form.impact);
    s.trigger.clone_from(&form.trigger);
    s.went_well.clone_from(&form.went_well);
    s.went_poorly.clone_from(&form.went_poorly);
    s.got_lucky.clone_from(&form.got_lucky);
    s.lessons.clone_from(&form.lessons);
    let number = |raw: &str| raw.trim().replace([',', '_', ' '], "").parse::<i64>().ok();
    s.users_affected = number(&form.users_affected);
    s.failed_requests = number(&form.failed_requests);
    s.revenue_lost_cents = form
        .revenue_lost
        .trim()
        .parse::<f64>()
        .ok()
        .map(|v| (v * 100.0) as i64);
    s.slo_budget_consumed = form
        .slo_budget_consumed
        .trim()
        .trim_end_matches('%')
        .parse()
        .ok();
    document.factors = form
        .factor_description
        .iter()
        .zip(
            form.factor_category
                .iter()
                .chain(std::iter::repeat(&String::new())),
        )
        .filter(|(description, _)| !description.trim().is_empty())
        .map(|(description, category)| Factor {
            id: None,
            category: FactorCategory::parse(category).unwrap_or(FactorCategory::Technical),
            description: description.clone(),
        })
        .collect();
}

async fn live_panel(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(number): Path<String>,
    Form(form): Form<SectionsForm>,
) -> Result<ChecklistPanel, AppError> {
    let case = Case::load_for_edit(&state, &user, &number).await?;
    panel(&state, &case, Some(&form)).await
}
