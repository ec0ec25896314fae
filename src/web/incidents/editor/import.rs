//! Building the timeline from data: paste or upload a chat transcript, an
//! alert or deploy log, or a CSV; preview what was read (and what was not);
//! pick the entries to add. Entries keep their source.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::Form;
use chrono::NaiveDate;
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::web::incidents::{Case, record_revision};
use crate::{
    domain::{
        incident::display_number,
        postmortem::TimelineKind,
        time::{self, COMMON_ZONES},
        transcript::{self, Format, Transcript},
    },
    store::{self, timeline::EntryFields},
    web::{
        AppError, AppState,
        layout::{Layout, Nav},
        session::CurrentUser,
    },
};

/// Longest entry text kept; longer messages are cut with a mark.
const TEXT_MAX: usize = 4000;

pub fn routes(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/incidents/{number}/timeline/import",
            get(show_form).post(add_or_preview),
        )
        .route(
            "/incidents/{number}/timeline/import/preview",
            post(preview_upload).layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024)),
        )
}

/// What the user typed or uploaded, and how to read it.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    pub input: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub date: String,
    /// `preview` or `add`.
    #[serde(default)]
    pub action: String,
    /// Indexes of the previewed entries to add.
    #[serde(default)]
    pub pick: Vec<String>,
    /// A digest of the input previewed, so edited text is previewed again
    /// before anything is added.
    #[serde(default)]
    pub digest: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/timeline_import.html")]
pub struct ImportPage {
    layout: Layout,
    number: String,
    path: String,
    form: ImportForm,
    zone: Tz,
    read: Option<Transcript>,
    problem: Option<String>,
}

impl ImportPage {
    fn new(user: &CurrentUser, case: &Case, form: ImportForm) -> ImportPage {
        let zone = time::parse_zone(&form.time_zone).unwrap_or(user.time_zone);
        ImportPage {
            layout: Layout::for_user(user, Nav::Incidents),
            number: display_number(case.incident.number),
            path: case.path(),
            form,
            zone,
            read: None,
            problem: None,
        }
    }

    fn formats(&self) -> &'static [Format] {
        &Format::ALL
    }

    fn zones(&self) -> &'static [&'static str] {
        COMMON_ZONES
    }

    fn zone_name(&self) -> &str {
        self.zone.name()
    }

    fn is_format(&self, format: &Format) -> bool {
        self.form.format == format.as_str()
            || (self.form.format.is_empty() && *format == Format::Auto)
    }

    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        time::format_in(*at, self.zone)
    }

    fn digest(&self) -> String {
        digest(&self.form.input)
    }
}

fn digest(input: &str) -> String {
    hex::encode(&Sha256::digest(input.as_bytes())[..8])
}

/// Reads the input as the form says; `None` when the date typed is invalid.
fn read(form: &ImportForm, zone: Tz) -> Result<Transcript, String> {
    let date = match form.date.trim() {
        "" => None,
        typed => Some(
            NaiveDate::parse_from_str(typed, "%Y-%m-%d")
                .map_err(|_| "Give the day as 2026-03-10, or leave it empty.".to_owned())?,
        ),
    };
    let format = Format::parse(&form.format).unwrap_or(Format::Auto);
    Ok(transcript::parse(&form.input, format, zone, date))
}

async fn show_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(number): Path<String>,
) -> Result<ImportPage, AppError> {
    let case = Case::load_for_edit(&state, &user, &number).await?;
    Ok(ImportPage::new(&user, &case, ImportForm::default()))
}

/// The first step: pasted text or an uploaded file, read and previewed.
async fn preview_upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(number): Path<String>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let case = Case::load_for_edit(&state, &user, &number).await?;
    let mut form = ImportForm::default();
    let mut file = String::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|_| AppError::TooLarge)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "input" => form.input = text,
            "file" => file = text,
            "format" => form.format = text,
            "time_zone" => form.time_zone = text,
            "date" => form.date = text,
            _ => {}
        }
    }
    if !file.trim().is_empty() {
        form.input = file;
    }
    Ok(preview(&user, &case, form).into_response())
}

fn preview(user: &CurrentUser, case: &Case, form: ImportForm) -> (StatusCode, ImportPage) {
    let mut page = ImportPage::new(user, case, form);
    if page.form.input.trim().is_empty() {
        page.problem = Some("Paste a transcript or log, or choose a file.".to_owned());
        return (StatusCode::UNPROCESSABLE_ENTITY, page);
    }
    match read(&page.form, page.zone) {
        Ok(read) => {
            page.read = Some(read);
            (StatusCode::OK, page)
        }
        Err(problem) => {
            page.problem = Some(problem);
            (StatusCode::UNPROCESSABLE_ENTITY, page)
        }
    }
}

/// The second step: previewed again, or the picked entries added.
async fn add_or_preview(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(number): Path<String>,
    Form(form): Form<ImportForm>,
) -> Result<Response, AppError> {
    let case = Case::load_for_edit(&state, &user, &number).await?;
    if form.action != "add" || form.digest != digest(&form.input) {
        return Ok(preview(&user, &case, form).into_response());
    }
    let (status, mut page) = preview(&user, &case, form);
    let Some(read) = page.read.take() else {
        return Ok((status, page).into_response());
    };
    let picked: Vec<&transcript::ParsedEntry> = page
        .form
        .pick
        .iter()
        .filter_map(|index| index.parse::<usize>().ok())
        .filter_map(|index| read.entries.get(index))
        .collect();
    if picked.is_empty() {
        page.problem = Some("Tick at least one entry to add.".to_owned());
        page.read = Some(read);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    for entry in &picked {
        store::timeline::insert_entry(
            &mut *tx,
            case.postmortem.id,
            &entry_fields(entry),
            user.id,
            now,
        )
        .await?;
    }
    let summary = format!(
        "Imported {} timeline entries ({})",
        picked.len(),
        read.format.label()
    );
    record_revision(&mut tx, &case, &user, &summary, now).await?;
    tx.commit().await?;
    user.flash(&state, &format!("{summary}.")).await?;
    Ok(Redirect::to(&format!("{}/postmortem/edit#timeline", case.path())).into_response())
}

/// An entry as stored: the author leads the text, the source says where
/// it came from.
fn entry_fields(entry: &transcript::ParsedEntry) -> EntryFields {
    let text = match &entry.author {
        Some(author) => format!("{author}: {}", entry.text),
        None => entry.text.clone(),
    };
    let text = if text.chars().count() > TEXT_MAX {
        text.chars().take(TEXT_MAX - 1).collect::<String>() + "…"
    } else {
        text
    };
    EntryFields {
        occurred_at: entry.at,
        kind: TimelineKind::Note,
        text,
        source: entry.source.chars().take(60).collect(),
        link: None,
    }
}
