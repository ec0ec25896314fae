//! The home page: my open action items (overdue first), the postmortems
//! waiting for me, and what was published recently. A brand-new
//! installation sends its first visitor to setup instead.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::State,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

use super::{
    AppError, AppState,
    incidents::{ItemView, item_views},
    layout::{Layout, Nav},
    session::MaybeUser,
};
use crate::{
    domain::incident::display_number,
    store::{
        self,
        action_items::{ItemFilter, Scope},
        incidents::{IncidentFilter, IncidentSort, IncidentSummary},
        postmortems::WaitingPostmortem,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    first_name: String,
    items: Vec<ItemView>,
    waiting: Vec<WaitingPostmortem>,
    recent: Vec<IncidentSummary>,
    user_count: i64,
    team_count: i64,
    /// Postmortems from earlier years, around this date.
    on_this_day: Vec<store::feeds::Anniversary>,
    today: chrono::NaiveDate,
}

impl HomePage {
    fn label(&self, number: &i32) -> String {
        display_number(*number)
    }

    /// "3 years ago": how long before today an incident started.
    fn years_ago(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        use chrono::Datelike;
        match self.today.year() - at.year() {
            1 => "a year ago".to_owned(),
            n => format!("{n} years ago"),
        }
    }

    fn overdue_count(&self) -> usize {
        self.items.iter().filter(|view| view.overdue).count()
    }

    /// The admin's getting-started checklist, until people and teams exist.
    fn needs_setup(&self) -> bool {
        self.layout.is_admin() && (self.user_count <= 1 || self.team_count == 0)
    }
}

async fn home(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
) -> Result<Response, AppError> {
    let Some(user) = user else {
        if store::users::count_users(&state.db).await? == 0 {
            return Ok(Redirect::to("/setup").into_response());
        }
        return Ok(Redirect::to("/login").into_response());
    };
    let reader = user.reader();
    let mine = ItemFilter {
        scope: Scope::Mine,
        open_only: true,
        ..ItemFilter::default()
    };
    let items = store::action_items::list_items(&state.db, reader, &mine, 8, 0).await?;
    let published = IncidentFilter {
        status: Some(crate::domain::postmortem::PostmortemStatus::Published),
        ..IncidentFilter::default()
    };
    let page = HomePage {
        first_name: user
            .display_name
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
        items: item_views(items, user.today(state.clock.now())),
        waiting: store::postmortems::list_waiting_for(&state.db, user.id, 8).await?,
        recent: store::incidents::list_incidents(
            &state.db,
            reader,
            &published,
            IncidentSort::Newest,
            6,
            0,
        )
        .await?,
        on_this_day: store::feeds::on_this_day(
            &state.db,
            reader,
            user.today(state.clock.now()),
            state.config.time_zone.name(),
            4,
        )
        .await?,
        today: user.today(state.clock.now()),
        user_count: store::users::count_users(&state.db).await?,
        team_count: store::teams::count_teams(&state.db).await?,
        layout: Layout::for_user(&user, Nav::Home),
    };
    Ok(page.into_response())
}
