//! The quarterly review at `/review/{year}-Q{n}`: what became of the
//! action items due in the quarter, what is overdue and stale, how fast
//! postmortems were published, with charts; the items waiting for a
//! decision; closing a quarter into a snapshot; every table as CSV.

mod decide;
mod export;
mod page;

use axum::{
    Router,
    routing::{get, post},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{AppError, AppState, session::CurrentUser};
use crate::{
    domain::quarter::Quarter,
    store::{
        self,
        review::{Figures, QuarterOutcomes, Snapshot, Span},
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/review", get(page::current))
        .route("/review/{quarter}", get(page::show))
        .route("/review/{quarter}/close", post(page::close))
        .route("/review/{quarter}/csv/{table}", get(export::download))
        .route(
            "/review/{quarter}/items/{id}",
            get(decide::show_form).post(decide::decide),
        )
}

/// How many rows each table shows on the page; the CSV has them all.
const ROWS_SHOWN: i64 = 100;

/// The query string every review address carries: an optional team.
#[derive(Clone, Debug, Default, Deserialize)]
struct TeamQuery {
    #[serde(default)]
    team: String,
}

impl TeamQuery {
    fn team_id(&self) -> Option<Uuid> {
        Uuid::parse_str(self.team.trim()).ok()
    }

    /// `?team=…` to carry the team along, or nothing.
    fn suffix(&self) -> String {
        self.team_id()
            .map(|id| format!("?team={id}"))
            .unwrap_or_default()
    }
}

fn parse_quarter(raw: &str) -> Result<Quarter, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

/// The span of a quarter's figures, seen now.
fn span(state: &AppState, quarter: Quarter, team_id: Option<Uuid>, limit: Option<i64>) -> Span {
    Span::of(
        quarter,
        state.config.time_zone,
        state.clock.now(),
        team_id,
        state.config.review_due_days,
        limit,
    )
}

/// A quarter's figures as the review shows them: the snapshot if it was
/// closed (with the live figures beside it, to show what changed since),
/// or the live figures.
struct Loaded {
    figures: Figures,
    snapshot: Option<(Snapshot, Figures)>,
}

async fn load(
    state: &AppState,
    user: &CurrentUser,
    quarter: Quarter,
    team_id: Option<Uuid>,
    limit: Option<i64>,
) -> Result<Loaded, AppError> {
    let span = span(state, quarter, team_id, limit);
    let snapshot = store::review::get_snapshot(&state.db, &quarter.to_string(), team_id).await?;
    let mut live =
        store::review::figures(&state.db, &span, earlier_history(state, &span).await?).await?;
    let mut figures = snapshot
        .as_ref()
        .map_or_else(|| live.clone(), |s| s.figures.clone());
    // The tables name only what this reader may read now: a snapshot froze
    // names as they were, and a restricted postmortem is counted unnamed.
    let mut numbers = figures.numbers();
    numbers.extend(live.numbers());
    let readable = store::review::readable_numbers(&state.db, &numbers, user.id).await?;
    figures.anonymise(&readable);
    live.anonymise(&readable);
    Ok(Loaded {
        figures,
        snapshot: snapshot.map(|snapshot| (snapshot, live)),
    })
}

/// How long the outcomes of the quarters before the one shown are kept:
/// they feed the completion chart and change only as old items close.
pub(crate) const HISTORY_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// The outcomes of the seven quarters before the span's, from this
/// process's cache when it read them in the last few minutes.
async fn earlier_history(
    state: &AppState,
    span: &Span,
) -> Result<Option<Vec<QuarterOutcomes>>, AppError> {
    let key = (span.first_day, span.team_id);
    let (db, span) = (state.db.clone(), span.clone());
    let history = state
        .caches
        .review_history
        .get(key, move || async move {
            let to = span.first_day - chrono::Duration::days(1);
            store::review::history(&db, span.history_from, to, &span).await
        })
        .await?;
    Ok(Some(history.as_ref().clone()))
}

/// Decisions are taken in the current quarter's review, or the previous
/// one's while it is not closed (reviews run just after a quarter ends).
async fn open_for_decisions(
    state: &AppState,
    quarter: Quarter,
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let current = Quarter::current(now, state.config.time_zone);
    Ok((quarter == current || quarter == current.previous())
        && store::review::closed_at(&state.db, &quarter.to_string())
            .await?
            .is_none())
}
