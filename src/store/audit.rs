//! The audit trail: who did what to whom, and when.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// One audit record to write: `AuditEvent::new(actor, "action")`, then
/// optionally `.target(user)` and `.detail(json!({...}))`.
pub struct AuditEvent<'a> {
    pub actor_id: Option<Uuid>,
    pub action: &'a str,
    pub target_id: Option<Uuid>,
    pub detail: serde_json::Value,
}

impl<'a> AuditEvent<'a> {
    pub fn new(actor_id: impl Into<Option<Uuid>>, action: &'a str) -> Self {
        AuditEvent {
            actor_id: actor_id.into(),
            action,
            target_id: None,
            detail: serde_json::json!({}),
        }
    }

    /// The user the action was done to.
    pub fn target(mut self, target_id: Uuid) -> Self {
        self.target_id = Some(target_id);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

pub async fn record(
    db: impl PgExecutor<'_>,
    event: AuditEvent<'_>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO audit_events (at, actor_id, action, target_id, detail) VALUES ($1, $2, $3, $4, $5)",
        at,
        event.actor_id,
        event.action,
        event.target_id,
        event.detail
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A recorded event, with names resolved for display.
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: serde_json::Value,
}

/// The newest events first.
pub async fn list_recent(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<AuditEntry>> {
    sqlx::query_as!(
        AuditEntry,
        r#"SELECT e.at, a.display_name AS "actor?", e.action, t.display_name AS "target?", e.detail
           FROM audit_events e
           LEFT JOIN users a ON a.id = e.actor_id
           LEFT JOIN users t ON t.id = e.target_id
           ORDER BY e.at DESC, e.id DESC LIMIT $1"#,
        limit
    )
    .fetch_all(db)
    .await
}
