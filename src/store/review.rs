//! The quarterly review: its figures, the items waiting for a decision,
//! the decisions, and the snapshots of closed quarters.
//!
//! Figures count every action item; the tables that name items, incidents
//! or postmortems show only published ones, whose text everyone may read.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::{
    domain::{action::ActionStatus, incident::Severity, quarter::Quarter, review::Decision},
    jobs::sweeper::STALE_AFTER_DAYS,
};

/// What the figures are taken over: a quarter, seen at a moment, for the
/// organization or one team.
#[derive(Clone, Debug)]
pub struct Span {
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// The first day of the oldest quarter in the completion history.
    pub history_from: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The quarter's end, or now if it has not ended.
    pub as_of: DateTime<Utc>,
    /// Open items due before this day count as overdue.
    pub overdue_before: NaiveDate,
    /// The organization's zone (an IANA name), for "done on time".
    pub zone: String,
    pub team_id: Option<Uuid>,
    pub review_due_days: i32,
    /// The longest list fetched for each table; `None` for all rows.
    pub limit: Option<i64>,
}

impl Span {
    /// The span of `quarter` in `zone`, seen at `now`, with the
    /// completion history of the eight quarters up to it.
    pub fn of(
        quarter: Quarter,
        zone: Tz,
        now: DateTime<Utc>,
        team_id: Option<Uuid>,
        review_due_days: i64,
        limit: Option<i64>,
    ) -> Span {
        let today = now.with_timezone(&zone).date_naive();
        let ends_at = quarter.ends_at(zone);
        Span {
            first_day: quarter.first_day(),
            last_day: quarter.last_day(),
            history_from: quarter.trailing(8)[0].first_day(),
            starts_at: quarter.starts_at(zone),
            ends_at,
            as_of: now.min(ends_at),
            overdue_before: today.min(quarter.last_day() + Duration::days(1)),
            zone: zone.to_string(),
            team_id,
            review_due_days: i32::try_from(review_due_days).unwrap_or(i32::MAX),
            limit,
        }
    }
}

/// What became of the items due in one quarter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcomes {
    pub total: i64,
    pub on_time: i64,
    pub late: i64,
    pub open: i64,
    /// Of the open ones, those not due yet.
    pub open_not_due: i64,
    /// Won't do or deprioritized.
    pub dropped: i64,
}

impl Outcomes {
    /// Done, as a share of the items not consciously dropped.
    pub fn completion_percent(&self) -> Option<f64> {
        let counted = self.total - self.dropped;
        (counted > 0).then(|| (self.on_time + self.late) as f64 * 100.0 / counted as f64)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuarterOutcomes {
    pub first_day: NaiveDate,
    pub outcomes: Outcomes,
}

/// A count for a team or an owner (`name` "No team", "No owner" when unset).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub id: Option<Uuid>,
    pub name: String,
    pub count: i64,
}

/// The age of open items, in days.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Age {
    pub open: i64,
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
    /// Under 30 days, 30 to 90, 90 to 180, 180 to 365, a year or more.
    pub buckets: Vec<i64>,
}

pub const AGE_BUCKETS: [&str; 5] = ["< 30 d", "30–90 d", "90–180 d", "180–365 d", "≥ 1 year"];

/// An item with an open overdue or stale flag: it needs a decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Awaiting {
    pub id: Uuid,
    pub title: String,
    pub incident_number: i32,
    pub owner_name: Option<String>,
    pub team_id: Option<Uuid>,
    pub team_name: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub status: ActionStatus,
    pub version: i32,
    pub overdue: bool,
    pub stale: bool,
    /// A restricted postmortem's row, shown to a reader outside it: it
    /// counts, but names nothing (see [`Figures::anonymise`]).
    #[serde(default)]
    pub hidden: bool,
}

/// An item whose due date moved later during the quarter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushedBack {
    pub id: Uuid,
    pub title: String,
    pub incident_number: i32,
    pub owner_name: Option<String>,
    pub team_name: Option<String>,
    /// How many times in the quarter.
    pub pushes: i64,
    /// The due date before the quarter's first push.
    pub from: Option<String>,
    pub due_on: Option<NaiveDate>,
    /// A restricted postmortem's row, shown to a reader outside it: it
    /// counts, but names nothing (see [`Figures::anonymise`]).
    #[serde(default)]
    pub hidden: bool,
}

