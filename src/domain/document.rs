//! The whole postmortem as one value: what a revision keeps, what the JSON
//! and Markdown exports contain, and what the history page compares.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{
    action::{ActionKind, ActionStatus, Priority},
    incident::{IncidentKind, Severity, display_number},
    postmortem::{PostmortemStatus, TimelineKind},
    section::Section,
    taxonomy::{self, Taxonomy},
};

/// The written sections of a postmortem, in template order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sections {
    pub summary: String,
    pub impact: String,
    pub users_affected: Option<i64>,
    pub failed_requests: Option<i64>,
    pub revenue_lost_cents: Option<i64>,
    /// Percent of the SLO error budget.
    pub slo_budget_consumed: Option<f64>,
    pub trigger: String,
    #[serde(default)]
    pub detection: String,
    #[serde(default)]
    pub resolution: String,
    pub went_well: String,
    pub went_poorly: String,
    pub got_lucky: String,
    pub lessons: String,
    /// What an imported document said that maps to no section, verbatim.
    #[serde(default)]
    pub other_notes: String,
}

impl Sections {
    /// The text of a long-text section by its field name.
    pub fn text(&self, field: &str) -> &str {
        match field {
            "summary" => &self.summary,
            "impact" => &self.impact,
            "trigger" => &self.trigger,
            "detection" => &self.detection,
            "resolution" => &self.resolution,
            "went_well" => &self.went_well,
            "went_poorly" => &self.went_poorly,
            "got_lucky" => &self.got_lucky,
            "lessons" => &self.lessons,
            "other_notes" => &self.other_notes,
            _ => "",
        }
    }

    pub fn text_mut(&mut self, field: &str) -> Option<&mut String> {
        match field {
            "summary" => Some(&mut self.summary),
            "impact" => Some(&mut self.impact),
            "trigger" => Some(&mut self.trigger),
            "detection" => Some(&mut self.detection),
            "resolution" => Some(&mut self.resolution),
            "other_notes" => Some(&mut self.other_notes),
            "went_well" => Some(&mut self.went_well),
            "went_poorly" => Some(&mut self.went_poorly),
            "got_lucky" => Some(&mut self.got_lucky),
            "lessons" => Some(&mut self.lessons),
            _ => None,
        }
    }

    /// Headings of the sections that differ, for a revision's summary.
    pub fn changed_from(&self, before: &Sections) -> Vec<&'static str> {
        let mut changed: Vec<&'static str> = Section::ALL
            .into_iter()
            .filter(|section| self.text(section.field()) != before.text(section.field()))
            .map(Section::heading)
            .collect();
        let numbers_changed = (
            self.users_affected,
            self.failed_requests,
            self.revenue_lost_cents,
        ) != (
            before.users_affected,
            before.failed_requests,
            before.revenue_lost_cents,
        ) || self.slo_budget_consumed != before.slo_budget_consumed;
        if numbers_changed && !changed.contains(&"Impact") {
            changed.push("Impact");
        }
        changed
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// Kept so a restored factor stays the one its action items answer.
    #[serde(default)]
    pub id: Option<uuid::Uuid>,
    /// Category slugs, the main one first (documents written before
    /// categories became data carry one `category`).
    #[serde(alias = "category", deserialize_with = "taxonomy::one_or_many")]
    pub categories: Vec<String>,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimelineLine {
    /// The entry's row, so restoring a revision brings back that very entry
    /// (revisions kept before ids were recorded have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<uuid::Uuid>,
    pub at: DateTime<Utc>,
    pub kind: TimelineKind,
    /// Who said or reported it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    pub text: String,
    pub source: String,
    pub link: Option<String>,
    /// The time as an imported source wrote it, when that differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_at: Option<String>,
    /// No readable time: `at` is only where the line sorts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub time_unknown: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionLine {
    /// The item's row, so restoring a revision finds the item again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<uuid::Uuid>,
    pub title: String,
    pub kind: ActionKind,
    pub priority: Priority,
    pub status: ActionStatus,
    pub owner: Option<String>,
    pub team: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub tracker_url: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Why it was closed as won't do or deprioritized.
    #[serde(default)]
    pub closing_reason: Option<String>,
    /// The contributing factor it answers, by its description.
    #[serde(default)]
    pub answers: Option<String>,
}

/// Where an imported postmortem came from and where each part of the
/// source went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportedFrom {
    pub file: String,
    /// The source's address as the file gave it; show it through
    /// [`ImportedFrom::web_url`], never as it is.
    pub url: Option<String>,
    pub report: Option<String>,
}

