use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::*;

fn read(name: &str, text: &str, zone: Tz) -> ImportedDocument {
    parse_markdown(name, text, zone, &Vocabulary::default())
}
use crate::domain::{incident::Severity, postmortem::TimelineKind};

const BLAMELESS: &str = include_str!("../../../tests/fixtures/corpus/examples/blameless.md");

#[test]
fn the_blameless_example_maps_front_matter_sections_timeline_factors_and_items() {
    let doc = read("blameless.md", BLAMELESS, Tz::UTC);
    assert_eq!(
        doc.title,
        "Checkout latency outage after fraud-check algorithm change"
    );
    assert_eq!(doc.fields.severity, Some(Severity::Sev2));
    assert_eq!(doc.fields.services, vec!["checkout", "fraud-check"]);
    assert_eq!(
        doc.fields.started_at,
        Some(Utc.with_ymd_and_hms(2026, 3, 10, 14, 2, 0).unwrap())
    );
    assert_eq!(doc.timeline.len(), 8);
    assert_eq!(doc.factors.len(), 4);
    assert_eq!(doc.actions.len(), 4);
    let owners: Vec<_> = doc
        .actions
        .iter()
        .map(|a| a.owner.clone().unwrap_or_default())
        .collect();
    assert_eq!(owners, vec!["A", "B", "C", "D"]);
    assert_eq!(doc.actions[1].due_on, NaiveDate::from_ymd_opt(2026, 3, 17));
    assert!(doc.sections.trigger.contains("O(n^2)"));
    assert!(
        doc.sections
            .got_lucky
            .contains("outside the daily traffic peak")
    );
    assert!(doc.sections.other_notes.contains("All times in UTC."));
    assert!(
        !doc.sections.summary.contains("# Checkout"),
        "the title is not repeated in the summary"
    );
}

#[test]
fn unknown_headings_and_stats_are_kept_in_other_notes() {
    let text = "# Outage\n\n## Summary\n\nIt broke.\n\n## Atendees\n\n- Sam\n\n## Weird extra\n\nKeep me.\n\n# Stats\n\n- Category: Kubernetes\n- Time to detection: 8 minutes\n- Time to recovery: 31 minutes\n\n## Timeline\n\n| Time | Event |\n|--|--|\n| 2020-02-03 11:21 | Started |\n";
    let doc = read("x.md", text, Tz::UTC);
    let notes = &doc.sections.other_notes;
    assert!(notes.contains("### Atendees\n\n- Sam"), "{notes}");
    assert!(notes.contains("### Weird extra\n\nKeep me."));
    assert!(notes.contains("- Time to recovery: 31 minutes"));
    assert_eq!(doc.fields.tags, vec!["Kubernetes"]);
    let start = Utc.with_ymd_and_hms(2020, 2, 3, 11, 21, 0).unwrap();
    assert_eq!(
        doc.fields.detected_at,
        Some(start + chrono::Duration::minutes(8))
    );
    assert_eq!(
        doc.fields.resolved_at,
        Some(start + chrono::Duration::minutes(31))
    );
}

#[test]
fn a_file_without_a_title_is_named_after_itself_and_timeless_rows_stay_time_unknown() {
    let text = "## Timeline\n\n| Time | Event |\n|--|--|\n| 20xx-MM-DD HH:mm | Short event description |\n\n## Action Items\n\n-\n";
    let doc = read("dir/PMyyyy-nnn - Postmortem template.md", text, Tz::UTC);
    assert_eq!(doc.title, "PMyyyy-nnn - Postmortem template");
    assert_eq!(
        doc.timeline[0].at, None,
        "never stamped with the import time"
    );
    assert_eq!(doc.timeline[0].kind, TimelineKind::Note);
    assert!(doc.actions.is_empty(), "a bare dash is not an action item");
}

#[test]
fn the_report_says_where_each_heading_went() {
    let doc = read(
        "x.md",
        "# T\n\n## Contributing Factors (findings)\n\n- Slow alerts\n",
        Tz::UTC,
    );
    assert!(
        doc.report
            .iter()
            .any(|line| line == "“Contributing Factors (findings)” → 1 contributing factors"),
        "{:?}",
        doc.report
    );
    assert_eq!(doc.factors[0].0, "detection");
}

