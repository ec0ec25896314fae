//! Operations endpoints for load balancers and orchestrators.

use std::time::Duration;

use axum::{Router, extract::State, http::StatusCode, routing::get};

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The process is up and serving.
async fn healthz() -> &'static str {
    "ok\n"
}

/// The process can do useful work: the database answers.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    let ping = crate::store::ping(&state.db);
    match tokio::time::timeout(Duration::from_secs(2), ping).await {
        Ok(Ok(_)) => (StatusCode::OK, "ready\n"),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database timed out\n"),
    }
}

/// Prometheus text: digests delivered and failed by this process, and the
/// outbox as the database has it (shared by every replica).
async fn metrics(
    State(state): State<AppState>,
) -> Result<impl axum::response::IntoResponse, super::AppError> {
    use std::sync::atomic::Ordering;
    let counts = crate::store::outbox::counts(&state.db).await?;
    let body = format!(
        "# HELP debrief_digest_sent_total Digest emails this process delivered.\n\
         # TYPE debrief_digest_sent_total counter\n\
         debrief_digest_sent_total {}\n\
         # HELP debrief_digest_failed_total Digest delivery attempts of this process that failed.\n\
         # TYPE debrief_digest_failed_total counter\n\
         debrief_digest_failed_total {}\n\
         # HELP debrief_outbox_messages Digest emails in the outbox, by status.\n\
         # TYPE debrief_outbox_messages gauge\n\
         debrief_outbox_messages{{status=\"pending\"}} {}\n\
         debrief_outbox_messages{{status=\"failing\"}} {}\n\
         debrief_outbox_messages{{status=\"sent\"}} {}\n",
        crate::mail::SENT.load(Ordering::Relaxed),
        crate::mail::FAILED.load(Ordering::Relaxed),
        counts.pending,
        counts.failing,
        counts.sent,
    );
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    ))
}