impl ImportedFrom {
    /// The source's address when it is a web link (`javascript:` and the
    /// like, from an archive written elsewhere, are never linked).
    pub fn web_url(&self) -> Option<&str> {
        super::incident::web_link(self.url.as_deref())
    }
}

/// A postmortem with its incident, as of one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub number: i32,
    pub title: String,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub status: PostmortemStatus,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub teams: Vec<String>,
    pub authors: Vec<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub detected_at: Option<DateTime<Utc>>,
    pub mitigated_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub sections: Sections,
    pub factors: Vec<Factor>,
    pub timeline: Vec<TimelineLine>,
    pub action_items: Vec<ActionLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<ImportedFrom>,
    /// The attachments as of this moment; none in revisions kept before
    /// attachments were recorded, which restoring then leaves alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentLine>>,
}

/// An attachment as a revision records it (its bytes stay in their row).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttachmentLine {
    pub id: uuid::Uuid,
    pub file_name: String,
    pub content_type: String,
    pub byte_size: i32,
}

impl Document {
    /// The postmortem as a Markdown file: every section, the timeline as a
    /// table and the action items. Times are in UTC, named.
    pub fn to_markdown(&self, taxonomy: &Taxonomy) -> String {
        let mut out = String::new();
        let number = display_number(self.number);
        out.push_str(&format!("# {number}: {}\n\n", self.title));
        out.push_str(&format!(
            "- **Kind:** {}\n- **Severity:** {}\n- **Status:** {}\n",
            self.kind.label(),
            self.severity.label(),
            self.status.label()
        ));
        let lists = [
            ("Services", &self.services),
            ("Tags", &self.tags),
            ("Teams", &self.teams),
            ("Authors", &self.authors),
        ];
        for (label, values) in lists {
            if !values.is_empty() {
                out.push_str(&format!("- **{label}:** {}\n", values.join(", ")));
            }
        }
        let times = [
            ("Started", self.started_at),
            ("Detected", self.detected_at),
            ("Mitigated", self.mitigated_at),
            ("Resolved", self.resolved_at),
        ];
        for (label, at) in times {
            if let Some(at) = at {
                out.push_str(&format!(
                    "- **{label}:** {}\n",
                    at.format("%Y-%m-%d %H:%M UTC")
                ));
            }
        }
        for section in Section::ALL {
            let (field, heading) = (section.field(), section.heading());
            let text = self.sections.text(field).trim();
            if text.is_empty() && section.optional() {
                continue;
            }
            out.push_str(&format!("\n## {heading}\n\n"));
            if field == "impact" {
                self.impact_figures(&mut out);
            }
            out.push_str(if text.is_empty() {
                "_Not written yet._"
            } else {
                text
            });
            out.push('\n');
            if field == "trigger" {
                self.factors_markdown(&mut out, taxonomy);
            }
        }
        self.timeline_markdown(&mut out);
        self.actions_markdown(&mut out);
        self.attachments_markdown(&mut out);
        self.import_markdown(&mut out);
        out
    }

    fn attachments_markdown(&self, out: &mut String) {
        let Some(attachments) = self.attachments.as_ref().filter(|list| !list.is_empty()) else {
            return;
        };
        out.push_str("\n## Attachments\n\n");
        for attachment in attachments {
            out.push_str(&format!(
                "- `{}` ({}, {} KB)\n",
                attachment.file_name.replace('`', "'"),
                attachment.content_type,
                (attachment.byte_size + 1023) / 1024
            ));
        }
    }

