//! Figures across incidents, per quarter: incidents by severity, time to
//! detect and to resolve as distributions (median and 90th percentile,
//! never a mean), factor categories and themes; and, for one quarter, the
//! same by team and by service. They count every incident, restricted ones
//! included, and name none: only quarters, severities, categories, themes,
//! teams and services.
//!
//! Quarters are those of the organization's zone. Times are in minutes;
//! an incident counts towards a time only when both ends are known and in
//! order.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Which incidents: all, one team's, or one service's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    pub team_id: Option<Uuid>,
    pub service: Option<String>,
}

/// A distribution of durations, in minutes.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    pub count: i64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// One quarter's incidents.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuarterFigures {
    /// `2026-Q4`.
    pub quarter: String,
    pub incidents: i64,
    /// Incidents of sev1 to sev4, in that order.
    pub severities: [i64; 4],
    pub detect: Spread,
    pub resolve: Spread,
}

pub async fn by_quarter(
    db: impl PgExecutor<'_>,
    scope: &Scope,
    zone: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<Vec<QuarterFigures>> {
    let rows = sqlx::query!(
        r#"WITH chosen AS (
               SELECT to_char(i.started_at AT TIME ZONE $1, 'YYYY-"Q"Q') AS quarter, i.severity,
                      CASE WHEN i.detected_at >= i.started_at
                           THEN extract(epoch FROM i.detected_at - i.started_at)::float8 / 60 END AS detect,
                      CASE WHEN i.resolved_at >= i.started_at
                           THEN extract(epoch FROM i.resolved_at - i.started_at)::float8 / 60 END AS resolve
               FROM incidents i
               WHERE i.started_at >= $2 AND i.started_at < $3
                 AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM incident_teams t
                                                  WHERE t.incident_id = i.id AND t.team_id = $4))
                 AND ($5::text IS NULL OR i.services @> ARRAY[$5]))
           SELECT quarter AS "quarter!", count(*) AS "incidents!",
                  count(*) FILTER (WHERE severity = 'sev1') AS "sev1!",
                  count(*) FILTER (WHERE severity = 'sev2') AS "sev2!",
                  count(*) FILTER (WHERE severity = 'sev3') AS "sev3!",
                  count(*) FILTER (WHERE severity = 'sev4') AS "sev4!",
                  count(detect) AS "detect_n!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY detect) AS detect_p50,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY detect) AS detect_p90,
                  count(resolve) AS "resolve_n!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY resolve) AS resolve_p50,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY resolve) AS resolve_p90
           FROM chosen GROUP BY quarter ORDER BY quarter"#,
        zone,
        from,
        until,
        scope.team_id,
        scope.service
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| QuarterFigures {
            quarter: r.quarter,
            incidents: r.incidents,
            severities: [r.sev1, r.sev2, r.sev3, r.sev4],
            detect: Spread {
                count: r.detect_n,
                median: r.detect_p50,
                p90: r.detect_p90,
            },
            resolve: Spread {
                count: r.resolve_n,
                median: r.resolve_p50,
                p90: r.resolve_p90,
            },
        })
        .collect())
}

/// How many incidents of a quarter had a factor of a category (or a
/// factor linked to a theme).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Tally {
    pub quarter: String,
    /// A category's slug, or a theme's slug.
    pub key: String,
    /// A theme's name (empty for categories, which the taxonomy names).
    pub name: String,
    pub incidents: i64,
}

pub async fn categories_by_quarter(
    db: impl PgExecutor<'_>,
    scope: &Scope,
    zone: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<Vec<Tally>> {
    sqlx::query_as!(
        Tally,
        r#"SELECT to_char(i.started_at AT TIME ZONE $1, 'YYYY-"Q"Q') AS "quarter!", c AS "key!", '' AS "name!",
                  count(DISTINCT i.id) AS "incidents!"
           FROM incidents i JOIN postmortems p ON p.incident_id = i.id
           JOIN contributing_factors f ON f.postmortem_id = p.id, unnest(f.categories) AS c
           WHERE i.started_at >= $2 AND i.started_at < $3
             AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM incident_teams t
                                              WHERE t.incident_id = i.id AND t.team_id = $4))
             AND ($5::text IS NULL OR i.services @> ARRAY[$5])
           GROUP BY 1, 2 ORDER BY 1, 2"#,
        zone,
        from,
        until,
        scope.team_id,
        scope.service
    )
    .fetch_all(db)
    .await
}

pub async fn themes_by_quarter(
    db: impl PgExecutor<'_>,
    scope: &Scope,
    zone: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> sqlx::Result<Vec<Tally>> {
    sqlx::query_as!(
        Tally,
        r#"SELECT to_char(i.started_at AT TIME ZONE $1, 'YYYY-"Q"Q') AS "quarter!", t.slug AS "key!", t.name AS "name!",
                  count(DISTINCT i.id) AS "incidents!"
           FROM theme_factors tf JOIN themes t ON t.id = tf.theme_id
           JOIN contributing_factors f ON f.id = tf.factor_id
           JOIN postmortems p ON p.id = f.postmortem_id JOIN incidents i ON i.id = p.incident_id
           WHERE tf.state = 'linked' AND i.started_at >= $2 AND i.started_at < $3
             AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM incident_teams it
                                              WHERE it.incident_id = i.id AND it.team_id = $4))
             AND ($5::text IS NULL OR i.services @> ARRAY[$5])
           GROUP BY 1, 2, 3 ORDER BY 1, 2"#,
        zone,
        from,
        until,
        scope.team_id,
        scope.service
    )
    .fetch_all(db)
    .await
}

