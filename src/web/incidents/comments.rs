//! Review as a conversation: comments on a postmortem's sections (or a
//! passage in one), replies, edits by their author, resolving and reopening.
//! Every form works without JavaScript; with it, selecting text in a section
//! offers to comment on that passage. A success brings the reader back to
//! the thread it changed (highlighted as the page's target); a refusal
//! redraws the page with the text kept, the form focused and its problem
//! beside it.

use axum::{
    Form, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{Case, ForReading, VIEWERS_READ_ONLY, show::PostmortemPage};
use crate::{
    domain::{
        checklist,
        comment::{self, GENERAL},
        time,
    },
    store::{self, audit::AuditEvent, comments::Comment},
    web::{AppError, AppState, notify, session::CurrentUser},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{number}/comments", post(add_comment))
        .route("/incidents/{number}/comments/{id}/reply", post(reply))
        .route("/incidents/{number}/comments/{id}/edit", post(edit_comment))
        .route("/incidents/{number}/comments/{id}/resolve", post(resolve))
        .route("/incidents/{number}/comments/{id}/reopen", post(reopen))
}

/// A comment being written, kept when it is refused so nothing typed is lost.
#[derive(Clone, Debug, Default)]
pub struct CommentDraft {
    /// The form it belongs to: a section's field, or `reply-{thread id}`.
    pub form: String,
    pub quote: String,
    pub body: String,
    pub problem: Option<String>,
    /// What the blame check found, for the author to rephrase or confirm.
    pub blame: Vec<String>,
}

/// One comment as shown.
pub struct CommentView {
    pub id: String,
    pub author: String,
    pub when: String,
    pub edited: bool,
    pub html: String,
    /// The text as written, for its author's edit form.
    pub body: String,
    pub version: i32,
    pub can_edit: bool,
}

/// A thread as shown: where it points, whether its passage changed, who
/// resolved it, and its comments.
pub struct ThreadView {
    pub id: String,
    pub section: String,
    pub quote: Option<String>,
    pub outdated: bool,
    pub resolved: Option<String>,
    pub comments: Vec<CommentView>,
    pub can_resolve: bool,
}

/// The threads of a postmortem, oldest first, as `user` sees them; each
/// comment's Markdown rendered by `render`.
pub fn thread_views(
    case: &Case,
    comments: &[Comment],
    user: &CurrentUser,
    render: impl Fn(&Comment) -> String,
) -> Vec<ThreadView> {
    let zone = user.time_zone;
    let view = |c: &Comment| CommentView {
        id: c.id.to_string(),
        author: c.author.clone(),
        when: time::format_in(c.created_at, zone),
        edited: c.edited_at.is_some(),
        html: render(c),
        body: c.body.clone(),
        version: c.version,
        can_edit: c.author_id == user.id && user.can_write(),
    };
    comments
        .iter()
        .filter(|c| c.parent_id.is_none())
        .map(|root| ThreadView {
            id: root.id.to_string(),
            section: root.section.clone(),
            quote: root.quote.clone(),
            outdated: comment::is_outdated(
                root.quote.as_deref(),
                case.postmortem.sections.text(&root.section),
            ),
            resolved: root.resolved_at.map(|at| {
                format!(
                    "Resolved by {} on {}",
                    root.resolved_by.as_deref().unwrap_or("someone"),
                    time::format_in(at, zone)
                )
            }),
            comments: std::iter::once(root)
                .chain(comments.iter().filter(|c| c.parent_id == Some(root.id)))
                .map(view)
                .collect(),
            can_resolve: may_resolve(case, user, root),
        })
        .collect()
}

/// Who may resolve or reopen a thread: whoever started it, the
/// postmortem's authors and reviewers, and admins.
fn may_resolve(case: &Case, user: &CurrentUser, root: &Comment) -> bool {
    user.can_write()
        && (root.author_id == user.id
            || case.access.can_edit
            || case.access.is_reviewer
            || user.is_admin())
}

fn ensure_may_comment(user: &CurrentUser) -> Result<(), AppError> {
    if user.can_write() {
        Ok(())
    } else {
        Err(AppError::Forbidden(VIEWERS_READ_ONLY))
    }
}

#[derive(Deserialize)]
struct CommentForm {
    #[serde(default)]
    section: String,
    #[serde(default)]
    quote: String,
    #[serde(default)]
    body: String,
    /// "yes": post although the blame check found something.
    #[serde(default)]
    post_anyway: String,
}

/// The blame check's findings for a comment's text.
async fn blame_in(state: &AppState, case: &Case, body: &str) -> Result<Vec<String>, AppError> {
    let mut db = state.db.acquire().await?;
    let settings = store::checklist::settings(&mut *db).await?;
    let facts = store::checklist::facts(&mut db, case.postmortem.id).await?;
    Ok(checklist::blame_in_comment(body, &settings, &facts.people))
}

/// The reading page again, with the refused comment in its form.
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    case: Case,
    stamp: &store::postmortems::PageStamp,
    draft: CommentDraft,
) -> Result<Response, AppError> {
    let mut page = PostmortemPage::load(state, user, case, stamp).await?;
    page.comment_draft = Some(draft);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

async fn add_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    ForReading(case, stamp): ForReading,
    Form(form): Form<CommentForm>,
) -> Result<Response, AppError> {
    ensure_may_comment(&user)?;
    let section = if comment::is_anchor(&form.section) {
        form.section.clone()
    } else {
        GENERAL.to_owned()
    };
    let draft = CommentDraft {
        form: section.clone(),
        quote: form.quote.clone(),
        body: form.body,
        ..CommentDraft::default()
    };
    let posting = Posting {
        parent_id: None,
        section: &section,
        quote: comment::parse_quote(&form.quote),
        post_anyway: form.post_anyway == "yes",
        detail: serde_json::json!({ "incident": case.incident.number, "section": section }),
    };
    store_comment(&state, &user, (case, stamp), draft, posting).await
}

