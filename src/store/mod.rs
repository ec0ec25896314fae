//! All SQL lives here, one module per aggregate. Functions take any
//! `PgExecutor`, so they run on the pool or inside a caller's transaction.

pub mod audit;
pub mod links;
pub mod sessions;
pub mod teams;
pub mod throttle;
pub mod users;

/// Whether an error is a unique-constraint violation (SQLSTATE 23505).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}
