//! First run: while no user exists, a one-time setup link lets whoever
//! started the server create the first admin.

use anyhow::Context;
use chrono::Duration;
use sqlx::PgPool;

use crate::{
    clock::Clock,
    domain::token::Token,
    store::{self, links::LinkPurpose},
};

/// How long a setup link works.
pub const SETUP_LINK_HOURS: i64 = 24;

/// When the archive has no user yet, makes a setup link and returns its URL
/// (the caller logs it). Returns `None` once an account exists.
pub async fn issue_setup_link(
    pool: &PgPool,
    clock: &Clock,
    base_url: &str,
) -> anyhow::Result<Option<String>> {
    if store::users::count_users(pool).await? > 0 {
        store::links::delete_setup_links(pool).await?;
        return Ok(None);
    }
    let token = Token::generate();
    let now = clock.now();
    let mut connection = pool
        .acquire()
        .await
        .context("could not reach the database")?;
    store::links::insert_link(
        &mut connection,
        &token.digest(),
        LinkPurpose::Setup,
        None,
        now,
        now + Duration::hours(SETUP_LINK_HOURS),
    )
    .await
    .context("could not store the setup link")?;
    Ok(Some(format!("{base_url}/setup?token={}", token.as_str())))
}
