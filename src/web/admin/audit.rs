//! The audit trail, newest first.

use askama::Template;
use askama_web::WebTemplate;
use axum::{Router, extract::State, routing::get};

use crate::{
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

async fn show_audit(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<AuditPage, AppError> {
    Ok(AuditPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        events: store::audit::list_recent(&state.db, PAGE_SIZE).await?,
    })
}