/// A postmortem published in the quarter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub incident_number: i32,
    pub title: String,
    pub severity: Severity,
    pub resolved_at: Option<DateTime<Utc>>,
    pub published_at: DateTime<Utc>,
    /// Days from resolution to publication.
    pub days: Option<f64>,
    pub met_due: bool,
    /// A restricted postmortem's row, shown to a reader outside it: it
    /// counts, but names nothing (see [`Figures::anonymise`]).
    #[serde(default)]
    pub hidden: bool,
}

/// Time from resolution to publication over the quarter's postmortems.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Publications {
    pub count: i64,
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
    pub met_due: i64,
}

/// An incident of the quarter marked as a repeat of an earlier one (both
/// published).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Repeat {
    pub incident_number: i32,
    pub title: String,
    pub started_at: DateTime<Utc>,
    pub of_number: i32,
    pub of_title: String,
    /// A restricted postmortem's row, shown to a reader outside it: it
    /// counts, but names nothing (see [`Figures::anonymise`]).
    #[serde(default)]
    pub hidden: bool,
}

/// Everything the review page shows about a quarter: what a snapshot freezes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Oldest first; quarters without items due are missing.
    pub history: Vec<QuarterOutcomes>,
    pub overdue_by_team: Vec<Tally>,
    pub overdue_by_owner: Vec<Tally>,
    pub age: Age,
    pub awaiting: Vec<Awaiting>,
    /// Open items created (or last kept) more than 180 days before the
    /// span's moment: stale, each needing a decision.
    pub awaiting_stale: i64,
    pub pushed_back: Vec<PushedBack>,
    pub pushed_back_items: i64,
    pub publications: Publications,
    pub published: Vec<Published>,
    pub repeats: Vec<Repeat>,
    /// Of the quarter's published postmortems that were checked, how many
    /// fail each rule of the review checklist (by rule id).
    #[serde(default)]
    pub checklist_checked: i64,
    #[serde(default)]
    pub checklist_failing: Vec<(String, i64)>,
}

impl Figures {
    /// The outcomes of the quarter itself.
    pub fn outcomes(&self, first_day: NaiveDate) -> Outcomes {
        self.history
            .iter()
            .find(|q| q.first_day == first_day)
            .map(|q| q.outcomes)
            .unwrap_or_default()
    }

    pub fn overdue(&self) -> i64 {
        self.overdue_by_team.iter().map(|t| t.count).sum()
    }
}

/// Computes the figures, each table in its own query, run side by side on
/// the pool. `earlier` is the outcome history of the quarters before the
/// span's (which changes slowly, so callers may cache it); `None` reads it.
pub async fn figures(
    pool: &PgPool,
    span: &Span,
    earlier: Option<Vec<QuarterOutcomes>>,
) -> sqlx::Result<Figures> {
    let earlier_history = async {
        match earlier {
            Some(history) => Ok(history),
            None => {
                history(
                    pool,
                    span.history_from,
                    span.first_day - Duration::days(1),
                    span,
                )
                .await
            }
        }
    };
    let (
        mut history_rows,
        current,
        (overdue_by_team, overdue_by_owner),
        (age, awaiting_stale),
        awaiting,
        pushed,
        publications,
    ) = tokio::try_join!(
        earlier_history,
        history(pool, span.first_day, span.last_day, span),
        overdue(pool, span),
        age(pool, span),
        awaiting(pool, span),
        pushed_back(pool, span),
        publications(pool, span),
    )?;
    history_rows.extend(current);
    let (pushed_back, pushed_back_items) = pushed;
    let (publications, published, repeats) = publications;
    let (checklist_checked, checklist_failing) = checklist(pool, span).await?;
    Ok(Figures {
        history: history_rows,
        overdue_by_team,
        overdue_by_owner,
        age,
        awaiting,
        awaiting_stale,
        pushed_back,
        pushed_back_items,
        publications,
        published,
        repeats,
        checklist_checked,
        checklist_failing,
    })
}

