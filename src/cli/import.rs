//! `debrief import` and `debrief export`: progress while they run, a
//! summary at the end.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Instant,
};

use anyhow::Context;
use chrono_tz::Tz;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    archive::markdown::{self, Outcome, Source},
    clock::Clock,
    domain::import::Vocabulary,
    store,
};

/// Prints, for each file, the incident fields read, each timeline entry
/// with the time it was read as, and where every heading went; then the
/// headings that mapped nowhere across all files.
pub fn dry_run(sources: &[Source], skipped: &[(String, String)], zone: Tz, words: &Vocabulary) {
    let mut documents = Vec::with_capacity(sources.len());
    for source in sources {
        let doc = markdown::parse(source, zone, words);
        println!("{}\n  title: {}", source.name, doc.title);
        for line in doc.field_lines() {
            println!("  {line}");
        }
        if !doc.timeline.is_empty() {
            println!("  timeline (UTC):");
            for line in doc.entry_lines() {
                println!("    {line}");
            }
        }
        for line in &doc.report {
            println!("  {line}");
        }
        println!(
            "  => {} timeline entries ({} time unknown), {} contributing factors, {} action items, {} images\n",
            doc.timeline.len(),
            doc.timeline.iter().filter(|e| e.at.is_none()).count(),
            doc.factors.len(),
            doc.actions.len(),
            doc.images.len()
        );
        documents.push(doc);
    }
    print_skipped(skipped);
    let unmapped = crate::domain::import::unmapped_headings(&documents);
    if !unmapped.is_empty() {
        println!(
            "headings that mapped nowhere (kept in other notes); add a synonym at /admin/import:"
        );
        for (heading, files) in &unmapped {
            println!("  {files:>5} of {} files  {heading}", documents.len());
        }
    }
    let entries: usize = documents.iter().map(|d| d.timeline.len()).sum();
    let unknown: usize = documents
        .iter()
        .map(|d| d.timeline.iter().filter(|e| e.at.is_none()).count())
        .sum();
    println!(
        "dry run: {} files read, nothing saved; {} with a start time, {} with a resolution time, {} with a severity; \
         {entries} timeline entries ({unknown} time unknown), {} action items",
        documents.len(),
        documents
            .iter()
            .filter(|d| d.fields.started_at.is_some())
            .count(),
        documents
            .iter()
            .filter(|d| d.fields.resolved_at.is_some())
            .count(),
        documents
            .iter()
            .filter(|d| d.fields.severity.is_some())
            .count(),
        documents.iter().map(|d| d.actions.len()).sum::<usize>(),
    );
}

/// Files at or below this count are imported one after the other, so
/// incident numbers follow the file order; above it, in parallel.
const SEQUENTIAL_UP_TO: usize = 200;
/// Parallel imports at once (each holds one connection).
const WORKERS: usize = 4;

/// Imports every source, one transaction each; a file that fails is
/// reported and the rest go on.
pub async fn run(
    pool: &PgPool,
    sources: &[Source],
    skipped: &[(String, String)],
    zone: Tz,
    importer: Option<&str>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let importer = match importer {
        Some(email) => Some(find_user(pool, email).await?),
        None => None,
    };
    let owners = Arc::new(store::imports::load_owner_names(pool).await?);
    let words = Arc::new(store::import_words::load(pool).await?);
    let total = sources.len();
    let tally = if total <= SEQUENTIAL_UP_TO {
        let mut tally = Tally::default();
        for (index, source) in sources.iter().enumerate() {
            let result = markdown::import_one(
                pool,
                source,
                &owners,
                importer,
                zone,
                &words,
                Clock::system().now(),
            )
            .await;
            if let Ok(outcome) = &result {
                print_outcome(index + 1, total, outcome);
            }
            tally.add(&source.name, result);
        }
        tally
    } else {
        run_parallel(pool, sources, owners, words, importer, zone).await
    };
    print_skipped(skipped);
    eprintln!(
        "imported {} files in {:.1} s: {} new, {} updated, {} failed; {} timeline entries, {} contributing factors, \
         {} action items, {} images",
        tally.created + tally.updated,
        started.elapsed().as_secs_f64(),
        tally.created,
        tally.updated,
        tally.failed,
        tally.entries,
        tally.factors,
        tally.items,
        tally.images
    );
    if tally.failed > 0 {
        anyhow::bail!("{} files could not be imported", tally.failed);
    }
    Ok(())
}

