//! The review page itself, and closing a quarter.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::{Loaded, ROWS_SHOWN, TeamQuery, load, open_for_decisions, parse_quarter, span};
use crate::{
    domain::{
        chart::{self, Chart, Point},
        incident::display_number,
        quarter::Quarter,
        time,
    },
    store::{
        self,
        audit::AuditEvent,
        review::{AGE_BUCKETS, Awaiting, Figures, Outcomes},
        teams::Team,
    },
    web::{
        AppError, AppState,
        layout::{Layout, Nav},
        session::{Admin, CurrentUser},
    },
};

/// `/review`: the current quarter.
pub(super) async fn current(
    State(state): State<AppState>,
    _user: CurrentUser,
    Query(query): Query<TeamQuery>,
) -> Redirect {
    let quarter = Quarter::current(state.clock.now(), state.config.time_zone);
    Redirect::to(&format!("/review/{quarter}{}", query.suffix()))
}

#[derive(Template, WebTemplate)]
#[template(path = "review/show.html")]
pub(super) struct ReviewPage {
    layout: Layout,
    quarter: Quarter,
    current: Quarter,
    team: Option<Team>,
    teams: Vec<Team>,
    query: TeamQuery,
    figures: Figures,
    outcomes: Outcomes,
    completion_chart: Chart,
    team_chart: Chart,
    age_chart: Chart,
    trends: crate::web::trends::TrendsView,
    /// When and by whom the quarter was closed.
    closed: Option<(String, String)>,
    /// Figures that moved since the quarter was closed: label, then, now.
    moved: Vec<(&'static str, String, String)>,
    decisions_since: i64,
    /// Whether decisions can be taken here, and for which teams.
    open_for_decisions: bool,
    decides_all: bool,
    led_teams: Vec<Uuid>,
    can_close: bool,
    now: chrono::DateTime<chrono::Utc>,
}

impl ReviewPage {
    fn label(&self, number: &i32) -> String {
        display_number(*number)
    }

    fn percent(&self, value: Option<f64>) -> String {
        percent(value)
    }

    fn days(&self, value: &Option<f64>) -> String {
        days(*value)
    }

    fn date_time(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        time::format_in(*at, self.layout.zone())
    }

    fn age_days(&self, item: &Awaiting) -> i64 {
        (self.now - item.created_at).num_days()
    }

    fn may_decide(&self, item: &Awaiting) -> bool {
        self.open_for_decisions
            && (self.decides_all
                || item
                    .team_id
                    .is_some_and(|team| self.led_teams.contains(&team)))
    }

    fn csv(&self, table: &str) -> String {
        format!(
            "/review/{}/csv/{table}{}",
            self.quarter,
            self.query.suffix()
        )
    }

    /// Each rule of the review checklist with the share of the quarter's
    /// postmortems passing it.
    fn checklist_shares(&self) -> Vec<(&'static str, String)> {
        let checked = self.figures.checklist_checked;
        crate::domain::checklist::RULES
            .iter()
            .map(|rule| {
                let failing = self
                    .figures
                    .checklist_failing
                    .iter()
                    .find(|(id, _)| id == rule.id)
                    .map_or(0, |(_, n)| *n);
                let share =
                    (checked > 0).then(|| (checked - failing) as f64 * 100.0 / checked as f64);
                (
                    rule.title,
                    format!("{} ({} of {checked})", percent(share), checked - failing),
                )
            })
            .collect()
    }

    fn is_team(&self, id: &Uuid) -> bool {
        self.team.as_ref().is_some_and(|team| team.id == *id)
    }

    /// Whether the list of items awaiting a decision was cut short.
    fn awaiting_cut(&self) -> bool {
        i64::try_from(self.figures.awaiting.len()).unwrap_or(i64::MAX) >= ROWS_SHOWN
    }
}

pub(super) fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |value| format!("{value:.0} %"))
}

