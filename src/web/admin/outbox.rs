//! The outbox: digests composed, pending, failing and sent, with a retry.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Path, State},
    response::Redirect,
    routing::{get, post},
};

use crate::{
    domain::time,
    store::{
        self,
        outbox::{Counts, OutboxRow},
    },
    web::{
        AppError, AppState,
        layout::{Layout, Nav},
        session::Admin,
    },
};

/// How many messages the page lists.
const SHOWN: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/outbox", get(show_outbox))
        .route("/admin/outbox/{id}/retry", post(retry))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    layout: Layout,
    counts: Counts,
    /// Each message with its times as the admin reads them.
    messages: Vec<(OutboxRow, String, String)>,
    mail_on: bool,
}

async fn show_outbox(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<OutboxPage, AppError> {
    let zone = admin.time_zone;
    let rows = store::outbox::list_messages(&state.db, SHOWN).await?;
    Ok(OutboxPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        counts: store::outbox::counts(&state.db).await?,
        messages: rows
            .into_iter()
            .map(|row| {
                let created = time::format_in(row.created_at, zone);
                let when = match row.sent_at {
                    Some(at) => format!("sent {}", time::format_in(at, zone)),
                    None => format!("next try {}", time::format_in(row.next_attempt_at, zone)),
                };
                (row, created, when)
            })
            .collect(),
        mail_on: state.config.mail.smtp_url.is_some(),
    })
}

async fn retry(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<Redirect, AppError> {
    let message = if store::outbox::retry_now(&state.db, id, state.clock.now()).await? {
        "The message will be sent on the next pass (within a minute)."
    } else {
        "That message is not pending."
    };
    admin.flash(&state, message).await?;
    Ok(Redirect::to("/admin/outbox"))
}
