//! Personal API tokens, kept as the SHA-256 of the token.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::sessions::SessionUser;
use crate::domain::role::Role;

/// What a token may do: read, or read and write (never more than its owner).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Serialize)]
#[sqlx(type_name = "api_scope", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

/// A token as its owner's account page lists it.
#[derive(Clone, Debug)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub struct NewToken<'a> {
    pub user_id: Uuid,
    pub name: &'a str,
    pub prefix: &'a str,
    pub hash: &'a [u8],
    pub scope: Scope,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    token: NewToken<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, scope, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        id,
        token.user_id,
        token.name,
        token.prefix,
        token.hash,
        token.scope as Scope,
        now,
        token.expires_at
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// A user's tokens, newest first, revoked ones included (they show as such).
pub async fn list_for_user(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<ApiToken>> {
    sqlx::query_as!(
        ApiToken,
        r#"SELECT id, name, prefix, scope AS "scope: Scope", created_at, expires_at, last_used_at, revoked_at
           FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC"#,
        user_id
    )
    .fetch_all(db)
    .await
}

/// Revokes one of the user's own tokens; false when they have no such live
/// token.
pub async fn revoke(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    token_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
        token_id,
        user_id,
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The caller behind a presented token: its owner (if active) and scope.
#[derive(Clone, Debug)]
pub struct TokenCaller {
    pub token_id: Uuid,
    pub scope: Scope,
    pub last_used_at: Option<DateTime<Utc>>,
    pub user: SessionUser,
}

/// The live token with this hash: not revoked, not expired, its owner
/// active.
pub async fn find_live(
    db: impl PgExecutor<'_>,
    hash: &[u8],
    now: DateTime<Utc>,
) -> sqlx::Result<Option<TokenCaller>> {
    let row = sqlx::query!(
        r#"SELECT t.id, t.scope AS "scope: Scope", t.last_used_at,
                  u.id AS user_id, u.email, u.display_name, u.role AS "role: Role", u.time_zone
           FROM api_tokens t JOIN users u ON u.id = t.user_id
           WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.active"#,
        hash,
        now
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| TokenCaller {
        token_id: row.id,
        scope: row.scope,
        last_used_at: row.last_used_at,
        user: SessionUser {
            id: row.user_id,
            email: row.email,
            display_name: row.display_name,
            role: row.role,
            time_zone: row.time_zone,
        },
    }))
}

/// Records a use (callers do it at most once a minute per token).
pub async fn touch(
    db: impl PgExecutor<'_>,
    token_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
        token_id,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}
