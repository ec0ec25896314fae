//! The command line: `serve`, `migrate`, `seed`, `import`, `export`, `sweep`,
//! `digest send`, `user create` and `services load`.

use anyhow::Context;
use clap::{Parser, Subcommand};

mod import;

use crate::{
    accounts,
    clock::Clock,
    config::{DatabaseConfig, LogFormat, ServerConfig},
    db,
    domain::{email::Email, name, role::Role},
    seed, server, telemetry,
};

/// Debrief: an organization's archive of blameless postmortems.
#[derive(Parser, Debug)]
#[command(name = "debrief", version, about)]
pub struct Cli {
    /// Log as human-readable text or as JSON lines.
    #[arg(long, env = "DEBRIEF_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Apply pending migrations, then serve the web application.
    Serve {
        /// Fill an empty archive with the demo postmortems first.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        server: ServerConfig,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Fill the archive: the demo postmortems, or generated ones for benchmarks.
    #[command(group = clap::ArgGroup::new("what").required(true))]
    Seed {
        /// A dozen realistic postmortems with demo users and teams (empty archive only).
        #[arg(long, group = "what")]
        demo: bool,
        /// This many generated postmortems.
        #[arg(long, group = "what", value_name = "N")]
        synthetic: Option<usize>,
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Import postmortems: Markdown files or folders of them, or (with
    /// --json) a whole archive written by `debrief export`.
    Import {
        /// Files or folders to import.
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
        /// Print what would be imported and where each part would go; save nothing.
        #[arg(long)]
        dry_run: bool,
        /// The paths are whole archives written by `debrief export` (into an empty database).
        #[arg(long, conflicts_with = "dry_run")]
        json: bool,
        /// The zone of times that name none (a document saying "All times in CET" wins).
        #[arg(long, default_value = "UTC")]
        time_zone: String,
        /// The account recorded as having imported (an email); none by default.
        #[arg(long = "as", value_name = "EMAIL")]
        importer: Option<String>,
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Write the whole archive as JSON: people, teams, incidents, postmortems,
    /// revisions, timelines, action items with their history, attachments.
    Export {
        /// Where to write it; standard output by default.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
        /// Include password hashes, so accounts keep their passwords.
        #[arg(long)]
        with_password_hashes: bool,
        #[command(flatten)]
        database: DatabaseConfig,
    },
    /// Flag overdue and stale action items and overdue reviews once, as the
    /// server does every few minutes, and print what changed.
    Sweep {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        server: ServerConfig,
    },
    /// Email digests of overdue action items.
    #[command(subcommand)]
    Digest(DigestCommand),
    /// Manage user accounts from scripts.
    #[command(subcommand)]
    User(UserCommand),
    /// Services and their owner teams.
    #[command(subcommand)]
    Services(ServicesCommand),
}

#[derive(Subcommand, Debug)]
pub enum ServicesCommand {
    /// Load services from a Backstage catalog file (`catalog-info.yaml`, one
    /// or several YAML documents): each Component, System or Resource
    /// becomes a service, its owner matched to a team by name.
    Load {
        /// The catalog file.
        file: std::path::PathBuf,
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

#[derive(Subcommand, Debug)]
pub enum DigestCommand {
    /// Compose the digests that are due (with --now: the current period's,
    /// whatever the day and hour) and send what the outbox holds.
    Send {
        /// Compose the current week's and day's digests now.
        #[arg(long)]
        now: bool,
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(flatten)]
        server: ServerConfig,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user and print the one-time link with which they choose a password.
    Create {
        /// Their email address (they sign in with it).
        #[arg(long)]
        email: String,
        /// The name shown to colleagues.
        #[arg(long)]
        name: String,
        /// Make the user an admin (the same as --role admin).
        #[arg(long, conflicts_with = "role")]
        admin: bool,
        /// admin, member or viewer.
        #[arg(long, default_value = "member")]
        role: String,
        /// Where users reach Debrief, for the printed link.
        #[arg(
            long,
            env = "DEBRIEF_BASE_URL",
            default_value = "http://127.0.0.1:3000"
        )]
        base_url: String,
        #[command(flatten)]
        database: DatabaseConfig,
    },
}

/// Runs one command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    telemetry::init(cli.log_format);
    match cli.command {
        Command::Serve {
            demo,
            database,
            server,
        } => {
            server::run(server, &database, async move |pool| {
                prepare_for_serving(pool, demo).await
            })
            .await
        }
        Command::Seed {
            demo,
            synthetic,
            database,
        } => {
            let pool = db::connect(&database).await?;
            db::migrate(&pool).await?;
            if demo {
                seed_demo(&pool).await?;
            }
            if let Some(count) = synthetic {
                seed_synthetic(&pool, count).await?;
            }
            Ok(())
        }
        Command::Export {
            output,
            with_password_hashes,
            database,
        } => {
            let pool = db::connect(&database).await?;
            db::migrate(&pool).await?;
            import::export(&pool, output.as_deref(), with_password_hashes).await
        }
        Command::Import {
            paths,
            json: true,
            database,
            ..
        } => {
            let pool = db::connect(&database).await?;
            db::migrate(&pool).await?;
            import::import_json(&pool, &paths).await
        }
        Command::Import {
            paths,
            dry_run,
            time_zone,
            importer,
            database,
            ..
        } => {
            let zone = crate::domain::time::parse_zone(&time_zone).with_context(|| {
                format!("unknown time zone {time_zone:?}: use an IANA name such as Europe/Berlin")
            })?;
            let (sources, skipped) = crate::archive::markdown::collect(&paths)?;
            if dry_run {
                // The admin's heading synonyms and severity words when the
                // database can be reached; the built-in ones otherwise.
                let words = match db::connect(&database).await {
                    Ok(pool) => crate::store::import_words::load(&pool).await.ok(),
                    Err(_) => None,
                };
                if words.is_none() {
                    eprintln!(
                        "database not reachable: reading with the built-in headings and severity words"
                    );
                }
                import::dry_run(&sources, &skipped, zone, &words.unwrap_or_default());
                return Ok(());
            }
            let pool = db::connect(&database).await?;
            db::migrate(&pool).await?;
            import::run(&pool, &sources, &skipped, zone, importer.as_deref()).await
        }
        Command::Sweep { database, server } => {
            let pool = db::connect(&database).await?;
            db::migrate(&pool).await?;
            sweep(&pool, &server).await
        }
        Command::Digest(DigestCommand::Send {
            now,
            database,
            server,
        }) => {
            let pool = db::connect(&database).await?;
            db::migrate(&pool).await?;
            send_digests(&pool, &server, now).await
        }
        Command::Services(ServicesCommand::Load { file, database }) => {
            let pool = db::connect(&database).await?;
            db::migrate(&pool).await?;
            load_services(&pool, &file).await
        }
        Command::Migrate { database } => {
            let pool = db::connect(&database).await?;
            db::migrate(&pool).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::User(UserCommand::Create {
            email,
            name,
            admin,
            role,
            base_url,
            database,
        }) => {
            let role = if admin {
                Role::Admin
            } else {
                parse_role(&role)?
            };
            let pool = db::connect(&database).await?;
            db::migrate(&pool).await?;
            let link = create_user(&pool, &email, &name, role, &base_url).await?;
            println!(
                "created {role} {email}\nshare this one-time link so they can choose a password (valid {} hours):\n{}",
                link.hours, link.url
            );
            Ok(())
        }
    }
}

async fn sweep(pool: &sqlx::PgPool, config: &ServerConfig) -> anyhow::Result<()> {
    use crate::jobs::sweeper::{self, Outcome};
    let settings = config.sweeper();
    eprintln!("sweeping (organization time zone {})…", settings.zone);
    match sweeper::run_once(pool, &Clock::system(), &settings).await? {
        Outcome::Swept {
            changes,
            duration_ms,
        } => {
            let open = crate::store::follow_up::count_open_flags(pool).await?;
            let open: Vec<String> = open
                .iter()
                .map(|(flag, n)| format!("{n} {}", sweeper::describe(flag)))
                .collect();
            println!(
                "swept in {duration_ms} ms: {} flags raised, {} cleared; now raised: {}",
                changes.raised,
                changes.cleared,
                if open.is_empty() {
                    "none".to_owned()
                } else {
                    open.join(", ")
                }
            );
        }
        Outcome::Busy => println!("another sweeper is running; nothing done"),
    }
    Ok(())
}

/// `debrief digest send`: composes, then sends until the outbox has
/// nothing due, printing what it did.
async fn send_digests(pool: &sqlx::PgPool, config: &ServerConfig, now: bool) -> anyhow::Result<()> {
    use crate::{
        domain::digest::Frequency,
        jobs::digest::{self, Composed},
    };
    let clock = Clock::system();
    let settings = config.digest();
    for frequency in [Frequency::Weekly, Frequency::Daily] {
        let period = if now {
            Some(settings.schedule.current_period(frequency, clock.now()))
        } else {
            settings.schedule.due_period(frequency, clock.now())
        };
        let Some(period) = period else {
            println!("{} digests: not due yet", frequency.label());
            continue;
        };
        eprintln!("composing the {} digests of {period}…", frequency.as_str());
        match digest::compose(pool, &clock, &settings, frequency, &period).await? {
            Composed::Done {
                messages,
                duration_ms,
            } => println!("{period}: composed {messages} digests in {duration_ms} ms"),
            Composed::AlreadyDone => println!("{period}: composed before; nothing new"),
            Composed::Busy => println!("{period}: another composer is at it; nothing done"),
        }
    }
    let mailer = crate::mail::Mailer::new(&config.mail)?;
    if !mailer.is_on() {
        let counts = crate::store::outbox::counts(pool).await?;
        println!(
            "mail is off (DEBRIEF_SMTP_URL is not set): {} digests wait in the outbox",
            counts.pending
        );
        return Ok(());
    }
    eprintln!("sending…");
    let sent = digest::send_due(pool, &clock, &mailer).await?;
    let counts = crate::store::outbox::counts(pool).await?;
    println!(
        "sent {} digests, {} attempts failed; {} pending ({} after a failure), {} sent in all",
        sent.sent, sent.failed, counts.pending, counts.failing, counts.sent
    );
    Ok(())
}

/// The largest catalog file `debrief services load` reads.
const CATALOG_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// `debrief services load FILE`: reads a catalog file, loads its services
/// in one transaction, and prints what it created, updated and skipped.
async fn load_services(pool: &sqlx::PgPool, file: &std::path::Path) -> anyhow::Result<()> {
    use crate::domain::catalog;
    let metadata =
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    anyhow::ensure!(
        metadata.is_file(),
        "{} is not a regular file",
        file.display()
    );
    anyhow::ensure!(
        metadata.len() <= CATALOG_MAX_BYTES,
        "{} is {} bytes; a catalog file may have at most {CATALOG_MAX_BYTES}",
        file.display(),
        metadata.len()
    );
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed = catalog::parse(&text);
    for problem in &parsed.skipped {
        eprintln!("  skipped: {problem}");
    }
    anyhow::ensure!(
        !parsed.services.is_empty(),
        "{} holds no Component, System or Resource with a name; nothing loaded",
        file.display()
    );
    eprintln!(
        "loading {} services from {}…",
        parsed.services.len(),
        file.display()
    );
    let mut tx = crate::store::begin(pool).await?;
    let loaded =
        crate::store::services::load_catalog(&mut tx, &parsed, Clock::system().now()).await?;
    tx.commit().await?;
    for owner in &loaded.unmatched_owners {
        eprintln!("  owner not matched to a team (left without an owner): {owner}");
    }
    println!(
        "loaded {}: {} services created, {} updated, {} entries skipped, {} owners not matched",
        file.display(),
        loaded.created,
        loaded.updated,
        parsed.skipped.len(),
        loaded.unmatched_owners.len()
    );
    Ok(())
}

/// What `debrief serve` does once the database answers: migrations, then
/// with `--demo` the demo archive if the archive is empty.
async fn prepare_for_serving(pool: sqlx::PgPool, demo: bool) -> anyhow::Result<sqlx::PgPool> {
    db::migrate(&pool).await?;
    if demo {
        let empty = seed::demo::archive_is_empty(&mut *pool.acquire().await?).await?;
        let seeded = if empty {
            seed_demo(&pool).await
        } else {
            Err(anyhow::anyhow!(seed::demo::ALREADY_FILLED))
        };
        match seeded {
            Ok(()) => {}
            // Filled before, or meanwhile by another replica started with --demo.
            Err(error) if error.to_string() == seed::demo::ALREADY_FILLED => eprintln!(
                "--demo: the archive already has accounts or incidents, so the demo was not added \
                 (sign in as before; the demo admin is {})",
                seed::demo::DEMO_ADMIN
            ),
            Err(error) => return Err(error),
        }
    }
    Ok(pool)
}

async fn seed_demo(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let summary = seed::demo::seed(pool, &Clock::system(), |done, total, title| {
        eprintln!("  [{done:>2}/{total}] {title}");
    })
    .await?;
    eprintln!(
        "demo archive ready: {} postmortems, {} action items, {} themes, {} users, {} teams\n\
         sign in as {} with the password {} (every demo user has it)",
        summary.postmortems,
        summary.action_items,
        summary.themes,
        summary.users,
        summary.teams,
        seed::demo::DEMO_ADMIN,
        seed::demo::DEMO_PASSWORD
    );
    Ok(())
}

async fn seed_synthetic(pool: &sqlx::PgPool, count: usize) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let made = seed::synthetic::seed(pool, &Clock::system(), count, |done, total| {
        eprintln!("  {done}/{total} postmortems");
    })
    .await?;
    eprintln!(
        "generated {made} postmortems (with timelines and action items) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn parse_role(text: &str) -> anyhow::Result<Role> {
    Role::parse(text).with_context(|| format!("unknown role {text:?}: use admin, member or viewer"))
}

async fn create_user(
    pool: &sqlx::PgPool,
    email: &str,
    display_name: &str,
    role: Role,
    base_url: &str,
) -> anyhow::Result<accounts::IssuedLink> {
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let display_name =
        name::parse_name(display_name, name::DISPLAY_NAME_MAX).map_err(anyhow::Error::msg)?;
    let now = Clock::system().now();
    let mut tx = crate::store::begin(pool).await?;
    let (_, link) =
        accounts::invite_user(&mut tx, &email, &display_name, role, None, base_url, now).await?;
    tx.commit().await?;
    Ok(link)
}
