//! Action items: added on the authoring page, listed on `/action-items`
//! (mine, my teams', all), and each with a page to update it and see its
//! history of owners, due dates and statuses.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_extra::extract::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    AppError, AppState,
    form::{FormErrors, parse_id, parse_version},
    incidents::{Case, ItemView, item_views, record_revision},
    item_form::{ItemForm, history_changes},
    layout::{Layout, Nav},
    notify,
    pagination::{PageQuery, Pagination},
    query,
    session::CurrentUser,
};
use crate::{
    domain::{
        action::{ActionKind, ActionStatus, Priority},
        incident::{display_number, web_link},
    },
    store::{
        self,
        action_items::{ActionFields, ActionItem, ItemChange, ItemFilter, Scope},
        postmortems::FactorRow,
        teams::Team,
        users::PersonOption,
    },
    trackers::TrackerKind,
};

const PAGE_SIZE: i64 = 50;

/// Why someone who may read an item is refused changing it.
pub const MAY_NOT_CHANGE: &str =
    "Only the item's owner, the postmortem's authors and admins can change it.";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/action-items", get(list_items))
        .route("/action-items/{id}", get(show_item).post(update_item))
}

/// The query string of the list.
#[derive(Clone, Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    page: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "action_items/list.html")]
struct ItemListPage {
    layout: Layout,
    query: ListQuery,
    scope: &'static str,
    items: Vec<ItemView>,
    pagination: Pagination,
    people: Vec<PersonOption>,
    teams: Vec<Team>,
}

impl ItemListPage {
    fn statuses(&self) -> &'static [ActionStatus] {
        ActionStatus::ALL
    }

    fn incident_label(&self, item: &ActionItem) -> String {
        display_number(item.incident_number)
    }

    /// The list's address with its filters, for tabs and the pager.
    fn prefix(&self, scope: &str) -> String {
        let q = &self.query;
        query::prefix(
            "/action-items",
            [
                ("scope", scope),
                ("status", q.status.as_str()),
                ("owner", q.owner.as_str()),
                ("team", q.team.as_str()),
                ("due", q.due.as_str()),
            ],
        )
    }
}

async fn list_items(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<ItemListPage, AppError> {
    let (scope, scope_name) = match query.scope.as_str() {
        "team" => (Scope::MyTeams, "team"),
        "all" => (Scope::All, "all"),
        _ => (Scope::Mine, "mine"),
    };
    let today = user.today(state.clock.now());
    let filter = ItemFilter {
        scope,
        status: ActionStatus::parse(&query.status),
        open_only: query.status == "open_any" || query.due == "overdue",
        owner_id: Uuid::parse_str(&query.owner).ok(),
        team_id: Uuid::parse_str(&query.team).ok(),
        due_before: match query.due.as_str() {
            "overdue" => Some(today),
            "30d" => Some(today + chrono::Duration::days(30)),
            _ => None,
        },
    };
    let mut pagination = PageQuery::from_raw(query.page.clone()).pagination(PAGE_SIZE);
    let mut items = store::action_items::list_items(
        &state.db,
        user.reader(),
        &filter,
        pagination.limit(),
        pagination.offset(),
    )
    .await?;
    pagination.trim(&mut items);
    Ok(ItemListPage {
        layout: Layout::for_user(&user, Nav::ActionItems),
        scope: scope_name,
        items: item_views(items, today),
        pagination,
        people: store::users::list_active_people(&state.db).await?,
        teams: store::teams::list_team_options(&state.db).await?,
        query,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "action_items/show.html")]
pub(super) struct ItemPage {
    layout: Layout,
    view: ItemView,
    changes: Vec<ItemChange>,
    form: ItemForm,
    pub(super) errors: FormErrors,
    can_edit: bool,
    people: Vec<PersonOption>,
    teams: Vec<Team>,
    factors: Vec<FactorRow>,
    /// The item's issue, if it has one.
    tracker: Option<store::trackers::Linked>,
    /// The trackers an issue can be made in or linked from.
    connected: Vec<TrackerKind>,
    pub(super) tracker_form: TrackerForm,
}

/// What was typed to make or link an issue.
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct TrackerForm {
    #[serde(default)]
    pub tracker: String,
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub reference: String,
}

impl ItemPage {
    fn action_kinds(&self) -> &'static [ActionKind] {
        ActionKind::ALL
    }

    fn priorities(&self) -> &'static [Priority] {
        Priority::ALL
    }

    fn statuses(&self) -> &'static [ActionStatus] {
        ActionStatus::ALL
    }

    fn incident_label(&self) -> String {
        display_number(self.view.item.incident_number)
    }

    /// The item's tracker address, when it is a web link.
    fn tracker_url(&self) -> Option<&str> {
        web_link(self.view.item.tracker_url.as_deref())
    }

    /// The linked issue's address, when it is a web link.
    fn issue_url(&self) -> Option<&str> {
        web_link(
            self.tracker
                .as_ref()
                .and_then(|linked| linked.url.as_deref()),
        )
    }

    /// How the linked issue stands, in words.
    fn tracker_status(&self) -> String {
        let Some(linked) = &self.tracker else {
            return String::new();
        };
        match (linked.issue_key.as_deref(), linked.remote_state.as_deref()) {
            (None, _) => format!(
                "Being created in {} {}",
                linked.tracker.label(),
                linked.project
            ),
            (Some(_), Some("open")) => "Open".to_owned(),
            (Some(_), Some("done")) => "Closed as done".to_owned(),
            (Some(_), Some("wont_do")) => linked
                .remote_reason
                .clone()
                .unwrap_or_else(|| "Closed without doing it".to_owned()),
            (Some(_), _) => "Not read yet".to_owned(),
        }
    }

    fn tracker_synced(&self) -> String {
        self.tracker
            .as_ref()
            .and_then(|linked| linked.synced_at)
            .map(|at| crate::domain::time::format_in(at, self.layout.zone()))
            .unwrap_or_default()
    }

    fn when(&self, change: &ItemChange) -> String {
        crate::domain::time::format_in(change.at, self.layout.zone())
    }

    fn describe(&self, change: &ItemChange) -> String {
        let value = |value: &Option<String>| value.clone().unwrap_or_else(|| "none".to_owned());
        match change.field.as_str() {
            "created" => "created the item".to_owned(),
            "decision" => format!("recorded a review decision: {}", value(&change.new_value)),
            "due_on" => format!(
                "moved the due date from {} to {}",
                value(&change.old_value),
                value(&change.new_value)
            ),
            "owner" => format!(
                "changed the owner from {} to {}",
                value(&change.old_value),
                value(&change.new_value)
            ),
            "status" => format!(
                "changed the status from {} to {}",
                value(&change.old_value),
                value(&change.new_value)
            ),
            other => format!("changed {other}"),
        }
    }
}