/// How many of the quarter's published postmortems were checked, and how
/// many of them fail each rule.
async fn checklist(pool: &PgPool, span: &Span) -> sqlx::Result<(i64, Vec<(String, i64)>)> {
    let mut tx = custom_plans(pool).await?;
    let rows = sqlx::query!(
        r#"WITH q AS (
             SELECT p.checklist_failing FROM postmortems p
             WHERE p.status = 'published' AND p.published_at >= $1 AND p.published_at < $2
               AND p.checklist_total IS NOT NULL
               AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM incident_teams it
                                                WHERE it.incident_id = p.incident_id AND it.team_id = $3))
           )
           SELECT NULL::text AS rule, count(*) AS "n!" FROM q
           UNION ALL
           SELECT f.rule, count(*) FROM q CROSS JOIN LATERAL unnest(q.checklist_failing) AS f (rule) GROUP BY f.rule"#,
        span.starts_at,
        span.ends_at,
        span.team_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let checked = rows
        .iter()
        .find(|row| row.rule.is_none())
        .map_or(0, |row| row.n);
    let failing = rows
        .into_iter()
        .filter_map(|row| row.rule.map(|rule| (rule, row.n)))
        .collect();
    Ok((checked, failing))
}

/// What became of the items due from `from` to `to` (whole quarters), by quarter.
pub async fn history(
    pool: &PgPool,
    from: NaiveDate,
    to: NaiveDate,
    span: &Span,
) -> sqlx::Result<Vec<QuarterOutcomes>> {
    let rows = sqlx::query!(
        r#"SELECT date_trunc('quarter', a.due_on)::date AS "first_day!",
                  count(*) AS "total!",
                  count(*) FILTER (WHERE a.status = 'done'
                      AND COALESCE((a.closed_at AT TIME ZONE $4)::date, a.due_on) <= a.due_on) AS "on_time!",
                  count(*) FILTER (WHERE a.status = 'done'
                      AND (a.closed_at AT TIME ZONE $4)::date > a.due_on) AS "late!",
                  count(*) FILTER (WHERE a.status IN ('open', 'in_progress')) AS "open!",
                  count(*) FILTER (WHERE a.status IN ('open', 'in_progress') AND a.due_on >= $5) AS "open_not_due!",
                  count(*) FILTER (WHERE a.status IN ('wont_do', 'deprioritized')) AS "dropped!"
           FROM action_items a
           WHERE a.due_on >= $1 AND a.due_on <= $2 AND ($3::uuid IS NULL OR a.team_id = $3)
           GROUP BY 1 ORDER BY 1"#,
        from,
        to,
        span.team_id,
        span.zone,
        span.overdue_before
    )
    .fetch_all(&mut *custom_plans(pool).await?)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| QuarterOutcomes {
            first_day: row.first_day,
            outcomes: Outcomes {
                total: row.total,
                on_time: row.on_time,
                late: row.late,
                open: row.open,
                open_not_due: row.open_not_due,
                dropped: row.dropped,
            },
        })
        .collect())
}

