//! Archive search: full-text matches over each postmortem's weighted search
//! document, with the reader's permissions and the filters inside the
//! query, facet counts over the same matches, and spelling suggestions.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::incidents::Reader;
use crate::domain::{
    incident::{IncidentKind, Severity},
    postmortem::PostmortemStatus,
    quarter::Quarter,
    search::{has_words, may_have_phrase},
};

#[derive(Clone, Debug, Default)]
pub struct SearchFilter {
    /// Web-style query (quoted phrases, `-word`, `or`); empty lists everything.
    pub text: String,
    pub severity: Option<Severity>,
    pub kind: Option<IncidentKind>,
    pub status: Option<PostmortemStatus>,
    pub service: Option<String>,
    pub tag: Option<String>,
    pub team_id: Option<Uuid>,
    /// A participant's name (an account's or a typed one).
    pub participant: Option<String>,
    pub year: Option<i32>,
    /// 1 to 4, with `year`.
    pub quarter: Option<i32>,
    /// The organization's zone, in which years and quarters begin (as on
    /// the quarterly review).
    pub zone: chrono_tz::Tz,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchSort {
    #[default]
    Relevance,
    Newest,
    Oldest,
}

/// One result, with the text its snippet is cut from.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Hit {
    pub number: i32,
    pub title: String,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub status: PostmortemStatus,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    /// Summary, trigger and lessons.
    pub text: String,
    /// The review checklist: rules passed, of how many (unset until saved).
    pub checklist_passed: Option<i16>,
    pub checklist_total: Option<i16>,
    /// Readable only by its access list (this reader is on it).
    pub restricted: bool,
}

/// Counts of the matches by each filter's values.
#[derive(Clone, Debug, Default)]
pub struct Facets {
    pub total: i64,
    pub severity: Vec<(String, i64)>,
    pub kind: Vec<(String, i64)>,
    pub status: Vec<(String, i64)>,
    pub year: Vec<(String, i64)>,
    pub service: Vec<(String, i64)>,
    pub tag: Vec<(String, i64)>,
    pub team: Vec<(String, String, i64)>,
    /// The counts are estimated from a sample (many matches).
    pub estimated: bool,
}

/// A page of results with the counts of all of them.
#[derive(Clone, Debug, Default)]
pub struct Results {
    pub facets: Facets,
    pub hits: Vec<Hit>,
    /// Ordered by relevance (rather than by date).
    pub ranked: bool,
}

/// Where counts are taken: every entry, or one of the two samples (see the
/// `search_entries` migration for how postmortems are picked for them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Entries,
    /// Every entry, walked newest (or oldest) first: the text is checked
    /// on each entry in date order instead of through the text index.
    ByDate,
    /// One postmortem in 16.
    Sample,
    /// One postmortem in 128 (all of them in the sample too).
    FineSample,
}

impl Source {
    /// How many postmortems each entry of this source stands for.
    fn every(self) -> i64 {
        match self {
            Source::Entries | Source::ByDate => 1,
            Source::Sample => 16,
            Source::FineSample => 128,
        }
    }
}

/// Above this many matches (as the fine sample estimates them) counts are
/// estimated from the fine sample.
pub const FINE_LIMIT: i64 = 10_000;

/// Up to about this many matches, counts are exact and results ranked;
/// above, counts are estimated from the sample (each estimate resting on at
/// least 125 sampled postmortems) and results come newest first.
pub const EXACT_LIMIT: i64 = 2_000;

/// The columns of a [`Hit`], from `p` (postmortems) and `i` (incidents).
const HIT_COLUMNS: &str =
    "i.number, i.title, i.kind, i.severity, p.status, i.services, i.tags, i.started_at,
     p.summary || E'\n' || p.trigger || E'\n' || p.lessons AS text, p.checklist_passed, p.checklist_total,
     p.restricted";

