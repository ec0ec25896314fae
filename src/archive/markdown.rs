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
            sources.push(read_source(path, name)?);
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
        if path.is_dir() {
            walk(root, &path, sources, skipped)?;
            continue;
        }
        match markdown_kind(&path) {
            Ok(()) => sources.push(read_source(&path, name)?),
            Err(why) => skipped.push((name, why.to_owned())),
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

fn read_source(path: &Path, name: String) -> anyhow::Result<Source> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Source {
        name,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        folder: path.parent().map(Path::to_path_buf),
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
    let mut tx = pool.begin().await?;
    // One search refresh for the whole file instead of one per statement.
    store::search::defer_refresh(&mut *tx).await?;
    let saved = store::imports::save_document(&mut tx, &document, owners, now).await?;
    let images = attach_images(&mut tx, source, &mut document, saved, importer, now).await?;
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
    store::search::refresh(&mut *tx, &[saved.postmortem_id]).await?;
    tx.commit().await?;
    Ok(Outcome {
        name: source.name.clone(),
        saved: Some((saved.number, saved.created)),
        document,
        images,
    })
}

/// An image a document refers to: uploaded with it, or in its folder.
fn image_bytes(source: &Source, path: &str) -> Option<Vec<u8>> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if let Some(bytes) = source.files.get(name) {
        return Some(bytes.clone());
    }
    std::fs::read(source.folder.as_ref()?.join(path)).ok()
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
        let Some(bytes) = image_bytes(source, &path) else {
            document.report.push(format!(
                "image “{path}”: not found beside the file, link kept as written"
            ));
            continue;
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
