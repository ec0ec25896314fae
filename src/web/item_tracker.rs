//! An action item's issue in the tracker: made from the item, or an
//! existing one linked; read again on request; unlinked. The calls
//! themselves go through the tracker outbox (`trackers::sync`), so the page
//! answers at once and an outage of the tracker delays them only.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use axum_extra::extract::Form;
use serde_json::json;

use super::{
    AppError, AppState,
    action_items::{MAY_NOT_CHANGE, TrackerForm, item_page, load_item},
    session::CurrentUser,
};
use crate::{
    store::{self, audit::AuditEvent, trackers::NewLink},
    trackers::{self, TrackerKind},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/action-items/{id}/tracker", post(link_issue))
        .route("/action-items/{id}/tracker/refresh", post(refresh_issue))
        .route("/action-items/{id}/tracker/unlink", post(unlink_issue))
}

/// What the typed form asks for: the tracker, project and (for an existing
/// issue) its key; or the field to blame and why.
fn read_form(
    form: &TrackerForm,
    connected: &[TrackerKind],
) -> Result<(TrackerKind, String, Option<String>), (&'static str, String)> {
    let names = || {
        connected
            .iter()
            .map(|kind| kind.label())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    if connected.is_empty() {
        return Err((
            "tracker",
            "No tracker is connected: an admin sets DEBRIEF_GITHUB_TOKEN or the DEBRIEF_JIRA_ settings.".to_owned(),
        ));
    }
    if !form.reference.trim().is_empty() {
        let (kind, project, key) = trackers::parse_reference(&form.reference).ok_or_else(|| {
            (
                "reference",
                "Name the issue as owner/repo#123, OPS-42 or its address.".to_owned(),
            )
        })?;
        if !connected.contains(&kind) {
            return Err((
                "reference",
                format!(
                    "{} is not connected here; link an issue from {}.",
                    kind.label(),
                    names()
                ),
            ));
        }
        return Ok((kind, project, Some(key)));
    }
    let kind = TrackerKind::parse(&form.tracker)
        .filter(|kind| connected.contains(kind))
        .ok_or_else(|| ("tracker", format!("Pick {}.", names())))?;
    let project = trackers::parse_project(kind, &form.project).ok_or_else(|| {
        let example = match kind {
            TrackerKind::GitHub => "a repository as owner/repo",
            TrackerKind::Jira => "a project key such as OPS",
        };
        (
            "project",
            format!("Name {example}, or an existing issue below."),
        )
    })?;
    Ok((kind, project, None))
}

async fn link_issue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<TrackerForm>,
) -> Result<Response, AppError> {
    let (item, case, can_edit) = load_item(&state, &user, &id).await?;
    if !can_edit {
        return Err(AppError::Forbidden(MAY_NOT_CHANGE));
    }
    let connected = trackers::connected(&state.config.integrations);
    let (kind, project, key) = match read_form(&form, &connected) {
        Ok(read) => read,
        Err((field, problem)) => {
            let mut page = item_page(&state, &user, item, &case, can_edit).await?;
            page.errors.add(field, problem);
            page.tracker_form = form;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let link = NewLink {
        item_id: item.id,
        tracker: kind,
        project: &project,
        issue_key: key.as_deref(),
        url: None,
        linked_by: user.id,
    };
    if !store::trackers::link(&mut tx, &link, now).await? {
        tx.rollback().await?;
        let mut page = item_page(&state, &user, item, &case, can_edit).await?;
        page.errors.add(
            "tracker",
            "This item already has an issue; unlink it first to choose another.",
        );
        page.tracker_form = form;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    let action = if key.is_some() { "fetch" } else { "create" };
    store::trackers::enqueue(&mut tx, item.id, action, now).await?;
    let event = AuditEvent::new(user.id, "tracker_linked").detail(json!({
        "item": item.id,
        "tracker": kind.as_str(),
        "project": project,
        "issue": key,
    }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    let message = match &key {
        Some(key) => format!("Linked to {key}; its status shows here once read."),
        None => format!(
            "An issue is being made in {} {project}; its key shows here in a moment.",
            kind.label()
        ),
    };
    user.flash(&state, &message).await?;
    Ok(Redirect::to(&format!("/action-items/{}", item.id)).into_response())
}

async fn refresh_issue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (item, _, can_edit) = load_item(&state, &user, &id).await?;
    if !can_edit {
        return Err(AppError::Forbidden(MAY_NOT_CHANGE));
    }
    let linked = store::trackers::find(&state.db, item.id).await?;
    if linked
        .as_ref()
        .is_some_and(|linked| linked.issue_key.is_some())
    {
        let mut tx = crate::store::begin(&state.db).await?;
        store::trackers::enqueue(&mut tx, item.id, "fetch", state.clock.now()).await?;
        tx.commit().await?;
        user.flash(&state, "The issue will be read again in a moment.")
            .await?;
    } else {
        user.flash_refusal(&state, "There is no issue to read yet.")
            .await?;
    }
    Ok(Redirect::to(&format!("/action-items/{}", item.id)).into_response())
}

async fn unlink_issue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (item, _, can_edit) = load_item(&state, &user, &id).await?;
    if !can_edit {
        return Err(AppError::Forbidden(MAY_NOT_CHANGE));
    }
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    if store::trackers::unlink(&mut tx, item.id).await? {
        let event = AuditEvent::new(user.id, "tracker_unlinked").detail(json!({ "item": item.id }));
        store::audit::record(&mut *tx, event, now).await?;
    }
    tx.commit().await?;
    user.flash(
        &state,
        "Unlinked. The issue stays in the tracker; this item no longer follows it.",
    )
    .await?;
    Ok(Redirect::to(&format!("/action-items/{}", item.id)).into_response())
}
