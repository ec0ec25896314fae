//! The notifications a change causes, recorded in the change's own
//! transaction (so they exist exactly when the change does) through
//! `store::notifications`. The job in `jobs::notices` gathers and sends them.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{incidents::Case, session::CurrentUser};
use crate::{
    domain::{
        incident::display_number,
        markdown::excerpt,
        notice::{Kind, mentions},
        section::Section,
    },
    store::{
        self,
        notifications::{Event, record},
    },
};

/// "INC-12 Checkout 502s": how a notification names an incident.
fn incident(number: i32, title: &str) -> String {
    format!("{} {title}", display_number(number))
}

fn about(case: &Case) -> String {
    incident(case.incident.number, &case.incident.title)
}

/// The reviewers just asked (`revision` names the request).
pub async fn review_requested(
    tx: &mut PgConnection,
    case: &Case,
    actor: &CurrentUser,
    reviewers: &[Uuid],
    revision: i32,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let event = Event {
        kind: Kind::ReviewRequested,
        key: format!("review:{}:{revision}", case.postmortem.id),
        postmortem_id: case.postmortem.id,
        summary: format!("{} asked you to review {}", actor.display_name, about(case)),
        detail: String::new(),
        path: case.path(),
        actor_id: actor.id,
        at,
        recipients: reviewers,
    };
    record(tx, &event).await.map(drop)
}

/// The authors, told that a reviewer asks for changes (with the note).
pub async fn changes_requested(
    tx: &mut PgConnection,
    case: &Case,
    actor: &CurrentUser,
    note: &str,
    revision: i32,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let authors: Vec<Uuid> = case.authors.iter().map(|person| person.id).collect();
    let event = Event {
        kind: Kind::ChangesRequested,
        key: format!("changes:{}:{revision}", case.postmortem.id),
        postmortem_id: case.postmortem.id,
        summary: format!(
            "{} requested changes on {}",
            actor.display_name,
            about(case)
        ),
        detail: excerpt(note, 300),
        path: format!("{}#review", case.path()),
        actor_id: actor.id,
        at,
        recipients: &authors,
    };
    record(tx, &event).await.map(drop)
}

/// Everyone `@mentioned` in a comment, once per comment: an edit tells
/// only those it newly mentions.
pub async fn mentioned_in_comment(
    tx: &mut PgConnection,
    case: &Case,
    actor: &CurrentUser,
    (comment_id, body): (Uuid, &str),
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mention = Mention {
        text: body,
        place: "a comment".to_owned(),
        key: format!("mention:comment:{comment_id}"),
        path: format!("{}#comment-{comment_id}", case.path()),
    };
    mentioned(tx, case, actor, mention, at).await
}

/// Everyone `@mentioned` in a section, once per postmortem and section.
pub async fn mentioned_in_section(
    tx: &mut PgConnection,
    case: &Case,
    actor: &CurrentUser,
    (section, text): (Section, &str),
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mention = Mention {
        text,
        place: format!("the {}", section.heading().to_lowercase()),
        key: format!("mention:{}:{}", case.postmortem.id, section.field()),
        path: format!("{}#{}", case.path(), section.field()),
    };
    mentioned(tx, case, actor, mention, at).await
}

/// Text that may `@mention` people: where it is ("a comment", "the
/// summary"), the key that tells each person once, and the link.
struct Mention<'a> {
    text: &'a str,
    place: String,
    key: String,
    path: String,
}

async fn mentioned(
    tx: &mut PgConnection,
    case: &Case,
    actor: &CurrentUser,
    mention: Mention<'_>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let handles = mentions(mention.text);
    if handles.is_empty() {
        return Ok(());
    }
    let people = store::notifications::mentioned_people(&mut *tx, &handles).await?;
    let event = Event {
        kind: Kind::Mentioned,
        key: mention.key,
        postmortem_id: case.postmortem.id,
        summary: format!(
            "{} mentioned you in {} of {}",
            actor.display_name,
            mention.place,
            about(case)
        ),
        detail: excerpt(mention.text, 300),
        path: mention.path,
        actor_id: actor.id,
        at,
        recipients: &people,
    };
    record(tx, &event).await.map(drop)
}

/// What changed about an action item that its owner hears of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemChange {
    /// Created with an owner, or given to a new one.
    Assigned,
    DueMoved,
}

impl ItemChange {
    /// What the owner hears of a change to the item's `field` (as the
    /// item's history names fields), if anything.
    pub fn of_field(field: &str) -> Option<ItemChange> {
        match field {
            "owner" => Some(ItemChange::Assigned),
            "due_on" => Some(ItemChange::DueMoved),
            _ => None,
        }
    }
}

/// Tells an item's owner (as it is now) that it was given to them, or that
/// its due date moved.
pub async fn item_changed(
    tx: &mut PgConnection,
    item_id: Uuid,
    change: ItemChange,
    actor_id: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let Some(item) = store::notifications::item_facts(&mut *tx, item_id).await? else {
        return Ok(());
    };
    let Some(owner) = item.owner_id else {
        return Ok(());
    };
    let due = item
        .due_on
        .map_or_else(|| "no due date".to_owned(), |due| format!("due {due}"));
    let about = incident(item.incident_number, &item.incident_title);
    let (kind, key, summary) = match change {
        ItemChange::Assigned => (
            Kind::ItemAssigned,
            format!("assigned:{item_id}:{owner}"),
            format!("An action item is yours: {}", item.title),
        ),
        ItemChange::DueMoved => (
            Kind::ItemDueChanged,
            format!(
                "due:{item_id}:{}",
                item.due_on.map(|d| d.to_string()).unwrap_or_default()
            ),
            format!("The due date of {} changed", item.title),
        ),
    };
    let event = Event {
        kind,
        key,
        postmortem_id: item.postmortem_id,
        summary,
        detail: format!("{about}; {due}"),
        path: format!("/action-items/{item_id}"),
        actor_id,
        at,
        recipients: &[owner],
    };
    record(tx, &event).await.map(drop)
}

/// Records an item's changes in its history and tells its owner of those
/// they hear of (a new owner, a moved due date): the one way every form
/// that changes an item writes its history.
pub async fn record_item_changes(
    tx: &mut PgConnection,
    item_id: Uuid,
    actor_id: Uuid,
    changes: Vec<store::action_items::NewChange<'_>>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mut told = Vec::new();
    for change in changes {
        if let Some(kind) = ItemChange::of_field(change.field)
            && !told.contains(&kind)
        {
            told.push(kind);
        }
        store::action_items::record_change(&mut *tx, item_id, Some(actor_id), change, at).await?;
    }
    for kind in told {
        item_changed(tx, item_id, kind, actor_id, at).await?;
    }
    Ok(())
}

/// Everyone following a team, service or tag of the incident, told that
/// its postmortem is published; and the owners of its items who could not
/// read it while it was a draft, told now that the items are theirs.
pub async fn published(
    tx: &mut PgConnection,
    case: &Case,
    actor: &CurrentUser,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let summary = format!("Published: {}", about(case));
    store::notifications::record_published(
        &mut *tx,
        case.postmortem.id,
        &summary,
        &case.path(),
        actor.id,
        at,
    )
    .await?;
    for item in store::notifications::owned_items(&mut *tx, case.postmortem.id).await? {
        item_changed(tx, item, ItemChange::Assigned, actor.id, at).await?;
    }
    Ok(())
}
