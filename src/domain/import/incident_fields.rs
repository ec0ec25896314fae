//! Incident fields of an imported document: from YAML front matter (title,
//! dates, severity, tags, services, company, product, url) and from "Stats"
//! lines such as `Time to detection: 8 minutes`.

use chrono::{DateTime, Duration, Utc};

use super::vocabulary::Vocabulary;
use super::{
    front_matter::Field,
    timeline::ImportedEntry,
    when::{self, Dialect},
};
use crate::domain::{
    incident::{IncidentKind, Severity, is_web_link},
    time::parse_zone,
};

/// Longest front-matter summary taken as the Summary; a longer one is kept
/// in other notes.
const SUMMARY_MAX: usize = 1200;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentFields {
    pub kind: Option<IncidentKind>,
    pub severity: Option<Severity>,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub detected_at: Option<DateTime<Utc>>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub source_url: Option<String>,
    /// A short summary the front matter gave.
    pub summary: Option<String>,
    /// Authors the front matter names (kept in other notes).
    pub authors: Vec<String>,
    /// Durations from "Stats" lines, applied once the start is known.
    time_to_detect: Option<Duration>,
    time_to_mitigate: Option<Duration>,
    time_to_resolve: Option<Duration>,
}

impl IncidentFields {
    /// Takes what front matter says; returns how the file writes its times
    /// (`file`, with the zone front matter names, if any). Keys that map
    /// nowhere are kept in `notes`.
    pub(super) fn read_front_matter(
        &mut self,
        fields: &[Field],
        file: Dialect,
        words: &Vocabulary,
        title: &mut String,
        notes: &mut Vec<String>,
        report: &mut Vec<String>,
    ) -> Dialect {
        let zone = fields
            .iter()
            .find(|f| matches!(f.key.as_str(), "timezone" | "time_zone" | "zone"))
            .and_then(|f| f.values.first())
            .and_then(|name| parse_zone(name).or_else(|| when::zone_named_in(name)))
            .unwrap_or(file.zone);
        let dialect = Dialect { zone, ..file };
        let mut unmapped = Vec::new();
        for field in fields {
            let first = field.values.first().cloned().unwrap_or_default();
            // An empty value says nothing; it is neither read nor kept.
            if first.trim().is_empty() && field.values.len() <= 1 {
                continue;
            }
            let time = || read_moment(&first, dialect);
            let shown_time = |at: Option<DateTime<Utc>>| {
                at.map(|at| format!("{} UTC", at.format("%Y-%m-%d %H:%M")))
            };
            let went: Option<String> = match field.key.as_str() {
                "title" => {
                    *title = first.clone();
                    Some("the title".to_owned())
                }
                "timezone" | "time_zone" | "zone" => Some(format!("times read in {}", zone.name())),
                "severity" | "sev" | "priority" | "impact_level" => {
                    self.severity = words.severity(&first).or(self.severity);
                    self.severity.map(|s| format!("severity {}", s.label()))
                }
                "kind" | "type" => {
                    self.kind = parse_kind(&first);
                    self.kind.map(|k| format!("kind {}", k.label()))
                }
                "services" | "service" | "systems" | "system" | "product" | "products"
                | "components" | "component" => {
                    self.services.extend(field.values.iter().cloned());
                    Some("services".to_owned())
                }
                "tags" | "tag" | "categories" | "category" | "labels" | "keywords" => {
                    self.tags.extend(field.values.iter().cloned());
                    Some("tags".to_owned())
                }
                "company" | "organization" | "organisation" | "org" => {
                    self.tags
                        .extend(field.values.iter().map(|v| format!("company: {v}")));
                    Some("tags (company: …)".to_owned())
                }
                "url" | "link" | "source" | "source_url" if is_web_link(first.trim()) => {
                    self.source_url = Some(first.trim().to_owned());
                    Some("the source link".to_owned())
                }
                "summary" | "description" | "abstract" | "tldr"
                    if first.chars().count() <= SUMMARY_MAX =>
                {
                    self.summary = Some(field.values.join("\n"));
                    Some("the Summary".to_owned())
                }
                "authors" | "author" | "owner" | "owners" | "written_by" | "editors" => {
                    self.authors.extend(field.values.iter().cloned());
                    Some("authors (in other notes)".to_owned())
                }
                "started_at" | "start" | "started" | "start_time" | "start_date" | "date"
                | "began_at" | "incident_date" => {
                    self.started_at = self.started_at.or(time());
                    shown_time(time()).map(|at| format!("start {at}"))
                }
                "detected_at" | "detected" | "detection_time" => {
                    self.detected_at = time();
                    shown_time(time()).map(|at| format!("detected {at}"))
                }
                "mitigated_at" | "mitigated" => {
                    self.mitigated_at = time();
                    shown_time(time()).map(|at| format!("mitigated {at}"))
                }
                "resolved_at" | "resolved" | "ended_at" | "end" | "end_time" | "end_date" => {
                    self.resolved_at = time();
                    shown_time(time()).map(|at| format!("resolved {at}"))
                }
                _ => None,
            };
            let key = if field.key.is_empty() {
                field.raw.join(" ")
            } else {
                field.key.clone()
            };
            match went {
                Some(place) => report.push(format!("front matter “{key}” → {place}")),
                None => {
                    report.push(format!("front matter “{key}” → other notes (not read)"));
                    unmapped.extend(field.raw.iter().cloned());
                }
            }
        }
        if !unmapped.is_empty() {
            notes.push(format!("### Front matter\n\n{}", unmapped.join("\n")));
        }
        dialect
    }