/// A new comment or reply, apart from its text.
pub struct Posting<'a> {
    pub parent_id: Option<Uuid>,
    pub section: &'a str,
    pub quote: Option<String>,
    /// Posted although the blame check finds something.
    pub post_anyway: bool,
    /// What the audit trail keeps of it.
    pub detail: serde_json::Value,
}

/// Why a comment was not posted.
pub enum Refusal {
    /// The text itself (empty, too long).
    Problem(String),
    /// What the blame check found, for the author to rephrase or confirm.
    Blame(Vec<String>),
}

/// Checks a comment's text and stores it, with its mentions and its audit
/// event: the one way a comment is posted, from a page or the API.
pub async fn post_comment(
    state: &AppState,
    user: &CurrentUser,
    case: &Case,
    text: &str,
    posting: Posting<'_>,
) -> Result<Result<Uuid, Refusal>, AppError> {
    let body = match comment::parse_body(text) {
        Ok(body) => body,
        Err(problem) => return Ok(Err(Refusal::Problem(problem))),
    };
    let blame = blame_in(state, case, &body).await?;
    if !blame.is_empty() && !posting.post_anyway {
        return Ok(Err(Refusal::Blame(blame)));
    }
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let id = store::comments::insert(
        &mut *tx,
        &store::comments::NewComment {
            postmortem_id: case.postmortem.id,
            parent_id: posting.parent_id,
            author_id: user.id,
            section: posting.section,
            quote: posting.quote.as_deref(),
            body: &body,
        },
        now,
    )
    .await?;
    notify::mentioned_in_comment(&mut tx, case, user, (id, &body), now).await?;
    let event = AuditEvent::new(user.id, "comment_added").detail(posting.detail);
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Posts the comment of `draft`; back to it on the reading page, or the
/// page redrawn with the text kept and the problem named.
async fn store_comment(
    state: &AppState,
    user: &CurrentUser,
    (case, stamp): (Case, store::postmortems::PageStamp),
    mut draft: CommentDraft,
    posting: Posting<'_>,
) -> Result<Response, AppError> {
    match post_comment(state, user, &case, &draft.body.clone(), posting).await? {
        Ok(id) => Ok(Redirect::to(&format!("{}#comment-{id}", case.path())).into_response()),
        Err(Refusal::Problem(problem)) => {
            draft.problem = Some(problem);
            refused(state, user, case, &stamp, draft).await
        }
        Err(Refusal::Blame(blame)) => {
            draft.blame = blame;
            refused(state, user, case, &stamp, draft).await
        }
    }
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    post_anyway: String,
}

/// The thread `raw_id` names on this postmortem (its first comment).
async fn thread_of(state: &AppState, case: &Case, raw_id: &str) -> Result<Comment, AppError> {
    let id = Uuid::parse_str(raw_id).map_err(|_| AppError::NotFound)?;
    store::comments::find(&state.db, case.postmortem.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn reply(
    State(state): State<AppState>,
    user: CurrentUser,
    ForReading(case, stamp): ForReading,
    Path((_, raw_id)): Path<(String, String)>,
    Form(form): Form<ReplyForm>,
) -> Result<Response, AppError> {
    ensure_may_comment(&user)?;
    let root = thread_of(&state, &case, &raw_id).await?;
    let root_id = root.parent_id.unwrap_or(root.id);
    let draft = CommentDraft {
        form: format!("reply-{root_id}"),
        body: form.body,
        ..CommentDraft::default()
    };
    let posting = Posting {
        parent_id: Some(root_id),
        section: &root.section,
        quote: None,
        post_anyway: form.post_anyway == "yes",
        detail: serde_json::json!({ "incident": case.incident.number, "reply_to": root_id }),
    };
    store_comment(&state, &user, (case, stamp), draft, posting).await
}

#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    version: i32,
}

async fn edit_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    ForReading(case, stamp): ForReading,
    Path((_, raw_id)): Path<(String, String)>,
    Form(form): Form<EditForm>,
) -> Result<Response, AppError> {
    ensure_may_comment(&user)?;
    let comment = thread_of(&state, &case, &raw_id).await?;
    if comment.author_id != user.id {
        return Err(AppError::Forbidden(
            "Only a comment's author can change it.",
        ));
    }
    let body = match comment::parse_body(&form.body) {
        Ok(body) => body,
        Err(problem) => {
            let draft = CommentDraft {
                form: format!("edit-{}", comment.id),
                body: form.body,
                problem: Some(problem),
                ..CommentDraft::default()
            };
            return refused(&state, &user, case, &stamp, draft).await;
        }
    };
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    if !store::comments::edit(&mut *tx, comment.id, form.version, &body, now).await? {
        let draft = CommentDraft {
            form: format!("edit-{}", comment.id),
            body,
            problem: Some(
                "This comment changed since you opened it (in another tab?). Your text is below; the comment above is as it is now.".to_owned(),
            ),
            ..CommentDraft::default()
        };
        return refused(&state, &user, case, &stamp, draft).await;
    }
    notify::mentioned_in_comment(&mut tx, &case, &user, (comment.id, &body), now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}#comment-{}", case.path(), comment.id)).into_response())
}

async fn resolve(
    State(state): State<AppState>,
    user: CurrentUser,
    case: Case,
    Path((_, raw_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    set_resolved(state, user, case, raw_id, true).await
}

async fn reopen(
    State(state): State<AppState>,
    user: CurrentUser,
    case: Case,
    Path((_, raw_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    set_resolved(state, user, case, raw_id, false).await
}

async fn set_resolved(
    state: AppState,
    user: CurrentUser,
    case: Case,
    raw_id: String,
    resolved: bool,
) -> Result<Response, AppError> {
    let root = thread_of(&state, &case, &raw_id).await?;
    if root.parent_id.is_some() {
        return Err(AppError::NotFound);
    }
    if !may_resolve(&case, &user, &root) {
        return Err(AppError::Forbidden(
            "Whoever started a thread, the postmortem's authors and reviewers, and admins can resolve it.",
        ));
    }
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::comments::set_resolved(&mut *tx, root.id, resolved.then_some(user.id), now).await?;
    let event = AuditEvent::new(
        user.id,
        if resolved {
            "comment_resolved"
        } else {
            "comment_reopened"
        },
    )
    .detail(serde_json::json!({ "incident": case.incident.number }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}#comment-{}", case.path(), root.id)).into_response())
}
