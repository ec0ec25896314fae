//! Importing postmortems written in Markdown, from files and folders
//! (`debrief import`) or from the admin upload form.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use anyhow::Context;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    domain::{
        attachment::{safe_file_name, sniff},
        import::{ImportedDocument, Vocabulary, parse_markdown},
    },
    store::{self, attachments::NewAttachment},
};

/// One document to import: its name (the key that makes a second import
/// an update), its text, and the folder its relative images are read from.
#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
    pub folder: Option<PathBuf>,
    /// The folder named on the command line (or the file's own): images
    /// are read only from inside it.
    pub root: Option<PathBuf>,
    /// Files uploaded with it (images), by name.
    pub files: HashMap<String, Vec<u8>>,
}

/// What importing one document did.
#[derive(Debug)]
pub struct Outcome {
    pub name: String,
    /// `INC-` number and whether it was new; `None` on a dry run.
    pub saved: Option<(i32, bool)>,
    pub document: ImportedDocument,
    pub images: usize,
}

/// A file left out of an import, and why.
pub type Skipped = (String, String);

/// Files named on the command line: folders are walked for Markdown files;
/// returns the sources and the files skipped, with why.
pub fn collect(paths: &[PathBuf]) -> anyhow::Result<(Vec<Source>, Vec<Skipped>)> {
    let mut sources = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, path, &mut sources, &mut skipped)?;
        } else {
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let root = path.parent().map(Path::to_path_buf);
            match regular_file(path, SOURCE_MAX_BYTES) {
                Ok(()) => sources.push(read_source(path, name, root)?),
                Err(why) => skipped.push((name, why)),
            }
        }
    }
    Ok((sources, skipped))
}

fn walk(
    root: &Path,
    dir: &Path,
    sources: &mut Vec<Source>,
    skipped: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the folder {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        // Symbolic links are not followed: a link to a folder could loop,
        // and one to a file could lead out of the folder being imported.
        let Ok(kind) = std::fs::symlink_metadata(&path).map(|m| m.file_type()) else {
            skipped.push((name, "cannot be read".to_owned()));
            continue;
        };
        if kind.is_dir() {
            walk(root, &path, sources, skipped)?;
            continue;
        }
        if !kind.is_file() {
            skipped.push((
                name,
                "not a regular file (a link, a pipe or a device)".to_owned(),
            ));
            continue;
        }
        match markdown_kind(&path)
            .map_err(str::to_owned)
            .and_then(|()| regular_file(&path, SOURCE_MAX_BYTES))
        {
            Ok(()) => sources.push(read_source(&path, name, Some(root.to_path_buf()))?),
            Err(why) => skipped.push((name, why)),
        }
    }
    Ok(())
}

/// Whether a file found in a folder is a postmortem to import.
fn markdown_kind(path: &Path) -> Result<(), &'static str> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if file.starts_with("readme") || file.starts_with("license") || file.starts_with("changelog") {
        return Err("not a postmortem (readme, license or changelog)");
    }
    // Any Markdown extension among the name's, so templates of static sites
    // (`2021-03-04-outage.html.md.erb`) count too.
    let extensions: Vec<&str> = file.split('.').skip(1).collect();
    if extensions
        .iter()
        .any(|ext| matches!(*ext, "md" | "markdown" | "mdx"))
    {
        return Ok(());
    }
    match path.extension() {
        Some(_) => Err("not a Markdown file"),
        // A file without an extension counts when it reads like Markdown.
        None => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let first = text
                .lines()
                .find(|line| !line.trim().is_empty())
                .unwrap_or("");
            if first.starts_with("# ") || first.trim() == "---" {
                Ok(())
            } else {
                Err("no extension and does not start like Markdown")
            }
        }
    }
}

/// The largest Markdown file an import reads.
const SOURCE_MAX_BYTES: u64 = 5 * 1024 * 1024;
/// The largest image an import attaches from a folder.
const IMAGE_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// Whether `path` is a regular file (after links) of at most `max` bytes;
/// a pipe would block the reader, a device never end.
fn regular_file(path: &Path, max: u64) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|_| "cannot be read".to_owned())?;
    if !metadata.is_file() {
        return Err("not a regular file (a pipe or a device)".to_owned());
    }
    if metadata.len() > max {
        return Err(format!(
            "{} bytes, more than the {} MB an import reads",
            metadata.len(),
            max / (1024 * 1024)
        ));
    }
    Ok(())
}

fn read_source(path: &Path, name: String, root: Option<PathBuf>) -> anyhow::Result<Source> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Source {
        name,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        folder: path.parent().map(Path::to_path_buf),
        root,
        files: HashMap::new(),
    })
}

/// Reads one source without saving it.
pub fn parse(source: &Source, zone: Tz, words: &Vocabulary) -> ImportedDocument {
    parse_markdown(&source.name, &source.text, zone, words)
}