/// Open items past their due date, counted by team and by owner, most
/// first. The items are counted by (team, owner) first, from the open
/// items' index alone; names are joined to those few groups.
async fn overdue(pool: &PgPool, span: &Span) -> sqlx::Result<(Vec<Tally>, Vec<Tally>)> {
    let mut tx = custom_plans(pool).await?;
    let rows = sqlx::query!(
        r#"WITH groups AS (
             SELECT a.team_id, a.owner_id, a.owner_name, count(*) AS n
             FROM action_items a
             WHERE a.status IN ('open', 'in_progress') AND a.due_on < $1
               AND ($2::uuid IS NULL OR a.team_id = $2)
             GROUP BY 1, 2, 3
           )
           SELECT GROUPING(g.team_id) = 0 AS "by_team!", g.team_id, g.owner_id,
                  COALESCE(max(t.name), 'No team') AS "team_name!",
                  COALESCE(max(u.display_name), g.owner_name, 'No owner') AS "owner_name!",
                  sum(g.n)::bigint AS "count!"
           FROM groups g LEFT JOIN teams t ON t.id = g.team_id LEFT JOIN users u ON u.id = g.owner_id
           GROUP BY GROUPING SETS ((g.team_id), (g.owner_id, g.owner_name))
           ORDER BY 6 DESC, 4, 5"#,
        span.overdue_before,
        span.team_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let (mut teams, mut owners) = (Vec::new(), Vec::new());
    for row in rows {
        if row.by_team {
            teams.push(Tally {
                id: row.team_id,
                name: row.team_name,
                count: row.count,
            });
        } else {
            owners.push(Tally {
                id: row.owner_id,
                name: row.owner_name,
                count: row.count,
            });
        }
    }
    if let Some(limit) = span.limit {
        owners.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok((teams, owners))
}

/// The age of the items open at the span's moment (those still open now
/// and created before it), and how many of them are stale then. Only
/// creation times are compared and sorted, against bounds computed once,
/// so the open items' index answers it.
async fn age(pool: &PgPool, span: &Span) -> sqlx::Result<(Age, i64)> {
    let at = span.as_of;
    let before = |days: i64| at - Duration::days(days);
    let mut tx = custom_plans(pool).await?;
    let row = sqlx::query!(
        r#"SELECT count(*) AS "open!",
                  percentile_disc(0.5) WITHIN GROUP (ORDER BY a.created_at DESC) AS median_created,
                  percentile_disc(0.9) WITHIN GROUP (ORDER BY a.created_at DESC) AS p90_created,
                  count(*) FILTER (WHERE a.created_at > $3) AS "b0!",
                  count(*) FILTER (WHERE a.created_at <= $3 AND a.created_at > $4) AS "b1!",
                  count(*) FILTER (WHERE a.created_at <= $4 AND a.created_at > $5) AS "b2!",
                  count(*) FILTER (WHERE a.created_at <= $5 AND a.created_at > $6) AS "b3!",
                  count(*) FILTER (WHERE a.created_at <= $6) AS "b4!",
                  count(*) FILTER (WHERE COALESCE(a.kept_at, a.created_at) < $7) AS "stale!"
           FROM action_items a
           WHERE a.status IN ('open', 'in_progress') AND a.created_at < $1
             AND ($2::uuid IS NULL OR a.team_id = $2)"#,
        at,
        span.team_id,
        before(30),
        before(90),
        before(180),
        before(365),
        before(STALE_AFTER_DAYS)
    )
    .fetch_one(&mut *tx)
    .await?;
    let days = |created: Option<DateTime<Utc>>| {
        created.map(|created| (at - created).num_seconds() as f64 / 86_400.0)
    };
    let age = Age {
        open: row.open,
        median_days: days(row.median_created),
        p90_days: days(row.p90_created),
        buckets: vec![row.b0, row.b1, row.b2, row.b3, row.b4],
    };
    Ok((age, row.stale))
}

/// The review's aggregates filter on "this team, or any": a plan made once
/// for every parameter scans the wrong index or joins too early, and runs
/// several times slower, so each is planned for its actual parameters.
async fn custom_plans(pool: &PgPool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    super::planned(pool, super::Plans::Custom).await
}

/// Items of published postmortems with an open flag, oldest due date
/// first. The flag and publication tests are scalar subqueries, so the
/// plan walks the open items' due-date index and stops at the limit instead
/// of joining every flag first.
async fn awaiting(pool: &PgPool, span: &Span) -> sqlx::Result<Vec<Awaiting>> {
    sqlx::query_as!(
        Awaiting,
        r#"SELECT a.id, a.title, i.number AS incident_number,
                  COALESCE(u.display_name, a.owner_name) AS owner_name,
                  a.team_id, t.name AS "team_name?", a.due_on, a.created_at,
                  a.status AS "status: ActionStatus", a.version,
                  EXISTS (SELECT 1 FROM item_flags f WHERE f.action_item_id = a.id
                          AND f.flag = 'overdue' AND f.cleared_at IS NULL) AS "overdue!",
                  EXISTS (SELECT 1 FROM item_flags f WHERE f.action_item_id = a.id
                          AND f.flag = 'stale' AND f.cleared_at IS NULL) AS "stale!",
                  false AS "hidden!"
           FROM (SELECT a.id FROM action_items a
                 WHERE a.status IN ('open', 'in_progress') AND ($1::uuid IS NULL OR a.team_id = $1)
                   AND (SELECT true FROM item_flags f
                        WHERE f.action_item_id = a.id AND f.cleared_at IS NULL LIMIT 1)
                   AND (SELECT p.status = 'published' FROM postmortems p WHERE p.id = a.postmortem_id)
                 ORDER BY a.due_on NULLS LAST, a.id
                 LIMIT $2) picked
           JOIN action_items a ON a.id = picked.id
           JOIN postmortems p ON p.id = a.postmortem_id JOIN incidents i ON i.id = p.incident_id
           LEFT JOIN users u ON u.id = a.owner_id LEFT JOIN teams t ON t.id = a.team_id
           ORDER BY a.due_on NULLS LAST, a.id"#,
        span.team_id,
        span.limit
    )
    .fetch_all(&mut *custom_plans(pool).await?)
    .await
}

/// Items whose due date moved later during the quarter, most moves first,
/// and how many there are.
async fn pushed_back(pool: &PgPool, span: &Span) -> sqlx::Result<(Vec<PushedBack>, i64)> {
    let rows = sqlx::query!(
        r#"WITH moves AS (
             SELECT c.action_item_id AS id, count(*) AS pushes,
                    (array_agg(c.old_value ORDER BY c.id))[1] AS first_from
             FROM action_item_changes c
             WHERE c.field = 'due_on' AND c.at >= $1 AND c.at < $2 AND c.new_value > c.old_value
             GROUP BY c.action_item_id
           )
           SELECT a.id, a.title, i.number AS incident_number,
                  COALESCE(u.display_name, a.owner_name) AS owner_name, t.name AS "team_name?",
                  m.pushes AS "pushes!", m.first_from AS "from", a.due_on,
                  count(*) OVER () AS "total!"
           FROM moves m JOIN action_items a ON a.id = m.id
           JOIN postmortems p ON p.id = a.postmortem_id AND p.status = 'published'
           JOIN incidents i ON i.id = p.incident_id
           LEFT JOIN users u ON u.id = a.owner_id LEFT JOIN teams t ON t.id = a.team_id
           WHERE ($3::uuid IS NULL OR a.team_id = $3)
           ORDER BY m.pushes DESC, a.due_on, a.id
           LIMIT $4"#,
        span.starts_at,
        span.ends_at,
        span.team_id,
        span.limit
    )
    .fetch_all(&mut *custom_plans(pool).await?)
    .await?;
    let total = rows.first().map_or(0, |row| row.total);
    let list = rows
        .into_iter()
        .map(|row| PushedBack {
            id: row.id,
            title: row.title,
            incident_number: row.incident_number,
            owner_name: row.owner_name,
            team_name: row.team_name,
            pushes: row.pushes,
            from: row.from,
            due_on: row.due_on,
            hidden: false,
        })
        .collect();
    Ok((list, total))
}

