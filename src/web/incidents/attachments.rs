//! Screenshots and other images on a postmortem or a timeline entry:
//! uploaded (or pasted), checked by content, stored in Postgres, served
//! with their real type and a safe name.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, Path, State},
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use uuid::Uuid;

use super::{Case, Editable, record_revision};
use crate::{
    domain::{
        attachment::{ImageType, safe_file_name, sniff},
        incident::display_number,
    },
    store::{self, attachments::NewAttachment, audit::AuditEvent, timeline::TimelineEntry},
    web::{
        AppError, AppState,
        form::parse_id,
        layout::{Layout, Nav},
        session::CurrentUser,
    },
};

pub fn routes(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/incidents/{number}/attachments",
            get(show_form)
                .post(upload)
                // Room for the form fields around the file.
                .layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024)),
        )
        .route("/incidents/{number}/attachments/{id}/{name}", get(serve))
        .route("/incidents/{number}/attachments/{id}/delete", post(delete))
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/attach.html")]
pub struct AttachPage {
    layout: Layout,
    number: String,
    path: String,
    entries: Vec<TimelineEntry>,
    chosen_entry: String,
    problem: Option<String>,
    max_mb: usize,
}

impl AttachPage {
    async fn load(
        state: &AppState,
        user: &CurrentUser,
        case: &Case,
    ) -> Result<AttachPage, AppError> {
        Ok(AttachPage {
            layout: Layout::for_user(user, Nav::Incidents),
            number: display_number(case.incident.number),
            path: case.path(),
            entries: store::timeline::list_entries(&state.db, case.postmortem.id).await?,
            chosen_entry: String::new(),
            problem: None,
            max_mb: state.config.max_upload_mb.max(1),
        })
    }

    fn entry_label(&self, entry: &TimelineEntry) -> String {
        let text: String = entry.text.chars().take(70).collect();
        format!(
            "{} — {text}",
            entry.occurred_at.format("%Y-%m-%d %H:%M UTC")
        )
    }

    fn is_chosen(&self, entry: &TimelineEntry) -> bool {
        self.chosen_entry == entry.id.to_string()
    }
}

async fn show_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
) -> Result<AttachPage, AppError> {
    AttachPage::load(&state, &user, &case).await
}

/// One uploaded file and the entry it belongs to.
struct Upload {
    file_name: String,
    bytes: Vec<u8>,
    entry: String,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, String> {
    let mut upload = Upload {
        file_name: String::new(),
        bytes: Vec::new(),
        entry: String::new(),
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err("too large".to_owned());
            }
            Err(_) => return Err("The upload was cut off. Try again.".to_owned()),
        };
        match field.name() {
            Some("file") => {
                upload.file_name = field.file_name().unwrap_or("image").to_owned();
                upload.bytes = match field.bytes().await {
                    Ok(bytes) => bytes.to_vec(),
                    Err(error) if error.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        return Err("too large".to_owned());
                    }
                    Err(_) => return Err("The upload was cut off. Try again.".to_owned()),
                };
            }
            Some("entry") => upload.entry = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    Ok(upload)
}

/// Why an upload was refused, and with which status.
struct Refusal {
    problem: String,
    entry: String,
    status: StatusCode,
}

/// Checks an upload: present, within the limit, and really an image.
fn check(upload: Result<Upload, String>, max: usize) -> Result<(Upload, ImageType), Refusal> {
    let too_large = |entry: String| Refusal {
        problem: format!(
            "The file is larger than the {} MB limit. Crop it or save it as JPEG.",
            max / (1024 * 1024)
        ),
        entry,
        status: StatusCode::PAYLOAD_TOO_LARGE,
    };
    let upload = match upload {
        Ok(upload) => upload,
        Err(why) if why == "too large" => return Err(too_large(String::new())),
        Err(problem) => {
            return Err(Refusal {
                problem,
                entry: String::new(),
                status: StatusCode::UNPROCESSABLE_ENTITY,
            });
        }
    };
    if upload.bytes.is_empty() && upload.file_name.is_empty() {
        let problem = "Choose an image to attach.".to_owned();
        return Err(Refusal {
            problem,
            entry: upload.entry,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        });
    }
    if upload.bytes.len() > max {
        return Err(too_large(upload.entry));
    }
    match sniff(&upload.bytes) {
        Ok(kind) => Ok((upload, kind)),
        Err(why) => Err(Refusal {
            problem: format!("“{}” was not attached. {why}", upload.file_name),
            entry: upload.entry,
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }),
    }
}

