//! Archive search: full-text matches over each postmortem's weighted search
//! document, with the reader's permissions and the filters inside the
//! query, facet counts over the same matches, and spelling suggestions.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use super::incidents::{IncidentFilters, Reader, push_incident_filters, push_visible_to};
use crate::domain::{
    incident::{IncidentKind, Severity},
    postmortem::PostmortemStatus,
};

/// Above this many matches results are ordered by date instead of ranked:
/// ranking tens of thousands of documents per query costs too much.
pub const RANK_LIMIT: i64 = 2000;

/// Marks around matched words in snippets; replaced by `<mark>` after the
/// snippet is escaped, so document text never reaches the page as HTML.
pub const MARK_START: char = '\u{1}';
pub const MARK_END: char = '\u{2}';

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
    pub year: Option<i32>,
    /// 1 to 4, with `year`.
    pub quarter: Option<i32>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchSort {
    #[default]
    Relevance,
    Newest,
    Oldest,
}

/// One result, with its snippet (marks as [`MARK_START`] / [`MARK_END`]).
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
    pub snippet: String,
}

/// Counts of the matches by each filter's values.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct Facets {
    pub total: i64,
    pub severity: Vec<(String, i64)>,
    pub kind: Vec<(String, i64)>,
    pub status: Vec<(String, i64)>,
    pub year: Vec<(String, i64)>,
    pub service: Vec<(String, i64)>,
    pub tag: Vec<(String, i64)>,
    pub team: Vec<(String, String, i64)>,
}