/// An item the user may read, and whether they may change it: its
/// postmortem's authors, admins, and its owner (to report progress).
pub async fn load_item(
    state: &AppState,
    user: &CurrentUser,
    raw_id: &str,
) -> Result<(ActionItem, Case, bool), AppError> {
    let item = store::action_items::get_item(&state.db, parse_id(raw_id)?)
        .await?
        .ok_or(AppError::NotFound)?;
    let case = Case::load(state, user, &item.incident_number.to_string()).await?;
    let can_edit = user.can_write() && (case.access.can_edit || item.owner_id == Some(user.id));
    Ok((item, case, can_edit))
}

pub(super) async fn item_page(
    state: &AppState,
    user: &CurrentUser,
    item: ActionItem,
    case: &Case,
    can_edit: bool,
) -> Result<ItemPage, AppError> {
    Ok(ItemPage {
        layout: Layout::for_user(user, Nav::ActionItems),
        changes: store::action_items::list_changes(&state.db, item.id).await?,
        form: ItemForm::from_item(&item),
        errors: FormErrors::default(),
        can_edit,
        people: store::users::list_active_people(&state.db).await?,
        teams: store::teams::list_team_options(&state.db).await?,
        factors: store::postmortems::list_factors(&state.db, case.postmortem.id).await?,
        tracker: store::trackers::find(&state.db, item.id).await?,
        connected: crate::trackers::connected(&state.config.integrations),
        tracker_form: TrackerForm::default(),
        view: item_views(vec![item], user.today(state.clock.now())).remove(0),
    })
}

async fn show_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<ItemPage, AppError> {
    let (item, case, can_edit) = load_item(&state, &user, &id).await?;
    item_page(&state, &user, item, &case, can_edit).await
}

async fn update_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<ItemForm>,
) -> Result<Response, AppError> {
    let (item, case, can_edit) = load_item(&state, &user, &id).await?;
    if !can_edit {
        return Err(AppError::Forbidden(MAY_NOT_CHANGE));
    }
    let mut page = item_page(&state, &user, item.clone(), &case, can_edit).await?;
    let fields = match form.parse(&page.people, &page.teams, &page.factors) {
        // An owner who is not an author reports progress; what the item is
        // and who owns it stay the authors' call.
        Ok(fields) if !case.access.can_edit => owner_update(&item, fields),
        Ok(fields) => fields,
        Err(errors) => {
            page.form = form;
            page.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let expected = parse_version(&form.version);
    if !save_item(
        &state,
        &user,
        (&item, &case),
        &fields,
        expected,
        &page.people,
    )
    .await?
    {
        page.form = ItemForm {
            version: item.version.to_string(),
            ..form
        };
        page.errors.add("form", "Someone else changed this item while you were editing. The history below shows what changed; your values are kept in the form, so save again to apply them.");
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    user.flash(&state, "Action item saved.").await?;
    Ok(Redirect::to(&format!("/action-items/{}", item.id)).into_response())
}

/// Saves an item's fields if it is still at version `expected` (false when
/// someone else changed it first), with its history, the notices it causes
/// and a revision of its postmortem: the one way an item is changed, from
/// its page or the API.
pub async fn save_item(
    state: &AppState,
    user: &CurrentUser,
    (item, case): (&ActionItem, &Case),
    fields: &ActionFields,
    expected: i32,
    people: &[PersonOption],
) -> Result<bool, AppError> {
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    if !store::action_items::update_item(&mut *tx, item.id, expected, fields, now).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    let changes = history_changes(item, fields, people);
    notify::record_item_changes(&mut tx, item.id, user.id, changes, now).await?;
    record_revision(&mut tx, case, user, "Changed an action item", now).await?;
    tx.commit().await?;
    Ok(true)
}

/// The fields an owner who is not an author may change: status, closing
/// reason and tracker link; everything else stays as it was.
pub fn owner_update(item: &ActionItem, typed: ActionFields) -> ActionFields {
    ActionFields {
        title: item.title.clone(),
        description: item.description.clone(),
        kind: item.kind,
        priority: item.priority,
        owner_id: item.owner_id,
        team_id: item.team_id,
        due_on: item.due_on,
        factor_id: item.factor_id,
        ..typed
    }
}
