//! Users: accounts, roles and the active flag.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{email::Email, role::Role};

/// A user as pages show them.
#[derive(Clone, Debug)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
}

/// What sign-in needs to know about the owner of an email address.
pub struct Credentials {
    pub id: Uuid,
    pub password_hash: Option<String>,
    pub active: bool,
}

pub struct NewUser<'a> {
    pub email: &'a Email,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: Option<&'a str>,
}

/// Inserts a user; a taken email surfaces as a unique violation
/// (see [`super::is_unique_violation`]).
pub async fn insert_user(
    db: impl PgExecutor<'_>,
    user: NewUser<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        r#"INSERT INTO users (id, email, display_name, role, password_hash, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $6)"#,
        id,
        user.email.as_str(),
        user.display_name,
        user.role as Role,
        user.password_hash,
        now,
    )
    .execute(db)
    .await?;
    Ok(id)
}

pub async fn count_users(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    let count = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM users"#)
        .fetch_one(db)
        .await?;
    Ok(count)
}

pub async fn find_credentials(
    db: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Option<Credentials>> {
    sqlx::query_as!(
        Credentials,
        "SELECT id, password_hash, active FROM users WHERE email = $1",
        email
    )
    .fetch_optional(db)
    .await
}

pub async fn get_user(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"SELECT id, email, display_name, role AS "role: Role", active,
                  password_hash IS NOT NULL AS "has_password!", created_at
           FROM users WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// A page of users, active first, then by name.
pub async fn list_users(
    db: impl PgExecutor<'_>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<User>> {
    sqlx::query_as!(
        User,
        r#"SELECT id, email, display_name, role AS "role: Role", active,
                  password_hash IS NOT NULL AS "has_password!", created_at
           FROM users ORDER BY active DESC, lower(display_name), email, id
           LIMIT $1 OFFSET $2"#,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

/// Active users who are not members of `team_id`, by name (for a picker).
pub async fn list_users_outside_team(
    db: impl PgExecutor<'_>,
    team_id: Uuid,
) -> sqlx::Result<Vec<User>> {
    sqlx::query_as!(
        User,
        r#"SELECT id, email, display_name, role AS "role: Role", active,
                  password_hash IS NOT NULL AS "has_password!", created_at
           FROM users u
           WHERE active AND NOT EXISTS (
               SELECT 1 FROM team_members m WHERE m.team_id = $1 AND m.user_id = u.id)
           ORDER BY lower(display_name), email"#,
        team_id
    )
    .fetch_all(db)
    .await
}

/// Locks the other active admins' rows and counts them, so two admins
/// demoting each other at the same moment cannot leave nobody in charge.
pub async fn lock_other_active_admins(
    db: impl PgExecutor<'_>,
    except: Uuid,
) -> sqlx::Result<usize> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM users WHERE role = 'admin' AND active AND id <> $1 FOR UPDATE",
        except
    )
    .fetch_all(db)
    .await?;
    Ok(ids.len())
}

/// Serializes first-run setup across replicas for the rest of the transaction.
pub async fn lock_for_setup(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('debrief.setup'))")
        .execute(db)
        .await?;
    Ok(())
}

pub async fn update_role(
    db: impl PgExecutor<'_>,
    id: Uuid,
    role: Role,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET role = $2, updated_at = $3 WHERE id = $1",
        id,
        role as Role,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_active(
    db: impl PgExecutor<'_>,
    id: Uuid,
    active: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET active = $2, updated_at = $3 WHERE id = $1",
        id,
        active,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn update_display_name(
    db: impl PgExecutor<'_>,
    id: Uuid,
    display_name: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET display_name = $2, updated_at = $3 WHERE id = $1",
        id,
        display_name,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn update_password_hash(
    db: impl PgExecutor<'_>,
    id: Uuid,
    password_hash: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
        id,
        password_hash,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A person to pick (owner, author, reviewer), by id and name.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct PersonOption {
    pub id: Uuid,
    pub display_name: String,
    pub role: Role,
}

/// Every active user, by name, for pickers.
pub async fn list_active_people(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<PersonOption>> {
    sqlx::query_as!(
        PersonOption,
        r#"SELECT id, display_name, role AS "role: Role" FROM users WHERE active ORDER BY lower(display_name), id"#
    )
    .fetch_all(db)
    .await
}

pub async fn update_time_zone(
    db: impl PgExecutor<'_>,
    id: Uuid,
    time_zone: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET time_zone = $2, updated_at = $3 WHERE id = $1",
        id,
        time_zone,
        now
    )
    .execute(db)
    .await?;
    Ok(())
}
