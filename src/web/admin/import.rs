//! Importing Markdown postmortems through the browser: the same import as
//! `debrief import`, for admins, with a dry run that only shows the report.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form, Router,
    extract::{DefaultBodyLimit, Multipart, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::json;

use crate::{
    archive::markdown::{self, Source},
    domain::{
        import::{ImportedDocument, Target, Vocabulary, unmapped_headings},
        incident::Severity,
        time::{self, COMMON_ZONES},
    },
    store::{self, audit::AuditEvent},
    web::{
        AppError, AppState,
        form::FormErrors,
        layout::{Layout, Nav},
        session::{Admin, CurrentUser},
    },
};

pub fn routes(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/admin/import",
            get(show_page)
                .post(import)
                .layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024)),
        )
        .route("/admin/import/headings", post(add_heading))
        .route("/admin/import/headings/remove", post(remove_heading))
        .route("/admin/import/severity-words", post(add_severity_word))
        .route(
            "/admin/import/severity-words/remove",
            post(remove_severity_word),
        )
}

/// One file's result, for the page.
pub struct FileResult {
    name: String,
    number: Option<i32>,
    created: bool,
    title: String,
    counts: String,
    /// Incident fields as read, one `name: value` each.
    fields: Vec<String>,
    /// Each timeline entry with the time it was read as.
    entries: Vec<String>,
    report: Vec<String>,
    error: Option<String>,
}