#[test]
fn titles_are_never_section_names_and_come_from_the_best_place_there_is() {
    let title = |name: &str, text: &str| read(name, text, Tz::UTC).title;
    assert_eq!(
        title("a.md", "# Title: Checkout 502s\n\nText.\n"),
        "Checkout 502s"
    );
    assert_eq!(
        title(
            "a.md",
            "# What happened\n\nThe checkout pool ran dry. Then more.\n"
        ),
        "The checkout pool ran dry",
        "a section name is not a title; the summary's first sentence is"
    );
    assert_eq!(
        title(
            "a.md",
            "# Metadata\n\nSeverity: high\n\n# Summary\n\nDNS failed for an hour. Ugh.\n"
        ),
        "DNS failed for an hour"
    );
    assert_eq!(
        title(
            "incidents/2021-03-04-ingress-outage.html.md.erb",
            "## Timeline\n\n- 10:00 paged\n"
        ),
        "2021-03-04 ingress outage",
        "with no summary, the file name made readable"
    );
    assert_eq!(title("notes/kafka_lag_spike.md", ""), "kafka lag spike");
}

#[test]
fn key_times_written_as_lines_are_read_in_the_files_zone() {
    let text = "# Incident on 2020-08-07\n\n- **Key events**\n  - First detected 2020-08-07 15:51\n  \
                - Repaired 2020-08-07 16:29\n  - Incident declared 2020-08-07 16:39\n  \
                - Resolved 2020-08-14 10:06\n\n- **Time to repair**: 0h 38m\n";
    let doc = read("x.md", text, chrono_tz::Europe::London);
    let utc = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    };
    assert_eq!(
        doc.fields.detected_at,
        Some(utc("2020-08-07T14:51:00Z")),
        "BST is UTC+1"
    );
    assert_eq!(doc.fields.mitigated_at, Some(utc("2020-08-07T15:29:00Z")));
    assert_eq!(doc.fields.resolved_at, Some(utc("2020-08-14T09:06:00Z")));
    let stated = read(
        "y.md",
        "Started: 2021-01-04 10:00 UTC\n",
        chrono_tz::Europe::London,
    );
    assert_eq!(stated.fields.started_at, Some(utc("2021-01-04T10:00:00Z")));
}

#[test]
fn bold_labels_in_a_list_before_any_heading_act_as_sections() {
    let text = "# Incident on 2020-08-07 - Master node provisioning failure\n\n\
                - **Key events**\n  - First detected 2020-08-07 15:51\n\n\
                - **Impact**:\n  - Increased risk for a brief period\n\n\
                - **Resolution**:\n  - Replaced all master nodes with c5.4xlarge instances\n\n\
                - **Review actions**:\n  - Alert when a master node cannot be launched\n";
    let doc = read("x.md", text, Tz::UTC);
    assert_eq!(
        doc.title,
        "Incident on 2020-08-07 - Master node provisioning failure"
    );
    assert!(
        doc.sections.impact.contains("Increased risk"),
        "{:?}",
        doc.sections
    );
    assert!(doc.sections.resolution.contains("c5.4xlarge"));
    assert_eq!(doc.actions.len(), 1, "{:?}", doc.actions);
    assert_eq!(
        doc.actions[0].title,
        "Alert when a master node cannot be launched"
    );
    assert!(
        doc.timeline.is_empty(),
        "key events are read as key times, not stamped rows"
    );
    assert!(doc.fields.detected_at.is_some());
}

#[test]
fn front_matter_start_and_end_times_and_keywords_are_read_and_empty_keys_ignored() {
    let text = "---\ntitle: Queue backlog\nstart_time: 2016-06-06T21:00:00Z\nend_time: 2016-06-06 23:00\n\
                keywords: [queue, aws]\nseverity:\n---\n\nText.\n";
    let doc = read("x.md", text, Tz::UTC);
    let utc = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    };
    assert_eq!(doc.fields.started_at, Some(utc("2016-06-06T21:00:00Z")));
    assert_eq!(doc.fields.resolved_at, Some(utc("2016-06-06T23:00:00Z")));
    assert!(
        doc.fields.tags.contains(&"queue".to_owned()),
        "{:?}",
        doc.fields.tags
    );
    assert!(
        !doc.sections.other_notes.contains("severity"),
        "an empty key is not kept"
    );
}