pub(super) fn days(value: Option<f64>) -> String {
    match value {
        None => "–".to_owned(),
        Some(days) if days < 10.0 => format!("{days:.1} d"),
        Some(days) => format!("{days:.0} d"),
    }
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(query): Query<TeamQuery>,
) -> Result<ReviewPage, AppError> {
    let quarter = parse_quarter(&raw)?;
    let teams = store::teams::list_team_options(&state.db).await?;
    let team = query
        .team_id()
        .and_then(|id| teams.iter().find(|team| team.id == id).cloned());
    let team_id = team.as_ref().map(|team| team.id);
    let Loaded { figures, snapshot } =
        load(&state, &user, quarter, team_id, Some(ROWS_SHOWN)).await?;
    let now = state.clock.now();
    let zone = state.config.time_zone;
    let key = quarter.to_string();
    let (closed, moved, decisions_since) = match &snapshot {
        Some((snapshot, live)) => (
            Some((
                time::format_in(snapshot.closed_at, user.time_zone),
                snapshot
                    .closed_by
                    .clone()
                    .unwrap_or_else(|| "an admin".to_owned()),
            )),
            moved_since(quarter, &snapshot.figures, live),
            store::review::count_decisions(&state.db, &key, Some(snapshot.closed_at)).await?,
        ),
        None => (None, Vec::new(), 0),
    };
    let open = snapshot.is_none() && open_for_decisions(&state, quarter, now).await?;
    let led_teams = store::review::led_teams(&state.db, user.id).await?;
    let outcomes = figures.outcomes(quarter.first_day());
    let quarters = quarter.trailing(8);
    let trend_data = {
        let (db, shown) = (state.db.clone(), quarters.clone());
        state
            .caches
            .review_trends
            .get((quarter.first_day(), team_id), move || async move {
                crate::web::trends::TrendData::load(&db, &shown, team_id, zone).await
            })
            .await?
    };
    let taxonomy = store::taxonomy::load(&state.db).await?;
    Ok(ReviewPage {
        trends: crate::web::trends::TrendsView::build(&quarters, &trend_data, taxonomy),
        completion_chart: completion_chart(quarter, &figures),
        team_chart: chart::rows(
            &figures
                .overdue_by_team
                .iter()
                .take(12)
                .map(|tally| Point {
                    label: tally.name.clone(),
                    value: tally.count as f64,
                    shown: tally.count.to_string(),
                })
                .collect::<Vec<_>>(),
        ),
        age_chart: chart::columns(
            &AGE_BUCKETS
                .iter()
                .zip(&figures.age.buckets)
                .map(|(label, count)| Point {
                    label: (*label).to_owned(),
                    value: *count as f64,
                    shown: count.to_string(),
                })
                .collect::<Vec<_>>(),
            None,
        ),
        layout: Layout::for_user(&user, Nav::Review),
        current: Quarter::current(now, zone),
        can_close: user.is_admin() && snapshot.is_none() && quarter.ends_at(zone) <= now,
        decides_all: user.is_admin(),
        open_for_decisions: open && user.can_write(),
        led_teams,
        outcomes,
        quarter,
        team,
        teams,
        query,
        figures,
        closed,
        moved,
        decisions_since,
        now,
    })
}

/// The completion rate of the eight quarters up to this one.
fn completion_chart(quarter: Quarter, figures: &Figures) -> Chart {
    let points: Vec<Point> = quarter
        .trailing(8)
        .into_iter()
        .map(|q| {
            let rate = figures.outcomes(q.first_day()).completion_percent();
            Point {
                label: q.short(),
                value: rate.unwrap_or(0.0),
                shown: percent(rate),
            }
        })
        .collect();
    chart::columns(&points, Some(100.0))
}

/// The headline figures that differ between the snapshot and now.
fn moved_since(
    quarter: Quarter,
    then: &Figures,
    now: &Figures,
) -> Vec<(&'static str, String, String)> {
    let (a, b) = (
        then.outcomes(quarter.first_day()),
        now.outcomes(quarter.first_day()),
    );
    let rows = [
        (
            "Completion rate",
            percent(a.completion_percent()),
            percent(b.completion_percent()),
        ),
        ("Done on time", a.on_time.to_string(), b.on_time.to_string()),
        ("Done late", a.late.to_string(), b.late.to_string()),
        ("Still open", a.open.to_string(), b.open.to_string()),
        ("Dropped", a.dropped.to_string(), b.dropped.to_string()),
        (
            "Overdue",
            then.overdue().to_string(),
            now.overdue().to_string(),
        ),
        (
            "Stale, awaiting a decision",
            then.awaiting_stale.to_string(),
            now.awaiting_stale.to_string(),
        ),
        (
            "Postmortems published",
            then.publications.count.to_string(),
            now.publications.count.to_string(),
        ),
    ];
    rows.into_iter()
        .filter(|(_, then, now)| then != now)
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CloseForm {
    #[serde(default)]
    team: String,
}

/// Closes a quarter that has ended: freezes its figures for the whole
/// organization and for each team. Admins only; closing twice changes nothing.
pub(super) async fn close(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(raw): Path<String>,
    Form(form): Form<CloseForm>,
) -> Result<Response, AppError> {
    let quarter = parse_quarter(&raw)?;
    let now = state.clock.now();
    let back = format!(
        "/review/{quarter}{}",
        TeamQuery { team: form.team }.suffix()
    );
    if quarter.ends_at(state.config.time_zone) > now {
        admin
            .flash_refusal(&state, "A quarter can be closed once it has ended.")
            .await?;
        return Ok(Redirect::to(&back).into_response());
    }
    let key = quarter.to_string();
    let teams = store::teams::list_team_options(&state.db).await?;
    let scopes: Vec<Option<Uuid>> = std::iter::once(None)
        .chain(teams.iter().map(|team| Some(team.id)))
        .collect();
    let mut snapshots = Vec::with_capacity(scopes.len());
    for team_id in &scopes {
        let figures =
            store::review::figures(&state.db, &span(&state, quarter, *team_id, None), None).await?;
        snapshots.push((*team_id, figures));
    }
    let mut tx = crate::store::begin(&state.db).await?;
    let mut closed = false;
    for (team_id, figures) in &snapshots {
        closed |=
            store::review::save_snapshot(&mut *tx, &key, *team_id, figures, admin.id, now).await?;
    }
    if closed {
        let event = AuditEvent::new(admin.id, "quarter_closed")
            .detail(serde_json::json!({ "quarter": key, "scopes": scopes.len() }));
        store::audit::record(&mut *tx, event, now).await?;
    }
    tx.commit().await?;
    let message = if closed {
        format!("{quarter} is closed: its figures are frozen as they are now.")
    } else {
        format!("{quarter} was already closed.")
    };
    admin.flash(&state, &message).await?;
    Ok(Redirect::to(&back).into_response())
}
