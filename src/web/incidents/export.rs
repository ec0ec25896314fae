//! A postmortem as a Markdown file or as JSON.

use axum::{
    Json, Router,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};

use super::Case;
use crate::store::documents::load_document;
use crate::web::{AppError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{number}/export.md", get(markdown))
        .route("/incidents/{number}/export.json", get(json))
}

async fn markdown(State(state): State<AppState>, case: Case) -> Result<Response, AppError> {
    let mut connection = state.db.acquire().await?;
    let document = load_document(&mut connection, case.incident.number)
        .await?
        .ok_or(AppError::NotFound)?;
    let filename = format!("attachment; filename=\"INC-{}.md\"", case.incident.number);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, filename),
        ],
        document.to_markdown(&crate::store::taxonomy::load(&state.db).await?),
    )
        .into_response())
}

async fn json(State(state): State<AppState>, case: Case) -> Result<Response, AppError> {
    let mut connection = state.db.acquire().await?;
    let document = load_document(&mut connection, case.incident.number)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(document).into_response())
}
