//! The trackers' webhooks: GitHub's `issues` events and Jira's issue
//! events, each signed with the webhook's secret (an HMAC-SHA256 of the
//! body). A change of an issue's state moves the items that follow it, as
//! the reconcile pass would; an issue no item follows is ignored.

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;

use super::{Problem, webhook};
use crate::{
    domain::signature,
    store,
    trackers::{
        Issue, TrackerKind, github, jira,
        sync::{Applied, apply},
    },
    web::AppState,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/trackers/github", post(github_hook))
        .route("/api/v1/trackers/jira", post(jira_hook))
}

/// Checks the signature; the problem to answer when it is missing or wrong.
fn check(secret: Option<&str>, setting: &str, body: &[u8], presented: &str) -> Result<(), Problem> {
    let Some(secret) = secret else {
        return Err(webhook::switched_off("This tracker's webhooks", setting));
    };
    if signature::verify(secret, body, presented, "sha256=") {
        Ok(())
    } else {
        Err(Problem::unauthorized(
            "The signature header does not sign this body with the webhook's secret.",
        ))
    }
}

async fn github_hook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let integrations = &state.config.integrations;
    if let Err(problem) = check(
        integrations.github_webhook_secret.as_deref(),
        "DEBRIEF_GITHUB_WEBHOOK_SECRET",
        &body,
        webhook::header(&headers, "x-hub-signature-256"),
    ) {
        return problem.into_response();
    }
    let read = github::read_webhook(webhook::header(&headers, "x-github-event"), &body);
    take(&state, TrackerKind::GitHub, read).await
}

async fn jira_hook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let integrations = &state.config.integrations;
    if let Err(problem) = check(
        integrations.jira_webhook_secret.as_deref(),
        "DEBRIEF_JIRA_WEBHOOK_SECRET",
        &body,
        webhook::header(&headers, "x-hub-signature"),
    ) {
        return problem.into_response();
    }
    let site = integrations.jira_url.as_deref().unwrap_or_default();
    take(&state, TrackerKind::Jira, jira::read_webhook(site, &body)).await
}

/// Applies what a webhook said to every item following the issue.
async fn take(
    state: &AppState,
    kind: TrackerKind,
    read: Result<Option<Issue>, String>,
) -> Response {
    let issue = match read {
        Ok(Some(issue)) => issue,
        Ok(None) => return webhook::ignored("Not an issue event"),
        Err(why) => return webhook::unreadable(&why),
    };
    match apply_all(state, kind, &issue).await {
        Ok((items, changed)) => Json(json!({
            "issue": issue.key,
            "items": items,
            "changed": changed,
        }))
        .into_response(),
        Err(error) => Problem::from(error).into_response(),
    }
}

async fn apply_all(
    state: &AppState,
    kind: TrackerKind,
    issue: &Issue,
) -> sqlx::Result<(usize, usize)> {
    let items = store::trackers::items_for_issue(&state.db, kind, &issue.key).await?;
    let mut changed = 0;
    for item_id in &items {
        let now = state.clock.now();
        if apply(
            &state.db,
            *item_id,
            issue,
            state.config.review_due_days,
            now,
        )
        .await?
            != Applied::Unchanged
        {
            changed += 1;
        }
    }
    Ok((items.len(), changed))
}
