//! The message that carries a person's gathered notifications: one line
//! per event, linked, as HTML (inline styles) and plain text.

use askama::Template;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    domain::digest::UnsubscribeLinks,
    store::{notifications::Waiting, outbox::NewMessage},
};

pub struct Notice {
    pub name: String,
    pub heading: String,
    pub lines: Vec<Line>,
    pub account_url: String,
    /// The link in the text, which expires sooner than the header's.
    pub unsubscribe_url: String,
}

pub struct Line {
    pub summary: String,
    pub detail: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "mail/notice.html")]
struct HtmlPart<'a> {
    n: &'a Notice,
}

#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct TextPart<'a> {
    n: &'a Notice,
}

/// One message for `waiting` (a person's notifications, oldest first; not
/// empty). The subject is the event itself when there is one, a count when
/// there are several.
pub fn message(
    base_url: &str,
    key: &[u8],
    user_id: Uuid,
    waiting: &[Waiting],
    now: DateTime<Utc>,
) -> NewMessage {
    // The links that switch every notification off.
    let links = UnsubscribeLinks::new(key, "/unsubscribe/notices", user_id, now);
    let first = &waiting[0];
    let heading = match waiting.len() {
        1 => first.summary.clone(),
        count => format!("{count} updates on your reviews and action items"),
    };
    let notice = Notice {
        name: first.display_name.clone(),
        heading,
        lines: waiting
            .iter()
            .map(|w| Line {
                summary: w.summary.clone(),
                detail: w.detail.clone(),
                url: format!("{base_url}{}", w.path),
            })
            .collect(),
        account_url: format!("{base_url}/account#notifications"),
        unsubscribe_url: format!("{base_url}{}", links.page),
    };
    NewMessage {
        recipient_id: user_id,
        email: first.email.clone(),
        kind: "notice",
        subject: format!("Debrief: {}", notice.heading),
        text_body: TextPart { n: &notice }.render().unwrap_or_default(),
        html_body: HtmlPart { n: &notice }.render().unwrap_or_default(),
        unsubscribe_url: format!("{base_url}{}", links.header),
    }
}
