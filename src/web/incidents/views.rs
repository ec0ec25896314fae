//! View models shared by the reading and authoring pages: times in the
//! reader's zone, durations, the phase chart, timeline rows and item rows.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::{
    domain::{
        action::{ActionStatus, is_overdue},
        postmortem::{KeyTimes, TimelineKind},
        time,
    },
    store::{action_items::ActionItem, incidents::Incident, timeline::TimelineEntry},
};

/// One key time or duration, ready to show.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// The key times and the durations derived from them (never typed).
pub fn key_facts(
    incident: &Incident,
    entries: &[TimelineEntry],
    zone: Tz,
) -> (Vec<Fact>, Vec<Fact>, KeyTimes) {
    let typed = KeyTimes {
        started: incident.started_at,
        detected: incident.detected_at,
        mitigated: incident.mitigated_at,
        resolved: incident.resolved_at,
    };
    // An entry whose time is unknown says nothing about when anything was.
    let kinds: Vec<(TimelineKind, DateTime<Utc>)> = entries
        .iter()
        .filter(|entry| !entry.time_unknown)
        .map(|entry| (entry.kind, entry.occurred_at))
        .collect();
    let times = typed.filled_from(&kinds);
    let moments = [
        ("Started", times.started),
        ("Detected", times.detected),
        ("Mitigated", times.mitigated),
        ("Resolved", times.resolved),
    ];
    let facts = moments
        .into_iter()
        .filter_map(|(label, at)| {
            at.map(|at| Fact {
                label,
                value: time::format_in(at, zone),
            })
        })
        .collect();
    let spans = [
        ("Time to detect", times.time_to_detect()),
        ("Time to mitigate", times.time_to_mitigate()),
        ("Time to resolve", times.time_to_resolve()),
    ];
    let durations = spans
        .into_iter()
        .filter_map(|(label, span)| {
            span.map(|span| Fact {
                label,
                value: time::human_duration(span),
            })
        })
        .collect();
    (facts, durations, times)
}

/// A timeline row in the reader's zone.
pub struct EntryView {
    pub id: String,
    pub when: String,
    pub kind: TimelineKind,
    pub speaker: Option<String>,
    /// The text as Markdown rendered to sanitized HTML.
    pub html: String,
    pub source: String,
    pub link: Option<String>,
    /// The time as an imported source wrote it.
    pub written_at: Option<String>,
}

/// The entries as shown, their text rendered by `render` (Markdown to
/// sanitized HTML).
pub fn entry_views(
    entries: &[TimelineEntry],
    zone: Tz,
    render: impl Fn(&str) -> String,
) -> Vec<EntryView> {
    entries
        .iter()
        .map(|entry| EntryView {
            id: entry.id.to_string(),
            when: if entry.time_unknown {
                "time unknown".to_owned()
            } else {
                time::format_in(entry.occurred_at, zone)
            },
            kind: entry.kind,
            speaker: entry.speaker.clone(),
            html: render(&entry.text),
            source: entry.source.clone(),
            link: crate::domain::incident::web_link(entry.link.as_deref()).map(str::to_owned),
            written_at: entry.written_at.clone(),
        })
        .collect()
}

/// An action item row, with overdue worked out for today.
pub struct ItemView {
    pub item: ActionItem,
    pub overdue: bool,
}

pub fn item_views(items: Vec<ActionItem>, today: NaiveDate) -> Vec<ItemView> {
    items
        .into_iter()
        .map(|item| ItemView {
            overdue: is_overdue(item.status, item.due_on, today),
            item,
        })
        .collect()
}

impl ItemView {
    pub fn status_class(&self) -> &'static str {
        if self.overdue {
            return "overdue";
        }
        match self.item.status {
            ActionStatus::Done => "done",
            ActionStatus::WontDo | ActionStatus::Deprioritized => "dropped",
            ActionStatus::InProgress => "progress",
            ActionStatus::Open => "open",
        }
    }

    pub fn due(&self) -> String {
        self.item
            .due_on
            .map(|due| due.to_string())
            .unwrap_or_else(|| "no date".to_owned())
    }
}

/// The phases of an incident drawn as bars on one line (inline SVG).
pub struct PhaseChart {
    pub bars: Vec<PhaseBar>,
    pub ticks: Vec<PhaseTick>,
    pub start_label: String,
    pub end_label: String,
}

pub struct PhaseBar {
    pub x: f64,
    pub width: f64,
    pub class: &'static str,
    pub label: &'static str,
}

pub struct PhaseTick {
    pub x: f64,
    pub title: String,
}

/// Width of the chart's drawing area in SVG units.
const CHART_WIDTH: f64 = 1000.0;

impl PhaseChart {
    /// `None` when there is no start and end to draw between.
    pub fn build(times: &KeyTimes, entries: &[TimelineEntry], zone: Tz) -> Option<PhaseChart> {
        let start = times.started?;
        let end = [
            times.resolved,
            times.mitigated,
            times.detected,
            entries
                .iter()
                .rev()
                .find(|e| !e.time_unknown)
                .map(|e| e.occurred_at),
        ]
        .into_iter()
        .flatten()
        .max()
        .filter(|end| *end > start)?;
        let span = (end - start).num_seconds() as f64;
        let x = |at: DateTime<Utc>| {
            ((at - start).num_seconds() as f64 / span * CHART_WIDTH).clamp(0.0, CHART_WIDTH)
        };
        let phases = [
            (
                Some(start),
                times.detected,
                "phase-undetected",
                "Undetected",
            ),
            (
                times.detected,
                times.mitigated,
                "phase-detected",
                "Detected, not mitigated",
            ),
            (
                times.mitigated,
                times.resolved,
                "phase-mitigated",
                "Mitigated, not resolved",
            ),
        ];
        let bars = phases
            .into_iter()
            .filter_map(|(from, to, class, label)| {
                let (from, to) = (from?, to?);
                (to > from).then(|| PhaseBar {
                    x: x(from),
                    width: (x(to) - x(from)).max(2.0),
                    class,
                    label,
                })
            })
            .collect();
        let ticks = entries
            .iter()
            .filter(|entry| {
                !entry.time_unknown && entry.occurred_at >= start && entry.occurred_at <= end
            })
            .map(|entry| PhaseTick {
                x: x(entry.occurred_at),
                title: format!(
                    "{} {}: {}",
                    time::format_clock(entry.occurred_at, zone),
                    entry.kind.label(),
                    entry.text
                ),
            })
            .collect();
        Some(PhaseChart {
            bars,
            ticks,
            start_label: time::format_in(start, zone),
            end_label: time::format_in(end, zone),
        })
    }
}
