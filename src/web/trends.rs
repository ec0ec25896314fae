//! Figures across quarters as pages show them: the time-to-detect and
//! time-to-resolve distributions drawn as charts with their table, shared
//! by the review and the service pages.

use chrono::Duration;

use crate::{
    domain::{
        chart::{self, Chart, Spread as SpreadBar},
        quarter::Quarter,
        time::human_duration,
    },
    store::trends::{QuarterFigures, Spread},
};

/// A duration in minutes as people read it, or a dash.
pub fn minutes(value: Option<f64>) -> String {
    value.map_or_else(
        || "–".to_owned(),
        |m| human_duration(Duration::seconds((m * 60.0).round() as i64)),
    )
}

/// One quarter's line of the table under the charts.
pub struct TimesRow {
    pub quarter: String,
    pub incidents: i64,
    pub severities: [i64; 4],
    pub detect: Spread,
    pub resolve: Spread,
}

impl TimesRow {
    pub fn detect_median(&self) -> String {
        minutes(self.detect.median)
    }
    pub fn detect_p90(&self) -> String {
        minutes(self.detect.p90)
    }
    pub fn resolve_median(&self) -> String {
        minutes(self.resolve.median)
    }
    pub fn resolve_p90(&self) -> String {
        minutes(self.resolve.p90)
    }
}

/// The distributions of a run of quarters, oldest first.
pub struct TimesView {
    pub detect_chart: Chart,
    pub resolve_chart: Chart,
    pub severity_chart: Chart,
    pub rows: Vec<TimesRow>,
}

impl TimesView {
    /// Every quarter of `quarters` gets a line, empty ones too.
    pub fn build(quarters: &[Quarter], figures: &[QuarterFigures]) -> TimesView {
        let rows: Vec<TimesRow> = quarters
            .iter()
            .map(|quarter| {
                let key = quarter.to_string();
                let found = figures.iter().find(|f| f.quarter == key);
                TimesRow {
                    quarter: key,
                    incidents: found.map_or(0, |f| f.incidents),
                    severities: found.map_or([0; 4], |f| f.severities),
                    detect: found.map(|f| f.detect).unwrap_or_default(),
                    resolve: found.map(|f| f.resolve).unwrap_or_default(),
                }
            })
            .collect();
        let spread = |pick: fn(&TimesRow) -> Spread| -> Chart {
            let bars: Vec<SpreadBar> = quarters
                .iter()
                .zip(&rows)
                .map(|(quarter, row)| {
                    let s = pick(row);
                    SpreadBar {
                        label: quarter.short(),
                        median: s.median,
                        p90: s.p90,
                        median_shown: minutes(s.median),
                        p90_shown: minutes(s.p90),
                    }
                })
                .collect();
            chart::spreads(&bars)
        };
        let severity_chart = chart::columns(
            &quarters
                .iter()
                .zip(&rows)
                .map(|(quarter, row)| chart::Point {
                    label: quarter.short(),
                    value: row.incidents as f64,
                    shown: row.incidents.to_string(),
                })
                .collect::<Vec<_>>(),
            None,
        );
        TimesView {
            detect_chart: spread(|r| r.detect),
            resolve_chart: spread(|r| r.resolve),
            severity_chart,
            rows,
        }
    }
}

/// Everything the review's trends section shows, as read from the
/// database (cached per quarter and team, see `Caches::review_trends`).
#[derive(Clone, Debug, Default)]
pub struct TrendData {
    pub quarters: Vec<crate::store::trends::QuarterFigures>,
    pub categories: Vec<crate::store::trends::Tally>,
    pub themes: Vec<crate::store::trends::Tally>,
    pub by_team: Vec<crate::store::trends::Breakdown>,
    pub by_service: Vec<crate::store::trends::Breakdown>,
}

/// Teams and services listed in the review's breakdowns.
const BREAKDOWN_ROWS: i64 = 12;