    /// Reads `Key: value` lines of a "Stats" section.
    pub(super) fn read_stats(
        &mut self,
        lines: &[String],
        words: &Vocabulary,
        report: &mut Vec<String>,
    ) {
        for line in lines {
            let bare = line
                .trim()
                .trim_start_matches(['-', '*', '+'])
                .trim()
                .replace("**", "");
            let Some((key, value)) = bare.split_once(':') else {
                continue;
            };
            let key = key.trim().to_lowercase();
            let value = value.trim();
            let duration = || when::parse_duration(value);
            match key.as_str() {
                k if k.contains("detect") => self.time_to_detect = duration(),
                k if k.contains("mitigat") => self.time_to_mitigate = duration(),
                k if k.contains("recover") || k.contains("resol") || k.contains("repair") => {
                    self.time_to_resolve = duration()
                }
                "category" | "categories" | "tags" => self.tags.extend(
                    value
                        .split(',')
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty()),
                ),
                "severity" | "priority" => self.severity = words.severity(value).or(self.severity),
                _ => continue,
            }
            report.push(format!("stats: “{}” → incident field", bare.trim()));
        }
    }

    /// Key times written as lines anywhere in the body, such as
    /// `- First detected 2020-08-07 15:51`, `**Resolved**: 14 Aug 2020 10:06 UTC`
    /// or `Date: 2024-11-29 13:00 - 15:30`, and incident durations in impact
    /// tables or lines (`| Duration | 3h 45m |`). A time the front matter
    /// gave already is kept.
    pub(super) fn read_key_times(
        &mut self,
        body: &str,
        dialect: Dialect,
        words: &Vocabulary,
        report: &mut Vec<String>,
    ) {
        for line in body.lines() {
            if let Some(found) = SEVERITY_LINE.captures(line) {
                if self.severity.is_none()
                    && let Some(severity) = words.severity(&found["value"])
                {
                    self.severity = Some(severity);
                    report.push(format!(
                        "severity: “{}” → {}",
                        line.trim(),
                        severity.label()
                    ));
                }
                continue;
            }
            if let Some(found) = DURATION_LINE.captures(line) {
                if let Some(duration) = when::parse_duration(&found["duration"])
                    && self.time_to_resolve.is_none()
                {
                    self.time_to_resolve = Some(duration);
                    report.push(format!("duration: “{}” → time to resolve", line.trim()));
                }
                continue;
            }
            let Some(found) = KEY_TIME.captures(line) else {
                continue;
            };
            let label = found["label"].to_lowercase();
            let Some((written, rest)) = when::leading_time(&found["rest"]) else {
                continue;
            };
            let Some(at) = read_moment(written, dialect) else {
                continue;
            };
            let slot = match label.as_str() {
                l if l.contains("detect") || l.contains("identified") || l.contains("aware") => {
                    &mut self.detected_at
                }
                l if l.contains("repair") || l.contains("mitigat") => &mut self.mitigated_at,
                l if l.contains("resolv") || l.contains("fixed") || l.starts_with("end") => {
                    &mut self.resolved_at
                }
                _ => &mut self.started_at,
            };
            if slot.is_some() {
                continue;
            }
            *slot = Some(at);
            report.push(format!(
                "key time: “{}” → {} UTC",
                line.trim(),
                at.format("%Y-%m-%d %H:%M")
            ));
            // `Date: start - end` (or `start to end`): the end, on the
            // start's day when it gives only a time.
            if label == "date"
                && let Some(end) = rest
                    .strip_prefix("to ")
                    .or_else(|| rest.strip_prefix("until "))
                    .or_else(|| rest.strip_prefix('/').map(str::trim_start))
                    .or(Some(rest))
                    .and_then(when::leading_time)
                && self.resolved_at.is_none()
            {
                let day = at.with_timezone(&dialect.zone).date_naive();
                if let Some(end_at) = when::read_time(end.0, dialect, Some(day)).at()
                    && end_at >= at
                {
                    self.resolved_at = Some(end_at);
                    report.push(format!(
                        "key time: end of “{}” → {} UTC",
                        line.trim(),
                        end_at.format("%Y-%m-%d %H:%M")
                    ));
                }
            }
        }
    }

    /// Settles the start (from the earliest timeline entry with a time
    /// when not given) and applies the "Stats" durations. Entries whose time
    /// is unknown stay so: they count for none of the key times.
    pub(super) fn finish(&mut self, entries: &[ImportedEntry], report: &mut Vec<String>) {
        if self.started_at.is_none() {
            self.started_at = entries.iter().filter_map(|e| e.at).min();
        }
        if let Some(start) = self.started_at {
            let after = |d: Option<Duration>| d.map(|d| start + d);
            self.detected_at = self.detected_at.or(after(self.time_to_detect));
            self.mitigated_at = self.mitigated_at.or(after(self.time_to_mitigate));
            self.resolved_at = self.resolved_at.or(after(self.time_to_resolve));
        }
        if self.severity.is_none() {
            report.push("no severity given: filed as SEV3".to_owned());
        }
    }
}

