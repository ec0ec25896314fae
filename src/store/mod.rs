//! All SQL lives here, one module per aggregate. Functions take any
//! `PgExecutor`, so they run on the pool or inside a caller's transaction.

pub mod access;
pub mod action_items;
pub mod alerts;
pub mod api_tokens;
pub mod archive;
pub mod attachments;
pub mod audit;
pub mod bulk;
pub mod checklist;
pub mod comments;
pub mod documents;
pub mod drafts;
pub mod feeds;
pub mod follow_up;
pub mod import_words;
pub mod imports;
pub mod incidents;
pub mod links;
pub mod notifications;
pub mod outbox;
pub mod participants;
pub mod postmortems;
pub mod review;
pub mod revisions;
pub mod search;
pub mod services;
pub mod sessions;
pub mod sso;
pub mod taxonomy;
pub mod teams;
pub mod themes;
pub mod throttle;
pub mod timeline;
pub mod trackers;
pub mod trends;
pub mod users;

/// Answers when the database is reachable (for `/readyz`).
pub async fn ping(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query_scalar!(r#"SELECT 1 AS "one!""#)
        .fetch_one(db)
        .await?;
    Ok(())
}

/// Whether an error is a unique-constraint violation (SQLSTATE 23505).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

/// How the statements of a [`planned`] transaction are planned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plans {
    /// For each execution's parameters: for statements whose best plan
    /// depends on them (a filter that is "this team, or any").
    Custom,
    /// Once per connection and statement, reused: for statements whose plan
    /// does not depend on their parameters, where planning would cost more
    /// than running (search).
    Generic,
}

/// Begins a transaction on a connection from the pool. Use it (or
/// [`planned`]) instead of `Pool::begin`, which clippy refuses.
///
/// sqlx counts a transaction only once `BEGIN` has answered, and on drop
/// rolls back only what it counted. So a request dropped while its `BEGIN`
/// was in flight (the browser went away, as it does while someone types a
/// search) gave its connection back to the pool inside a transaction that
/// nobody owned, and the next request on that connection ran in it: refused
/// writes after a read-only search, or changes left uncommitted with their
/// rows locked. Begun in a task of its own, `BEGIN` always finishes and its
/// transaction always has an owner; when the request is gone, that owner is
/// dropped, which rolls it back.
pub async fn begin(
    pool: &sqlx::PgPool,
) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    begin_owned(pool, None).await
}

/// A read-only transaction whose statements are planned as `plans` says,
/// begun in one round trip (like [`begin`], in a task of its own).
pub async fn planned(
    pool: &sqlx::PgPool,
    plans: Plans,
) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    begin_owned(
        pool,
        Some(match plans {
            // The archive's working set is in memory on any machine Debrief
            // runs on, so a random read costs little more than a sequential
            // one; at the default (4.0) the planner prefers a table scan of
            // open items to the index that holds every column the review reads.
            Plans::Custom => {
                "BEGIN READ ONLY; SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL random_page_cost = 1.1"
            }
            // No prefetching either: a bitmap scan of search entries would
            // look up each page in the buffer table twice, once to prefetch
            // it and once to read it (a twentieth of a phrase search's time).
            Plans::Generic => {
                "BEGIN READ ONLY; SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL effective_io_concurrency = 0"
            }
        }),
    )
    .await
}

/// `BEGIN` (or `statement`) in a task that runs to its end even if the
/// caller is dropped (see [`begin`]).
#[allow(clippy::disallowed_methods)]
async fn begin_owned(
    pool: &sqlx::PgPool,
    statement: Option<&'static str>,
) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    let pool = pool.clone();
    tokio::spawn(async move {
        match statement {
            Some(statement) => pool.begin_with(statement).await,
            None => pool.begin().await,
        }
    })
    .await
    .map_err(|_| sqlx::Error::WorkerCrashed)?
}
