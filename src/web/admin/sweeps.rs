//! The sweeper's last runs and the flags raised now.

use askama::Template;
use askama_web::WebTemplate;
use axum::{Router, extract::State, routing::get};

use crate::{
    domain::time,
    jobs::sweeper::{self, STALE_AFTER_DAYS},
    store::{self, follow_up::SweepRun},
    web::{
        AppError, AppState,
        layout::{Layout, Nav},
        session::Admin,
    },
};

/// How many runs the page lists.
const RUNS_SHOWN: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/sweeps", get(show_sweeps))
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/sweeps.html")]
struct SweepsPage {
    layout: Layout,
    /// Each run with its start as the admin reads it.
    runs: Vec<(String, SweepRun)>,
    open: Vec<(String, i64)>,
    every_minutes: u64,
    zone: String,
    stale_days: i64,
}

impl SweepsPage {
    fn label(&self, flag: &str) -> &'static str {
        sweeper::describe(flag)
    }
}

async fn show_sweeps(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<SweepsPage, AppError> {
    let runs = store::follow_up::list_runs(&state.db, RUNS_SHOWN).await?;
    let open = store::follow_up::count_open_flags(&state.db).await?;
    Ok(SweepsPage {
        layout: Layout::for_user(&admin, Nav::Admin),
        runs: runs
            .into_iter()
            .map(|run| (time::format_in(run.started_at, admin.time_zone), run))
            .collect(),
        open,
        every_minutes: state.config.sweep_minutes,
        zone: state.config.time_zone.to_string(),
        stale_days: STALE_AFTER_DAYS,
    })
}
