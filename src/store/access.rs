//! Who may read a restricted postmortem besides its authors, reviewers and
//! admins: named people and teams. The rule itself lives in the database
//! (`may_read`, `postmortem_audience`), where every read path applies it.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// One entry of an access list: a person or a team, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessEntry {
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub name: String,
}

/// The access list of a postmortem: teams first, then people, by name.
pub async fn list(db: impl PgExecutor<'_>, postmortem_id: Uuid) -> sqlx::Result<Vec<AccessEntry>> {
    sqlx::query_as!(
        AccessEntry,
        r#"SELECT x.user_id, x.team_id, COALESCE(t.name, u.display_name) AS "name!"
           FROM postmortem_access x
           LEFT JOIN teams t ON t.id = x.team_id LEFT JOIN users u ON u.id = x.user_id
           WHERE x.postmortem_id = $1
           ORDER BY x.team_id IS NULL, lower(COALESCE(t.name, u.display_name))"#,
        postmortem_id
    )
    .fetch_all(db)
    .await
}

/// Restricts a postmortem to `users` and `teams` (replacing its list), or
/// opens it to everyone again (`restricted` false, the list emptied).
pub async fn replace(
    tx: &mut PgConnection,
    postmortem_id: Uuid,
    restricted: bool,
    users: &[Uuid],
    teams: &[Uuid],
) -> sqlx::Result<()> {
    sqlx::query!(
        "DELETE FROM postmortem_access WHERE postmortem_id = $1",
        postmortem_id
    )
    .execute(&mut *tx)
    .await?;
    if restricted {
        sqlx::query!(
            "INSERT INTO postmortem_access (postmortem_id, user_id, team_id)
             SELECT $1::uuid, u, NULL::uuid FROM UNNEST($2::uuid[]) AS u
             UNION SELECT $1, NULL, t FROM UNNEST($3::uuid[]) AS t
             ON CONFLICT DO NOTHING",
            postmortem_id,
            users,
            teams
        )
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query!(
        "UPDATE postmortems SET restricted = $2 WHERE id = $1",
        postmortem_id,
        restricted
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