impl FileResult {
    fn read(name: String, number: Option<i32>, created: bool, document: ImportedDocument) -> Self {
        FileResult {
            name,
            number,
            created,
            title: document.title.clone(),
            counts: counts(&document),
            fields: document.field_lines(),
            entries: document.entry_lines(),
            report: document.report,
            error: None,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/import.html")]
pub struct ImportPage {
    layout: Layout,
    zone: String,
    dry_run: bool,
    results: Vec<FileResult>,
    /// Headings that mapped nowhere in this upload, with how many files.
    unmapped: Vec<(String, usize)>,
    problem: Option<String>,
    max_mb: usize,
    words: Vocabulary,
    /// What was typed into the vocabulary forms, kept when refused.
    heading: String,
    target: String,
    word: String,
    severity: String,
    errors: FormErrors,
}

impl ImportPage {
    fn zones(&self) -> &'static [&'static str] {
        COMMON_ZONES
    }

    fn targets(&self) -> Vec<Target> {
        Target::choices()
    }

    fn severities(&self) -> &'static [Severity] {
        Severity::ALL
    }

    async fn load(state: &AppState, admin: &CurrentUser) -> Result<ImportPage, AppError> {
        Ok(ImportPage {
            layout: Layout::for_user(admin, Nav::Admin),
            zone: "UTC".to_owned(),
            dry_run: true,
            results: Vec::new(),
            unmapped: Vec::new(),
            problem: None,
            max_mb: state.config.max_upload_mb.max(1),
            words: store::import_words::load(&state.db).await?,
            heading: String::new(),
            target: "notes".to_owned(),
            word: String::new(),
            severity: "sev3".to_owned(),
            errors: FormErrors::default(),
        })
    }
}

async fn show_page(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<ImportPage, AppError> {
    ImportPage::load(&state, &admin).await
}

#[derive(Deserialize)]
struct HeadingForm {
    #[serde(default)]
    heading: String,
    #[serde(default)]
    target: String,
}

/// Adds (or changes) a heading synonym, so the next import maps it.
async fn add_heading(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<HeadingForm>,
) -> Result<Response, AppError> {
    let heading = crate::domain::import::normalize_heading(&form.heading);
    let mut errors = FormErrors::default();
    if heading.is_empty() {
        errors.add(
            "heading",
            "Type the heading as the documents write it, such as “Reflections”.",
        );
    } else if heading.chars().count() > 200 {
        errors.add("heading", "Keep a heading under 200 characters.");
    }
    let target = Target::from_name(&form.target);
    if target.is_none() {
        errors.add("target", "Pick where its lines go.");
    }
    let (Some(target), true) = (target, errors.is_empty()) else {
        let mut page = ImportPage::load(&state, &admin).await?;
        page.heading = form.heading;
        page.target = form.target;
        page.errors = errors;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::import_words::put_heading(&mut *tx, &heading, target, admin.id, now).await?;
    let event = AuditEvent::new(admin.id, "import_heading_saved")
        .detail(json!({ "heading": heading, "target": target.name() }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    admin
        .flash(
            &state,
            &format!("Headings “{heading}” now go to {}.", target.label()),
        )
        .await?;
    Ok(Redirect::to("/admin/import#words").into_response())
}

#[derive(Deserialize)]
struct RemoveHeadingForm {
    #[serde(default)]
    heading: String,
}

async fn remove_heading(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<RemoveHeadingForm>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    if store::import_words::remove_heading(&mut *tx, &form.heading).await? {
        let event = AuditEvent::new(admin.id, "import_heading_removed")
            .detail(json!({ "heading": form.heading }));
        store::audit::record(&mut *tx, event, now).await?;
        tx.commit().await?;
        admin
            .flash(
                &state,
                &format!("“{}” is no longer a heading synonym.", form.heading),
            )
            .await?;
    } else {
        admin
            .flash_refusal(&state, "That heading synonym was removed already.")
            .await?;
    }
    Ok(Redirect::to("/admin/import#words").into_response())
}

#[derive(Deserialize)]
struct SeverityWordForm {
    #[serde(default)]
    word: String,
    #[serde(default)]
    severity: String,
}

/// Adds (or changes) the severity a word means.
async fn add_severity_word(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<SeverityWordForm>,
) -> Result<Response, AppError> {
    let word = form.word.trim().to_lowercase();
    let mut errors = FormErrors::default();
    if word.is_empty() || !word.chars().all(|c| c.is_alphanumeric() || c == '-') {
        errors.add("word", "Type one word, such as “blocker” or “red”.");
    } else if word.chars().count() > 60 {
        errors.add("word", "Keep a word under 60 characters.");
    }
    let severity = Severity::parse(&form.severity);
    if severity.is_none() {
        errors.add("severity", "Pick the severity it means.");
    }
    let (Some(severity), true) = (severity, errors.is_empty()) else {
        let mut page = ImportPage::load(&state, &admin).await?;
        page.word = form.word;
        page.severity = form.severity;
        page.errors = errors;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    store::import_words::put_severity_word(&mut *tx, &word, severity, admin.id, now).await?;
    let event = AuditEvent::new(admin.id, "import_severity_word_saved")
        .detail(json!({ "word": word, "severity": severity.as_str() }));
    store::audit::record(&mut *tx, event, now).await?;
    tx.commit().await?;
    admin
        .flash(&state, &format!("“{word}” now means {}.", severity.label()))
        .await?;
    Ok(Redirect::to("/admin/import#words").into_response())
}

#[derive(Deserialize)]
struct RemoveWordForm {
    #[serde(default)]
    word: String,
}

async fn remove_severity_word(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Form(form): Form<RemoveWordForm>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    if store::import_words::remove_severity_word(&mut *tx, &form.word).await? {
        let event = AuditEvent::new(admin.id, "import_severity_word_removed")
            .detail(json!({ "word": form.word }));
        store::audit::record(&mut *tx, event, now).await?;
        tx.commit().await?;
        admin
            .flash(
                &state,
                &format!("“{}” is no longer a severity word.", form.word),
            )
            .await?;
    } else {
        admin
            .flash_refusal(&state, "That severity word was removed already.")
            .await?;
    }
    Ok(Redirect::to("/admin/import#words").into_response())
}

/// The uploaded Markdown files, images beside them, and the options.
async fn read_form(mut multipart: Multipart) -> Result<(Vec<Source>, String, bool), String> {
    let mut texts = Vec::new();
    let mut files = HashMap::new();
    let mut zone = "UTC".to_owned();
    let mut dry_run = false;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => {
                return Err(
                    "The upload was too large or cut off. Send fewer files at once.".to_owned(),
                );
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|_| {
            "The upload was too large or cut off. Send fewer files at once.".to_owned()
        })?;
        match name.as_str() {
            "files" if file_name.is_empty() => {}
            "files" if is_markdown_name(&file_name) => {
                texts.push((file_name, String::from_utf8_lossy(&bytes).into_owned()));
            }
            "files" => {
                files.insert(file_name, bytes.to_vec());
            }
            "time_zone" => zone = String::from_utf8_lossy(&bytes).into_owned(),
            "dry_run" => dry_run = true,
            _ => {}
        }
    }
    let sources = texts
        .into_iter()
        .map(|(name, text)| Source {
            name,
            text,
            folder: None,
            root: None,
            files: files.clone(),
        })
        .collect();
    Ok((sources, zone, dry_run))
}

async fn import(
    State(state): State<AppState>,
    Admin(admin): Admin,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let mut page = ImportPage::load(&state, &admin).await?;
    let (sources, zone_name, dry_run) = match read_form(multipart).await {
        Ok(read) => read,
        Err(problem) => {
            page.problem = Some(problem);
            return Ok((StatusCode::PAYLOAD_TOO_LARGE, page).into_response());
        }
    };
    page.dry_run = dry_run;
    page.zone = zone_name.clone();
    let zone: Tz = time::parse_zone(&zone_name).unwrap_or(Tz::UTC);
    if sources.is_empty() {
        page.problem = Some("Choose one or more Markdown files (.md).".to_owned());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let owners = store::imports::load_owner_names(&state.db).await?;
    let now = state.clock.now();
    let mut read = Vec::new();
    for source in &sources {
        page.results.push(if dry_run {
            let document = markdown::parse(source, zone, &page.words);
            read.push(document.clone());
            FileResult::read(source.name.clone(), None, false, document)
        } else {
            match markdown::import_one(&state.db, source, &owners, Some(admin.id), zone, &page.words, now).await {
                Ok(outcome) => {
                    read.push(outcome.document.clone());
                    FileResult::read(
                        outcome.name,
                        outcome.saved.map(|(number, _)| number),
                        outcome.saved.is_some_and(|(_, created)| created),
                        outcome.document,
                    )
                }
                Err(error) => {
                    tracing::warn!(file = %source.name, error = %format!("{error:#}"), "import failed");
                    FileResult {
                        name: source.name.clone(),
                        number: None,
                        created: false,
                        title: String::new(),
                        counts: String::new(),
                        fields: Vec::new(),
                        entries: Vec::new(),
                        report: Vec::new(),
                        error: Some("This file could not be saved; nothing of it was imported. The server log has the details.".to_owned()),
                    }
                }
            }
        });
    }
    page.unmapped = unmapped_headings(&read);
    Ok(page.into_response())
}

/// `.md`, `.markdown`, or no extension at all.
fn is_markdown_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown") || !lower.contains('.')
}

fn counts(document: &ImportedDocument) -> String {
    format!(
        "{} timeline entries, {} contributing factors, {} action items",
        document.timeline.len(),
        document.factors.len(),
        document.actions.len()
    )
}