/// Large imports: a few workers take the next file until none are left.
async fn run_parallel(
    pool: &PgPool,
    sources: &[Source],
    owners: Arc<HashMap<String, Uuid>>,
    words: Arc<Vocabulary>,
    importer: Option<Uuid>,
    zone: Tz,
) -> Tally {
    let total = sources.len();
    let sources = Arc::new(sources.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let (pool, sources, next, owners, words) = (
            pool.clone(),
            sources.clone(),
            next.clone(),
            owners.clone(),
            words.clone(),
        );
        workers.spawn(async move {
            let mut tally = Tally::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(source) = sources.get(index) else {
                    return tally;
                };
                let result = markdown::import_one(
                    &pool,
                    source,
                    &owners,
                    importer,
                    zone,
                    &words,
                    Clock::system().now(),
                )
                .await;
                tally.add(&source.name, result);
                if (index + 1) % 500 == 0 {
                    eprintln!("  {}/{total} files", index + 1);
                }
            }
        });
    }
    let mut tally = Tally::default();
    while let Some(done) = workers.join_next().await {
        match done {
            Ok(part) => tally.merge(part),
            Err(error) => {
                eprintln!("  an import worker stopped: {error}");
                tally.failed += 1;
            }
        }
    }
    tally
}

#[derive(Default)]
struct Tally {
    created: usize,
    updated: usize,
    failed: usize,
    entries: usize,
    factors: usize,
    items: usize,
    images: usize,
}

impl Tally {
    fn add(&mut self, name: &str, result: anyhow::Result<Outcome>) {
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(error) => {
                eprintln!("  {name}: failed: {error:#}");
                self.failed += 1;
                return;
            }
        };
        match outcome.saved {
            Some((_, true)) => self.created += 1,
            _ => self.updated += 1,
        }
        self.entries += outcome.document.timeline.len();
        self.factors += outcome.document.factors.len();
        self.items += outcome.document.actions.len();
        self.images += outcome.images;
    }

    fn merge(&mut self, other: Tally) {
        self.created += other.created;
        self.updated += other.updated;
        self.failed += other.failed;
        self.entries += other.entries;
        self.factors += other.factors;
        self.items += other.items;
        self.images += other.images;
    }
}

fn print_outcome(done: usize, total: usize, outcome: &Outcome) {
    let (number, created) = outcome.saved.unwrap_or((0, false));
    eprintln!(
        "  [{done:>width$}/{total}] {} → INC-{number} ({}): {} timeline entries, {} factors, {} action items",
        outcome.name,
        if created { "new" } else { "updated" },
        outcome.document.timeline.len(),
        outcome.document.factors.len(),
        outcome.document.actions.len(),
        width = total.to_string().len()
    );
}

fn print_skipped(skipped: &[(String, String)]) {
    for (name, why) in skipped {
        eprintln!("  skipped {name}: {why}");
    }
}

async fn find_user(pool: &PgPool, email: &str) -> anyhow::Result<uuid::Uuid> {
    let names = store::imports::load_owner_names(pool).await?;
    names
        .get(&email.trim().to_lowercase())
        .copied()
        .with_context(|| format!("no active account has the email {email}"))
}

/// `debrief export`: the whole archive as JSON, to a file or standard output.
pub async fn export(
    pool: &PgPool,
    output: Option<&std::path::Path>,
    with_password_hashes: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut rows = 0;
    let text = crate::archive::json::export(pool, with_password_hashes, |table, count| {
        eprintln!("  {table}: {count} rows");
        rows += count;
    })
    .await?;
    match output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    eprintln!(
        "exported {rows} rows ({:.1} MB) in {:.1} s{}",
        text.len() as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64(),
        if with_password_hashes {
            ""
        } else {
            "; password hashes left out, so people set new passwords"
        }
    );
    Ok(())
}

/// `debrief import --json`: whole archives into an empty database.
pub async fn import_json(pool: &PgPool, paths: &[std::path::PathBuf]) -> anyhow::Result<()> {
    for path in paths {
        let started = Instant::now();
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut rows = 0;
        crate::archive::json::import(pool, &text, |table, count| {
            eprintln!("  {table}: {count} rows");
            rows += count;
        })
        .await
        .with_context(|| format!("importing {}", path.display()))?;
        let event = store::audit::AuditEvent::new(None, "archive_imported")
            .detail(serde_json::json!({ "file": path.display().to_string(), "rows": rows }));
        store::audit::record(pool, event, chrono::Utc::now()).await?;
        eprintln!(
            "imported {rows} rows from {} in {:.1} s",
            path.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
