//! The action item form as typed, and its parsing against the people,
//! teams and factors that exist. The authoring page uses it for every item
//! row, the item page for one item.

use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::{form::FormErrors, session::CurrentUser};
use crate::{
    domain::{
        action::{ActionKind, ActionStatus, Priority},
        incident::is_web_link,
    },
    store::{
        action_items::{ActionFields, ActionItem, NewChange},
        postmortems::FactorRow,
        teams::Team,
        users::PersonOption,
    },
};

/// The action item form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ItemForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub owner_id: String,
    #[serde(default)]
    pub team_id: String,
    #[serde(default)]
    pub due_on: String,
    #[serde(default)]
    pub tracker_url: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub factor_id: String,
    #[serde(default)]
    pub closing_reason: String,
    #[serde(default)]
    pub version: String,
}

impl ItemForm {
    /// A blank form, owned by the author by default.
    pub fn new_for(user: &CurrentUser) -> ItemForm {
        ItemForm {
            kind: ActionKind::Prevent.as_str().to_owned(),
            priority: Priority::P2.as_str().to_owned(),
            status: ActionStatus::Open.as_str().to_owned(),
            owner_id: user.id.to_string(),
            ..ItemForm::default()
        }
    }

    pub fn from_item(item: &ActionItem) -> ItemForm {
        let id = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
        ItemForm {
            title: item.title.clone(),
            description: item.description.clone(),
            kind: item.kind.as_str().to_owned(),
            priority: item.priority.as_str().to_owned(),
            owner_id: id(item.owner_id),
            team_id: id(item.team_id),
            due_on: item.due_on.map(|due| due.to_string()).unwrap_or_default(),
            tracker_url: item.tracker_url.clone().unwrap_or_default(),
            status: item.status.as_str().to_owned(),
            factor_id: id(item.factor_id),
            closing_reason: item.closing_reason.clone().unwrap_or_default(),
            version: item.version.to_string(),
        }
    }

    /// Parses into fields, against the people, teams and factors that exist.
    pub fn parse(
        &self,
        people: &[PersonOption],
        teams: &[Team],
        factors: &[FactorRow],
    ) -> Result<ActionFields, FormErrors> {
        let mut errors = FormErrors::default();
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            errors.add(
                "title",
                "Say what will be done, specifically (up to 200 characters).",
            );
        }
        let kind = errors.check("kind", ActionKind::parse(&self.kind).ok_or("Pick a kind."));
        let priority = errors.check(
            "priority",
            Priority::parse(&self.priority).ok_or("Pick a priority."),
        );
        let status = errors.check(
            "status",
            ActionStatus::parse(&self.status).ok_or("Pick a status."),
        );
        let pick = |raw: &str, known: &dyn Fn(Uuid) -> bool| -> Result<Option<Uuid>, ()> {
            if raw.trim().is_empty() {
                return Ok(None);
            }
            Uuid::parse_str(raw.trim())
                .ok()
                .filter(|id| known(*id))
                .map(Some)
                .ok_or(())
        };
        let owner_id = pick(&self.owner_id, &|id| people.iter().any(|p| p.id == id))
            .unwrap_or_else(|()| {
                errors.add("owner_id", "Pick an owner from the list.");
                None
            });
        let team_id =
            pick(&self.team_id, &|id| teams.iter().any(|t| t.id == id)).unwrap_or_else(|()| {
                errors.add("team_id", "Pick a team from the list.");
                None
            });
        let factor_id =
            pick(&self.factor_id, &|id| factors.iter().any(|f| f.id == id)).unwrap_or(None);
        let due_on = match self.due_on.trim() {
            "" => None,
            raw => errors.check(
                "due_on",
                NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| "Use a date such as 2026-12-31."),
            ),
        };
        let tracker_url = self.tracker_url.trim();
        if !tracker_url.is_empty() && !is_web_link(tracker_url) {
            errors.add(
                "tracker_url",
                "Tracker links start with https:// or http://.",
            );
        }
        let closing_reason = self.closing_reason.trim();
        if status.is_some_and(ActionStatus::needs_reason) && closing_reason.is_empty() {
            errors.add(
                "closing_reason",
                "Say why: closing an item as won't do or deprioritized needs a reason.",
            );
        }
        match (kind, priority, status, errors.is_empty()) {
            (Some(kind), Some(priority), Some(status), true) => Ok(ActionFields {
                title: title.to_owned(),
                description: self.description.trim().to_owned(),
                kind,
                priority,
                owner_id,
                team_id,
                due_on,
                tracker_url: Some(tracker_url.to_owned()).filter(|url| !url.is_empty()),
                status,
                factor_id,
                closing_reason: Some(closing_reason.to_owned()).filter(|reason| !reason.is_empty()),
            }),
            _ => Err(errors),
        }
    }
}

/// The owner, due date and status changes worth keeping in the history.
pub fn history_changes<'a>(
    before: &ActionItem,
    after: &'a ActionFields,
    people: &[PersonOption],
) -> Vec<NewChange<'a>> {
    let name = |id: Option<Uuid>| {
        id.and_then(|id| people.iter().find(|person| person.id == id))
            .map(|person| person.display_name.clone())
    };
    let mut changes = Vec::new();
    if before.due_on != after.due_on {
        changes.push(NewChange {
            field: "due_on",
            old_value: before.due_on.map(|due| due.to_string()),
            new_value: after.due_on.map(|due| due.to_string()),
            note: None,
        });
    }
    if before.owner_id != after.owner_id {
        changes.push(NewChange {
            field: "owner",
            old_value: before.owner_name.clone(),
            new_value: name(after.owner_id),
            note: None,
        });
    }
    if before.status != after.status {
        changes.push(NewChange {
            field: "status",
            old_value: Some(before.status.label().to_owned()),
            new_value: Some(after.status.label().to_owned()),
            note: after.closing_reason.as_deref(),
        });
    }
    changes
}