/// Imports one source in its own transaction, with a revision saying so.
pub async fn import_one(
    pool: &PgPool,
    source: &Source,
    owners: &HashMap<String, Uuid>,
    importer: Option<Uuid>,
    zone: Tz,
    words: &Vocabulary,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let mut document = parse(source, zone, words);
    let mut tx = crate::store::begin(pool).await?;
    // One search refresh for the whole file instead of one per statement.
    store::search::defer_refresh(&mut *tx).await?;
    let saved = store::imports::save_document(&mut tx, &document, owners, now).await?;
    let lines = document.report.len();
    let images = attach_images(&mut tx, source, &mut document, saved, importer, now).await?;
    if document.report.len() > lines {
        store::imports::write_report(&mut *tx, saved.postmortem_id, &document.report).await?;
    }
    let summary = if saved.created {
        "Imported"
    } else {
        "Imported again"
    };
    // Imported postmortems were reviewed elsewhere: the due-date check
    // does not apply to them, so the default number of days serves.
    let review_due_days = crate::domain::postmortem::DEFAULT_REVIEW_DUE_DAYS;
    let change = store::revisions::Change {
        postmortem_id: saved.postmortem_id,
        incident_number: saved.number,
        author_id: importer,
        summary: &format!("{summary} from {}", source.name),
        at: now,
    };
    store::revisions::record(&mut tx, &change, review_due_days, now).await?;
    let event = store::audit::AuditEvent::new(importer, "postmortem_imported").detail(
        serde_json::json!({ "incident": saved.number, "file": source.name, "created": saved.created }),
    );
    store::audit::record(&mut *tx, event, now).await?;
    store::search::refresh(&mut *tx, &[saved.postmortem_id]).await?;
    tx.commit().await?;
    Ok(Outcome {
        name: source.name.clone(),
        saved: Some((saved.number, saved.created)),
        document,
        images,
    })
}

/// An image a document refers to: uploaded with it, or a regular file in
/// its folder that (links resolved) lies inside the folder being imported;
/// otherwise why it was not taken.
fn image_bytes(source: &Source, path: &str) -> Result<Vec<u8>, String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if let Some(bytes) = source.files.get(name) {
        return Ok(bytes.clone());
    }
    let not_found = || "not found beside the file, link kept as written".to_owned();
    let folder = source.folder.as_ref().ok_or_else(not_found)?;
    let found = std::fs::canonicalize(folder.join(path)).map_err(|_| not_found())?;
    let root =
        std::fs::canonicalize(source.root.as_ref().unwrap_or(folder)).map_err(|_| not_found())?;
    if !found.starts_with(&root) {
        return Err("outside the folder being imported, not attached".to_owned());
    }
    regular_file(&found, IMAGE_MAX_BYTES).map_err(|why| format!("{why}, not attached"))?;
    std::fs::read(&found).map_err(|_| not_found())
}

/// Stores the images a document shows that exist beside it, and points its
/// text at them. Images that are missing or not images are reported.
async fn attach_images(
    db: &mut PgConnection,
    source: &Source,
    document: &mut ImportedDocument,
    saved: store::imports::Saved,
    importer: Option<Uuid>,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let postmortem_id = saved.postmortem_id;
    let mut attached = 0;
    for path in document.images.clone() {
        let bytes = match image_bytes(source, &path) {
            Ok(bytes) => bytes,
            Err(why) => {
                document.report.push(format!("image “{path}”: {why}"));
                continue;
            }
        };
        let kind = match sniff(&bytes) {
            Ok(kind) => kind,
            Err(why) => {
                document.report.push(format!("image “{path}”: {why}"));
                continue;
            }
        };
        let file_name = safe_file_name(&path, kind);
        let id = match store::attachments::find_same(&mut *db, postmortem_id, &file_name, &bytes)
            .await?
        {
            Some(id) => id,
            None => {
                let new = NewAttachment {
                    postmortem_id,
                    timeline_entry_id: None,
                    file_name: &file_name,
                    content_type: kind.content_type(),
                    content: &bytes,
                    created_by: importer,
                };
                store::attachments::insert_attachment(&mut *db, &new, now).await?
            }
        };
        let link = format!(
            "](/incidents/{}/attachments/{id}/{file_name})",
            saved.number
        );
        for section in crate::domain::section::Section::ALL {
            if let Some(text) = document.sections.text_mut(section.field()) {
                *text = text.replace(&format!("]({path})"), &link);
            }
        }
        attached += 1;
    }
    if attached > 0 {
        store::imports::write_sections(&mut *db, postmortem_id, &document.sections, now).await?;
    }
    Ok(attached)
}

#[cfg(test)]
mod tests {
    use super::markdown_kind;
    use std::path::Path;

    #[test]
    fn markdown_is_known_by_any_of_its_extensions() {
        for name in [
            "a.md",
            "b.markdown",
            "2021-03-04-outage.html.md.erb",
            "c.mdx",
        ] {
            assert_eq!(markdown_kind(Path::new(name)), Ok(()), "{name}");
        }
        for name in ["img/pods.png", "notes.txt", "README.md", "LICENSE"] {
            assert!(markdown_kind(Path::new(name)).is_err(), "{name}");
        }
    }
}
