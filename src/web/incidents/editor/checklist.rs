//! The review checklist beside the authoring form, and its live refresh.
//! The live panel does exactly what a save does, inside a transaction that
//! is rolled back: the form is read by the same parser, written by the same
//! code, checked by the same rules, so the panel and the saved postmortem
//! can never disagree about a form.

use askama::Template;
use askama_web::WebTemplate;

use super::{form::DocumentForm, save::apply, saved::Opened};
use crate::{
    domain::checklist::{self, Finding},
    store,
    web::{AppError, AppState, incidents::Case, session::CurrentUser},
};

/// The panel: every rule switched on, passed or with its problems.
#[derive(Template, WebTemplate)]
#[template(path = "incidents/_checklist.html")]
pub struct ChecklistPanel {
    pub findings: Vec<Finding>,
    /// Problems that would stop the form as typed from saving.
    pub form_problems: Vec<String>,
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
    let mut db = state.db.acquire().await?;
    let document = store::documents::load_document(&mut db, case.incident.number)
        .await?
        .ok_or(AppError::NotFound)?;
    let findings = store::checklist::evaluate(
        &mut db,
        case.postmortem.id,
        &document,
        case.review_due_days,
        state.clock.now(),
    )
    .await?;
    Ok(ChecklistPanel {
        findings,
        form_problems: Vec::new(),
    })
}

/// The panel for the postmortem as `form` would save it. Nothing is kept.
pub async fn typed_panel(
    state: &AppState,
    user: &CurrentUser,
    case: &Case,
    form: &DocumentForm,
) -> Result<ChecklistPanel, AppError> {
    let now = state.clock.now();
    let mut opened = Opened::open(state, case).await?;
    let (edits, problems) = opened.parse(form, user.time_zone);
    let tx = &mut opened.tx;
    apply(
        &mut *tx,
        (case.postmortem.id, case.incident.number, user.id),
        &edits,
        &opened.saved,
        &opened.directory,
        now,
    )
    .await?;
    let document = store::documents::load_document(&mut *tx, case.incident.number)
        .await?
        .ok_or(AppError::NotFound)?;
    let findings = store::checklist::evaluate(
        &mut *tx,
        case.postmortem.id,
        &document,
        case.review_due_days,
        now,
    )
    .await?;
    opened.tx.rollback().await?;
    Ok(ChecklistPanel {
        findings,
        form_problems: problems
            .iter()
            .map(|(_, message)| message.to_owned())
            .collect(),
    })
}