#[test]
fn severities_front_matter_summaries_and_narratives_are_read_where_they_are() {
    let doc = read(
        "x.md",
        "---\nseverity: Major\nsummary: Checkout failed for 20 minutes.\nauthors: [Priya, Sam]\nsource_url: javascript:alert(1)\n---\n\n# Checkout outage\n\n## Timeline\n\n- 2024-11-29 13:00 Alert\n",
        Tz::UTC,
    );
    assert_eq!(doc.fields.severity, Some(Severity::Sev1));
    assert!(
        doc.sections
            .summary
            .starts_with("Checkout failed for 20 minutes.")
    );
    assert!(doc.sections.other_notes.contains("Priya, Sam"));
    assert_eq!(doc.fields.source_url, None, "only web links are links");
    assert!(
        doc.sections.other_notes.contains("javascript:alert(1)"),
        "kept, not lost"
    );
    for key in ["severity", "summary", "authors", "source_url"] {
        assert!(
            doc.report
                .iter()
                .any(|line| line.contains(&format!("“{key}”"))),
            "the report names {key}: {:?}",
            doc.report
        );
    }
    let line = read(
        "y.md",
        "# T\n\n**Severity**: P1\n\n## Impact\n\nx\n",
        Tz::UTC,
    );
    assert_eq!(line.fields.severity, Some(Severity::Sev1));
    let section = read("z.md", "# T\n\n## Severity\n\nHigh\n", Tz::UTC);
    assert_eq!(section.fields.severity, Some(Severity::Sev2));
    let story = "We deployed on Friday. ".repeat(60);
    let narrative = read("n.md", &format!("Short intro.\n\n{story}\n"), Tz::UTC);
    assert_eq!(narrative.sections.summary, "Short intro.");
    assert!(narrative.sections.other_notes.contains("### Narrative"));
}

#[test]
fn a_duration_in_an_impact_table_gives_the_resolution() {
    let doc = read(
        "x.md",
        "# T\n\n---\n\n## Impact\n\n| Field | Value |\n|--|--|\n| Duration | 3h 45m |\n\n## Timeline\n\n- 2024-11-29 13:00 Alert fired\n",
        Tz::UTC,
    );
    assert_eq!(
        doc.fields.resolved_at,
        Some(Utc.with_ymd_and_hms(2024, 11, 29, 16, 45, 0).unwrap())
    );
}

#[test]
fn an_ambiguous_file_is_read_by_its_unambiguous_dates_and_time_only_rows_take_the_date_section() {
    let doc = read(
        "x.md",
        "# Outage\n\n## Timeline\n\n| Time | Event |\n|--|--|\n| 04/05/2024 10:00 | Alert fired |\n| 04/13/2024 11:00 | Fixed |\n",
        Tz::UTC,
    );
    assert_eq!(
        doc.timeline[0].at,
        Some(Utc.with_ymd_and_hms(2024, 4, 5, 10, 0, 0).unwrap()),
        "04/13 can only be month first, so 04/05 is April the 5th"
    );
    assert!(
        doc.report
            .iter()
            .any(|line| line.contains("read month first"))
    );
    let dated = read(
        "y.md",
        "# Outage\n\n## Date\n\n29 November 2024\n\n## Timeline\n\n- 13:00 Alert fired\n- 13:20: Rolled back\n",
        Tz::UTC,
    );
    assert_eq!(
        dated.timeline[1].at,
        Some(Utc.with_ymd_and_hms(2024, 11, 29, 13, 20, 0).unwrap())
    );
    assert_eq!(dated.timeline[1].text, "Rolled back");
    let spans = read(
        "z.md",
        "# Outage\n\nDate: 2024-11-29 13:00 / 15:30\n\n## Impact\n\nx\n",
        Tz::UTC,
    );
    assert_eq!(
        spans.fields.resolved_at,
        Some(Utc.with_ymd_and_hms(2024, 11, 29, 15, 30, 0).unwrap())
    );
}

#[test]
fn a_bare_action_items_line_opens_the_action_items() {
    let doc = read(
        "x.md",
        "# Outage\n\nThe queue stalled.\n\nAction Items\n\n- [x] Alert on queue depth\n- Add a runbook\n",
        Tz::UTC,
    );
    assert_eq!(doc.actions.len(), 2);
    assert_eq!(
        doc.actions[0].status,
        crate::domain::action::ActionStatus::Done
    );
    assert_eq!(doc.sections.summary, "The queue stalled.");
}

#[test]
fn a_root_cause_list_becomes_contributing_factors_and_prose_stays_the_root_cause() {
    let listed = read(
        "x.md",
        "# Outage\n\n## Root causes\n\n- The pool size was not validated\n- No alert on saturation\n",
        Tz::UTC,
    );
    assert_eq!(listed.factors.len(), 2);
    assert!(listed.sections.trigger.is_empty());
    let prose = read(
        "y.md",
        "# Outage\n\n## Root cause\n\nA config change.\n",
        Tz::UTC,
    );
    assert!(prose.factors.is_empty());
    assert_eq!(prose.sections.trigger, "A config change.");
}
