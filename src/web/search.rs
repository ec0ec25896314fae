//! `/search`: the whole archive, ranked, with filters and their counts,
//! highlighted snippets and spelling suggestions.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Query, State},
    routing::get,
};
use serde::Deserialize;

use super::{
    AppError, AppState,
    incidents::show::group_digits,
    layout::{Layout, Nav},
    query,
    session::CurrentUser,
};
use crate::{
    domain::{
        incident::{IncidentKind, Severity, display_number},
        postmortem::PostmortemStatus,
        search::{
            SnippetPart, SnippetQuery, corrected, has_operators, most_of, query_words, snippet,
        },
        time,
    },
    store::{
        self,
        search::{EXACT_LIMIT, Facets, Hit, SearchFilter, SearchSort},
    },
};

/// Results per page.
const PAGE_SIZE: i64 = 20;
/// Below this many results with every word, those with most words are shown.
const FEW: i64 = 3;

/// Pages beyond this are not served: nobody reads them, and each costs more.
const MAX_PAGE: i64 = 500;

pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search))
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    team: String,
    /// A participant's name.
    #[serde(default)]
    participant: String,
    /// `2021` or `2021-Q3`.
    #[serde(default)]
    when: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: Option<i64>,
}

impl SearchParams {
    fn filter(&self, zone: chrono_tz::Tz) -> SearchFilter {
        let (year, quarter) = parse_when(&self.when);
        SearchFilter {
            text: self.q.trim().chars().take(500).collect(),
            severity: Severity::parse(&self.severity),
            kind: IncidentKind::parse(&self.kind),
            status: PostmortemStatus::parse(&self.status),
            service: Some(self.service.clone()).filter(|s| !s.is_empty()),
            tag: Some(self.tag.clone()).filter(|s| !s.is_empty()),
            team_id: uuid::Uuid::parse_str(&self.team).ok(),
            participant: Some(self.participant.trim().to_owned()).filter(|s| !s.is_empty()),
            year,
            quarter,
            zone,
        }
    }

    fn sort(&self) -> SearchSort {
        match self.sort.as_str() {
            "newest" => SearchSort::Newest,
            "oldest" => SearchSort::Oldest,
            _ => SearchSort::Relevance,
        }
    }
}

/// `2021` or `2021-Q3`.
fn parse_when(text: &str) -> (Option<i32>, Option<i32>) {
    let (year, quarter) = match text.split_once("-Q") {
        Some((year, quarter)) => (year, quarter.parse().ok().filter(|q| (1..=4).contains(q))),
        None => (text, None),
    };
    match year.parse::<i32>() {
        Ok(year) if (1970..=2200).contains(&year) => (Some(year), quarter),
        _ => (None, None),
    }
}

/// One result as shown.
pub struct HitView {
    hit: Hit,
    /// Passages of the text, with the matched words marked.
    snippet: Vec<SnippetPart>,
    when: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
pub struct SearchPage {
    layout: Layout,
    params: SearchParams,
    facets: Facets,
    hits: Vec<HitView>,
    /// The query the results are for, when misspellings were corrected.
    showing_for: Option<String>,
    /// A corrected query to offer when the typed one found something.
    did_you_mean: Option<String>,
    /// Set when fewer than a few postmortems had every word and those with
    /// most of them are shown: how many had every word.
    most_words: Option<i64>,
    ranked: bool,
    page: i64,
    pages: i64,
}

impl SearchPage {
    /// A link to this search with one parameter changed (and page reset).
    fn with(&self, name: &str, value: &str) -> String {
        let p = &self.params;
        let pairs = [
            ("q", p.q.as_str()),
            ("severity", p.severity.as_str()),
            ("kind", p.kind.as_str()),
            ("status", p.status.as_str()),
            ("service", p.service.as_str()),
            ("tag", p.tag.as_str()),
            ("team", p.team.as_str()),
            ("participant", p.participant.as_str()),
            ("when", p.when.as_str()),
            ("sort", p.sort.as_str()),
        ];
        let query = query::encode(
            pairs
                .iter()
                .map(|(key, current)| (*key, if *key == name { value } else { *current })),
        );
        format!("/search?{query}")
    }

    fn page_link(&self, page: i64) -> String {
        format!("{}&page={page}", self.with("", ""))
    }

    fn label_of(&self, facet: &str, value: &str) -> String {
        match facet {
            "severity" => Severity::parse(value).map_or(value.to_owned(), |s| s.label().to_owned()),
            "kind" => IncidentKind::parse(value).map_or(value.to_owned(), |k| k.label().to_owned()),
            "status" => {
                PostmortemStatus::parse(value).map_or(value.to_owned(), |s| s.label().to_owned())
            }
            _ => value.to_owned(),
        }
    }

    fn is_active(&self, facet: &str, value: &str) -> bool {
        let p = &self.params;
        let current = match facet {
            "severity" => &p.severity,
            "kind" => &p.kind,
            "status" => &p.status,
            "service" => &p.service,
            "tag" => &p.tag,
            "team" => &p.team,
            "when" => &p.when,
            _ => return false,
        };
        current == value
    }

