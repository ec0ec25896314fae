//! `/api/v1/action-items`: list, read and change action items.

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::get,
};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    Problem,
    caller::Caller,
    problem::{ApiJson, ApiQuery},
    views::{ActionItemView, Page, resolve_page},
};
use crate::{
    domain::action::{ActionKind, ActionStatus, Priority},
    store::{
        self,
        action_items::{ItemFilter, Scope},
    },
    web::{
        AppState,
        action_items::{MAY_NOT_CHANGE, load_item, owner_update, save_item},
        item_form::ItemForm,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/action-items", get(list_items))
        .route(
            "/api/v1/action-items/{id}",
            get(get_item).patch(update_item),
        )
}

/// Filters of the item list; each one left out means "any".
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemParams {
    /// `mine` (the default: owned by the token's owner), `teams` (of
    /// their teams) or `all`.
    scope: Option<String>,
    status: Option<ActionStatus>,
    /// Only open items (open or in progress).
    open: Option<bool>,
    owner: Option<Uuid>,
    team: Option<Uuid>,
    /// Only open items due before this day (`2026-12-01`).
    due_before: Option<NaiveDate>,
    /// From 1 (the default).
    #[param(minimum = 1, maximum = 100000)]
    page: Option<i64>,
    /// From 1 to 100; 25 by default.
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<i64>,
}

/// Action items of the postmortems the token's owner may read, soonest
/// due first.
#[utoipa::path(
    get,
    path = "/api/v1/action-items",
    tag = "action items",
    params(ItemParams),
    responses(
        (status = 200, description = "A page of action items", body = Page<ActionItemView>),
        (status = 400, description = "A filter that cannot be read", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's request budget is spent", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_items(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ItemParams>,
) -> Result<Json<Page<ActionItemView>>, Problem> {
    let (page, per_page) = resolve_page(params.page, params.per_page)?;
    let scope = match params.scope.as_deref().unwrap_or("mine") {
        "mine" => Scope::Mine,
        "teams" => Scope::MyTeams,
        "all" => Scope::All,
        _ => return Err(Problem::bad_request("`scope` is `mine`, `teams` or `all`.")),
    };
    let filter = ItemFilter {
        scope,
        status: params.status,
        open_only: params.open.unwrap_or(false),
        owner_id: params.owner,
        team_id: params.team,
        due_before: params.due_before,
    };
    let rows = store::action_items::list_items(
        &state.db,
        caller.user.reader(),
        &filter,
        per_page + 1,
        (page - 1) * per_page,
    )
    .await?;
    let items = rows.into_iter().map(ActionItemView::from).collect();
    Ok(Json(Page::from_rows(items, page, per_page)))
}

/// One action item.
#[utoipa::path(
    get,
    path = "/api/v1/action-items/{id}",
    tag = "action items",
    params(("id" = Uuid, Path, description = "The item's id")),
    responses(
        (status = 200, description = "The item", body = ActionItemView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item, or not one the token's owner may read", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's request budget is spent", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ActionItemView>, Problem> {
    let (item, _, _) = load_item(&state, &caller.user, &id).await?;
    Ok(Json(ActionItemView::from(item)))
}

/// A change to an item: the fields given change, the others stay.
/// `version` is the item's version as read; a newer one on the server
/// means someone else changed it first (409).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemChange {
    pub version: i32,
    pub title: Option<String>,
    pub description: Option<String>,
    pub kind: Option<ActionKind>,
    pub priority: Option<Priority>,
    pub status: Option<ActionStatus>,
    /// `null` leaves it as it is; an empty string clears it.
    pub owner_id: Option<String>,
    pub team_id: Option<String>,
    /// `2026-12-31`; an empty string clears it.
    pub due_on: Option<String>,
    pub tracker_url: Option<String>,
    /// Why it was dropped (with `wont_do` or `deprioritized`).
    pub closing_reason: Option<String>,
}

/// Changes an item, as its page would: its owner may report progress
/// (status, closing reason, tracker link); its postmortem's authors and
/// admins may change everything.
#[utoipa::path(
    patch,
    path = "/api/v1/action-items/{id}",
    tag = "action items",
    params(("id" = Uuid, Path, description = "The item's id")),
    request_body = ItemChange,
    responses(
        (status = 200, description = "Saved; the item as stored", body = ActionItemView),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A read-only token, or one whose owner may not change this item", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such item, or not one the token's owner may read", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Someone else changed it since `version`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Fields refused, each named", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's request budget is spent", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update_item(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<ItemChange>,
) -> Result<Json<ActionItemView>, Problem> {
    let user = caller.writer()?;
    let (item, case, can_edit) = load_item(&state, user, &id).await?;
    if !can_edit {
        return Err(Problem::forbidden(MAY_NOT_CHANGE));
    }
    let mut form = ItemForm::from_item(&item);
    let set = |field: &mut String, value: Option<String>| {
        if let Some(value) = value {
            *field = value;
        }
    };
    set(&mut form.title, change.title);
    set(&mut form.description, change.description);
    set(
        &mut form.kind,
        change.kind.map(|kind| kind.as_str().to_owned()),
    );
    set(
        &mut form.priority,
        change.priority.map(|p| p.as_str().to_owned()),
    );
    set(
        &mut form.status,
        change.status.map(|s| s.as_str().to_owned()),
    );
    set(&mut form.owner_id, change.owner_id);
    set(&mut form.team_id, change.team_id);
    set(&mut form.due_on, change.due_on);
    set(&mut form.tracker_url, change.tracker_url);
    set(&mut form.closing_reason, change.closing_reason);
    let people = store::users::list_active_people(&state.db).await?;
    let teams = store::teams::list_team_options(&state.db).await?;
    let factors = store::postmortems::list_factors(&state.db, case.postmortem.id).await?;
    let fields = match form.parse(&people, &teams, &factors) {
        Ok(fields) if !case.access.can_edit => owner_update(&item, fields),
        Ok(fields) => fields,
        Err(errors) => return Err(Problem::invalid(&errors)),
    };
    if !save_item(
        &state,
        user,
        (&item, &case),
        &fields,
        change.version,
        &people,
    )
    .await?
    {
        return Err(Problem::new(
            axum::http::StatusCode::CONFLICT,
            "Changed in the meantime",
            "Someone else changed this item since that version. Read it again and send the change with its new version.",
        ));
    }
    // Read back as stored (its new version), without loading the case again.
    let saved = store::action_items::get_item(&state.db, item.id)
        .await?
        .ok_or_else(Problem::not_found)?;
    Ok(Json(ActionItemView::from(saved)))
}