/// One team's or one service's incidents in a period.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Breakdown {
    pub name: String,
    pub incidents: i64,
    pub detect: Spread,
    pub resolve: Spread,
    /// The category most of its incidents had a factor of, and how many.
    pub top_category: Option<String>,
}

/// Per team, for incidents started in [from, until): the teams with the
/// most incidents first.
pub async fn by_team(
    db: impl PgExecutor<'_>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Breakdown>> {
    let rows = sqlx::query!(
        r#"WITH chosen AS (
               SELECT tm.name, i.id,
                      CASE WHEN i.detected_at >= i.started_at
                           THEN extract(epoch FROM i.detected_at - i.started_at)::float8 / 60 END AS detect,
                      CASE WHEN i.resolved_at >= i.started_at
                           THEN extract(epoch FROM i.resolved_at - i.started_at)::float8 / 60 END AS resolve
               FROM incidents i JOIN incident_teams it ON it.incident_id = i.id JOIN teams tm ON tm.id = it.team_id
               WHERE i.started_at >= $1 AND i.started_at < $2)
           SELECT c.name AS "name!", count(*) AS "incidents!",
                  count(detect) AS "detect_n!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY detect) AS detect_p50,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY detect) AS detect_p90,
                  count(resolve) AS "resolve_n!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY resolve) AS resolve_p50,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY resolve) AS resolve_p90,
                  (SELECT x.cat FROM (SELECT cat, count(DISTINCT ch.id) AS n
                                      FROM chosen ch JOIN postmortems p ON p.incident_id = ch.id
                                      JOIN contributing_factors f ON f.postmortem_id = p.id, unnest(f.categories) AS cat
                                      WHERE ch.name = c.name GROUP BY cat ORDER BY n DESC, cat LIMIT 1) x) AS top_category
           FROM chosen c GROUP BY c.name ORDER BY count(*) DESC, c.name LIMIT $3"#,
        from,
        until,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Breakdown {
            name: r.name,
            incidents: r.incidents,
            detect: Spread {
                count: r.detect_n,
                median: r.detect_p50,
                p90: r.detect_p90,
            },
            resolve: Spread {
                count: r.resolve_n,
                median: r.resolve_p50,
                p90: r.resolve_p90,
            },
            top_category: r.top_category,
        })
        .collect())
}

/// Per service, for incidents started in [from, until) (of one team, if
/// given): the services with the most incidents first.
pub async fn by_service(
    db: impl PgExecutor<'_>,
    team_id: Option<Uuid>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Breakdown>> {
    let rows = sqlx::query!(
        r#"WITH chosen AS (
               SELECT s AS name, i.id,
                      CASE WHEN i.detected_at >= i.started_at
                           THEN extract(epoch FROM i.detected_at - i.started_at)::float8 / 60 END AS detect,
                      CASE WHEN i.resolved_at >= i.started_at
                           THEN extract(epoch FROM i.resolved_at - i.started_at)::float8 / 60 END AS resolve
               FROM incidents i, unnest(i.services) AS s
               WHERE i.started_at >= $1 AND i.started_at < $2
                 AND ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM incident_teams t
                                                  WHERE t.incident_id = i.id AND t.team_id = $4)))
           SELECT c.name AS "name!", count(*) AS "incidents!",
                  count(detect) AS "detect_n!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY detect) AS detect_p50,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY detect) AS detect_p90,
                  count(resolve) AS "resolve_n!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY resolve) AS resolve_p50,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY resolve) AS resolve_p90,
                  (SELECT x.cat FROM (SELECT cat, count(DISTINCT ch.id) AS n
                                      FROM chosen ch JOIN postmortems p ON p.incident_id = ch.id
                                      JOIN contributing_factors f ON f.postmortem_id = p.id, unnest(f.categories) AS cat
                                      WHERE ch.name = c.name GROUP BY cat ORDER BY n DESC, cat LIMIT 1) x) AS top_category
           FROM chosen c GROUP BY c.name ORDER BY count(*) DESC, c.name LIMIT $3"#,
        from,
        until,
        limit,
        team_id
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Breakdown {
            name: r.name,
            incidents: r.incidents,
            detect: Spread {
                count: r.detect_n,
                median: r.detect_p50,
                p90: r.detect_p90,
            },
            resolve: Spread {
                count: r.resolve_n,
                median: r.resolve_p50,
                p90: r.resolve_p90,
            },
            top_category: r.top_category,
        })
        .collect())
}
