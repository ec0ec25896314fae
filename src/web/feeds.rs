//! Feeds for readers and calendar apps, which cannot sign in: an Atom feed
//! of published postmortems (all, or one team's, service's or theme's) and
//! an iCalendar feed of the person's open action items by due date. Each
//! address carries the person's feed secret; a revoked or unknown secret
//! answers 404, like an address that never existed. The feeds show what
//! the person may read, and nothing else.

use atom_syndication::{Category, Entry, Feed, FixedDateTime, Link, Person, Text};
use axum::{
    Router,
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};
use icalendar::{Calendar, Component, EventLike};
use serde::Deserialize;

use crate::{
    domain::{markdown, role::Role, token::Token},
    store::{
        self,
        feeds::{FeedReader, Narrow},
        incidents::Reader,
    },
    web::{AppError, AppState},
};

/// Entries in an Atom feed.
const ENTRIES: i64 = 50;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/feeds/{secret}/postmortems.atom", get(atom))
        .route("/feeds/{secret}/action-items.ics", get(calendar))
}

/// The addresses a secret opens, for the account page.
pub fn addresses(base: &str, secret: &str) -> (String, String) {
    (
        format!("{base}/feeds/{secret}/postmortems.atom"),
        format!("{base}/feeds/{secret}/action-items.ics"),
    )
}

async fn reader_of(state: &AppState, secret: &str) -> Result<FeedReader, AppError> {
    if secret.len() != 64 || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let digest = Token::from_presented(secret).digest();
    store::feeds::reader(&state.db, &digest, state.clock.now())
        .await?
        .ok_or(AppError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
struct FeedQuery {
    /// A team's id or name.
    #[serde(default)]
    team: String,
    #[serde(default)]
    service: String,
    /// A theme's slug.
    #[serde(default)]
    theme: String,
}

fn at(time: chrono::DateTime<chrono::Utc>) -> FixedDateTime {
    time.fixed_offset()
}

async fn atom(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    Query(query): Query<FeedQuery>,
) -> Result<Response, AppError> {
    let person = reader_of(&state, &secret).await?;
    let base = state.config.public_base_url();
    let mut narrow = Narrow::default();
    let mut title = "Debrief: published postmortems".to_owned();
    if !query.team.trim().is_empty() {
        let teams = store::teams::list_team_options(&state.db).await?;
        let wanted = query.team.trim();
        let team = teams
            .iter()
            .find(|t| t.id.to_string() == wanted || t.name.eq_ignore_ascii_case(wanted))
            .ok_or(AppError::NotFound)?;
        narrow.team_id = Some(team.id);
        title = format!("Debrief: postmortems of {}", team.name);
    }
    if !query.service.trim().is_empty() {
        let service = store::services::current_name(&state.db, query.service.trim()).await?;
        title = format!("Debrief: postmortems of {service}");
        narrow.service = Some(service);
    }
    if !query.theme.trim().is_empty() {
        let theme = store::themes::find(&state.db, query.theme.trim())
            .await?
            .ok_or(AppError::NotFound)?;
        narrow.theme_id = Some(theme.id);
        title = format!("Debrief: postmortems of the theme {}", theme.name);
    }
    let reader = Reader {
        user_id: person.user_id,
        is_admin: person.role == Role::Admin,
    };
    let published = store::feeds::published(&state.db, reader, &narrow, None, ENTRIES).await?;
    let entries: Vec<Entry> = published
        .iter()
        .map(|pm| {
            let page = format!("{base}/incidents/{}", pm.number);
            let mut entry = Entry::default();
            entry.set_id(format!("urn:uuid:{}", pm.postmortem_id));
            entry.set_title(Text::plain(format!("INC-{}: {}", pm.number, pm.title)));
            entry.set_updated(at(pm.updated_at.max(pm.published_at)));
            entry.set_published(Some(at(pm.published_at)));
            let mut link = Link::default();
            link.set_href(page);
            link.set_rel("alternate");
            entry.set_links(vec![link]);
            entry.set_authors(
                pm.authors
                    .iter()
                    .map(|name| {
                        let mut person = Person::default();
                        person.set_name(name.clone());
                        person
                    })
                    .collect::<Vec<_>>(),
            );
            entry.set_categories(
                pm.services
                    .iter()
                    .chain(&pm.tags)
                    .map(|term| {
                        let mut category = Category::default();
                        category.set_term(term.clone());
                        category
                    })
                    .collect::<Vec<_>>(),
            );
            entry.set_summary(Some(Text::plain(markdown::excerpt(&pm.summary, 600))));
            entry
        })
        .collect();
    let mut feed = Feed::default();
    feed.set_title(Text::plain(title));
    feed.set_id(format!("{base}/feeds/postmortems/{}", person.user_id));
    feed.set_updated(at(published.first().map_or_else(
        || state.clock.now(),
        |pm| pm.updated_at.max(pm.published_at),
    )));
    let mut alternate = Link::default();
    alternate.set_href(format!("{base}/incidents"));
    alternate.set_rel("alternate");
    feed.set_links(vec![alternate]);
    feed.set_entries(entries);
    Ok((
        [
            (header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        feed.to_string(),
    )
        .into_response())
}

async fn calendar(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> Result<Response, AppError> {
    let person = reader_of(&state, &secret).await?;
    let base = state.config.public_base_url();
    let items = store::feeds::due_items(&state.db, person.user_id).await?;
    let mut calendar = Calendar::new();
    calendar.name(&format!("Debrief: action items of {}", person.display_name));
    calendar.timezone(person.time_zone.as_str());
    for item in &items {
        let page = format!("{base}/action-items/{}", item.id);
        calendar.push(
            icalendar::Event::new()
                .uid(&format!("{}@debrief", item.id))
                .summary(&format!("Due: {} (INC-{})", item.title, item.number))
                .description(&format!(
                    "{}\nFrom INC-{}: {}\n{page}",
                    item.status.label(),
                    item.number,
                    item.incident_title
                ))
                .all_day(item.due_on)
                .timestamp(item.updated_at)
                .last_modified(item.updated_at)
                .url(&page)
                .done(),
        );
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        calendar.done().to_string(),
    )
        .into_response())
}
