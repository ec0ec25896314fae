//! Building the timeline from data: paste or upload a chat transcript, an
//! alert or deploy log, or a CSV; preview what was read (and what was not);
//! pick the entries to add. Entries keep their source.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_extra::extract::Form;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use super::parse::MAX_SPEAKER_CHARS;
use crate::web::incidents::{Case, Editable, record_revision};
use crate::{
    domain::{
        incident::display_number,
        postmortem::TimelineKind,
        time::{self, COMMON_ZONES},
        transcript::{
            self, Format, Transcript,
            duplicates::{self, Existing},
        },
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

/// The most entries one request adds (they go in as one statement, with
/// one search refresh and one revision).
pub const MAX_ENTRIES_PER_REQUEST: usize = 20_000;

/// The most text one preview reads, pasted or uploaded.
pub const PREVIEW_MAX_BYTES: usize = 4 * 1024 * 1024;
/// Rows the preview shows to check and change; the rest are added as read.
pub const PREVIEW_ROWS: usize = 1_000;
/// Unreadable lines the preview lists (the rest are counted).
const PREVIEW_UNPARSED: usize = 50;

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
    /// Each previewed row's time and kind as the author left them, in row
    /// order (they may change both before adding).
    #[serde(default)]
    pub row_at: Vec<String>,
    #[serde(default)]
    pub row_kind: Vec<String>,
    /// A digest of the input previewed, so edited text is previewed again
    /// before anything is added.
    #[serde(default)]
    pub digest: String,
    /// Set when the preview showed only the first rows: from this index on,
    /// every entry read is added (except repeats).
    #[serde(default)]
    pub rest_from: String,
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
    /// Per read entry: the existing entry it repeats, as "14:05 · text".
    duplicates: Vec<Option<String>>,
    problem: Option<String>,
    /// Rows whose typed time could not be read, by index.
    bad_times: Vec<usize>,
    /// The digest of the input, worked out once (every row asks for it).
    input_digest: String,
    /// The ticked rows, by index.
    picked: std::collections::HashSet<usize>,
}

impl ImportPage {
    fn new(user: &CurrentUser, case: &Case, form: ImportForm) -> ImportPage {
        let zone = time::parse_zone(&form.time_zone).unwrap_or(user.time_zone);
        ImportPage {
            layout: Layout::for_user(user, Nav::Incidents),
            number: display_number(case.incident.number),
            path: case.path(),
            input_digest: digest(&form.input),
            picked: form
                .pick
                .iter()
                .filter_map(|index| index.parse().ok())
                .collect(),
            form,
            zone,
            read: None,
            duplicates: Vec::new(),
            problem: None,
            bad_times: Vec::new(),
        }
    }

    /// Whether the rows' own fields came back with this very input, so the
    /// author's changes to times, kinds and ticks are kept.
    fn rows_posted(&self) -> bool {
        let count = self.shown_entries().len();
        self.form.digest == self.input_digest && self.form.row_at.len() == count
    }

    fn row_at(&self, index: &usize, entry: &transcript::ParsedEntry) -> String {
        if self.rows_posted() {
            return self.form.row_at[*index].clone();
        }
        time::to_local_input(entry.at, self.zone)
    }

    fn row_kind(&self, index: &usize, entry: &transcript::ParsedEntry) -> TimelineKind {
        self.form
            .row_kind
            .get(*index)
            .filter(|_| self.rows_posted())
            .and_then(|kind| TimelineKind::parse(kind))
            .unwrap_or_else(|| transcript::kind::guess(&entry.text, &entry.source))
    }

    fn is_picked(&self, index: &usize) -> bool {
        if self.rows_posted() {
            return self.picked.contains(index);
        }
        self.duplicate(index).is_none()
    }

    fn duplicate(&self, index: &usize) -> Option<&str> {
        self.duplicates
            .get(*index)
            .and_then(|found| found.as_deref())
    }

    /// The entries the preview shows, at most [`PREVIEW_ROWS`].
    fn shown_entries(&self) -> &[transcript::ParsedEntry] {
        let entries = self.read.as_ref().map_or(&[][..], |read| &read.entries[..]);
        &entries[..entries.len().min(PREVIEW_ROWS)]
    }

    /// Entries read but not shown.
    fn hidden_rows(&self) -> usize {
        let read = self.read.as_ref().map_or(0, |read| read.entries.len());
        read - self.shown_entries().len()
    }

    fn shown_unparsed(&self) -> &[transcript::Unparsed] {
        let lines = self
            .read
            .as_ref()
            .map_or(&[][..], |read| &read.unparsed[..]);
        &lines[..lines.len().min(PREVIEW_UNPARSED)]
    }

    fn bad_time(&self, index: &usize) -> bool {
        self.bad_times.contains(index)
    }

    fn kinds(&self) -> &'static [TimelineKind] {
        TimelineKind::ALL
    }

    fn duplicate_count(&self) -> usize {
        self.duplicates.iter().flatten().count()
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

    fn digest(&self) -> &str {
        &self.input_digest
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

async fn show_form(user: CurrentUser, Editable(case): Editable) -> Result<ImportPage, AppError> {
    Ok(ImportPage::new(&user, &case, ImportForm::default()))
}

/// The first step: pasted text or an uploaded file, read and previewed.
/// Each field is read in chunks and kept only up to [`PREVIEW_MAX_BYTES`],
/// so an oversized upload costs that much memory at most, not its size.
async fn preview_upload(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let mut form = ImportForm::default();
    let mut file = String::new();
    let mut oversized = None;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let text = match read_bounded(&mut field).await? {
            Bounded::Text(text) => text,
            Bounded::TooLong(bytes) => {
                oversized = oversized.max(Some(bytes));
                continue;
            }
        };
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
    if let Some(bytes) = oversized {
        let mut page = ImportPage::new(&user, &case, form);
        page.problem = Some(too_long(bytes));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    Ok(preview(&state, &user, &case, form).await?.into_response())
}

/// One multipart field's text, or how many bytes it had past the limit.
enum Bounded {
    Text(String),
    TooLong(usize),
}

/// Reads a field chunk by chunk; past [`PREVIEW_MAX_BYTES`] it stops keeping
/// what it reads and only counts the rest.
async fn read_bounded(
    field: &mut axum::extract::multipart::Field<'_>,
) -> Result<Bounded, AppError> {
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = field.chunk().await.map_err(|_| AppError::TooLarge)? {
        total += chunk.len();
        if total <= PREVIEW_MAX_BYTES {
            kept.extend_from_slice(&chunk);
        } else if kept.capacity() > 0 {
            kept = Vec::new();
        }
    }
    if total > PREVIEW_MAX_BYTES {
        return Ok(Bounded::TooLong(total));
    }
    Ok(Bounded::Text(String::from_utf8(kept).unwrap_or_else(
        |invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned(),
    )))
}

/// The refusal of a preview over [`PREVIEW_MAX_BYTES`]; the text itself is
/// not echoed back into the page, being too big to show.
fn too_long(bytes: usize) -> String {
    format!(
        "That is {:.1} MB of text; a preview reads at most {} MB at once. Split it and import the parts one after the other.",
        bytes as f64 / (1024.0 * 1024.0),
        PREVIEW_MAX_BYTES / (1024 * 1024)
    )
}

/// Reads the input and marks each entry that repeats one the timeline has.
async fn preview(
    state: &AppState,
    user: &CurrentUser,
    case: &Case,
    form: ImportForm,
) -> Result<(StatusCode, ImportPage), AppError> {
    let mut page = ImportPage::new(user, case, form);
    if page.form.input.len() > PREVIEW_MAX_BYTES {
        page.problem = Some(too_long(page.form.input.len()));
        page.form.input.clear();
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page));
    }
    if page.form.input.trim().is_empty() {
        page.problem = Some("Paste a transcript or log, or choose a file.".to_owned());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page));
    }
    let read = match read(&page.form, page.zone) {
        Ok(read) => read,
        Err(problem) => {
            page.problem = Some(problem);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page));
        }
    };
    let existing: Vec<Existing> = store::timeline::list_entries(&state.db, case.postmortem.id)
        .await?
        .into_iter()
        .map(|entry| Existing {
            at: entry.occurred_at,
            speaker: entry.speaker,
            text: entry.text,
        })
        .collect();
    page.duplicates = read
        .entries
        .iter()
        .map(|entry| {
            duplicates::find(entry.at, entry.author.as_deref(), &entry.text, &existing).map(
                |index| {
                    let found = &existing[index];
                    let text: String = found.text.chars().take(80).collect();
                    format!("{} · {text}", time::format_in(found.at, page.zone))
                },
            )
        })
        .collect();
    page.read = Some(read);
    Ok((StatusCode::OK, page))
}