impl TrendData {
    /// Reads the trends of the quarters `quarters` (oldest first) and the
    /// breakdowns of the last of them, for one team or all.
    pub async fn load(
        db: &sqlx::PgPool,
        quarters: &[Quarter],
        team_id: Option<uuid::Uuid>,
        zone: chrono_tz::Tz,
    ) -> sqlx::Result<TrendData> {
        use crate::store::trends;
        let scope = trends::Scope {
            team_id,
            service: None,
        };
        let (Some(first), Some(last)) = (quarters.first(), quarters.last()) else {
            return Ok(TrendData::default());
        };
        let (from, until) = (first.starts_at(zone), last.ends_at(zone));
        let (quarter_from, quarter_until) = (last.starts_at(zone), last.ends_at(zone));
        Ok(TrendData {
            quarters: trends::by_quarter(db, &scope, zone.name(), from, until).await?,
            categories: trends::categories_by_quarter(db, &scope, zone.name(), from, until).await?,
            themes: trends::themes_by_quarter(db, &scope, zone.name(), from, until).await?,
            by_team: if team_id.is_none() {
                trends::by_team(db, quarter_from, quarter_until, BREAKDOWN_ROWS).await?
            } else {
                Vec::new()
            },
            by_service: trends::by_service(
                db,
                team_id,
                quarter_from,
                quarter_until,
                BREAKDOWN_ROWS,
            )
            .await?,
        })
    }
}

/// One line of a table of counts per quarter: a category or a theme.
pub struct TrendRow {
    pub name: String,
    /// Its page, for a theme.
    pub link: Option<String>,
    pub counts: Vec<i64>,
}

impl TrendRow {
    pub fn total(&self) -> i64 {
        self.counts.iter().sum()
    }
}

/// The review's trends section, laid out.
pub struct TrendsView {
    pub times: TimesView,
    /// Column heads of the count tables: `Q1 '26`.
    pub labels: Vec<String>,
    pub categories: Vec<TrendRow>,
    pub themes: Vec<TrendRow>,
    pub by_team: Vec<crate::store::trends::Breakdown>,
    pub by_service: Vec<crate::store::trends::Breakdown>,
    pub taxonomy: crate::domain::taxonomy::Taxonomy,
}

impl TrendsView {
    pub fn build(
        quarters: &[Quarter],
        data: &TrendData,
        taxonomy: crate::domain::taxonomy::Taxonomy,
    ) -> TrendsView {
        let keys: Vec<String> = quarters.iter().map(ToString::to_string).collect();
        let rows = |tallies: &[crate::store::trends::Tally], theme: bool| -> Vec<TrendRow> {
            let mut rows: Vec<TrendRow> = Vec::new();
            for tally in tallies {
                let Some(column) = keys.iter().position(|k| *k == tally.quarter) else {
                    continue;
                };
                let name = if theme {
                    tally.name.clone()
                } else {
                    taxonomy.label(&tally.key)
                };
                let index = match rows.iter().position(|r| r.name == name) {
                    Some(index) => index,
                    None => {
                        rows.push(TrendRow {
                            name,
                            link: theme.then(|| format!("/themes/{}", tally.key)),
                            counts: vec![0; keys.len()],
                        });
                        rows.len() - 1
                    }
                };
                rows[index].counts[column] += tally.incidents;
            }
            rows.sort_by(|a, b| b.total().cmp(&a.total()).then(a.name.cmp(&b.name)));
            rows
        };
        TrendsView {
            times: TimesView::build(quarters, &data.quarters),
            labels: quarters.iter().map(|q| q.short()).collect(),
            categories: rows(&data.categories, false),
            themes: rows(&data.themes, true),
            by_team: data.by_team.clone(),
            by_service: data.by_service.clone(),
            taxonomy,
        }
    }

    /// A category's name, for the breakdowns' "most common factor".
    pub fn category(&self, slug: &Option<String>) -> String {
        slug.as_deref()
            .map_or_else(|| "–".to_owned(), |slug| self.taxonomy.label(slug))
    }

    pub fn minutes(&self, value: &Option<f64>) -> String {
        minutes(*value)
    }

    pub fn service_path(&self, name: &str) -> String {
        super::services::path(name)
    }
}
