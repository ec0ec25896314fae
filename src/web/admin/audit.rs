//! The audit trail, newest first.

use askama::Template;
use askama_web::WebTemplate;
use axum::{Router, extract::State, routing::get};

use crate::{
    domain::incident::display_number,
    store::{self, audit::AuditEntry},
    web::{
        AppError, AppState,
        layout::{Layout, Nav},
        session::Admin,
    },
};

/// How many events the page shows.
const PAGE_SIZE: i64 = 200;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/audit", get(show_audit))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    events: Vec<AuditEntry>,
}

impl AuditPage {
    /// The event's detail on one line: "INC-12 · file: shot.png".
    fn detail(&self, event: &AuditEntry) -> String {
        let Some(fields) = event.detail.as_object() else {
            return String::new();
        };
        fields
            .iter()
            .map(|(key, value)| match (key.as_str(), value) {
                ("incident", serde_json::Value::Number(number)) => number
                    .as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .map_or_else(|| number.to_string(), display_number),
                (_, serde_json::Value::String(text)) => format!("{key}: {text}"),
                _ => format!("{key}: {value}"),
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

async fn show_audit(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<AuditPage, AppError> {
    Ok(AuditPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        events: store::audit::list_recent(&state.db, PAGE_SIZE).await?,
    })
}
