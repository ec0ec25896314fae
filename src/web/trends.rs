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
