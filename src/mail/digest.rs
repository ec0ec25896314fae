//! Digest messages: the owner's digest (overdue and due-soon items) and the
//! team lead's rollup (the teams' overdue and stale items by owner), each
//! rendered as HTML (inline styles, no external resources) and plain text.

use askama::Template;
use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    domain::{digest::unsubscribe_token, incident::display_number, quarter::Quarter},
    store::outbox::{LeadRow, NewMessage, OwnerRow},
};

/// What every message of a run shares.
pub struct Context<'a> {
    /// The public base URL, without a trailing slash.
    pub base_url: &'a str,
    /// The key that signs unsubscribe links.
    pub key: &'a [u8],
    /// The organization's date.
    pub today: NaiveDate,
    pub quarter: Quarter,
}

/// A digest, whichever kind.
pub struct Digest {
    pub name: String,
    pub heading: String,
    pub intro: String,
    pub groups: Vec<Group>,
    pub review_url: String,
    pub account_url: String,
    pub unsubscribe_url: String,
}

pub struct Group {
    pub title: String,
    pub lines: Vec<Line>,
}

pub struct Line {
    pub title: String,
    pub incident: String,
    pub note: String,
    pub url: String,
    pub late: bool,
}

#[derive(Template)]
#[template(path = "mail/digest.html")]
struct HtmlPart<'a> {
    d: &'a Digest,
}

#[derive(Template)]
#[template(path = "mail/digest.txt")]
struct TextPart<'a> {
    d: &'a Digest,
}

impl Digest {
    fn new(ctx: &Context<'_>, user_id: Uuid, name: &str, heading: String, intro: String) -> Digest {
        Digest {
            name: name.to_owned(),
            heading,
            intro,
            groups: Vec::new(),
            review_url: format!("{}/review/{}", ctx.base_url, ctx.quarter),
            account_url: format!("{}/account", ctx.base_url),
            unsubscribe_url: format!(
                "{}/unsubscribe/{user_id}/{}",
                ctx.base_url,
                unsubscribe_token(ctx.key, user_id)
            ),
        }
    }

    fn into_message(self, user_id: Uuid, email: &str, kind: &'static str) -> NewMessage {
        let html = HtmlPart { d: &self }.render().unwrap_or_default();
        let text = TextPart { d: &self }.render().unwrap_or_default();
        NewMessage {
            recipient_id: user_id,
            email: email.to_owned(),
            kind,
            subject: format!("Debrief: {}", self.heading),
            text_body: text,
            html_body: html,
            unsubscribe_url: self.unsubscribe_url,
        }
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

fn due_note(due: Option<NaiveDate>, today: NaiveDate) -> (String, bool) {
    match due {
        None => ("no due date".to_owned(), false),
        Some(due) if due < today => {
            let days = (today - due).num_days();
            (format!("due {due}, {} overdue", plural(days as usize, "day", "days")), true)
        }
        Some(due) if due == today => (format!("due today ({due})"), false),
        Some(due) => (format!("due {due}"), false),
    }
}

fn line(ctx: &Context<'_>, item_id: Uuid, title: &str, incident: i32, note: String, late: bool) -> Line {
    Line {
        title: title.to_owned(),
        incident: display_number(incident),
        note,
        url: format!("{}/action-items/{item_id}", ctx.base_url),
        late,
    }
}

/// One digest per owner (rows sorted by owner): overdue items, then those
/// due within the week.
pub fn owner_digests(rows: &[OwnerRow], ctx: &Context<'_>) -> Vec<NewMessage> {
    rows.chunk_by(|a, b| a.user_id == b.user_id)
        .map(|items| {
            let first = &items[0];
            let (overdue, soon): (Vec<&OwnerRow>, Vec<&OwnerRow>) = items
                .iter()
                .partition(|row| row.due_on.is_some_and(|due| due < ctx.today));
            let mut parts = Vec::new();
            if !overdue.is_empty() {
                parts.push(format!("{} overdue", plural(overdue.len(), "action item", "action items")));
            }
            if !soon.is_empty() {
                parts.push(format!("{} due this week", plural(soon.len(), "item", "items")));
            }
            let heading = parts.join(", ");
            let intro = "These action items are yours. Each one is a promise from a postmortem: finish it, or ask your team lead to move its date or drop it with a reason.".to_owned();
            let mut digest = Digest::new(ctx, first.user_id, &first.display_name, heading, intro);
            for (title, group) in [("Overdue", overdue), ("Due in the next 7 days", soon)] {
                if group.is_empty() {
                    continue;
                }
                digest.groups.push(Group {
                    title: title.to_owned(),
                    lines: group
                        .iter()
                        .map(|row| {
                            let (note, late) = due_note(row.due_on, ctx.today);
                            line(ctx, row.item_id, &row.title, row.incident_number, note, late)
                        })
                        .collect(),
                });
            }
            digest.into_message(first.user_id, &first.email, "owner")
        })
        .collect()
}

/// One rollup per team lead (rows sorted by lead, team and owner): the
/// teams' overdue and stale items, grouped by team and owner.
pub fn lead_digests(rows: &[LeadRow], ctx: &Context<'_>) -> Vec<NewMessage> {
    rows.chunk_by(|a, b| a.user_id == b.user_id)
        .map(|items| {
            let first = &items[0];
            let overdue = items.iter().filter(|row| row.overdue).count();
            let stale = items.iter().filter(|row| row.stale).count();
            let mut teams: Vec<&str> = items.iter().map(|row| row.team_name.as_str()).collect();
            teams.dedup();
            let whose = if teams.len() == 1 {
                teams[0].to_owned()
            } else {
                "Your teams".to_owned()
            };
            let heading = format!(
                "{whose}: {} overdue, {} stale",
                plural(overdue, "action item", "action items"),
                stale
            );
            let intro = "As a team lead you hear about your teams' overdue items and those open for more than six months (stale: each needs a decision in the quarterly review).".to_owned();
            let mut digest = Digest::new(ctx, first.user_id, &first.display_name, heading, intro);
            for group in items.chunk_by(|a, b| a.team_name == b.team_name && a.owner_name == b.owner_name) {
                let owner = group[0].owner_name.as_deref().unwrap_or("No owner");
                digest.groups.push(Group {
                    title: format!("{} · {owner}", group[0].team_name),
                    lines: group
                        .iter()
                        .map(|row| {
                            let (mut note, late) = due_note(row.due_on, ctx.today);
                            if row.stale {
                                note.push_str(" · stale");
                            }
                            line(ctx, row.item_id, &row.title, row.incident_number, note, late)
                        })
                        .collect(),
                });
            }
            digest.into_message(first.user_id, &first.email, "lead")
        })
        .collect()
}