async fn upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let (upload, kind) = match check(
        read_upload(multipart).await,
        state.config.max_upload_bytes(),
    ) {
        Ok(checked) => checked,
        Err(refusal) => {
            let mut page = AttachPage::load(&state, &user, &case).await?;
            page.problem = Some(refusal.problem);
            page.chosen_entry = refusal.entry;
            return Ok((refusal.status, page).into_response());
        }
    };
    let entries = store::timeline::list_entries(&state.db, case.postmortem.id).await?;
    let entry_id = Uuid::parse_str(upload.entry.trim())
        .ok()
        .filter(|id| entries.iter().any(|e| e.id == *id));
    let file_name = safe_file_name(&upload.file_name, kind);
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let new = NewAttachment {
        postmortem_id: case.postmortem.id,
        timeline_entry_id: entry_id,
        file_name: &file_name,
        content_type: kind.content_type(),
        content: &upload.bytes,
        created_by: Some(user.id),
    };
    store::attachments::insert_attachment(&mut *tx, &new, now).await?;
    record_revision(&mut tx, &case, &user, &format!("Attached {file_name}"), now).await?;
    tx.commit().await?;
    user.flash(&state, &format!("Attached {file_name}."))
        .await?;
    Ok(Redirect::to(&format!("{}#attachments", case.path())).into_response())
}

/// The image itself, for anyone who may read the postmortem. The type was
/// decided from the content at upload; the name is ASCII without quotes.
async fn serve(
    State(state): State<AppState>,
    case: Case,
    Path((_, id, _name)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let attachment = store::attachments::get_content(&state.db, id)
        .await?
        .filter(|found| found.postmortem_id == case.postmortem.id)
        .ok_or(AppError::NotFound)?;
    // Rows can also arrive through a JSON archive import: whatever they
    // say, only the four image types are shown inline, and the name is
    // reduced to characters that are safe in a header.
    let name: String = attachment
        .file_name
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';'))
        .collect();
    let (content_type, disposition) = match ImageType::from_content_type(&attachment.content_type) {
        Some(kind) => (kind.content_type(), "inline"),
        None => ("application/octet-stream", "attachment"),
    };
    let headers = [
        (header::CONTENT_TYPE, content_type.to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("{disposition}; filename=\"{name}\""),
        ),
        (
            header::CACHE_CONTROL,
            "private, max-age=86400, immutable".to_owned(),
        ),
    ];
    Ok((headers, attachment.content).into_response())
}

async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let Some(file_name) =
        store::attachments::remove_attachment(&mut *tx, case.postmortem.id, id, user.id, now)
            .await?
    else {
        return Err(AppError::NotFound);
    };
    let event = AuditEvent::new(user.id, "attachment_removed").detail(serde_json::json!({
        "incident": case.incident.number, "attachment": id, "file": file_name,
    }));
    store::audit::record(&mut *tx, event, now).await?;
    record_revision(
        &mut tx,
        &case,
        &user,
        &format!("Removed the attachment {file_name}"),
        now,
    )
    .await?;
    tx.commit().await?;
    user.flash(
        &state,
        "Attachment removed. It is kept: restoring an earlier revision in the history brings it back.",
    )
    .await?;
    Ok(Redirect::to(&format!("{}#attachments", case.path())).into_response())
}