/// The matching postmortems the reader may see, as a CTE named `m`.
fn push_matches(query: &mut QueryBuilder<Postgres>, reader: Reader, filter: &SearchFilter) {
    query.push("WITH q AS (SELECT websearch_to_tsquery('english', ");
    query.push_bind(filter.text.clone());
    query.push(
        ") AS query),
         m AS MATERIALIZED (
           SELECT p.id, i.id AS incident_id, i.number, i.title, i.kind, i.severity, p.status, i.services, i.tags,
                  i.started_at
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id, q
           WHERE",
    );
    push_visible_to(query, reader);
    query.push(" AND (numnode(q.query) = 0 OR p.search_document @@ q.query)");
    push_incident_filters(
        query,
        IncidentFilters {
            severity: filter.severity,
            kind: filter.kind,
            status: filter.status,
            service: filter.service.as_deref(),
            team_id: filter.team_id,
        },
    );
    if let Some(tag) = &filter.tag {
        query
            .push(" AND ")
            .push_bind(tag.clone())
            .push(" = ANY (i.tags)");
    }
    if let Some(year) = filter.year {
        query
            .push(" AND extract(year FROM i.started_at AT TIME ZONE 'UTC') = ")
            .push_bind(year);
        if let Some(quarter) = filter.quarter {
            query
                .push(" AND extract(quarter FROM i.started_at AT TIME ZONE 'UTC') = ")
                .push_bind(quarter);
        }
    }
    query.push(")");
}

/// The total and the facet counts, in one round trip.
pub async fn count_facets(
    db: impl PgExecutor<'_>,
    reader: Reader,
    filter: &SearchFilter,
) -> sqlx::Result<Facets> {
    let mut query = QueryBuilder::new("");
    push_matches(&mut query, reader, filter);
    query.push(
        " SELECT json_build_object(
            'total', (SELECT count(*) FROM m),
            'severity', (SELECT COALESCE(json_agg(json_build_array(v, n) ORDER BY v), '[]')
                         FROM (SELECT severity::text AS v, count(*) AS n FROM m GROUP BY 1) s),
            'kind', (SELECT COALESCE(json_agg(json_build_array(v, n) ORDER BY v), '[]')
                     FROM (SELECT kind::text AS v, count(*) AS n FROM m GROUP BY 1) s),
            'status', (SELECT COALESCE(json_agg(json_build_array(v, n) ORDER BY v), '[]')
                       FROM (SELECT status::text AS v, count(*) AS n FROM m GROUP BY 1) s),
            'year', (SELECT COALESCE(json_agg(json_build_array(v, n) ORDER BY v DESC), '[]')
                     FROM (SELECT COALESCE(extract(year FROM started_at AT TIME ZONE 'UTC')::int::text, 'unknown') AS v,
                                  count(*) AS n FROM m GROUP BY 1) s),
            'service', (SELECT COALESCE(json_agg(json_build_array(v, n) ORDER BY n DESC, v), '[]')
                        FROM (SELECT v, count(*) AS n FROM m, unnest(m.services) AS v GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 15) s),
            'tag', (SELECT COALESCE(json_agg(json_build_array(v, n) ORDER BY n DESC, v), '[]')
                    FROM (SELECT v, count(*) AS n FROM m, unnest(m.tags) AS v GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 15) s),
            'team', (SELECT COALESCE(json_agg(json_build_array(id, name, n) ORDER BY n DESC, name), '[]')
                     FROM (SELECT t.id::text AS id, t.name, count(*) AS n FROM m
                           JOIN incident_teams it ON it.incident_id = m.incident_id JOIN teams t ON t.id = it.team_id
                           GROUP BY 1, 2) s))",
    );
    let value: serde_json::Value = query.build_query_scalar().fetch_one(db).await?;
    serde_json::from_value(value).map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

/// One page of results. `ranked` says whether to order by relevance (only
/// sensible when the match set is small, see [`RANK_LIMIT`]).
pub async fn list_hits(
    db: impl PgExecutor<'_>,
    reader: Reader,
    filter: &SearchFilter,
    sort: SearchSort,
    ranked: bool,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<Hit>> {
    let mut query = QueryBuilder::new("");
    push_matches(&mut query, reader, filter);
    let rank = sort == SearchSort::Relevance && ranked;
    // The document is read only to rank, and ranking only for small match sets.
    query.push(if rank {
        ", page AS (SELECT m.*, d.search_document FROM m JOIN postmortems d ON d.id = m.id, q
           ORDER BY ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', d.search_document, q.query, 1) DESC, m.started_at DESC NULLS LAST"
    } else if sort == SearchSort::Oldest {
        ", page AS (SELECT m.* FROM m ORDER BY m.started_at ASC NULLS LAST, m.number"
    } else {
        ", page AS (SELECT m.* FROM m ORDER BY m.started_at DESC NULLS LAST, m.number DESC"
    });
    query
        .push(" LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    query.push(
        ")
         SELECT page.number, page.title, page.kind, page.severity, page.status, page.services, page.tags, page.started_at,
                CASE WHEN numnode(q.query) = 0 THEN left(p.summary, 240)
                     ELSE ts_headline('english',
                            p.summary || ' ' || p.trigger || ' ' || p.lessons || ' ' || p.other_notes, q.query,
                            'StartSel=\u{1}, StopSel=\u{2}, MaxWords=28, MinWords=10, MaxFragments=2, FragmentDelimiter=\" … \"')
                END AS snippet
         FROM page JOIN postmortems p ON p.id = page.id, q",
    );
    query.push(if rank {
        " ORDER BY ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', page.search_document, q.query, 1) DESC, page.started_at DESC NULLS LAST"
    } else if sort == SearchSort::Oldest {
        " ORDER BY page.started_at ASC NULLS LAST, page.number"
    } else {
        " ORDER BY page.started_at DESC NULLS LAST, page.number DESC"
    });
    query.build_query_as().fetch_all(db).await
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

/// A postmortem like another one, for "similar incidents".
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Similar {
    pub number: i32,
    pub title: String,
    pub severity: Severity,
    pub started_at: Option<DateTime<Utc>>,
    /// Already linked to the postmortem being read.
    pub linked: bool,
}

/// The postmortems most like `postmortem_id` that the reader may see: by
/// the words of its title, summary, trigger and factors, and by shared
/// services and tags.
pub async fn list_similar(
    db: impl PgExecutor<'_>,
    reader: Reader,
    postmortem_id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<Similar>> {
    let mut query = QueryBuilder::new(
        "WITH me AS (
           SELECT p.id, i.id AS incident_id, i.services, i.tags,
                  (SELECT to_tsquery('english', string_agg(quote_literal(w.lexeme), ' | '))
                   FROM (SELECT lexeme FROM unnest(ts_filter(p.search_document, '{a,b}'))
                         ORDER BY cardinality(positions) DESC, lexeme LIMIT 24) w) AS query
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE p.id = ",
    );
    query.push_bind(postmortem_id);
    query.push(
        ")
         SELECT i.number, i.title, i.severity, i.started_at,
                EXISTS (SELECT 1 FROM incident_links l
                        WHERE (l.incident_id = me.incident_id AND l.other_id = i.id)
                           OR (l.other_id = me.incident_id AND l.incident_id = i.id)) AS linked
         FROM me, postmortems p JOIN incidents i ON i.id = p.incident_id
         WHERE p.id <> me.id AND me.query IS NOT NULL
           AND (p.search_document @@ me.query OR i.services && me.services OR i.tags && me.tags) AND",
    );
    push_visible_to(&mut query, reader);
    query.push(
        " ORDER BY ts_rank('{0.1, 0.2, 0.4, 1.0}', p.search_document, me.query, 1)
                   + 0.05 * cardinality(ARRAY(SELECT unnest(i.services) INTERSECT SELECT unnest(me.services)))
                   + 0.03 * cardinality(ARRAY(SELECT unnest(i.tags) INTERSECT SELECT unnest(me.tags))) DESC,
                   i.started_at DESC NULLS LAST
           LIMIT ",
    );
    query.push_bind(limit);
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