/// Postmortems published in the quarter, how fast, and the quarter's
/// repeat incidents. With a team, only its incidents.
async fn publications(
    pool: &PgPool,
    span: &Span,
) -> sqlx::Result<(Publications, Vec<Published>, Vec<Repeat>)> {
    let mut tx = custom_plans(pool).await?;
    let summary = sqlx::query!(
        r#"SELECT count(*) AS "count!",
                  percentile_disc(0.5) WITHIN GROUP (ORDER BY days) AS median_days,
                  percentile_disc(0.9) WITHIN GROUP (ORDER BY days) AS p90_days,
                  count(*) FILTER (WHERE met) AS "met_due!"
           FROM (SELECT extract(epoch FROM p.published_at - i.resolved_at)::float8 / 86400 AS days,
                        p.published_at <= i.resolved_at + make_interval(days => $4) AS met
                 FROM postmortems p JOIN incidents i ON i.id = p.incident_id
                 WHERE p.status = 'published' AND p.published_at >= $1 AND p.published_at < $2
                   AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM incident_teams it
                                                    WHERE it.incident_id = i.id AND it.team_id = $3))) q"#,
        span.starts_at,
        span.ends_at,
        span.team_id,
        span.review_due_days
    )
    .fetch_one(&mut *tx)
    .await?;
    let published = sqlx::query_as!(
        Published,
        r#"SELECT i.number AS incident_number, i.title, i.severity AS "severity: Severity", i.resolved_at,
                  p.published_at AS "published_at!",
                  extract(epoch FROM p.published_at - i.resolved_at)::float8 / 86400 AS days,
                  COALESCE(p.published_at <= i.resolved_at + make_interval(days => $4), false) AS "met_due!",
                  false AS "hidden!"
           FROM postmortems p JOIN incidents i ON i.id = p.incident_id
           WHERE p.status = 'published' AND p.published_at >= $1 AND p.published_at < $2
             AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM incident_teams it
                                              WHERE it.incident_id = i.id AND it.team_id = $3))
           ORDER BY p.published_at, i.number
           LIMIT $5"#,
        span.starts_at,
        span.ends_at,
        span.team_id,
        span.review_due_days,
        span.limit
    )
    .fetch_all(&mut *tx)
    .await?;
    let repeats = sqlx::query_as!(
        Repeat,
        r#"SELECT i.number AS incident_number, i.title, COALESCE(i.started_at, i.created_at) AS "started_at!",
                  o.number AS of_number, o.title AS of_title, false AS "hidden!"
           FROM incident_links l JOIN incidents i ON i.id = l.incident_id JOIN incidents o ON o.id = l.other_id
           JOIN postmortems p ON p.incident_id = i.id AND p.status = 'published'
           JOIN postmortems op ON op.incident_id = o.id AND op.status = 'published'
           WHERE l.kind = 'repeat_of'
             AND COALESCE(i.started_at, i.created_at) >= $1 AND COALESCE(i.started_at, i.created_at) < $2
             AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM incident_teams it
                                              WHERE it.incident_id = i.id AND it.team_id = $3))
           ORDER BY 3, i.number
           LIMIT $4"#,
        span.starts_at,
        span.ends_at,
        span.team_id,
        span.limit
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok((
        Publications {
            count: summary.count,
            median_days: summary.median_days,
            p90_days: summary.p90_days,
            met_due: summary.met_due,
        },
        published,
        repeats,
    ))
}

