//! Importing Markdown postmortems through the browser: the same import as
//! `debrief import`, for admins, with a dry run that only shows the report.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Multipart, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use chrono_tz::Tz;

use crate::{
    archive::markdown::{self, Source},
    domain::time::{self, COMMON_ZONES},
    store,
    web::{
        AppError, AppState,
        layout::{Layout, Nav},
        session::Admin,
    },
};

pub fn routes(max_upload_bytes: usize) -> Router<AppState> {
    Router::new().route(
        "/admin/import",
        get(show_form)
            .post(import)
            .layer(DefaultBodyLimit::max(max_upload_bytes + 64 * 1024)),
    )
}

/// One file's result, for the page.
pub struct FileResult {
    name: String,
    number: Option<i32>,
    created: bool,
    title: String,
    counts: String,
    report: Vec<String>,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/import.html")]
pub struct ImportPage {
    layout: Layout,
    zone: String,
    dry_run: bool,
    results: Vec<FileResult>,
    problem: Option<String>,
    max_mb: usize,
}

impl ImportPage {
    fn zones(&self) -> &'static [&'static str] {
        COMMON_ZONES
    }
}

async fn show_form(State(state): State<AppState>, Admin(admin): Admin) -> ImportPage {
    ImportPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        zone: "UTC".to_owned(),
        dry_run: true,
        results: Vec::new(),
        problem: None,
        max_mb: state.config.max_upload_mb.max(1),
    }
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
    let mut page = show_form(State(state.clone()), Admin(admin.clone())).await;
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
    for source in &sources {
        page.results.push(if dry_run {
            let document = markdown::parse(source, zone);
            FileResult {
                name: source.name.clone(),
                number: None,
                created: false,
                title: document.title.clone(),
                counts: counts(&document),
                report: document.report,
                error: None,
            }
        } else {
            match markdown::import_one(&state.db, source, &owners, Some(admin.id), zone, now).await {
                Ok(outcome) => FileResult {
                    name: outcome.name,
                    number: outcome.saved.map(|(number, _)| number),
                    created: outcome.saved.is_some_and(|(_, created)| created),
                    title: outcome.document.title.clone(),
                    counts: counts(&outcome.document),
                    report: outcome.document.report,
                    error: None,
                },
                Err(error) => {
                    tracing::warn!(file = %source.name, error = %format!("{error:#}"), "import failed");
                    FileResult {
                        name: source.name.clone(),
                        number: None,
                        created: false,
                        title: String::new(),
                        counts: String::new(),
                        report: Vec::new(),
                        error: Some("This file could not be saved; nothing of it was imported. The server log has the details.".to_owned()),
                    }
                }
            }
        });
    }
    Ok(page.into_response())
}

/// `.md`, `.markdown`, or no extension at all.
fn is_markdown_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown") || !lower.contains('.')
}

fn counts(document: &crate::domain::import::ImportedDocument) -> String {
    format!(
        "{} timeline entries, {} contributing factors, {} action items",
        document.timeline.len(),
        document.factors.len(),
        document.actions.len()
    )
}