/// A line naming a key time: a label (bold or not, in a list or not), then
/// the time in whatever form it is written.
static KEY_TIME: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)^\s*(?:[-*+]\s+)?(?:\*\*)?(?P<label>first detected|fault detected|detected|team aware|identified|repaired|mitigated|resolved|fixed|fault occurs|fault occurred|incident start|incident started|started|start time|start|began|end time|ended|incident date|date)(?:\*\*)?\s*(?:at|on)?\s*[:\-–]?\s*(?:\*\*)?\s*(?P<rest>.+)$",
    )
    .expect("key time pattern")
});

/// `Severity: High`, `**Priority**: P1`, `| Severity | SEV-2 |`.
static SEVERITY_LINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)^\s*(?:[-*+|]\s*)?(?:\*\*)?(?:incident )?(?:severity|sev|priority|impact level)(?: level)?(?:\*\*)?\s*[|:]\s*(?:\*\*)?(?P<value>[^|]+)",
    )
    .expect("severity line pattern")
});

/// A line or table row giving the incident's duration.
static DURATION_LINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?i)^\s*(?:[-*+|]\s*)?(?:\*\*)?(?:total |incident |outage |downtime )?(?:duration|downtime|outage length)(?:\*\*)?\s*[|:]\s*(?:\*\*)?(?P<duration>[0-9][^|]*)",
    )
    .expect("duration line pattern")
});

/// `2026-03-10T14:02:00+01:00`, or any form [`when::read_time`] reads; a
/// date alone is its midnight.
fn read_moment(text: &str, dialect: Dialect) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text.trim()) {
        return Some(at.with_timezone(&Utc));
    }
    when::read_time(text, dialect, None).at()
}

fn parse_kind(text: &str) -> Option<IncidentKind> {
    let lower = text.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    match lower.as_str() {
        "near_miss" | "nearmiss" => Some(IncidentKind::NearMiss),
        "chaos" | "chaos_experiment" | "game_day" | "gameday" => {
            Some(IncidentKind::ChaosExperiment)
        }
        "incident" | "outage" => Some(IncidentKind::Incident),
        _ => None,
    }
}