/// The second step: previewed again, or the picked entries added with the
/// times and kinds the author left on each row.
async fn add_or_preview(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    Form(form): Form<ImportForm>,
) -> Result<Response, AppError> {
    let adding = form.action == "add" && form.digest == digest(&form.input);
    let (status, mut page) = preview(&state, &user, &case, form).await?;
    if !adding {
        return Ok((status, page).into_response());
    }
    let Some(entries) = page.read.as_ref().map(|read| read.entries.clone()) else {
        return Ok((status, page).into_response());
    };
    let rows_posted = page.rows_posted();
    let mut picked = Vec::new();
    for index in page
        .form
        .pick
        .iter()
        .filter_map(|index| index.parse::<usize>().ok())
    {
        let Some(entry) = entries.get(index) else {
            continue;
        };
        let at = match page.form.row_at.get(index) {
            Some(typed) if rows_posted => match time::parse_local(typed, page.zone) {
                Ok(at) => at,
                Err(_) => {
                    page.bad_times.push(index);
                    continue;
                }
            },
            _ => entry.at,
        };
        picked.push(entry_fields(entry, at, page.row_kind(&index, entry)));
    }
    // Rows the preview did not show go in as read, repeats left out.
    if let Ok(rest_from) = page.form.rest_from.parse::<usize>()
        && rest_from == page.shown_entries().len()
    {
        for (index, entry) in entries.iter().enumerate().skip(rest_from) {
            if page.duplicate(&index).is_none() {
                let kind = transcript::kind::guess(&entry.text, &entry.source);
                picked.push(entry_fields(entry, entry.at, kind));
            }
        }
    }
    if !page.bad_times.is_empty() {
        let rows: Vec<String> = page
            .bad_times
            .iter()
            .map(|index| (index + 1).to_string())
            .collect();
        page.problem = Some(format!(
            "Row {} has a time that cannot be read: write it as 2026-03-01 14:05. Nothing was added.",
            rows.join(", ")
        ));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    if picked.is_empty() {
        page.problem = Some("Tick at least one entry to add.".to_owned());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    if picked.len() > MAX_ENTRIES_PER_REQUEST {
        page.problem = Some(format!(
            "{} entries are ticked; at most {} can be added at once. Nothing was added: split the input and add it in parts.",
            picked.len(),
            MAX_ENTRIES_PER_REQUEST
        ));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let _budget = state.heavy_work().await?;
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    // One search refresh for the whole batch, not one per entry.
    store::search::defer_refresh(&mut *tx).await?;
    store::timeline::insert_entries(&mut *tx, case.postmortem.id, &picked, Some(user.id), now)
        .await?;
    store::search::refresh(&mut *tx, &[case.postmortem.id]).await?;
    let format = page.read.as_ref().map_or("", |read| read.format.label());
    let summary = format!("Imported {} timeline entries ({format})", picked.len());
    record_revision(&mut tx, &case, &user, &summary, now).await?;
    tx.commit().await?;
    user.flash(&state, &format!("{summary}.")).await?;
    Ok(Redirect::to(&format!("{}/postmortem/edit#timeline", case.path())).into_response())
}

/// An entry as stored: who wrote it is its speaker, the source says where
/// it came from.
fn entry_fields(
    entry: &transcript::ParsedEntry,
    occurred_at: DateTime<Utc>,
    kind: TimelineKind,
) -> EntryFields {
    let text = if entry.text.chars().count() > TEXT_MAX {
        entry.text.chars().take(TEXT_MAX - 1).collect::<String>() + "…"
    } else {
        entry.text.clone()
    };
    EntryFields {
        occurred_at,
        time_unknown: false,
        kind,
        speaker: entry
            .author
            .as_ref()
            .map(|author| author.chars().take(MAX_SPEAKER_CHARS).collect()),
        text,
        source: entry.source.chars().take(60).collect(),
        link: None,
    }
}
