//! The people who took part in an incident, with their roles.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// One participant as shown: an account's name, or the name typed.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct Participant {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub name: String,
    pub role: String,
}

/// Who took part: an account, or a person without one.
pub enum Who<'a> {
    User(Uuid),
    Name(&'a str),
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    who: Who<'_>,
    role: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    let (user_id, name) = match who {
        Who::User(id) => (Some(id), None),
        Who::Name(name) => (None, Some(name)),
    };
    sqlx::query!(
        "INSERT INTO participants (id, postmortem_id, user_id, name, role, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        postmortem_id,
        user_id,
        name,
        role,
        now
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// Removes a participant of `postmortem_id`; its name, if there was one.
pub async fn remove(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        r#"DELETE FROM participants pa WHERE pa.id = $1 AND pa.postmortem_id = $2
           RETURNING COALESCE(pa.name, (SELECT u.display_name FROM users u WHERE u.id = pa.user_id)) AS "name!""#,
        id,
        postmortem_id
    )
    .fetch_optional(db)
    .await
}

/// The names of a postmortem's participants (for the blame check).
pub async fn names(db: impl PgExecutor<'_>, postmortem_id: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT COALESCE(pa.name, u.display_name) AS "name!"
           FROM participants pa LEFT JOIN users u ON u.id = pa.user_id WHERE pa.postmortem_id = $1"#,
        postmortem_id
    )
    .fetch_all(db)
    .await
}

/// ` AND EXISTS (...)`: the postmortem `column` names had `name` (an
/// account's name or a typed one, any case) among its participants.
pub fn push_named(query: &mut sqlx::QueryBuilder<sqlx::Postgres>, column: &str, name: &str) {
    query.push(format!(
        " AND EXISTS (SELECT 1 FROM participants pa LEFT JOIN users pu ON pu.id = pa.user_id
                      WHERE pa.postmortem_id = {column} AND lower(COALESCE(pa.name, pu.display_name)) = lower("
    ));
    query.push_bind(name.trim().to_owned());
    query.push("))");
}
