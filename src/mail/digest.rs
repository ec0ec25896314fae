//! Digest messages: the owner's digest (overdue and due-soon items) and the
//! team lead's rollup (the teams' overdue and stale items by owner), each
//! rendered as HTML (inline styles, no external resources) and plain text.

use askama::Template;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::{
    domain::{digest::UnsubscribeLinks, incident::display_number, quarter::Quarter},
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
    /// When the messages are made: their unsubscribe links count from it.
    pub now: DateTime<Utc>,
    pub quarter: Quarter,
}

/// A digest, whichever kind.
pub struct Digest {
    pub name: String,
    pub heading: String,
    pub intro: String,
    pub groups: Vec<Group>,
    /// Items left out to keep the message readable, and where they are.
    pub more: usize,
    pub more_url: String,
    pub review_url: String,
    pub account_url: String,
    /// The link in the text, which expires sooner than the header's.
    pub unsubscribe_url: String,
    /// The `List-Unsubscribe` header's one-click link.
    pub header_unsubscribe_url: String,
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
        let links = UnsubscribeLinks::new(ctx.key, "/unsubscribe", user_id, ctx.now);
        Digest {
            name: name.to_owned(),
            heading,
            intro,
            groups: Vec::new(),
            more: 0,
            more_url: format!("{}/action-items", ctx.base_url),
            review_url: format!("{}/review/{}", ctx.base_url, ctx.quarter),
            account_url: format!("{}/account", ctx.base_url),
            unsubscribe_url: format!("{}{}", ctx.base_url, links.page),
            header_unsubscribe_url: format!("{}{}", ctx.base_url, links.header),
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
            unsubscribe_url: self.header_unsubscribe_url,
        }
    }
}

/// The most items one message lists; the rest are counted and linked.
pub const MAX_LINES: usize = 50;

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
            (
                format!(
                    "due {due}, {} overdue",
                    plural(days as usize, "day", "days")
                ),
                true,
            )
        }
        Some(due) if due == today => (format!("due today ({due})"), false),
        Some(due) => (format!("due {due}"), false),
    }
}

fn line(
    ctx: &Context<'_>,
    item_id: Uuid,
    title: &str,
    incident: i32,
    note: String,
    late: bool,
) -> Line {
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
                parts.push(plural(overdue.len(), "overdue action item", "overdue action items"));
            }
            if !soon.is_empty() {
                parts.push(format!("{} due this week", plural(soon.len(), "item", "items")));
            }
            let heading = parts.join(", ");
            let intro = "These action items are yours. Each one is a promise from a postmortem: finish it, or ask your team lead to move its date or drop it with a reason.".to_owned();
            let mut digest = Digest::new(ctx, first.user_id, &first.display_name, heading, intro);
            let mut room = MAX_LINES;
            for (title, group) in [("Overdue", overdue), ("Due in the next 7 days", soon)] {
                let shown = group.len().min(room);
                digest.more += group.len() - shown;
                room -= shown;
                if shown == 0 {
                    continue;
                }
                digest.groups.push(Group {
                    title: title.to_owned(),
                    lines: group[..shown]
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
                "{whose}: {}, {} stale",
                plural(overdue, "overdue action item", "overdue action items"),
                stale
            );
            let intro = "As a team lead you hear about your teams' overdue items and those open for more than six months (stale: each needs a decision in the quarterly review).".to_owned();
            let mut digest = Digest::new(ctx, first.user_id, &first.display_name, heading, intro);
            digest.more_url = format!("{}/action-items?scope=team", ctx.base_url);
            digest.more = items.len().saturating_sub(MAX_LINES);
            for group in items[..items.len().min(MAX_LINES)].chunk_by(|a, b| a.team_name == b.team_name && a.owner_name == b.owner_name) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(key: &[u8]) -> Context<'_> {
        Context {
            base_url: "https://debrief.example.com",
            key,
            today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
            now: "2026-11-23T08:00:00Z".parse().unwrap(),
            quarter: Quarter::new(2026, 4).unwrap(),
        }
    }

    fn owner_row(user: Uuid, n: usize, due: &str) -> OwnerRow {
        OwnerRow {
            user_id: user,
            email: "olga@example.com".to_owned(),
            display_name: "Olga <Owner>".to_owned(),
            item_id: Uuid::now_v7(),
            title: format!("Item {n} & <b>bold</b>"),
            incident_number: 7,
            due_on: Some(due.parse().unwrap()),
        }
    }

    #[test]
    fn one_message_per_owner_with_long_lists_cut_and_counted() {
        let (olga, sam) = (Uuid::now_v7(), Uuid::now_v7());
        let mut rows: Vec<OwnerRow> = (0..60).map(|n| owner_row(olga, n, "2026-11-01")).collect();
        rows.push(owner_row(sam, 0, "2026-11-25"));
        let messages = owner_digests(&rows, &ctx(b"key"));
        assert_eq!(messages.len(), 2);
        let first = &messages[0];
        assert_eq!(first.subject, "Debrief: 60 overdue action items");
        assert!(
            first
                .text_body
                .contains("...and 10 more: https://debrief.example.com/action-items")
        );
        assert_eq!(
            first
                .text_body
                .matches("https://debrief.example.com/action-items/")
                .count(),
            50
        );
        assert_eq!(messages[1].subject, "Debrief: 1 item due this week");
    }

    #[test]
    fn the_html_part_escapes_what_people_typed_and_the_text_part_keeps_it() {
        let rows = vec![owner_row(Uuid::now_v7(), 1, "2026-11-01")];
        let message = &owner_digests(&rows, &ctx(b"key"))[0];
        let title = message
            .html_body
            .lines()
            .find(|l| l.contains("Item 1"))
            .unwrap_or_default()
            .to_owned();
        assert!(
            title.contains("&lt;b&gt;") || title.contains("&#60;b&#62;"),
            "{title}"
        );
        assert!(!message.html_body.contains("<b>bold</b>"));
        assert!(
            message.html_body.contains("Hello Olga &#60;Owner&#62;")
                || message.html_body.contains("Hello Olga &lt;Owner&gt;")
        );
        assert!(
            message.text_body.contains("Item 1 & <b>bold</b>"),
            "plain text is not HTML-escaped"
        );
        assert!(
            message
                .unsubscribe_url
                .starts_with("https://debrief.example.com/unsubscribe/")
        );
    }
}
