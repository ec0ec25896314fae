//! The timeline editor: add, change and remove timestamped entries.

use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use axum_extra::extract::Form;

use super::{
    Case,
    edit::{EditorPage, EntryFormValues, RowEdit},
    record_revision,
};
use crate::{
    domain::{incident::is_web_link, postmortem::TimelineKind, time},
    store::{
        self,
        timeline::{EntryFields, EntryUpdate},
    },
    web::{
        AppError, AppState,
        form::{FormErrors, parse_id, parse_version},
        session::CurrentUser,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{number}/timeline", post(add_entry))
        .route("/incidents/{number}/timeline/{id}", post(update_entry))
        .route(
            "/incidents/{number}/timeline/{id}/delete",
            post(delete_entry),
        )
}

impl EntryFormValues {
    fn parse(&self) -> Result<EntryFields, FormErrors> {
        let mut errors = FormErrors::default();
        let zone = errors.check(
            "time_zone",
            time::parse_zone(&self.time_zone).ok_or("Pick a time zone."),
        );
        let occurred_at = zone.and_then(|zone| {
            errors.check("occurred_at", time::parse_local(&self.occurred_at, zone))
        });
        let kind = errors.check(
            "kind",
            TimelineKind::parse(&self.kind).ok_or("Pick a kind."),
        );
        let text = self.text.trim();
        if text.is_empty() || text.chars().count() > 4000 {
            errors.add("text", "Say what happened (up to 4000 characters).");
        }
        let link = self.link.trim();
        if !link.is_empty() && !is_web_link(link) {
            errors.add("link", "Links start with https:// or http://.");
        }
        let source = self.source.trim();
        match (occurred_at, kind, errors.is_empty()) {
            (Some(occurred_at), Some(kind), true) => Ok(EntryFields {
                occurred_at,
                kind,
                text: text.to_owned(),
                source: if source.is_empty() {
                    "typed".to_owned()
                } else {
                    source.chars().take(60).collect()
                },
                link: Some(link.to_owned()).filter(|link| !link.is_empty()),
            }),
            _ => Err(errors),
        }
    }
}

async fn invalid(
    state: &AppState,
    user: &CurrentUser,
    case: Case,
    form: EntryFormValues,
    errors: FormErrors,
) -> Result<Response, AppError> {
    let mut page = EditorPage::load(state, user, case).await?;
    page.entry_form = form;
    page.entry_errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// The editor again, with one row's typed values and its problems shown in
/// that row. After a conflict the row carries the current version, so a
/// second save applies the user's text.
async fn invalid_row(
    state: &AppState,
    user: &CurrentUser,
    case: Case,
    id: uuid::Uuid,
    mut form: EntryFormValues,
    errors: FormErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let mut page = EditorPage::load(state, user, case).await?;
    if let Some(current) = page.entries.iter().find(|entry| entry.id == id.to_string()) {
        form.version = current.version.to_string();
    }
    page.row_edit = Some(RowEdit {
        id: id.to_string(),
        form,
        errors,
    });
    Ok((status, page).into_response())
}

async fn add_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(number): Path<String>,
    Form(form): Form<EntryFormValues>,
) -> Result<Response, AppError> {
    let case = Case::load_for_edit(&state, &user, &number).await?;
    let fields = match form.parse() {
        Ok(fields) => fields,
        Err(errors) => return invalid(&state, &user, case, form, errors).await,
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    store::timeline::insert_entry(&mut *tx, case.postmortem.id, &fields, user.id, now).await?;
    record_revision(&mut tx, &case, &user, "Added a timeline entry", now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}/postmortem/edit#timeline", case.path())).into_response())
}

async fn update_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((number, id)): Path<(String, String)>,
    Form(form): Form<EntryFormValues>,
) -> Result<Response, AppError> {
    let case = Case::load_for_edit(&state, &user, &number).await?;
    let id = parse_id(&id)?;
    let fields = match form.parse() {
        Ok(fields) => fields,
        Err(errors) => {
            return invalid_row(
                &state,
                &user,
                case,
                id,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let expected = parse_version(&form.version);
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    match store::timeline::update_entry(&mut tx, case.postmortem.id, id, expected, &fields).await? {
        EntryUpdate::Saved => {}
        EntryUpdate::Gone => {
            tx.rollback().await?;
            let mut errors = FormErrors::default();
            errors.add("text", "This entry was removed by someone else. Your text is below: add it again if it is still right.");
            return invalid(&state, &user, case, form, errors).await;
        }
        EntryUpdate::Stale => {
            tx.rollback().await?;
            let mut errors = FormErrors::default();
            errors.add(
                "row",
                "Someone changed this entry while you were editing. Your text is kept here; the saved one is in the timeline on the reading page. Save again to keep yours.",
            );
            return invalid_row(&state, &user, case, id, form, errors, StatusCode::CONFLICT).await;
        }
    }
    record_revision(&mut tx, &case, &user, "Changed a timeline entry", now).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}/postmortem/edit#timeline", case.path())).into_response())
}

async fn delete_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((number, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let case = Case::load_for_edit(&state, &user, &number).await?;
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if !store::timeline::delete_entry(&mut *tx, case.postmortem.id, id).await? {
        return Err(AppError::NotFound);
    }
    record_revision(&mut tx, &case, &user, "Removed a timeline entry", now).await?;
    tx.commit().await?;
    user.flash(
        &state,
        "Timeline entry removed; the previous revision still has it.",
    )
    .await?;
    Ok(Redirect::to(&format!("{}/postmortem/edit#timeline", case.path())).into_response())
}
