//! Action items, and the history of their owner, due date and status.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::incidents::{Reader, push_visible_to};
use crate::domain::action::{ActionKind, ActionStatus, Priority};

/// An item with the names a page shows.
#[derive(Clone, Debug, sqlx::FromRow, serde::Deserialize)]
pub struct ActionItem {
    pub id: Uuid,
    pub postmortem_id: Uuid,
    pub incident_number: i32,
    pub incident_title: String,
    pub title: String,
    pub description: String,
    pub kind: ActionKind,
    pub priority: Priority,
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub team_id: Option<Uuid>,
    pub team_name: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub tracker_url: Option<String>,
    pub status: ActionStatus,
    pub factor_id: Option<Uuid>,
    pub closing_reason: Option<String>,
    pub version: i32,
}

/// What an author sets on an item.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionFields {
    pub title: String,
    pub description: String,
    pub kind: ActionKind,
    pub priority: Priority,
    pub owner_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    pub due_on: Option<NaiveDate>,
    pub tracker_url: Option<String>,
    pub status: ActionStatus,
    pub factor_id: Option<Uuid>,
    pub closing_reason: Option<String>,
}

const SELECT_ITEMS: &str =
    "SELECT ai.id, ai.postmortem_id, i.number AS incident_number, i.title AS incident_title,
        ai.title, ai.description, ai.kind, ai.priority, ai.owner_id, COALESCE(u.display_name, ai.owner_name) AS owner_name,
        ai.team_id, t.name AS team_name, ai.due_on, ai.tracker_url, ai.status, ai.factor_id,
        ai.closing_reason, ai.version
    FROM action_items ai
    JOIN postmortems p ON p.id = ai.postmortem_id
    JOIN incidents i ON i.id = p.incident_id
    LEFT JOIN users u ON u.id = ai.owner_id
    LEFT JOIN teams t ON t.id = ai.team_id
    WHERE";

