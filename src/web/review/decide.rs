//! Recording a decision on an overdue or stale action item. The review
//! page posts here; a rejected decision comes back on a page of its own,
//! with what was typed and the problem named.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::{TeamQuery, open_for_decisions, parse_quarter};
use crate::{
    domain::{
        incident::display_number,
        quarter::Quarter,
        review::{Decision, DecisionKind},
    },
    store::{self, action_items::NewChange, audit::AuditEvent, review::DecisionTarget},
    web::{
        AppError, AppState,
        form::{FormErrors, parse_id, parse_version},
        layout::{Layout, Nav},
        notify,
        session::CurrentUser,
    },
};

/// The decision form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct DecisionForm {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub evidence_url: String,
    #[serde(default)]
    pub new_due_on: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub team: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "review/decide.html")]
pub(super) struct DecisionPage {
    layout: Layout,
    quarter: Quarter,
    item: DecisionTarget,
    form: DecisionForm,
    errors: FormErrors,
}

impl DecisionPage {
    fn kinds(&self) -> &'static [DecisionKind] {
        DecisionKind::ALL
    }

    fn label(&self) -> String {
        display_number(self.item.incident_number)
    }

    fn back(&self) -> String {
        format!(
            "/review/{}{}",
            self.quarter,
            TeamQuery {
                team: self.form.team.clone()
            }
            .suffix()
        )
    }
}

/// The item, if this user may decide on it in this quarter: admins for
/// every item, team leads for their teams' items; only open items of
/// published postmortems, in a quarter open for decisions.
async fn load_target(
    state: &AppState,
    user: &CurrentUser,
    quarter: Quarter,
    raw_id: &str,
) -> Result<DecisionTarget, AppError> {
    let item = store::review::get_target(&state.db, parse_id(raw_id)?, user.id)
        .await?
        .filter(|item| item.published)
        .ok_or(AppError::NotFound)?;
    let allowed = user.can_write()
        && (user.is_admin()
            || match item.team_id {
                Some(team) => store::review::leads_team(&state.db, user.id, team).await?,
                None => false,
            });
    if !allowed {
        return Err(AppError::Forbidden(
            "Team leads decide for their teams' items, and admins for all.",
        ));
    }
    if !open_for_decisions(state, quarter, state.clock.now()).await? {
        return Err(AppError::Conflict(
            "This quarter is closed (or has not started): decisions go into the current quarter's review.",
        ));
    }
    if !item.status.is_open() {
        return Err(AppError::Conflict(
            "This item is no longer open: it needs no decision.",
        ));
    }
    Ok(item)
}

pub(super) async fn show_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((raw_quarter, raw_id)): Path<(String, String)>,
    Query(query): Query<TeamQuery>,
) -> Result<DecisionPage, AppError> {
    let quarter = parse_quarter(&raw_quarter)?;
    let item = load_target(&state, &user, quarter, &raw_id).await?;
    Ok(DecisionPage {
        layout: Layout::for_user(&user, Nav::Review),
        form: DecisionForm {
            version: item.version.to_string(),
            team: query.team,
            ..DecisionForm::default()
        },
        quarter,
        item,
        errors: FormErrors::default(),
    })
}

pub(super) async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((raw_quarter, raw_id)): Path<(String, String)>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let quarter = parse_quarter(&raw_quarter)?;
    let item = load_target(&state, &user, quarter, &raw_id).await?;
    let now = state.clock.now();
    let today = now.with_timezone(&state.config.time_zone).date_naive();
    let rejected = |item: DecisionTarget, form: DecisionForm, errors: FormErrors, status| {
        let page = DecisionPage {
            layout: Layout::for_user(&user, Nav::Review),
            quarter,
            item,
            form,
            errors,
        };
        (status, page).into_response()
    };
    let decision = match Decision::parse(
        &form.decision,
        &form.evidence_url,
        &form.new_due_on,
        &form.reason,
        today,
    ) {
        Ok(decision) => decision,
        Err((field, message)) => {
            let mut errors = FormErrors::default();
            errors.add(field, message);
            return Ok(rejected(
                item,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let key = quarter.to_string();
    let mut tx = crate::store::begin(&state.db).await?;
    let expected = parse_version(&form.version);
    if !store::review::decide(&mut tx, &item, expected, &decision, &key, user.id, now).await? {
        tx.rollback().await?;
        let mut errors = FormErrors::default();
        errors.add("form", "Someone changed this item while you were deciding. Check it again below; what you typed is kept, so submit again to record the decision.");
        let form = DecisionForm {
            version: item.version.to_string(),
            ..form
        };
        return Ok(rejected(item, form, errors, StatusCode::CONFLICT));
    }
    let changes = history(&item, &decision, &key);
    notify::record_item_changes(&mut tx, item.id, user.id, changes, now).await?;
    let event = AuditEvent::new(user.id, "quarterly_decision").detail(serde_json::json!({
        "incident": item.incident_number,
        "quarter": key,
        "item": item.id,
        "decision": decision.describe(),
    }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    user.flash(
        &state,
        &format!(
            "Decision recorded for “{}”: {}.",
            item.title,
            decision.describe()
        ),
    )
    .await?;
    let back = TeamQuery { team: form.team }.suffix();
    Ok(Redirect::to(&format!("/review/{quarter}{back}#decide")).into_response())
}

/// The lines the decision adds to the item's history: the decision itself,
/// and the status or due date it changed.
fn history<'a>(item: &DecisionTarget, decision: &'a Decision, quarter: &str) -> Vec<NewChange<'a>> {
    let mut changes = vec![NewChange {
        field: "decision",
        old_value: None,
        new_value: Some(format!("{} ({quarter} review)", decision.describe())),
        note: decision.reason(),
    }];
    let status = decision.status_after(item.status);
    if status != item.status {
        changes.push(NewChange {
            field: "status",
            old_value: Some(item.status.label().to_owned()),
            new_value: Some(status.label().to_owned()),
            note: decision.reason(),
        });
    }
    if let Some(due) = decision.new_due_on() {
        changes.push(NewChange {
            field: "due_on",
            old_value: item.due_on.map(|due| due.to_string()),
            new_value: Some(due.to_string()),
            note: None,
        });
    }
    changes
}