/// Searches: the counts and one page of results.
///
/// The matches are counted on the fine sample, then on the sample, and only
/// when both say there are few, on every entry; so no query counts or ranks
/// more than a few thousand rows however large the archive. Many matches
/// are listed newest first through the date index instead of ranked.
///
/// Run it inside a [`super::planned`] transaction with generic plans: the
/// statements' plans do not depend on the words (each text query is
/// computed once per statement), and planning them for each search cost
/// more than running them.
pub async fn search(
    db: &mut PgConnection,
    reader: Reader,
    filter: &SearchFilter,
    sort: SearchSort,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Results> {
    for (source, most) in [
        (Source::FineSample, FINE_LIMIT),
        (Source::Sample, EXACT_LIMIT),
    ] {
        let (sampled, candidates) = sample_facets(&mut *db, reader, filter, source).await?;
        if candidates * source.every() > most {
            let hits = list_by_date(&mut *db, reader, filter, sort, limit, offset).await?;
            let facets = if sampled.total * source.every() > most {
                sampled.scaled(source.every())
            } else {
                // A phrase of common words: many candidates, few matches.
                sampled
                    .scaled(source.every())
                    .at_least(hits.len() as i64 + offset)
            };
            return Ok(Results {
                facets,
                hits,
                ranked: false,
            });
        }
        if candidates * source.every() <= EXACT_LIMIT * 3 / 2 {
            // Few enough to count exactly, without asking the sample: even
            // if the fine sample was unlucky and they are twice as many,
            // counting and ranking them costs about what the second probe
            // and a walk by date would (a few milliseconds).
            break;
        }
    }
    exact(db, reader, filter, sort, limit, offset).await
}

/// The text query as matched: web syntax, with each two-word phrase turned
/// into its word-pair lexeme (see the `search_pairs_keys` migration).
/// Computed once per statement (a scalar subquery), so that a plan made once
/// for any query does not compute it again for each row.
fn push_tsquery(query: &mut QueryBuilder<Postgres>, text: &str) {
    query
        .push("(SELECT search_query(")
        .push_bind(text.to_owned())
        .push("))");
}

/// ` WHERE ...`: the entries (alias `s`) the reader may see: published and
/// open to them (not restricted, or restricted to them), or any as an
/// admin, or as an author or reviewer.
fn push_visible(query: &mut QueryBuilder<Postgres>, reader: Reader) {
    query.push(" WHERE ((s.status = 'published' AND (s.audience IS NULL OR ");
    query.push_bind(reader.user_id);
    query.push(" = ANY (s.audience))) OR ");
    query.push_bind(reader.is_admin);
    query.push(" OR ");
    query.push_bind(reader.user_id);
    query.push(" = ANY (s.readers))");
}

/// ` AND ...` for the filters other than the text (alias `s`).
fn push_filters(query: &mut QueryBuilder<Postgres>, filter: &SearchFilter) {
    if let Some(severity) = filter.severity {
        query.push(" AND s.severity = ").push_bind(severity);
    }
    if let Some(kind) = filter.kind {
        query.push(" AND s.kind = ").push_bind(kind);
    }
    if let Some(status) = filter.status {
        query.push(" AND s.status = ").push_bind(status);
    }
    if let Some(service) = &filter.service {
        query
            .push(" AND s.services @> ARRAY[")
            .push_bind(service.clone())
            .push("]");
    }
    if let Some(tag) = &filter.tag {
        query
            .push(" AND s.tags @> ARRAY[")
            .push_bind(tag.clone())
            .push("]");
    }
    if let Some(team_id) = filter.team_id {
        query
            .push(" AND s.team_ids @> ARRAY[")
            .push_bind(team_id)
            .push("]::uuid[]");
    }
    if let Some(name) = &filter.participant {
        super::participants::push_named(query, "s.postmortem_id", name);
    }
    if let Some((from, until)) = filter.period() {
        query
            .push(" AND s.happened_at >= ")
            .push_bind(from)
            .push(" AND s.happened_at < ")
            .push_bind(until);
    }
}

/// `FROM ... WHERE ...`: the entries (alias `s`) of `source` the reader may
/// see that match the filter.
fn push_matches(
    query: &mut QueryBuilder<Postgres>,
    reader: Reader,
    filter: &SearchFilter,
    source: Source,
) {
    query.push(match source {
        Source::Entries | Source::ByDate => " FROM search_entries s",
        Source::Sample => " FROM search_sample s",
        Source::FineSample => " FROM search_fine_sample s",
    });
    push_visible(query, reader);
    if has_words(&filter.text) {
        // `IS TRUE` hides the match from the text index, so that a plan made
        // once for any query still walks the date index for a page of many
        // matches (it finds twenty in the first few dozen entries).
        query.push(if source == Source::ByDate {
            " AND (s.document @@ "
        } else {
            " AND s.document @@ "
        });
        push_tsquery(query, &filter.text);
        if source == Source::ByDate {
            query.push(") IS TRUE");
        }
    }
    push_filters(query, filter);
}

impl SearchFilter {
    /// The year or quarter filter as a range of instants: from its first
    /// midnight in the organization's zone to the next period's.
    fn period(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let year = self.year?;
        match self.quarter {
            Some(number) => {
                let quarter = Quarter::new(year, u32::try_from(number).ok()?)?;
                Some((quarter.starts_at(self.zone), quarter.ends_at(self.zone)))
            }
            None => {
                let first = Quarter::new(year, 1)?;
                let next_year = Quarter::new(year + 1, 1)?;
                Some((first.starts_at(self.zone), next_year.starts_at(self.zone)))
            }
        }
    }
}

/// `team_names`: every team's name by id, to name the team facet.
const TEAM_NAMES: &str =
    "COALESCE((SELECT json_object_agg(t.id, t.name) FROM teams t), '{}') AS team_names";

/// The facets of the matches in a sample, and how many entries of the
/// sample are candidates: for a phrase of three or more words, those with
/// all its words and word pairs (the index finds them without reading a
/// document; checking the word order does).
async fn sample_facets(
    db: &mut PgConnection,
    reader: Reader,
    filter: &SearchFilter,
    source: Source,
) -> sqlx::Result<(Facets, i64)> {
    let mut query = QueryBuilder::new("SELECT (SELECT string_agg(s.keys, E'\\n')");
    push_matches(&mut query, reader, filter, source);
    query.push(") AS keys, ");
    query.push(TEAM_NAMES);
    query.push(", ");
    if may_have_phrase(&filter.text) {
        // A phrase still checked on documents has candidates that are not
        // matches: those with all its words and pairs.
        query.push("(SELECT count(*)");
        let mut words_only = filter.clone();
        words_only.text = String::new();
        push_matches(&mut query, reader, &words_only, source);
        // Computed once, like the text query itself.
        query.push(" AND s.document @@ (SELECT search_words_of(search_query(");
        query.push_bind(filter.text.clone());
        query.push("))))");
    } else {
        query.push("NULL::bigint");
    }
    query.push(" AS candidates");
    let row: SampleRow = query.build_query_as().fetch_one(db).await?;
    let facets = Facets::from_keys(row.keys.as_deref(), row.team_names)?;
    let candidates = row.candidates.unwrap_or(facets.total).max(facets.total);
    Ok((facets, candidates))
}

#[derive(sqlx::FromRow)]
struct SampleRow {
    keys: Option<String>,
    team_names: serde_json::Value,
    candidates: Option<i64>,
}

/// The first `limit` matches after `offset` by date, through the date
/// index: cheap however many match.
async fn list_by_date(
    db: &mut PgConnection,
    reader: Reader,
    filter: &SearchFilter,
    sort: SearchSort,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<Hit>> {
    let order = if sort == SearchSort::Oldest {
        " ORDER BY happened_at, postmortem_id"
    } else {
        " ORDER BY happened_at DESC, postmortem_id DESC"
    };
    let mut query = QueryBuilder::new("WITH page AS (SELECT s.postmortem_id, s.happened_at");
    push_matches(&mut query, reader, filter, Source::ByDate);
    query.push(order);
    query
        .push(" LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    query.push(") SELECT ");
    query.push(HIT_COLUMNS);
    query.push(
        " FROM page JOIN postmortems p ON p.id = page.postmortem_id JOIN incidents i ON i.id = p.incident_id",
    );
    query.push(order);
    query.build_query_as().fetch_all(db).await
}

/// One row of [`exact`]: a hit unless the page is empty, and on the first
/// row the facet keys of every match.
#[derive(sqlx::FromRow)]
struct ExactRow {
    keys: Option<String>,
    team_names: Option<serde_json::Value>,
    number: Option<i32>,
    title: Option<String>,
    kind: Option<IncidentKind>,
    severity: Option<Severity>,
    status: Option<PostmortemStatus>,
    services: Option<Vec<String>>,
    tags: Option<Vec<String>>,
    started_at: Option<DateTime<Utc>>,
    text: Option<String>,
    checklist_passed: Option<i16>,
    checklist_total: Option<i16>,
    restricted: Option<bool>,
}

impl ExactRow {
    fn hit(self) -> Option<Hit> {
        Some(Hit {
            number: self.number?,
            title: self.title?,
            kind: self.kind?,
            severity: self.severity?,
            status: self.status?,
            services: self.services?,
            tags: self.tags?,
            started_at: self.started_at,
            text: self.text?,
            checklist_passed: self.checklist_passed,
            checklist_total: self.checklist_total,
            restricted: self.restricted?,
        })
    }
}

/// Few matches: counted exactly, and ranked by relevance (or sorted by
/// date), in one statement that reads each match once. The facets are
/// counted by the server from the matches' keys, sent once.
async fn exact(
    db: &mut PgConnection,
    reader: Reader,
    filter: &SearchFilter,
    sort: SearchSort,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Results> {
    let ranked = sort == SearchSort::Relevance && has_words(&filter.text);
    let order = match sort {
        _ if ranked => " ORDER BY x.rank DESC, x.happened_at DESC, x.postmortem_id DESC",
        SearchSort::Oldest => " ORDER BY x.happened_at, x.postmortem_id",
        _ => " ORDER BY x.happened_at DESC, x.postmortem_id DESC",
    };
    // One pass over the matches gathers their keys and the page's ids in
    // order; only the page is joined to incidents and postmortems.
    let mut query = QueryBuilder::new("WITH agg AS (SELECT string_agg(x.keys, E'\\n') AS keys, ");
    query.push(TEAM_NAMES);
    query.push(", (array_agg(x.postmortem_id");
    query.push(order);
    query.push("))[");
    query.push_bind(offset);
    query.push("::int + 1 : ");
    query.push_bind(offset + limit);
    query.push("::int] AS ids FROM (SELECT s.keys, s.postmortem_id, s.happened_at, ");
    if ranked {
        // Title, then summary, trigger and factors, then the other sections;
        // timeline and action items count for matching, not for rank. Ranked
        // by the query as typed: a phrase by its words in order. For words
        // that must all appear, ts_rank weighs how close together they
        // stand, so "connection pool" ranks a postmortem where they are
        // neighbours above one where they are paragraphs apart.
        query.push(
            "ts_rank('{0.1, 0.2, 0.4, 1.0}', s.ranking, (SELECT websearch_to_tsquery('english', ",
        );
        query.push_bind(filter.text.clone());
        query.push(")), 1)");
    } else {
        query.push("0::real");
    }
    query.push(" AS rank");
    push_matches(&mut query, reader, filter, Source::Entries);
    query.push(
        ") x) SELECT CASE WHEN hits.ord IS NULL OR hits.ord = 1 THEN agg.keys END AS keys,
                     CASE WHEN hits.ord IS NULL OR hits.ord = 1 THEN agg.team_names END AS team_names, hits.*
           FROM agg LEFT JOIN LATERAL (SELECT ",
    );
    query.push(HIT_COLUMNS);
    query.push(
        ", u.ord FROM unnest(agg.ids) WITH ORDINALITY AS u (id, ord)
           JOIN postmortems p ON p.id = u.id JOIN incidents i ON i.id = p.incident_id) hits ON true
         ORDER BY hits.ord",
    );
    let mut rows: Vec<ExactRow> = query.build_query_as().fetch_all(db).await?;
    let facets = match rows.first_mut() {
        Some(row) => Facets::from_keys(
            row.keys.take().as_deref(),
            row.team_names.take().unwrap_or_default(),
        )?,
        None => Facets::default(),
    };
    Ok(Results {
        facets,
        hits: rows.into_iter().filter_map(ExactRow::hit).collect(),
        ranked,
    })
}

/// Values shown for the service and tag facets, the most frequent first.
const TOP_VALUES: usize = 15;

impl Facets {
    /// Facets counted from facet keys, one a line (see the
    /// `search_pairs_keys` migration), teams named from a JSON object of
    /// names by id; each list in the order it is shown.
    fn from_keys(keys: Option<&str>, team_names: serde_json::Value) -> sqlx::Result<Self> {
        let names: HashMap<String, String> = serde_json::from_value(team_names)
            .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
        let mut counts: foldhash::HashMap<&str, i64> = foldhash::HashMap::default();
        for key in keys.unwrap_or_default().split('\n') {
            *counts.entry(key).or_default() += 1;
        }
        let mut facets = Facets::default();
        let add = |list: &mut Vec<(String, i64)>, value: &str, n: i64| match list
            .iter_mut()
            .find(|(known, _)| known == value)
        {
            Some((_, count)) => *count += n,
            None => list.push((value.to_owned(), n)),
        };
        for (key, n) in counts {
            let Some(facet) = key.chars().next() else {
                continue;
            };
            let value = &key[facet.len_utf8()..];
            match facet {
                '*' => {
                    // Severity, kind, status and year: one line per entry.
                    facets.total += n;
                    let mut parts = value.split(' ');
                    for list in [
                        &mut facets.severity,
                        &mut facets.kind,
                        &mut facets.status,
                        &mut facets.year,
                    ] {
                        if let Some(part) = parts.next() {
                            add(list, part, n);
                        }
                    }
                }
                'e' => facets.service.push((value.to_owned(), n)),
                'g' => facets.tag.push((value.to_owned(), n)),
                't' => {
                    if let Some(name) = names.get(value) {
                        facets.team.push((value.to_owned(), name.clone(), n));
                    }
                }
                _ => {}
            }
        }
        facets.severity.sort();
        facets.kind.sort();
        facets.status.sort();
        facets.year.sort_by(|a, b| b.0.cmp(&a.0));
        for list in [&mut facets.service, &mut facets.tag] {
            list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            list.truncate(TOP_VALUES);
        }
        facets
            .team
            .sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
        Ok(facets)
    }

    /// Sample counts scaled up to estimates of the whole, each rounded to
    /// two significant figures so that none looks exact.
    fn scaled(mut self, factor: i64) -> Self {
        let scale = |n: &mut i64| *n = round_to_two_figures(*n * factor);
        scale(&mut self.total);
        for list in [
            &mut self.severity,
            &mut self.kind,
            &mut self.status,
            &mut self.year,
            &mut self.service,
            &mut self.tag,
        ] {
            list.iter_mut().for_each(|(_, n)| scale(n));
        }
        self.team.iter_mut().for_each(|(_, _, n)| scale(n));
        self.estimated = true;
        self
    }

    /// An estimate never below what was actually found.
    fn at_least(mut self, found: i64) -> Self {
        self.total = self.total.max(found);
        self
    }
}

fn round_to_two_figures(n: i64) -> i64 {
    let mut unit = 1;
    while n / unit >= 100 {
        unit *= 10;
    }
    (n + unit / 2) / unit * unit
}

/// A postmortem like another one, for "similar incidents", with what the
/// two share: every suggestion has at least one shared service, tag,
/// theme or distinctive word.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Similar {
    pub number: i32,
    pub title: String,
    pub severity: Severity,
    pub started_at: Option<DateTime<Utc>>,
    /// Already linked to the postmortem being read.
    pub linked: bool,
    pub shared_services: Vec<String>,
    pub shared_tags: Vec<String>,
    /// Stems of the distinctive words both use (the page turns them back
    /// into the words it shows).
    pub shared_words: Vec<String>,
    /// Names of themes both have a factor linked to.
    pub shared_themes: Vec<String>,
}

/// For each word that occurs nowhere in the archive, the closest word that
/// does (by trigram similarity), if any is close enough.
pub async fn suggest_words(
    db: impl PgExecutor<'_>,
    words: &[String],
) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT w AS "word!",
                  (SELECT s.word FROM search_words s WHERE s.word % w
                   ORDER BY similarity(s.word, w) DESC, s.word LIMIT 1) AS suggestion
           FROM unnest($1::text[]) AS w
           WHERE NOT EXISTS (SELECT 1 FROM search_words s WHERE s.word = w)"#,
        words
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.word, row.suggestion?)))
        .collect())
}

