//! The command line: `serve`, `migrate` and `user create`.

use anyhow::{Context, bail};
use chrono::Duration;
use clap::{Parser, Subcommand};

use crate::{
    clock::Clock,
    config::{DatabaseConfig, LogFormat, ServerConfig},
    db,
    domain::{email::Email, name, role::Role, token::Token},
    server,
    store::{self, links::LinkPurpose, users::NewUser},
    telemetry,
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
    /// Manage user accounts from scripts.
    #[command(subcommand)]
    User(UserCommand),
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
        Command::Serve { database, server } => {
            let pool = db::connect(&database).await?;
            db::migrate(&pool).await?;
            server::run(pool, server).await
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
            let link =
                create_user(&pool, &email, &name, role, base_url.trim_end_matches('/')).await?;
            println!(
                "created {role} {email}\nshare this one-time link so they can choose a password (valid 72 hours):\n{link}"
            );
            Ok(())
        }
    }
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
) -> anyhow::Result<String> {
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let display_name =
        name::parse_name(display_name, name::DISPLAY_NAME_MAX).map_err(anyhow::Error::msg)?;
    let now = Clock::system().now();
    let mut tx = pool.begin().await?;
    let new_user = NewUser {
        email: &email,
        display_name: &display_name,
        role,
        password_hash: None,
    };
    let user_id = match store::users::insert_user(&mut *tx, new_user, now).await {
        Ok(id) => id,
        Err(error) if store::is_unique_violation(&error) => {
            bail!("a user with email {} exists already", email.as_str())
        }
        Err(error) => return Err(error.into()),
    };
    let token = Token::generate();
    store::links::insert_link(
        &mut tx,
        &token.digest(),
        LinkPurpose::Invite,
        Some(user_id),
        now,
        now + Duration::hours(72),
    )
    .await?;
    store::links::delete_setup_links(&mut *tx).await?;
    tx.commit().await?;
    Ok(format!("{base_url}/welcome/{}", token.as_str()))
}