    fn import_markdown(&self, out: &mut String) {
        let Some(source) = &self.imported_from else {
            return;
        };
        out.push_str(&format!(
            "\n## Imported\n\nFrom `{}`",
            source.file.replace('`', "'")
        ));
        if let Some(url) = source.web_url() {
            out.push_str(&format!(" ({url})"));
        }
        out.push_str(".\n");
        if let Some(report) = source.report.as_deref().filter(|r| !r.trim().is_empty()) {
            out.push_str("\nWhere each part of the source went:\n\n");
            for line in report.lines() {
                out.push_str(&format!("- {line}\n"));
            }
        }
    }

    fn impact_figures(&self, out: &mut String) {
        let s = &self.sections;
        let figures = [
            s.users_affected.map(|n| format!("- Users affected: {n}")),
            s.failed_requests.map(|n| format!("- Failed requests: {n}")),
            s.revenue_lost_cents
                .map(|c| format!("- Revenue lost: {}.{:02}", c / 100, c % 100)),
            s.slo_budget_consumed
                .map(|p| format!("- SLO error budget consumed: {p}%")),
        ];
        let lines: Vec<String> = figures.into_iter().flatten().collect();
        if !lines.is_empty() {
            out.push_str(&lines.join("\n"));
            out.push_str("\n\n");
        }
    }

    fn factors_markdown(&self, out: &mut String, taxonomy: &Taxonomy) {
        out.push_str("\n## Contributing factors\n\n");
        if self.factors.is_empty() {
            out.push_str("_None listed yet._\n");
        }
        for factor in &self.factors {
            out.push_str(&format!(
                "- **{}:** {}\n",
                taxonomy.labels(&factor.categories).join(", "),
                one_line(&factor.description)
            ));
        }
    }

