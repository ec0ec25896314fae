//! The trackers' webhooks: GitHub's `issues` events and Jira's issue
//! events, each signed with the webhook's secret (an HMAC-SHA256 of the
//! body). A change of an issue's state moves the items that follow it, as
//! the reconcile pass would; an issue no item follows is ignored.

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;

use super::Problem;
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

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// Checks the signature; the problem to answer when it is missing or wrong.
fn check(secret: Option<&str>, setting: &str, body: &[u8], presented: &str) -> Result<(), Problem> {
    let Some(secret) = secret else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "Not found",
            format!("This tracker's webhooks are not taken here: set {setting} to turn them on."),
        ));
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
        header(&headers, "x-hub-signature-256"),
    ) {
        return problem.into_response();
    }
    let read = github::read_webhook(header(&headers, "x-github-event"), &body);
    take(&state, TrackerKind::GitHub, read).await
}

async fn jira_hook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let integrations = &state.config.integrations;
    if let Err(problem) = check(
        integrations.jira_webhook_secret.as_deref(),
        "DEBRIEF_JIRA_WEBHOOK_SECRET",
        &body,
        header(&headers, "x-hub-signature"),
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
        Ok(None) => {
            return (
                StatusCode::ACCEPTED,
                Json(json!({"ignored": "not an issue event; nothing was changed"})),
            )
                .into_response();
        }
        Err(why) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unreadable webhook",
                format!("The payload is not one this endpoint reads: {why}. Nothing was changed."),
            )
            .into_response();
        }
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
