//! The authoring page: the whole postmortem edited as one document. One
//! save stores sections, figures, factors, timeline rows and action items in
//! one transaction with one revision; work in progress is autosaved as a
//! per-author draft, so nothing typed is lost.

mod checklist;
mod form;
pub mod import;
mod page;
mod parse;
mod save;
mod saved;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};

pub use checklist::{ChecklistPanel, saved_panel};
use form::DocumentForm;
pub use page::EditorPage;
use page::EditorParts;
use saved::{Directory, Opened, Saved};

use super::{Editable, record_revision};
use crate::{
    store,
    web::{AppError, AppState, BODY_LIMIT_BYTES, form::FormErrors, session::CurrentUser},
};

pub fn routes(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/incidents/{number}/postmortem/edit",
            get(show_editor).post(save_document),
        )
        .route("/incidents/{number}/postmortem/draft", post(keep_draft))
        .route(
            "/incidents/{number}/postmortem/draft/discard",
            post(discard_draft),
        )
        .route("/incidents/{number}/checklist", post(live_panel))
        // More than the default form limit, so that an oversized paste comes
        // back as a field error naming the limit, not a refusal page.
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .merge(import::routes(max_upload_bytes))
}

/// The page's parts for `form`: what it needs besides the form and panel.
async fn parts(
    state: &AppState,
    case: &super::Case,
    form: DocumentForm,
    (directory, checklist): (Directory, ChecklistPanel),
) -> Result<EditorParts, AppError> {
    let id = case.postmortem.id;
    let comments = store::comments::list(&state.db, id).await?;
    let open_threads = comments
        .iter()
        .filter(|c| c.parent_id.is_none() && c.resolved_at.is_none())
        .map(|c| page::OpenThread {
            id: c.id.to_string(),
            anchor: crate::domain::comment::anchor_label(&c.section),
            author: c.author.clone(),
            excerpt: crate::domain::markdown::excerpt(&c.body, 140),
            outdated: crate::domain::comment::is_outdated(
                c.quote.as_deref(),
                case.postmortem.sections.text(&c.section),
            ),
        })
        .collect();
    Ok(EditorParts {
        form,
        directory,
        factors: store::postmortems::list_factors(&state.db, id).await?,
        attachments: store::attachments::list_for_postmortem(&state.db, id).await?,
        checklist,
        open_threads,
    })
}

async fn show_editor(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
) -> Result<EditorPage, AppError> {
    let key = (case.postmortem.id, user.id);
    let draft = store::drafts::find_draft(&state.db, key).await?;
    let restored = draft.and_then(|draft| {
        let form = DocumentForm::from_body(draft.form.as_bytes()).ok()?;
        Some((form, draft.saved_at))
    });
    let (form, restored_at) = match restored {
        Some((form, at)) => (form, Some(at)),
        None => {
            let mut db = state.db.acquire().await?;
            let saved = Saved::load(&mut db, case.incident.number).await?;
            (DocumentForm::from_saved(&saved, user.time_zone), None)
        }
    };
    let checklist = match restored_at {
        Some(_) => checklist::typed_panel(&state, &user, &case, &form).await?,
        None => saved_panel(&state, &case).await?,
    };
    let directory = Directory::load(&state.db).await?;
    let parts = parts(&state, &case, form, (directory, checklist)).await?;
    let mut page = EditorPage::new(&user, case, parts);
    page.restored = restored_at.map(|at| {
        at.with_timezone(&user.time_zone)
            .format("%H:%M")
            .to_string()
    });
    Ok(page)
}

async fn save_document(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    body: Bytes,
) -> Result<Response, AppError> {
    let typed = DocumentForm::from_body(&body).map_err(|_| AppError::BadForm)?;
    let now = state.clock.now();
    let opened = Opened::open(&state, &case).await?;
    let (edits, errors) = opened.parse(&typed, user.time_zone);
    let Opened {
        mut tx,
        saved,
        directory,
    } = opened;
    if !errors.is_empty() {
        tx.rollback().await?;
        return refused(&state, &user, case, (typed, errors), directory).await;
    }
    let plan = save::plan(edits, &typed, &saved, user.time_zone);
    if !plan.conflicts.is_empty() {
        tx.rollback().await?;
        let mut errors = FormErrors::default();
        errors.add(
            "form",
            "Someone else saved this postmortem while you were writing, so nothing was saved yet. \
             Where you both changed something, their version is shown beside yours: merge what you need and save again. \
             Everything you did not touch now shows their latest text.",
        );
        let checklist = saved_panel(&state, &case).await?;
        let parts = parts(&state, &case, plan.merged, (directory, checklist)).await?;
        let mut page = EditorPage::new(&user, case, parts);
        page.errors = errors;
        page.conflicts = plan.conflicts;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    let summary = save::apply(
        &mut tx,
        (case.postmortem.id, case.incident.number, user.id),
        &plan.edits,
        &saved,
        &directory,
        now,
    )
    .await?;
    let revision = record_revision(&mut tx, &case, &user, &summary, now).await?;
    for edit in &plan.edits.sections {
        let (section, text) = &edit.value;
        let written = (*section, text.as_str());
        crate::web::notify::mentioned_in_section(&mut tx, &case, &user, written, now).await?;
    }
    store::drafts::delete_draft(&mut *tx, (case.postmortem.id, user.id)).await?;
    tx.commit().await?;
    user.flash(&state, &format!("Saved as revision {revision}."))
        .await?;
    Ok(Redirect::to(&format!("{}/postmortem/edit", case.path())).into_response())
}

/// The form again with what was typed and each problem named.
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    case: super::Case,
    (typed, errors): (DocumentForm, FormErrors),
    directory: Directory,
) -> Result<Response, AppError> {
    let checklist = checklist::typed_panel(state, user, &case, &typed).await?;
    let parts = parts(state, &case, typed, (directory, checklist)).await?;
    let mut page = EditorPage::new(user, case, parts);
    page.errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// Autosave: keeps the form as typed (without its CSRF token) as this
/// author's draft. Answers 204; nothing else changes.
async fn keep_draft(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    let kept: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(
            form_urlencoded::parse(&body)
                .filter(|(name, _)| name != crate::web::session::CSRF_FIELD),
        )
        .finish();
    if DocumentForm::from_body(kept.as_bytes()).is_err() {
        return Ok(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let now = state.clock.now();
    store::drafts::upsert_draft(&state.db, (case.postmortem.id, user.id), &kept, now).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn discard_draft(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
) -> Result<Response, AppError> {
    store::drafts::delete_draft(&state.db, (case.postmortem.id, user.id)).await?;
    user.flash(
        &state,
        "Unsaved changes discarded; this is the saved postmortem.",
    )
    .await?;
    Ok(Redirect::to(&format!("{}/postmortem/edit", case.path())).into_response())
}

async fn live_panel(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    body: Bytes,
) -> Result<ChecklistPanel, AppError> {
    let typed = DocumentForm::from_body(&body).map_err(|_| AppError::BadForm)?;
    checklist::typed_panel(&state, &user, &case, &typed).await
}
