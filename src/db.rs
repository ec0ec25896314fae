//! Connecting to Postgres: the pool, the migrations, and creating the
//! database on first start.

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    ConnectOptions, Connection, PgPool,
    migrate::MigrateDatabase,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use crate::config::DatabaseConfig;

/// The migrations under `migrations/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens a pool to the configured database, creating the database first if
/// the server is there but the database is not.
pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<PgPool> {
    connect_with_limit(config, None).await
}

/// [`connect`] with `statement_timeout` set on every connection.
async fn connect_with_limit(
    config: &DatabaseConfig,
    statement_timeout: Option<Duration>,
) -> anyhow::Result<PgPool> {
    let mut options = PgConnectOptions::from_str(&config.database_url)
        .context("DATABASE_URL is not a valid Postgres URL")?;
    create_database_if_missing(&config.database_url, &options).await?;
    if let Some(limit) = statement_timeout {
        options = options.options([("statement_timeout", format!("{}ms", limit.as_millis()))]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(config.db_pool_size)
        // Fail fast, so /readyz and pages answer 503 instead of hanging when
        // the database is gone.
        .acquire_timeout(Duration::from_secs(config.db_acquire_seconds.max(1)))
        // No ping before every query: it doubles the round trips of a page.
        // A connection that broke fails its query (answered 503) and is
        // dropped from the pool; the next request gets a fresh one.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .context("could not connect to Postgres")?;
    Ok(pool)
}

/// The server's pool: [`connect`] with the configured statement timeout,
/// waiting with backoff (half a second, doubling up to ten) while the
/// database cannot be reached or is starting up, so a process started
/// before its database comes up once it does. Other failures (a wrong
/// password, a bad URL) end at once.
pub async fn connect_waiting(config: &DatabaseConfig) -> anyhow::Result<PgPool> {
    let mut wait = Duration::from_millis(500);
    let mut attempts = 1;
    let statement_timeout =
        (config.db_statement_seconds > 0).then(|| Duration::from_secs(config.db_statement_seconds));
    loop {
        match connect_with_limit(config, statement_timeout).await {
            Ok(pool) => {
                if attempts > 1 {
                    tracing::info!(attempts, "the database answers");
                }
                return Ok(pool);
            }
            Err(error) if is_unreachable(&error) => {
                tracing::warn!(
                    error = %format!("{error:#}"),
                    retry_in_ms = wait.as_millis() as u64,
                    attempts,
                    "waiting for the database"
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
                attempts += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Whether connecting failed because the database is not there (yet).
fn is_unreachable(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| match cause.downcast_ref::<sqlx::Error>() {
            // A refused or dropped connection, or one cut before it spoke
            // (which reads as a protocol error).
            Some(
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_),
            ) => true,
            // cannot_connect_now (starting up or shutting down), too_many_connections
            Some(sqlx::Error::Database(error)) => {
                matches!(error.code().as_deref(), Some("57P03" | "53300"))
            }
            _ => false,
        })
}

/// Applies every pending migration, on a connection without the server's
/// statement timeout (a migration may rewrite a large table).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let mut connection = pool
        .acquire()
        .await
        .context("could not reach the database")?;
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *connection)
        .await?;
    let migrated = MIGRATOR
        .run(&mut *connection)
        .await
        .context("could not apply database migrations");
    // Back to the limit the connection was opened with, for the pool.
    sqlx::query("RESET statement_timeout")
        .execute(&mut *connection)
        .await?;
    migrated
}

/// Creates the database when the server answers that it does not exist.
/// Connecting to it first (rather than asking the `postgres` database)
/// works for a role that may not read `postgres`.
async fn create_database_if_missing(url: &str, options: &PgConnectOptions) -> anyhow::Result<()> {
    let Some(name) = options.get_database().map(str::to_owned) else {
        return Ok(());
    };
    match options.connect().await {
        Ok(connection) => {
            connection.close().await.ok();
            return Ok(());
        }
        Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("3D000") => {}
        Err(error) => return Err(error).context("could not connect to Postgres"),
    }
    match sqlx::Postgres::create_database(url).await {
        Ok(()) => tracing::info!(database = %name, "created the database"),
        // Another replica created it first (duplicate_database, or the
        // catalog's unique key when both got there at the same moment).
        Err(sqlx::Error::Database(error))
            if matches!(error.code().as_deref(), Some("42P04" | "23505")) => {}
        Err(error) => return Err(error).context("could not create the database"),
    }
    Ok(())
}