pub async fn insert_item(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
    fields: &ActionFields,
    now: DateTime<Utc>,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO action_items (id, postmortem_id, title, description, kind, priority, owner_id, team_id,
                                   due_on, tracker_url, status, factor_id, closing_reason, closed_at,
                                   created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                 CASE WHEN $11 IN ('open'::action_status, 'in_progress'::action_status) THEN NULL ELSE $14::timestamptz END, $14, $14)",
        id,
        postmortem_id,
        fields.title,
        fields.description,
        fields.kind as ActionKind,
        fields.priority as Priority,
        fields.owner_id,
        fields.team_id,
        fields.due_on,
        fields.tracker_url,
        fields.status as ActionStatus,
        fields.factor_id,
        fields.closing_reason,
        now
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// Saves an item if it is still at `expected_version`; false otherwise.
pub async fn update_item(
    db: impl PgExecutor<'_>,
    id: Uuid,
    expected_version: i32,
    fields: &ActionFields,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE action_items SET title = $3, description = $4, kind = $5, priority = $6, owner_id = $7,
                team_id = $8, due_on = $9, tracker_url = $10, status = $11, factor_id = $12, closing_reason = $13,
                closed_at = CASE WHEN $11 IN ('open'::action_status, 'in_progress'::action_status) THEN NULL
                                 ELSE COALESCE(closed_at, $14) END,
                updated_at = $14, version = version + 1
         WHERE id = $1 AND version = $2",
        id,
        expected_version,
        fields.title,
        fields.description,
        fields.kind as ActionKind,
        fields.priority as Priority,
        fields.owner_id,
        fields.team_id,
        fields.due_on,
        fields.tracker_url,
        fields.status as ActionStatus,
        fields.factor_id,
        fields.closing_reason,
        now
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get_item(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<ActionItem>> {
    let mut query = QueryBuilder::new(SELECT_ITEMS);
    query.push(" ai.id = ").push_bind(id);
    query.build_query_as().fetch_optional(db).await
}

/// An item, locked until the transaction ends, for a change made from
/// outside a form (a tracker's).
pub async fn lock_item(db: &mut sqlx::PgConnection, id: Uuid) -> sqlx::Result<Option<ActionItem>> {
    let mut query = QueryBuilder::new(SELECT_ITEMS);
    query
        .push(" ai.id = ")
        .push_bind(id)
        .push(" FOR UPDATE OF ai");
    query.build_query_as().fetch_optional(&mut *db).await
}

pub async fn list_for_postmortem(
    db: impl PgExecutor<'_>,
    postmortem_id: Uuid,
) -> sqlx::Result<Vec<ActionItem>> {
    let mut query = QueryBuilder::new(SELECT_ITEMS);
    query.push(" ai.postmortem_id = ").push_bind(postmortem_id);
    query.push(" ORDER BY ai.priority, ai.due_on NULLS LAST, ai.created_at, ai.id");
    query.build_query_as().fetch_all(db).await
}

/// Whose items a list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    Mine,
    MyTeams,
    All,
}

/// Filters of the action item list.
#[derive(Clone, Debug, Default)]
pub struct ItemFilter {
    pub scope: Scope,
    pub status: Option<ActionStatus>,
    /// Only open items (open or in progress).
    pub open_only: bool,
    pub owner_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    /// Only open items due before this day.
    pub due_before: Option<NaiveDate>,
}

/// A page of items from postmortems the reader may see.
pub async fn list_items(
    db: impl PgExecutor<'_>,
    reader: Reader,
    filter: &ItemFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<ActionItem>> {
    let mut query = QueryBuilder::new(SELECT_ITEMS);
    push_visible_to(&mut query, reader);
    push_scope(&mut query, filter.scope, reader.user_id);
    if let Some(status) = filter.status {
        query.push(" AND ai.status = ").push_bind(status);
    }
    if filter.open_only {
        query.push(" AND ai.status IN ('open', 'in_progress')");
    }
    if let Some(owner_id) = filter.owner_id {
        query.push(" AND ai.owner_id = ").push_bind(owner_id);
    }
    if let Some(team_id) = filter.team_id {
        query.push(" AND ai.team_id = ").push_bind(team_id);
    }
    if let Some(day) = filter.due_before {
        query
            .push(" AND ai.status IN ('open', 'in_progress') AND ai.due_on < ")
            .push_bind(day);
    }
    query.push(" ORDER BY ai.due_on ASC NULLS LAST, ai.priority, ai.created_at, ai.id");
    super::incidents::push_page(&mut query, limit, offset);
    query.build_query_as().fetch_all(db).await
}

fn push_scope(query: &mut QueryBuilder<Postgres>, scope: Scope, user_id: Uuid) {
    match scope {
        Scope::Mine => {
            query.push(" AND ai.owner_id = ").push_bind(user_id);
        }
        Scope::MyTeams => {
            query
                .push(" AND ai.team_id IN (SELECT team_id FROM team_members WHERE user_id = ")
                .push_bind(user_id)
                .push(")");
        }
        Scope::All => {}
    }
}

/// Sets when a closed item was closed (the demo archive's late items).
pub async fn set_closed_at(
    db: impl PgExecutor<'_>,
    id: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE action_items SET closed_at = $2 WHERE id = $1 AND closed_at IS NOT NULL",
        id,
        at
    )
    .execute(db)
    .await?;
    Ok(())
}

/// One recorded change of an item.
#[derive(Clone, Debug)]
pub struct ItemChange {
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub note: Option<String>,
}

/// A change to record: which field, from what, to what.
pub struct NewChange<'a> {
    pub field: &'a str,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub note: Option<&'a str>,
}

/// Records one change of an item; `actor_id` is none for one a tracker made.
pub async fn record_change(
    db: impl PgExecutor<'_>,
    item_id: Uuid,
    actor_id: Option<Uuid>,
    change: NewChange<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO action_item_changes (action_item_id, at, actor_id, field, old_value, new_value, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        item_id,
        now,
        actor_id,
        change.field,
        change.old_value,
        change.new_value,
        change.note
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Oldest first.
pub async fn list_changes(db: impl PgExecutor<'_>, item_id: Uuid) -> sqlx::Result<Vec<ItemChange>> {
    sqlx::query_as!(
        ItemChange,
        r#"SELECT c.at, u.display_name AS "actor?", c.field, c.old_value, c.new_value, c.note
           FROM action_item_changes c LEFT JOIN users u ON u.id = c.actor_id
           WHERE c.action_item_id = $1 ORDER BY c.id"#,
        item_id
    )
    .fetch_all(db)
    .await
}
