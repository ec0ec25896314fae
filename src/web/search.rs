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
    error::urlencode,
    layout::{Layout, Nav},
    session::CurrentUser,
};
use crate::{
    domain::{
        incident::{IncidentKind, Severity, display_number},
        postmortem::PostmortemStatus,
        search::{corrected, query_words},
        time,
    },
    store::{
        self,
        search::{Facets, Hit, MARK_END, MARK_START, RANK_LIMIT, SearchFilter, SearchSort},
    },
};

/// Results per page.
const PAGE_SIZE: i64 = 20;

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
    /// `2021` or `2021-Q3`.
    #[serde(default)]
    when: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: Option<i64>,
}

impl SearchParams {
    fn filter(&self) -> SearchFilter {
        let (year, quarter) = parse_when(&self.when);
        SearchFilter {
            text: self.q.trim().chars().take(500).collect(),
            severity: Severity::parse(&self.severity),
            kind: IncidentKind::parse(&self.kind),
            status: PostmortemStatus::parse(&self.status),
            service: Some(self.service.clone()).filter(|s| !s.is_empty()),
            tag: Some(self.tag.clone()).filter(|s| !s.is_empty()),
            team_id: uuid::Uuid::parse_str(&self.team).ok(),
            year,
            quarter,
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
    /// Escaped text with `<mark>` around the matched words.
    snippet_html: String,
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
            ("when", p.when.as_str()),
            ("sort", p.sort.as_str()),
        ];
        let query: Vec<String> = pairs
            .iter()
            .map(|(key, current)| (*key, if *key == name { value } else { current }))
            .filter(|(_, value)| !value.is_empty())
            .map(|(key, value)| format!("{key}={}", urlencode(value)))
            .collect();
        format!("/search?{}", query.join("&"))
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

    fn rank_limit(&self) -> i64 {
        RANK_LIMIT
    }

    fn number(&self, hit: &Hit) -> String {
        display_number(hit.number)
    }

    fn sort_is(&self, name: &str) -> bool {
        self.params.sort == name || (self.params.sort.is_empty() && name == "relevance")
    }
}

/// Escapes the snippet, then turns the match marks into `<mark>`.
fn snippet_html(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len() + 16);
    for c in snippet.chars() {
        match c {
            MARK_START => out.push_str("<mark>"),
            MARK_END => out.push_str("</mark>"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<SearchParams>,
) -> Result<SearchPage, AppError> {
    let reader = user.reader();
    let mut filter = params.filter();
    let mut facets = store::search::count_facets(&state.db, reader, &filter).await?;
    let corrections = store::search::suggest_words(&state.db, &query_words(&filter.text)).await?;
    let mut showing_for = None;
    let mut did_you_mean = None;
    if !corrections.is_empty() {
        let fixed = corrected(&filter.text, &corrections);
        if facets.total == 0 {
            let mut retry = filter.clone();
            retry.text = fixed.clone();
            let retried = store::search::count_facets(&state.db, reader, &retry).await?;
            if retried.total > 0 {
                facets = retried;
                filter = retry;
                showing_for = Some(fixed);
            }
        } else {
            did_you_mean = Some(fixed);
        }
    }
    let page = params.page.unwrap_or(1).max(1);
    let pages = ((facets.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let ranked = !filter.text.trim().is_empty() && facets.total <= RANK_LIMIT;
    let hits = store::search::list_hits(
        &state.db,
        reader,
        &filter,
        params.sort(),
        ranked,
        PAGE_SIZE,
        (page.min(pages) - 1) * PAGE_SIZE,
    )
    .await?;
    let zone = user.time_zone;
    Ok(SearchPage {
        layout: Layout::for_user(&user, Nav::Incidents),
        hits: hits
            .into_iter()
            .map(|hit| HitView {
                snippet_html: snippet_html(&hit.snippet),
                when: hit
                    .started_at
                    .map(|at| time::format_in(at, zone))
                    .unwrap_or_default(),
                hit,
            })
            .collect(),
        facets,
        showing_for,
        did_you_mean,
        ranked,
        page: page.min(pages),
        pages,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_escaped_before_the_marks_go_in() {
        let snippet = format!("<script>x</script> {MARK_START}KIAM{MARK_END} & more");
        assert_eq!(
            snippet_html(&snippet),
            "&lt;script&gt;x&lt;/script&gt; <mark>KIAM</mark> &amp; more"
        );
    }

    #[test]
    fn when_reads_a_year_or_a_quarter() {
        assert_eq!(parse_when("2021"), (Some(2021), None));
        assert_eq!(parse_when("2021-Q3"), (Some(2021), Some(3)));
        assert_eq!(parse_when("2021-Q9"), (Some(2021), None));
        assert_eq!(parse_when("soon"), (None, None));
    }
}
