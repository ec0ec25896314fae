//! `debrief import` and `debrief export`: progress while they run, a
//! summary at the end.

use std::time::Instant;

use anyhow::Context;
use chrono_tz::Tz;
use sqlx::PgPool;

use crate::{
    archive::markdown::{self, Outcome, Source},
    clock::Clock,
    store,
};

/// Prints, for each file, where every part would go.
pub fn dry_run(sources: &[Source], skipped: &[(String, String)], zone: Tz) {
    let now = Clock::system().now();
    for source in sources {
        let doc = markdown::parse(source, zone, now);
        println!("{}\n  title: {}", source.name, doc.title);
        for line in &doc.report {
            println!("  {line}");
        }
        println!(
            "  => {} timeline entries, {} contributing factors, {} action items, {} images\n",
            doc.timeline.len(),
            doc.factors.len(),
            doc.actions.len(),
            doc.images.len()
        );
    }
    print_skipped(skipped);
    println!("dry run: {} files read, nothing saved", sources.len());
}

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
    let owners = store::imports::load_owner_names(pool).await?;
    let clock = Clock::system();
    let total = sources.len();
    let mut tally = Tally::default();
    for (index, source) in sources.iter().enumerate() {
        match markdown::import_one(pool, source, &owners, importer, zone, clock.now()).await {
            Ok(outcome) => {
                tally.add(&outcome);
                if total <= 200 {
                    print_outcome(index + 1, total, &outcome);
                }
            }
            Err(error) => {
                eprintln!(
                    "  [{}/{total}] {}: failed: {error:#}",
                    index + 1,
                    source.name
                );
                tally.failed += 1;
            }
        }
        if total > 200 && (index + 1) % 500 == 0 {
            eprintln!("  {}/{total} files", index + 1);
        }
    }
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
    fn add(&mut self, outcome: &Outcome) {
        match outcome.saved {
            Some((_, true)) => self.created += 1,
            _ => self.updated += 1,
        }
        self.entries += outcome.document.timeline.len();
        self.factors += outcome.document.factors.len();
        self.items += outcome.document.actions.len();
        self.images += outcome.images;
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
        eprintln!(
            "imported {rows} rows from {} in {:.1} s",
            path.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
