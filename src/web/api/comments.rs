//! `/api/v1/incidents/{number}/comments`: a postmortem's review comments.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::get,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Problem, caller::Caller, incidents::load_case, problem::ApiJson, views::CommentView};
use crate::{
    domain::comment::{self, GENERAL},
    store,
    web::{
        AppState,
        form::FormErrors,
        incidents::{Posting, Refusal, post_comment},
    },
};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/incidents/{number}/comments",
        get(list_comments).post(add_comment),
    )
}

/// A postmortem's comments, oldest first (replies carry their thread's id).
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{number}/comments",
    tag = "comments",
    params(("number" = String, Path, description = "`12` or `INC-12`")),
    responses(
        (status = 200, description = "The comments", body = Vec<CommentView>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident, or not one the token's owner may read", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's request budget is spent", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_comments(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<Vec<CommentView>>, Problem> {
    let case = load_case(&state, &caller, &number).await?;
    let comments = store::comments::list(&state.db, case.postmortem.id).await?;
    Ok(Json(comments.into_iter().map(CommentView::from).collect()))
}

/// A new comment, or a reply to a thread.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Markdown; `@name` mentions a reader.
    pub body: String,
    /// A section's field name (`summary`, `trigger`, ...); `general` unless given.
    pub section: Option<String>,
    /// The passage commented on, as it reads now.
    pub quote: Option<String>,
    /// The thread to reply to (its first comment's id).
    pub reply_to: Option<Uuid>,
    /// Post although the blame check finds a person named as a cause.
    #[serde(default)]
    pub post_anyway: bool,
}

/// Comments on a postmortem, as its reading page would: the text is
/// checked (length, and the blame check unless `post_anyway`), mentions
/// are notified.
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{number}/comments",
    tag = "comments",
    params(("number" = String, Path, description = "`12` or `INC-12`")),
    request_body = NewComment,
    responses(
        (status = 201, description = "Posted", body = CommentView),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A read-only token, or a viewer's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident or thread, or not one the token's owner may read", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The text was refused (empty, too long, or naming a person as a cause)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's request budget is spent", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<NewComment>,
) -> Result<(StatusCode, Json<CommentView>), Problem> {
    let user = caller.writer()?;
    let case = load_case(&state, &caller, &number).await?;
    let (parent_id, section) = match body.reply_to {
        Some(thread_id) => {
            let thread = store::comments::find(&state.db, case.postmortem.id, thread_id)
                .await?
                .filter(|comment| comment.parent_id.is_none())
                .ok_or_else(Problem::not_found)?;
            (Some(thread.id), thread.section)
        }
        None => {
            let section = body.section.unwrap_or_else(|| GENERAL.to_owned());
            if !comment::is_anchor(&section) {
                return Err(Problem::invalid_field(
                    "section",
                    "Name a section of the template, or `general`.",
                ));
            }
            (None, section)
        }
    };
    let posting = Posting {
        parent_id,
        section: &section,
        quote: body.quote.as_deref().and_then(comment::parse_quote),
        post_anyway: body.post_anyway,
        detail: serde_json::json!({ "incident": case.incident.number, "section": section, "via": "api" }),
    };
    let id = match post_comment(&state, user, &case, &body.body, posting).await? {
        Ok(id) => id,
        Err(Refusal::Problem(problem)) => return Err(Problem::invalid_field("body", problem)),
        Err(Refusal::Blame(found)) => {
            let mut errors = FormErrors::default();
            for finding in found {
                errors.add("body", finding);
            }
            return Err(Problem::invalid(&errors));
        }
    };
    let posted = store::comments::find(&state.db, case.postmortem.id, id)
        .await?
        .ok_or_else(Problem::not_found)?;
    Ok((StatusCode::CREATED, Json(CommentView::from(posted))))
}
