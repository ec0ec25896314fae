//! The history of a postmortem: every revision, a readable diff between any
//! two, and restoring an old one.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use similar::{ChangeTag, TextDiff};
use uuid::Uuid;

use super::{Case, Editable, record_revision};
use crate::{
    domain::{incident::display_number, time},
    store::{
        self,
        audit::AuditEvent,
        postmortems::FactorRow,
        revisions::{Restored, RevisionSummary},
    },
    web::{
        AppError, AppState,
        form::parse_version,
        layout::{Layout, Nav},
        session::CurrentUser,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{number}/history", get(show_history))
        .route(
            "/incidents/{number}/history/{revision}/restore",
            post(restore),
        )
}

/// One line of a diff: `+`, `-` or unchanged.
pub struct DiffLine {
    pub class: &'static str,
    pub sign: &'static str,
    pub text: String,
}

/// The line diff of two Markdown renderings, with long unchanged runs cut.
pub fn diff_lines(before: &str, after: &str) -> Vec<DiffLine> {
    let diff = TextDiff::from_lines(before, after);
    let mut lines = Vec::new();
    for group in diff.grouped_ops(2) {
        if !lines.is_empty() {
            lines.push(DiffLine {
                class: "gap",
                sign: " ",
                text: "…".to_owned(),
            });
        }
        for op in group {
            for change in diff.iter_changes(&op) {
                let (class, sign) = match change.tag() {
                    ChangeTag::Insert => ("add", "+"),
                    ChangeTag::Delete => ("del", "-"),
                    ChangeTag::Equal => ("same", " "),
                };
                lines.push(DiffLine {
                    class,
                    sign,
                    text: change.value().trim_end_matches('\n').to_owned(),
                });
            }
        }
    }
    lines
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/history.html")]
struct HistoryPage {
    layout: Layout,
    case: Case,
    revisions: Vec<RevisionSummary>,
    from: i32,
    to: i32,
    diff: Vec<DiffLine>,
}

impl HistoryPage {
    fn number(&self) -> String {
        display_number(self.case.incident.number)
    }

    fn when(&self, revision: &RevisionSummary) -> String {
        time::format_in(revision.at, self.layout.zone())
    }
}

#[derive(Deserialize)]
struct HistoryQuery {
    from: Option<i32>,
    to: Option<i32>,
}

async fn show_history(
    State(state): State<AppState>,
    user: CurrentUser,
    case: Case,
    Query(query): Query<HistoryQuery>,
) -> Result<HistoryPage, AppError> {
    let revisions = store::revisions::list_revisions(&state.db, case.postmortem.id).await?;
    let latest = revisions
        .first()
        .map(|revision| revision.number)
        .unwrap_or(0);
    let to = query.to.unwrap_or(latest);
    let from = query.from.unwrap_or((to - 1).max(1));
    let snapshot =
        |number: i32| store::revisions::get_snapshot(&state.db, case.postmortem.id, number);
    let taxonomy = store::taxonomy::load(&state.db).await?;
    let before = snapshot(from)
        .await?
        .map(|document| document.to_markdown(&taxonomy))
        .unwrap_or_default();
    let after = snapshot(to)
        .await?
        .map(|document| document.to_markdown(&taxonomy))
        .unwrap_or_default();
    Ok(HistoryPage {
        layout: Layout::for_user(&user, Nav::Incidents),
        diff: diff_lines(&before, &after),
        case,
        revisions,
        from,
        to,
    })
}

#[derive(Deserialize)]
struct RestoreForm {
    /// The version the history page was looking at.
    #[serde(default)]
    version: String,
}

async fn restore(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    Path((_, revision)): Path<(String, i32)>,
    axum_extra::extract::Form(form): axum_extra::extract::Form<RestoreForm>,
) -> Result<Response, AppError> {
    let seen_version = parse_version(&form.version);
    let document = store::revisions::get_snapshot(&state.db, case.postmortem.id, revision)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let restored = store::postmortems::update_sections(
        &mut *tx,
        case.postmortem.id,
        seen_version,
        &document.sections,
        now,
    )
    .await?;
    if restored.is_none() {
        user.flash_refusal(
            &state,
            "Someone saved while you were restoring; look at the history again.",
        )
        .await?;
        return Ok(Redirect::to(&format!("{}/history", case.path())).into_response());
    }
    let taxonomy = store::taxonomy::load(&mut *tx).await?;
    let factors: Vec<FactorRow> = document
        .factors
        .iter()
        .map(|factor| FactorRow {
            id: factor.id.unwrap_or_else(Uuid::now_v7),
            categories: taxonomy.canonical(&factor.categories),
            description: factor.description.clone(),
            themes: Vec::new(),
            dismissed: Vec::new(),
        })
        .collect();
    store::postmortems::save_factors(&mut tx, case.postmortem.id, &factors).await?;
    let rows = store::revisions::restore_rows(&mut tx, case.postmortem.id, &document, user.id, now)
        .await?;
    let new_revision = record_revision(
        &mut tx,
        &case,
        &user,
        &format!("Restored revision {revision}"),
        now,
    )
    .await?;
    let event = AuditEvent::new(user.id, "revision_restored").detail(serde_json::json!({
        "incident": case.incident.number,
        "revision": revision,
        "saved_as": new_revision,
        "entries_back": rows.entries_back,
        "entries_removed": rows.entries_removed,
        "attachments_back": rows.attachments_back,
        "attachments_removed": rows.attachments_removed,
        "items_changed": rows.items_changed,
    }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    user.flash(
        &state,
        &format!(
            "Revision {revision} is back{}, saved as revision {new_revision}.",
            restored_parts(&rows)
        ),
    )
    .await?;
    Ok(Redirect::to(&case.path()).into_response())
}

/// " (2 timeline entries back, 1 attachment removed)", or nothing when
/// only the text changed.
fn restored_parts(rows: &Restored) -> String {
    let counted = |n: u64, one: &str, many: &str, what: &str| {
        (n > 0).then(|| format!("{n} {} {what}", if n == 1 { one } else { many }))
    };
    let parts: Vec<String> = [
        counted(
            rows.entries_back,
            "timeline entry",
            "timeline entries",
            "back",
        ),
        counted(
            rows.entries_removed,
            "later entry",
            "later entries",
            "removed",
        ),
        counted(rows.attachments_back, "attachment", "attachments", "back"),
        counted(
            rows.attachments_removed,
            "later attachment",
            "later attachments",
            "removed",
        ),
        counted(
            rows.items_changed,
            "action item",
            "action items",
            "reworded",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::diff_lines;

    #[test]
    fn diffs_show_added_and_removed_lines_with_context() {
        let lines = diff_lines("a\nb\nc\n", "a\nB\nc\n");
        let signs: Vec<&str> = lines.iter().map(|line| line.sign).collect();
        assert_eq!(signs, vec![" ", "-", "+", " "]);
        assert_eq!(lines[2].text, "B");
    }
}