    /// A facet's values and counts (team has its own list, with ids).
    fn facet_values(&self, facet: &str) -> &[(String, i64)] {
        match facet {
            "severity" => &self.facets.severity,
            "kind" => &self.facets.kind,
            "status" => &self.facets.status,
            "when" => &self.facets.year,
            "service" => &self.facets.service,
            "tag" => &self.facets.tag,
            _ => &[],
        }
    }

    fn exact_limit(&self) -> String {
        group_digits(EXACT_LIMIT)
    }

    /// A count as shown: with thousands separators, and marked when it is
    /// an estimate.
    fn count(&self, n: &i64) -> String {
        if self.facets.estimated {
            format!("≈{}", group_digits(*n))
        } else {
            group_digits(*n)
        }
    }

    fn number(&self, hit: &Hit) -> String {
        display_number(hit.number)
    }

    fn sort_is(&self, name: &str) -> bool {
        self.params.sort == name || (self.params.sort.is_empty() && name == "relevance")
    }
}

async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<SearchParams>,
) -> Result<SearchPage, AppError> {
    let reader = user.reader();
    let mut filter = params.filter(state.config.time_zone);
    let sort = params.sort();
    let page = params.page.unwrap_or(1).clamp(1, MAX_PAGE);
    let words = query_words(&filter.text);
    // One transaction, its statements planned once per connection (see
    // `store::search::search`).
    let mut tx = store::planned(&state.db, store::Plans::Generic).await?;
    if let Some(service) = &filter.service {
        filter.service = Some(store::services::current_name(&mut *tx, service).await?);
    }
    let mut corrections = store::search::suggest_words(&mut *tx, &words).await?;
    let mut results = store::search::search(
        &mut tx,
        reader,
        &filter,
        sort,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    // The word list is shared by everyone, so a suggestion is offered only
    // when the reader may see a postmortem that has it. When nothing matched
    // and every word is required, the corrected search below shows that by
    // itself; otherwise each suggested word is checked.
    if results.facets.total > 0 || has_operators(&filter.text) {
        let mut seen = Vec::new();
        for (word, suggestion) in corrections {
            if store::search::any_visible(&mut *tx, reader, &suggestion).await? {
                seen.push((word, suggestion));
            }
        }
        corrections = seen;
    }
    let mut showing_for = None;
    let mut did_you_mean = None;
    if !corrections.is_empty() {
        let fixed = corrected(&filter.text, &corrections);
        if results.facets.total == 0 {
            let mut retry = filter.clone();
            retry.text = fixed.clone();
            let retried =
                store::search::search(&mut tx, reader, &retry, sort, PAGE_SIZE, 0).await?;
            if retried.facets.total > 0 {
                results = retried;
                filter = retry;
                showing_for = Some(fixed);
            }
        } else {
            did_you_mean = Some(fixed);
        }
    }
    // Fewer than a few postmortems have every word: rank those with all but
    // one of them too (those with every word still come first).
    let mut most_words = None;
    if results.facets.total < FEW
        && showing_for.is_none()
        && page == 1
        && let Some(most) = most_of(&filter.text)
    {
        let mut retry = filter.clone();
        retry.text = most;
        let retried = store::search::search(&mut tx, reader, &retry, sort, PAGE_SIZE, 0).await?;
        if retried.facets.total > results.facets.total {
            most_words = Some(results.facets.total);
            // Those with every word first, as they were ranked; then the rest.
            let every: Vec<i32> = results.hits.iter().map(|hit| hit.number).collect();
            let mut hits = std::mem::take(&mut results.hits);
            hits.extend(
                retried
                    .hits
                    .into_iter()
                    .filter(|hit| !every.contains(&hit.number)),
            );
            hits.truncate(usize::try_from(PAGE_SIZE).unwrap_or(20));
            results = store::search::Results { hits, ..retried };
        }
    }
    let pages = ((results.facets.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = if showing_for.is_some() { 1 } else { page };
    if results.hits.is_empty() && page > pages {
        // Past the last page (or the estimate): show the last one.
        results.hits = store::search::search(
            &mut tx,
            reader,
            &filter,
            sort,
            PAGE_SIZE,
            (pages - 1) * PAGE_SIZE,
        )
        .await?
        .hits;
    }
    tx.commit().await?;
    let page = page.min(pages);
    let zone = user.time_zone;
    let marks = SnippetQuery::new(&filter.text);
    Ok(SearchPage {
        layout: Layout::for_user(&user, Nav::Incidents),
        hits: results
            .hits
            .into_iter()
            .map(|hit| HitView {
                snippet: snippet(&hit.text, &marks),
                when: hit
                    .started_at
                    .map(|at| time::format_in(at, zone))
                    .unwrap_or_default(),
                hit,
            })
            .collect(),
        facets: results.facets,
        showing_for,
        did_you_mean,
        most_words,
        ranked: results.ranked,
        page,
        pages,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_reads_a_year_or_a_quarter() {
        assert_eq!(parse_when("2021"), (Some(2021), None));
        assert_eq!(parse_when("2021-Q3"), (Some(2021), Some(3)));
        assert_eq!(parse_when("2021-Q9"), (Some(2021), None));
        assert_eq!(parse_when("soon"), (None, None));
    }
}
