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

/// Prometheus (OpenMetrics) text, for the bearer of `DEBRIEF_METRICS_TOKEN`;
/// off (404) without one.
async fn metrics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, super::AppError> {
    use axum::response::IntoResponse;
    let Some(expected) = state
        .config
        .metrics_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return Err(super::AppError::NotFound);
    };
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or("");
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        presented.as_bytes(),
        expected.as_bytes(),
    )) {
        return Ok((
            StatusCode::UNAUTHORIZED,
            [(
                axum::http::header::WWW_AUTHENTICATE,
                "Bearer realm=\"metrics\"",
            )],
            "a bearer token is needed\n",
        )
            .into_response());
    }
    let counts = crate::store::outbox::counts(&state.db).await?;
    let outbox = [
        ("pending", counts.pending),
        ("failing", counts.failing),
        ("sent", counts.sent),
    ];
    let max = state.db.options().get_max_connections();
    let body = crate::metrics::METRICS.render(&state.db, max, &outbox);
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

/// Middleware: counts each request by its route's template and status,
/// with its time.
pub async fn track_requests(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let started = std::time::Instant::now();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_owned();
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    crate::metrics::METRICS.request(&route, &method, response.status().as_u16(), started);
    response
}