/// An item as the decision form needs it.
#[derive(Clone, Debug)]
pub struct DecisionTarget {
    pub id: Uuid,
    pub title: String,
    pub incident_number: i32,
    pub owner_name: Option<String>,
    pub team_id: Option<Uuid>,
    pub team_name: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: ActionStatus,
    pub version: i32,
    /// Its postmortem is published and the viewer may read it.
    pub published: bool,
}

pub async fn get_target(
    db: impl PgExecutor<'_>,
    id: Uuid,
    viewer: Uuid,
) -> sqlx::Result<Option<DecisionTarget>> {
    sqlx::query_as!(
        DecisionTarget,
        r#"SELECT a.id, a.title, i.number AS incident_number,
                  COALESCE(u.display_name, a.owner_name) AS owner_name,
                  a.team_id, t.name AS "team_name?", a.due_on, a.status AS "status: ActionStatus", a.version,
                  p.status = 'published' AND may_read(p.id, $2) AS "published!"
           FROM action_items a JOIN postmortems p ON p.id = a.postmortem_id
           JOIN incidents i ON i.id = p.incident_id
           LEFT JOIN users u ON u.id = a.owner_id LEFT JOIN teams t ON t.id = a.team_id
           WHERE a.id = $1"#,
        id,
        viewer
    )
    .fetch_optional(db)
    .await
}

/// Whether the user leads the team.
pub async fn leads_team(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    team_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM team_members WHERE user_id = $1 AND team_id = $2 AND is_lead) AS "leads!""#,
        user_id,
        team_id
    )
    .fetch_one(db)
    .await
}

/// The teams the user leads.
pub async fn led_teams(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT team_id FROM team_members WHERE user_id = $1 AND is_lead",
        user_id
    )
    .fetch_all(db)
    .await
}

/// Applies a decision to the item, if it is still at `expected_version`:
/// its status or due date, its flags cleared, and the decision recorded.
/// False when someone changed the item meanwhile (nothing is written).
pub async fn decide(
    tx: &mut PgConnection,
    item: &DecisionTarget,
    expected_version: i32,
    decision: &Decision,
    quarter: &str,
    actor_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let status = decision.status_after(item.status);
    let updated = sqlx::query!(
        "UPDATE action_items SET
            status = $3,
            due_on = COALESCE($4, due_on),
            closing_reason = COALESCE($5, closing_reason),
            closed_at = CASE WHEN $3 IN ('open'::action_status, 'in_progress'::action_status) THEN NULL
                             ELSE COALESCE(closed_at, $6) END,
            kept_at = CASE WHEN $4::date IS NULL THEN kept_at ELSE $6 END,
            updated_at = $6, version = version + 1
         WHERE id = $1 AND version = $2",
        item.id,
        expected_version,
        status as ActionStatus,
        decision.new_due_on(),
        decision.reason(),
        now
    )
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query!(
        "UPDATE item_flags SET cleared_at = $2 WHERE action_item_id = $1 AND cleared_at IS NULL",
        item.id,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO review_decisions (action_item_id, quarter, decision, evidence_url, new_due_on, reason,
                                       decided_by, decided_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        item.id,
        quarter,
        decision.kind() as crate::domain::review::DecisionKind,
        decision.evidence_url(),
        decision.new_due_on(),
        decision.reason(),
        actor_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(true)
}

/// How many decisions a quarter's review has recorded since `since`.
pub async fn count_decisions(
    db: impl PgExecutor<'_>,
    quarter: &str,
    since: Option<DateTime<Utc>>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM review_decisions
           WHERE quarter = $1 AND ($2::timestamptz IS NULL OR decided_at > $2)"#,
        quarter,
        since
    )
    .fetch_one(db)
    .await
}

/// A closed quarter's frozen figures.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub closed_at: DateTime<Utc>,
    pub closed_by: Option<String>,
    pub figures: Figures,
}