    fn timeline_markdown(&self, out: &mut String) {
        out.push_str("\n## Timeline\n\n");
        if self.timeline.is_empty() {
            out.push_str("_No entries yet._\n");
            return;
        }
        out.push_str("| Time (UTC) | Kind | Event | Source |\n|---|---|---|---|\n");
        for line in &self.timeline {
            let said = match &line.speaker {
                Some(speaker) => format!("**{}**: {}", cell(speaker), cell(&line.text)),
                None => cell(&line.text),
            };
            let text = match super::incident::web_link(line.link.as_deref()) {
                Some(link) => format!("{said} ([link]({link}))"),
                None => said,
            };
            let mut at = if line.time_unknown {
                "time unknown".to_owned()
            } else {
                line.at.format("%Y-%m-%d %H:%M").to_string()
            };
            if let Some(written) = &line.written_at {
                at.push_str(&format!(" (written: {})", cell(written)));
            }
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                at,
                line.kind.label(),
                text,
                cell(&line.source)
            ));
        }
    }

    fn actions_markdown(&self, out: &mut String) {
        out.push_str("\n## Action items\n\n");
        if self.action_items.is_empty() {
            out.push_str("_No action items yet._\n");
            return;
        }
        out.push_str(
            "| Action | Kind | Priority | Owner | Due | Status |\n|---|---|---|---|---|---|\n",
        );
        for item in &self.action_items {
            let title = match super::incident::web_link(item.tracker_url.as_deref()) {
                Some(url) => format!("[{}]({url})", cell(&item.title)),
                None => cell(&item.title),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                title,
                item.kind.label(),
                item.priority.label(),
                item.owner
                    .as_deref()
                    .map(cell)
                    .unwrap_or_else(|| "-".to_owned()),
                item.due_on
                    .map(|due| due.to_string())
                    .unwrap_or_else(|| "-".to_owned()),
                item.status.label()
            ));
        }
        let details: Vec<String> = self
            .action_items
            .iter()
            .filter(|item| {
                !item.description.trim().is_empty()
                    || item.closing_reason.is_some()
                    || item.answers.is_some()
            })
            .map(|item| {
                let mut lines = vec![format!("- **{}**", one_line(&item.title))];
                if !item.description.trim().is_empty() {
                    lines.push(format!("  {}", one_line(&item.description)));
                }
                if let Some(factor) = &item.answers {
                    lines.push(format!("  Answers: {}", one_line(factor)));
                }
                if let Some(team) = &item.team {
                    lines.push(format!("  Team: {}", one_line(team)));
                }
                if let Some(reason) = &item.closing_reason {
                    lines.push(format!("  Closed because: {}", one_line(reason)));
                }
                lines.join("\n")
            })
            .collect();
        if !details.is_empty() {
            out.push_str("\n### Details\n\n");
            out.push_str(&details.join("\n"));
            out.push('\n');
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text made safe for one Markdown table cell.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn document() -> Document {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 13, 5, 0).unwrap();
        Document {
            number: 7,
            title: "Checkout 502s".to_owned(),
            kind: IncidentKind::Incident,
            severity: Severity::Sev2,
            status: PostmortemStatus::Published,
            services: vec!["checkout-api".to_owned()],
            tags: vec![],
            teams: vec!["Payments".to_owned()],
            authors: vec!["Sam".to_owned()],
            started_at: Some(at),
            detected_at: None,
            mitigated_at: None,
            resolved_at: None,
            sections: Sections {
                summary: "Checkout failed.".to_owned(),
                users_affected: Some(1200),
                trigger: "A pool size change.".to_owned(),
                ..Sections::default()
            },
            factors: vec![Factor {
                id: None,
                categories: vec!["detection".to_owned()],
                description: "No alert on pool | saturation".to_owned(),
            }],
            timeline: vec![TimelineLine {
                id: None,
                at,
                kind: TimelineKind::Trigger,
                speaker: Some("sam".to_owned()),
                text: "Deploy v2.14".to_owned(),
                source: "deploy log".to_owned(),
                link: None,
                written_at: None,
                time_unknown: false,
            }],
            action_items: vec![ActionLine {
                id: None,
                title: "Alert on pool saturation".to_owned(),
                kind: ActionKind::Detect,
                priority: Priority::P1,
                status: ActionStatus::Open,
                owner: Some("Sam".to_owned()),
                team: None,
                due_on: NaiveDate::from_ymd_opt(2026, 4, 1),
                tracker_url: None,
                description: "Page at 80% of the pool.".to_owned(),
                closing_reason: None,
                answers: Some("No alert on pool saturation".to_owned()),
            }],
            imported_from: None,
            attachments: None,
        }
    }

    #[test]
    fn the_markdown_export_has_every_section_the_timeline_and_the_items() {
        let markdown = document().to_markdown(&crate::domain::taxonomy::sample());
        for section in Section::ALL {
            let heading = section.heading();
            if section.optional() {
                assert!(!markdown.contains(&format!("## {heading}")), "{heading}");
                continue;
            }
            assert!(markdown.contains(&format!("## {heading}")), "{heading}");
        }
        assert!(markdown.contains("# INC-7: Checkout 502s"));
        assert!(markdown.contains("- Users affected: 1200"));
        assert!(markdown.contains("- **Detection:** No alert on pool | saturation"));
        assert!(
            markdown
                .contains("| 2026-03-01 13:05 | Trigger | **sam**: Deploy v2.14 | deploy log |")
        );
        assert!(
            markdown
                .contains("| Alert on pool saturation | Detect | P1 | Sam | 2026-04-01 | Open |")
        );
        assert!(
            markdown.contains("_Not written yet._"),
            "empty sections say so"
        );
        assert!(markdown.contains(
            "- **Alert on pool saturation**\n  Page at 80% of the pool.\n  Answers: No alert on pool saturation"
        ));
    }

    #[test]
    fn changed_sections_are_named() {
        let before = document().sections;
        let mut after = before.clone();
        after.lessons = "Alert on saturation.".to_owned();
        after.failed_requests = Some(5);
        assert_eq!(
            after.changed_from(&before),
            vec!["Lessons learned", "Impact"]
        );
        assert!(before.changed_from(&before).is_empty());
    }
}
