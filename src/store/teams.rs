//! Teams, their members and their leads.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

pub struct TeamSummary {
    pub id: Uuid,
    pub name: String,
    pub members: i64,
    pub leads: Option<String>,
}

#[derive(Clone, Debug, serde::Deserialize)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
}

pub struct TeamMember {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
    pub is_lead: bool,
    pub active: bool,
}

/// Inserts a team; a name already taken (ignoring case) is a unique violation.
pub async fn insert_team(
    db: impl PgExecutor<'_>,
    name: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)",
        id,
        name,
        now
    )
    .execute(db)
    .await?;
    Ok(id)
}

pub async fn count_teams(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM teams"#)
        .fetch_one(db)
        .await
}

/// A page of teams by name, with member counts and leads.
pub async fn list_teams(
    db: impl PgExecutor<'_>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<TeamSummary>> {
    sqlx::query_as!(
        TeamSummary,
        r#"SELECT t.id, t.name, count(m.user_id) AS "members!",
                  string_agg(u.display_name, ', ' ORDER BY u.display_name) FILTER (WHERE m.is_lead) AS leads
           FROM teams t
           LEFT JOIN team_members m ON m.team_id = t.id
           LEFT JOIN users u ON u.id = m.user_id
           GROUP BY t.id ORDER BY lower(t.name), t.id
           LIMIT $1 OFFSET $2"#,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

pub async fn get_team(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Team>> {
    sqlx::query_as!(Team, "SELECT id, name FROM teams WHERE id = $1", id)
        .fetch_optional(db)
        .await
}

pub async fn list_members(db: impl PgExecutor<'_>, team_id: Uuid) -> sqlx::Result<Vec<TeamMember>> {
    sqlx::query_as!(
        TeamMember,
        r#"SELECT u.id AS user_id, u.display_name, u.email, m.is_lead, u.active
           FROM team_members m JOIN users u ON u.id = m.user_id
           WHERE m.team_id = $1
           ORDER BY m.is_lead DESC, lower(u.display_name)"#,
        team_id
    )
    .fetch_all(db)
    .await
}

/// Adds a member, or changes whether an existing member leads the team.
pub async fn upsert_member(
    db: impl PgExecutor<'_>,
    team_id: Uuid,
    user_id: Uuid,
    is_lead: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO team_members (team_id, user_id, is_lead) VALUES ($1, $2, $3)
         ON CONFLICT (team_id, user_id) DO UPDATE SET is_lead = EXCLUDED.is_lead",
        team_id,
        user_id,
        is_lead
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn remove_member(
    db: impl PgExecutor<'_>,
    team_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2",
        team_id,
        user_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The names of the teams a user belongs to, for their account page.
pub async fn list_user_teams(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT CASE WHEN m.is_lead THEN t.name || ' (lead)' ELSE t.name END AS "name!"
           FROM team_members m JOIN teams t ON t.id = m.team_id
           WHERE m.user_id = $1 ORDER BY lower(t.name)"#,
        user_id
    )
    .fetch_all(db)
    .await
}

/// Every team by name, for pickers.
pub async fn list_team_options(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Team>> {
    sqlx::query_as!(Team, "SELECT id, name FROM teams ORDER BY lower(name), id")
        .fetch_all(db)
        .await
}

/// Adds a user to the teams named in `names` (case aside) they are not in
/// yet, as a member; returns the teams joined.
pub async fn join_named(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    names: &[String],
) -> sqlx::Result<Vec<String>> {
    let lowered: Vec<String> = names.iter().map(|name| name.to_lowercase()).collect();
    sqlx::query_scalar!(
        r#"WITH joined AS (
               INSERT INTO team_members (team_id, user_id, is_lead)
               SELECT id, $1, false FROM teams WHERE lower(name) = ANY($2)
               ON CONFLICT (team_id, user_id) DO NOTHING
               RETURNING team_id)
           SELECT t.name FROM joined j JOIN teams t ON t.id = j.team_id ORDER BY t.name"#,
        user_id,
        &lowered
    )
    .fetch_all(db)
    .await
}