pub async fn get_snapshot(
    db: impl PgExecutor<'_>,
    quarter: &str,
    team_id: Option<Uuid>,
) -> sqlx::Result<Option<Snapshot>> {
    let row = sqlx::query!(
        r#"SELECT s.closed_at, u.display_name AS "closed_by?", s.figures
           FROM review_snapshots s LEFT JOIN users u ON u.id = s.closed_by
           WHERE s.quarter = $1 AND s.team_id IS NOT DISTINCT FROM $2"#,
        quarter,
        team_id
    )
    .fetch_optional(db)
    .await?;
    row.map(|row| {
        Ok(Snapshot {
            closed_at: row.closed_at,
            closed_by: row.closed_by,
            figures: serde_json::from_value(row.figures)
                .map_err(|error| sqlx::Error::Decode(Box::new(error)))?,
        })
    })
    .transpose()
}

/// When the quarter was closed for the whole organization, if it was.
pub async fn closed_at(
    db: impl PgExecutor<'_>,
    quarter: &str,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(
        "SELECT closed_at FROM review_snapshots WHERE quarter = $1 AND team_id IS NULL",
        quarter
    )
    .fetch_optional(db)
    .await
}

/// Stores a snapshot; false if that quarter and team was already closed.
pub async fn save_snapshot(
    db: impl PgExecutor<'_>,
    quarter: &str,
    team_id: Option<Uuid>,
    figures: &Figures,
    closed_by: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let figures =
        serde_json::to_value(figures).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    let done = sqlx::query!(
        "INSERT INTO review_snapshots (quarter, team_id, closed_at, closed_by, figures)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        quarter,
        team_id,
        now,
        closed_by,
        figures
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Of these incident numbers, those whose postmortem `viewer` may read.
pub async fn readable_numbers(
    db: impl PgExecutor<'_>,
    numbers: &[i32],
    viewer: Uuid,
) -> sqlx::Result<Vec<i32>> {
    sqlx::query_scalar!(
        "SELECT i.number FROM incidents i JOIN postmortems p ON p.incident_id = i.id
         WHERE i.number = ANY($1) AND may_read(p.id, $2)",
        numbers,
        viewer
    )
    .fetch_all(db)
    .await
}

impl Figures {
    /// Keeps every row (the figures count them all) but names nothing of a
    /// postmortem outside `readable`: one restricted from this reader, or
    /// taken back to review after a snapshot froze it.
    pub fn anonymise(&mut self, readable: &[i32]) {
        let hidden = |number: i32| !readable.contains(&number);
        for item in &mut self.awaiting {
            if hidden(item.incident_number) {
                *item = Awaiting {
                    id: Uuid::nil(),
                    title: String::new(),
                    incident_number: 0,
                    hidden: true,
                    ..item.clone()
                };
            }
        }
        for item in &mut self.pushed_back {
            if hidden(item.incident_number) {
                *item = PushedBack {
                    id: Uuid::nil(),
                    title: String::new(),
                    incident_number: 0,
                    hidden: true,
                    ..item.clone()
                };
            }
        }
        for p in &mut self.published {
            if hidden(p.incident_number) {
                *p = Published {
                    title: String::new(),
                    incident_number: 0,
                    hidden: true,
                    ..p.clone()
                };
            }
        }
        for r in &mut self.repeats {
            if hidden(r.incident_number) || hidden(r.of_number) {
                *r = Repeat {
                    title: String::new(),
                    incident_number: 0,
                    of_title: String::new(),
                    of_number: 0,
                    hidden: true,
                    ..r.clone()
                };
            }
        }
    }

    /// Every incident number the lists name.
    pub fn numbers(&self) -> Vec<i32> {
        let mut numbers: Vec<i32> = self
            .awaiting
            .iter()
            .map(|item| item.incident_number)
            .chain(self.pushed_back.iter().map(|item| item.incident_number))
            .chain(self.published.iter().map(|p| p.incident_number))
            .chain(
                self.repeats
                    .iter()
                    .flat_map(|r| [r.incident_number, r.of_number]),
            )
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }
}