/// Whether any postmortem the reader may see has every word of `text`: a
/// spelling suggestion is offered only then, so that the shared word list
/// never reveals a word of a draft, of a restricted postmortem, or one
/// since removed.
pub async fn any_visible(
    db: impl PgExecutor<'_>,
    reader: Reader,
    text: &str,
) -> sqlx::Result<bool> {
    let mut query = QueryBuilder::new("SELECT EXISTS (SELECT 1 FROM search_entries s");
    push_visible(&mut query, reader);
    query.push(" AND s.document @@ ");
    push_tsquery(&mut query, text);
    query.push(")");
    query.build_query_scalar().fetch_one(db).await
}

/// Postmortems considered for "similar incidents": the newest this many
/// (all of them in most archives), so that a large archive costs no more
/// than a small one. Reading them through the date index and their ranking
/// vectors (kept in the row) takes a few milliseconds.
const SIMILAR_CANDIDATES: i64 = 1000;

/// The postmortems most like `postmortem_id` that the reader may see, by
/// what they share: services, tags, themes, and distinctive words of the
/// title, summary, trigger and factors. A word is distinctive when at most
/// a tenth of the candidates (and at least one other) use it, and is a
/// word rather than a number; a word every postmortem uses ("incident",
/// "service") says nothing. A shared word weighs ln(N / df), three times
/// that when both titles use it; a service 3, a theme 4, a tag 1. A
/// postmortem sharing none of these is never suggested.
pub async fn list_similar(
    db: impl PgExecutor<'_>,
    reader: Reader,
    postmortem_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<Similar>> {
    let mut query = QueryBuilder::new(
        "WITH me AS (
           SELECT s.postmortem_id, s.incident_id, s.services, s.tags,
                  ARRAY(SELECT lexeme FROM unnest(ts_filter(s.ranking, '{a}'))
                        UNION
                        SELECT lexeme FROM (SELECT lexeme FROM unnest(ts_filter(s.ranking, '{b}'))
                                            ORDER BY cardinality(positions) DESC, lexeme LIMIT 32) top) AS lexemes,
                  ts_filter(s.ranking, '{a}') AS title,
                  ARRAY(SELECT DISTINCT tf.theme_id FROM theme_factors tf
                        JOIN contributing_factors f ON f.id = tf.factor_id
                        WHERE f.postmortem_id = s.postmortem_id AND tf.state = 'linked') AS themes
           FROM search_entries s WHERE s.postmortem_id = ",
    );
    query.push_bind(postmortem_id);
    query.push(
        "), pool AS (
           SELECT * FROM search_entries ORDER BY happened_at DESC, postmortem_id DESC LIMIT ",
    );
    query.push_bind(SIMILAR_CANDIDATES);
    query.push(
        "), size AS (SELECT count(*) AS n FROM pool
         ), rare AS (
           SELECT w.lexeme, ln((size.n + 1.0) / (w.df + 1)) AS weight,
                  me.title @@ quote_literal(w.lexeme)::tsquery AS in_title
           FROM me, size, LATERAL (
             SELECT l AS lexeme,
                    (SELECT count(*) FROM pool p
                     WHERE p.postmortem_id <> me.postmortem_id AND p.ranking @@ quote_literal(l)::tsquery) AS df
             FROM unnest(me.lexemes) AS l) w
           -- Numbers and fragments (5, the re of re-run) say nothing.
           WHERE w.df BETWEEN 1 AND GREATEST(3, size.n / 10) AND w.lexeme ~ '^[a-z][a-z0-9]{2,}'
         ), candidates AS (
           SELECT s.postmortem_id, s.incident_id, s.happened_at,
                  ARRAY(SELECT unnest(s.services) INTERSECT SELECT unnest(me.services) ORDER BY 1) AS shared_services,
                  ARRAY(SELECT unnest(s.tags) INTERSECT SELECT unnest(me.tags) ORDER BY 1) AS shared_tags,
                  ARRAY(SELECT r.lexeme FROM rare r WHERE s.ranking @@ quote_literal(r.lexeme)::tsquery
                        ORDER BY r.weight DESC, r.lexeme) AS shared_words,
                  COALESCE((SELECT sum(r.weight * CASE WHEN r.in_title
                                 AND ts_filter(s.ranking, '{a}') @@ quote_literal(r.lexeme)::tsquery
                                 THEN 3 ELSE 1 END)
                            FROM rare r WHERE s.ranking @@ quote_literal(r.lexeme)::tsquery), 0) AS word_score,
                  ARRAY(SELECT t.name FROM themes t WHERE t.id = ANY (me.themes) AND EXISTS (
                          SELECT 1 FROM theme_factors tf JOIN contributing_factors f ON f.id = tf.factor_id
                          WHERE tf.theme_id = t.id AND tf.state = 'linked' AND f.postmortem_id = s.postmortem_id)
                        ORDER BY lower(t.name)) AS shared_themes
           FROM pool s, me",
    );
    push_visible(&mut query, reader);
    query.push(
        " AND s.postmortem_id <> me.postmortem_id
         ), best AS (
           SELECT c.*, c.word_score + 3.0 * cardinality(c.shared_services)
                       + 1.0 * cardinality(c.shared_tags) + 4.0 * cardinality(c.shared_themes) AS score
           FROM candidates c
           WHERE cardinality(c.shared_words) + cardinality(c.shared_services)
                 + cardinality(c.shared_tags) + cardinality(c.shared_themes) > 0
           ORDER BY score DESC, c.happened_at DESC LIMIT ",
    );
    query.push_bind(limit);
    query.push(
        ")
         SELECT i.number, i.title, i.severity, i.started_at,
                EXISTS (SELECT 1 FROM incident_links l
                        WHERE (l.incident_id = me.incident_id AND l.other_id = i.id)
                           OR (l.other_id = me.incident_id AND l.incident_id = i.id)) AS linked,
                best.shared_services, best.shared_tags, best.shared_words, best.shared_themes
         FROM best JOIN incidents i ON i.id = best.incident_id, me
         ORDER BY best.score DESC, best.happened_at DESC",
    );
    query.build_query_as().fetch_all(db).await
}

/// Turns off the per-statement refresh of search documents until the
/// transaction ends; the caller then calls [`refresh`] once for what it
/// wrote (bulk imports and seeds).
pub async fn defer_refresh(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query_scalar!("SELECT set_config('debrief.search_deferred', 'on', true)")
        .fetch_one(db)
        .await?;
    Ok(())
}

/// Recomputes the search documents of these postmortems.
pub async fn refresh(db: impl PgExecutor<'_>, postmortem_ids: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query_scalar!("SELECT refresh_search($1)::text", postmortem_ids)
        .fetch_one(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_and_quarters_begin_at_midnight_in_the_organizations_zone() {
        let filter = SearchFilter {
            year: Some(2026),
            quarter: Some(4),
            zone: chrono_tz::Europe::Berlin,
            ..SearchFilter::default()
        };
        let (from, until) = filter.period().expect("a period");
        assert_eq!(from.to_rfc3339(), "2026-09-30T22:00:00+00:00");
        assert_eq!(until.to_rfc3339(), "2026-12-31T23:00:00+00:00");
        let year = SearchFilter {
            quarter: None,
            ..filter
        };
        let (from, until) = year.period().expect("a period");
        assert_eq!(from.to_rfc3339(), "2025-12-31T23:00:00+00:00");
        assert_eq!(until.to_rfc3339(), "2026-12-31T23:00:00+00:00");
    }

    #[test]
    fn facets_are_counted_from_the_keys_of_every_match() {
        let keys = "*sev1 incident published 2024\necheckout\nedb\ngdns\ntteam-a\n\
                    *sev2 incident draft 2025\necheckout\ntunknown\n\
                    *sev2 incident published 2025";
        let names = serde_json::json!({ "team-a": "Payments" });
        let facets = Facets::from_keys(Some(keys), names).expect("facets");
        assert_eq!(facets.total, 3);
        assert_eq!(
            facets.severity,
            vec![("sev1".to_owned(), 1), ("sev2".to_owned(), 2)]
        );
        assert_eq!(facets.kind, vec![("incident".to_owned(), 3)]);
        assert_eq!(
            facets.status,
            vec![("draft".to_owned(), 1), ("published".to_owned(), 2)]
        );
        assert_eq!(
            facets.year,
            vec![("2025".to_owned(), 2), ("2024".to_owned(), 1)]
        );
        assert_eq!(
            facets.service,
            vec![("checkout".to_owned(), 2), ("db".to_owned(), 1)]
        );
        assert_eq!(facets.tag, vec![("dns".to_owned(), 1)]);
        // A team that no longer exists is not shown.
        assert_eq!(
            facets.team,
            vec![("team-a".to_owned(), "Payments".to_owned(), 1)]
        );
        assert!(!facets.estimated);
    }

    #[test]
    fn no_matches_have_no_facets() {
        let facets = Facets::from_keys(None, serde_json::json!({})).expect("facets");
        assert_eq!(facets.total, 0);
        assert!(facets.severity.is_empty() && facets.team.is_empty());
    }
}
