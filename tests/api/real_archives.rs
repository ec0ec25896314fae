//! The three real archives of other formats (`tests/fixtures/corpus/`:
//! moj-cloud-platform, mybinder, taskcluster) checked file by file against
//! what each source states, read here by plain means that share nothing
//! with the importer: chrono formats tried one by one on the start of each
//! line, the section found by its heading, list items counted by indent.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use debrief::archive::markdown::{self, Source};
use std::path::Path;

use crate::helpers::TestApp;

/// The zone times are read in when a file names none (the moj archive's
/// times are UK local time).
const IMPORT_ZONE: Tz = chrono_tz::Europe::London;

/// Section names that must never become a title.
const SECTION_NAMES: &[&str] = &[
    "summary",
    "timeline",
    "impact",
    "what happened",
    "metadata",
    "title",
    "title:",
    "action items",
    "background",
    "root cause",
    "resolution",
    "key events",
    "lessons learned",
    "details",
];

/// What one file states.
#[derive(Debug, Default)]
struct Stated {
    /// Timeline rows with a date or time: when (UTC) and their first word.
    rows: Vec<(DateTime<Utc>, String)>,
    started: Option<DateTime<Utc>>,
    detected: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    items: usize,
}

fn heading_of(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    (level > 0 && line[level..].starts_with(' ')).then(|| (level, line[level..].trim()))
}

/// `- **Timeline**` or `- **Review actions**:`: a bold label standing for
/// a heading, as the moj archive writes its field list.
fn label_of(line: &str) -> Option<&str> {
    const LABELS: &[&str] = &[
        "key events",
        "time to repair",
        "time to resolve",
        "identified",
        "impact",
        "context",
        "resolution",
        "review actions",
        "actions following review",
        "timeline",
        "background",
        "status",
    ];
    let bare = line.trim().trim_start_matches("- ").trim();
    let rest = bare.strip_prefix("**")?;
    let end = rest.find("**")?;
    let label = rest[..end].trim().trim_end_matches(':');
    LABELS
        .contains(&label.to_lowercase().as_str())
        .then_some(label)
}

/// The leading marks people put before a time or an item.
fn strip_marks(line: &str) -> &str {
    line.trim_start_matches(['#', '-', '*', '+', ' ', '~', '`', '[', '_', '|'])
}

fn file_day(source: &Source) -> Option<NaiveDate> {
    let name = source.name.rsplit('/').next()?;
    NaiveDate::parse_from_str(name.get(..10)?, "%Y-%m-%d").ok()
}

/// The zone a timeline's heading or notes name, by the words used in these
/// archives.
fn zone_of(lines: &[&str]) -> Tz {
    for line in lines {
        let has = |word: &str| line.contains(word);
        if has("UTC+1") {
            return Tz::Etc__GMTMinus1;
        }
        if has("GMT+2") {
            return Tz::Etc__GMTMinus2;
        }
        if has("PST") || has("PDT") || has("Pacific") || has("PT)") || has(" PT") {
            return Tz::America__Los_Angeles;
        }
        if has("CET") || has("CEST") {
            return Tz::CET;
        }
        if has("UTC") {
            return Tz::UTC;
        }
    }
    IMPORT_ZONE
}

/// `at` in `zone`, to the minute (the importer keeps minutes).
fn local(zone: Tz, at: NaiveDateTime) -> DateTime<Utc> {
    let at = at.with_second(0).expect("test data");
    zone.from_local_datetime(&at)
        .earliest()
        .expect("test data")
        .with_timezone(&Utc)
}

/// A date and time at the start of `text`, with the text after it.
fn leading_moment(text: &str, day: Option<NaiveDate>) -> Option<(NaiveDateTime, &str)> {
    const WHOLE: &[&str] = &[
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d, %H:%M",
        "%Y-%m-%d %H%M",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d, %I:%M%p",
        "%Y-%m-%d %I:%M%p",
        "%Y-%m-%d %H.%M",
        "%b %d %Y %H:%M",
        "%d-%m-%Y %H:%M",
    ];
    for format in WHOLE {
        if let Ok((at, rest)) = NaiveDateTime::parse_and_remainder(text, format) {
            return Some((at, rest));
        }
    }
    let year = day.map(|d| chrono::Datelike::year(&d)).unwrap_or(2000);
    for format in ["%b %d, %H:%M", "%b %d %H:%M", "%d %b %H:%M"] {
        let with_year = format!("{year} {text}");
        if let Ok((at, rest)) =
            NaiveDateTime::parse_and_remainder(&with_year, &format!("%Y {format}"))
        {
            let consumed = with_year.len() - rest.len() - 5;
            return Some((at, &text[consumed..]));
        }
    }
    if let Ok((date, rest)) = NaiveDate::parse_and_remainder(text, "%Y-%m-%d")
        && !rest.trim_start().starts_with(|c: char| c.is_ascii_digit())
    {
        return Some((date.and_time(NaiveTime::MIN), rest));
    }
    for format in ["%b %d", "%d %b"] {
        let with_year = format!("{year} {text}");
        if let Ok((date, rest)) =
            NaiveDate::parse_and_remainder(&with_year, &format!("%Y {format}"))
            && !rest.trim_start().starts_with(|c: char| c.is_ascii_digit())
        {
            let consumed = with_year.len() - rest.len() - 5;
            return Some((date.and_time(NaiveTime::MIN), &text[consumed..]));
        }
    }
    let day = day?;
    // `2pm`: an hour alone, which chrono does not read as a time.
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    if (1..=2).contains(&digits) {
        let after = &text[digits..];
        for (half, add) in [("pm", 12), ("am", 0)] {
            if let Some(rest) = after.strip_prefix(half) {
                let hour: u32 = text[..digits].parse().ok()?;
                let hour = hour % 12 + add;
                return Some((day.and_hms_opt(hour, 0, 0)?, rest));
            }
        }
    }
    for format in ["%I:%M %p", "%I:%M%p", "%I%p", "%I %p", "%H:%M:%S", "%H:%M"] {
        if let Ok((time, rest)) = NaiveTime::parse_and_remainder(text, format)
            && !rest.starts_with(|c: char| c.is_ascii_digit())
        {
            return Some((day.and_time(time), rest));
        }
    }
    None
}

/// The first word of an entry's text, lowercased (not a zone or am/pm).
fn first_word(text: &str) -> String {
    const NOT_TEXT: &[&str] = &[
        "am", "pm", "utc", "pst", "pdt", "cet", "cest", "gmt", "pt", "ish",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .find(|word| {
            word.chars().any(char::is_alphabetic)
                && !NOT_TEXT.contains(&word.to_lowercase().as_str())
        })
        .unwrap_or("")
        .to_lowercase()
}

/// How many actions a paragraph of prose under an action heading holds:
/// one per line when each line is a sentence of its own, else one.
fn paragraph_actions(lines: &[&str]) -> usize {
    match lines.len() {
        0 => 0,
        1 => 1,
        n if lines
            .iter()
            .all(|line| line.ends_with(['.', '!', '?', ')'])) =>
        {
            n
        }
        _ => 1,
    }
}

fn is_action_name(name: &str) -> bool {
    let name = name.to_lowercase();
    [
        "action",
        "follow-up",
        "follow up",
        "corrective",
        "remediation",
        "next steps",
        "long term",
    ]
    .iter()
    .any(|word| name.contains(word))
        && !name.contains("questions")
}

fn read_stated(source: &Source) -> Stated {
    let mut stated = Stated::default();
    let lines: Vec<&str> = source.text.lines().collect();
    let mut day = file_day(source);
    // (level of the part's heading, whether it is the timeline / actions)
    let mut timeline: Option<(usize, Tz)> = None;
    let mut actions: Option<usize> = None;
    let mut item_indent: Option<usize> = None;
    let mut in_code = false;
    // Prose lines of an action part without a list: each is an action.
    let mut prose = 0;
    let mut paragraph: Vec<&str> = Vec::new();
    let mut listed_here = false;
    let close_actions = |stated: &mut Stated, prose: &mut usize, listed: &mut bool| {
        if !*listed {
            stated.items += *prose;
        }
        *prose = 0;
        *listed = false;
    };
    for (index, line) in lines.iter().enumerate() {
        let bare = line.trim_start();
        if bare.starts_with("```") && !bare[3..].contains("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let heading = heading_of(line).or_else(|| {
            label_of(line).map(|label| (7 + line.len() - line.trim_start().len(), label))
        });
        if let Some((level, name)) = heading {
            let name = name.trim_matches('*').trim();
            let is_time = leading_moment(strip_marks(name), day).is_some();
            if timeline.is_some_and(|(at, _)| level <= at) && !is_time {
                timeline = None;
            }
            let other_part = [
                "what went",
                "lessons",
                "where we got lucky",
                "timeline",
                "summary",
                "impact",
            ]
            .iter()
            .any(|part| name.to_lowercase().starts_with(part));
            if actions.is_some_and(|at| level <= at || other_part) {
                actions = None;
                item_indent = None;
                close_actions(&mut stated, &mut prose, &mut listed_here);
            }
            if name.to_lowercase().starts_with("timeline") {
                let around: Vec<&str> = std::iter::once(*line)
                    .chain(
                        lines[index + 1..]
                            .iter()
                            .take_while(|next| heading_of(next).is_none_or(|(l, _)| l > level))
                            .copied(),
                    )
                    .collect();
                timeline = Some((level, zone_of(&around)));
                continue;
            }
            if is_action_name(name) {
                actions = Some(level);
                // `- **Review actions**: text` is itself one action.
                let inline = line.split_once("**:").map(|(_, rest)| rest.trim());
                if level >= 7 && inline.is_some_and(|rest| !rest.is_empty()) {
                    stated.items += 1;
                }
                continue;
            }
        }
        if let Some((_, zone)) = timeline
            && let Some((at, rest)) =
                leading_moment(strip_marks(line).replace("**", "").trim(), day)
                    .map(|(at, rest)| (at, rest.to_owned()))
        {
            day = Some(at.date());
            // A date alone on its line is the day of the rows under it.
            let alone =
                at.time() == NaiveTime::MIN && first_word(&rest).is_empty() && heading.is_none();
            if !alone {
                stated.rows.push((local(zone, at), first_word(&rest)));
            }
        }
        if actions.is_some() {
            let indent = line.len() - line.trim_start().len();
            let bare = line.trim_start();
            let listed = bare.starts_with("- ")
                || bare.starts_with("* ")
                || bare
                    .split_once(". ")
                    .is_some_and(|(n, _)| n.parse::<u32>().is_ok());
            let has_text =
                strip_marks(bare.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.'))
                    .trim_start_matches("] ")
                    .trim_start_matches("x] ")
                    .trim()
                    .len()
                    > 1;
            if listed && has_text && heading.is_none() {
                listed_here = true;
                let top = *item_indent.get_or_insert(indent);
                if indent <= top {
                    stated.items += 1;
                }
            } else if !listed
                && heading.is_none()
                && !bare.is_empty()
                && !bare.starts_with(['|', '>', '!', '<', '#'])
            {
                paragraph.push(bare.trim_end());
            }
            if bare.is_empty() || index + 1 == lines.len() {
                prose += paragraph_actions(&paragraph);
                paragraph.clear();
            }
        } else if line
            .trim_start()
            .to_lowercase()
            .starts_with("[action item]")
        {
            stated.items += 1;
        }
        // Key events, as the moj archive writes them.
        if index + 1 == lines.len() {
            close_actions(&mut stated, &mut prose, &mut listed_here);
        }
        let bare = strip_marks(line);
        for (label, slot) in [
            ("Resolved", &mut stated.resolved),
            ("First detected", &mut stated.detected),
            ("Fault occurs", &mut stated.started),
        ] {
            if let Some(rest) = bare.strip_prefix(label)
                && let Some((at, _)) = leading_moment(rest.trim_start_matches([':', ' ']), None)
                && slot.is_none()
            {
                *slot = Some(local(IMPORT_ZONE, at));
            }
        }
    }
    stated
}

struct Stored {
    title: String,
    started: Option<DateTime<Utc>>,
    detected: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    /// Entries with a time: when, and their text.
    entries: Vec<(DateTime<Utc>, String)>,
    items: usize,
}

async fn stored(app: &TestApp, source: &Source) -> Stored {
    let incident = sqlx::query!(
        "SELECT i.title, i.started_at, i.detected_at, i.resolved_at, p.id AS postmortem_id
         FROM incidents i JOIN postmortems p ON p.incident_id = i.id WHERE i.imported_from = $1",
        source.name
    )
    .fetch_one(&app.db)
    .await
    .expect("imported");
    let entries = sqlx::query!(
        "SELECT occurred_at, text FROM timeline_entries WHERE postmortem_id = $1 AND NOT time_unknown",
        incident.postmortem_id
    )
    .fetch_all(&app.db)
    .await
    .expect("entries");
    let items: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM action_items WHERE postmortem_id = $1"#,
        incident.postmortem_id
    )
    .fetch_one(&app.db)
    .await
    .expect("items");
    Stored {
        title: incident.title,
        started: incident.started_at,
        detected: incident.detected_at,
        resolved: incident.resolved_at,
        entries: entries
            .into_iter()
            .map(|e| (e.occurred_at, e.text))
            .collect(),
        items: items as usize,
    }
}

/// Imports an archive and checks every file against what it states;
/// returns the totals (stated, read) for the closing figures.
async fn check_archive(folder: &str, expected_files: usize) -> [(usize, usize); 4] {
    let app = TestApp::spawn().await;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(folder);
    let (sources, _) = markdown::collect(&[path]).expect("test data");
    assert_eq!(sources.len(), expected_files, "{folder}");
    app.import_markdown(&sources, IMPORT_ZONE).await;
    let mut totals = [(0, 0); 4];
    let mut problems = Vec::new();
    for source in &sources {
        let stated = read_stated(source);
        if std::env::var("SHOW_STATED").is_ok_and(|v| source.name.contains(&v)) {
            eprintln!("{}: {stated:#?}", source.name);
        }
        let stored = stored(&app, source).await;
        let name = &source.name;
        let title = stored.title.trim().to_lowercase();
        if SECTION_NAMES.contains(&title.as_str()) || title.is_empty() {
            problems.push(format!(
                "{name}: the title {:?} is a section name",
                stored.title
            ));
        }
        for (label, said, read) in [
            ("start", stated.started, stored.started),
            ("detection", stated.detected, stored.detected),
            ("resolution", stated.resolved, stored.resolved),
        ] {
            if let Some(said) = said
                && read != Some(said)
            {
                problems.push(format!(
                    "{name}: the {label} time is {read:?}, stated {said}"
                ));
            }
        }
        totals[0].0 += usize::from(stated.started.is_some());
        totals[0].1 += usize::from(stated.started.is_some() && stored.started == stated.started);
        totals[1].0 += usize::from(stated.resolved.is_some());
        totals[1].1 += usize::from(stated.resolved.is_some() && stored.resolved == stated.resolved);
        for (at, word) in &stated.rows {
            if !stored.entries.iter().any(|(entry_at, text)| {
                entry_at == at && (word.is_empty() || text.to_lowercase().contains(word.as_str()))
            }) {
                problems.push(format!("{name}: no entry at {at} starting “{word}”"));
            }
        }
        if stored.entries.len() != stated.rows.len() {
            let mut extra: Vec<String> = stored
                .entries
                .iter()
                .filter(|(at, _)| !stated.rows.iter().any(|(row_at, _)| row_at == at))
                .map(|(at, text)| format!("{at} {}", text.chars().take(60).collect::<String>()))
                .collect();
            extra.truncate(5);
            problems.push(format!(
                "{name}: {} entries with a time for {} timeline rows that have one; not stated: {extra:?}",
                stored.entries.len(),
                stated.rows.len()
            ));
        }
        totals[2].0 += stated.rows.len();
        totals[2].1 += stored.entries.len();
        if stored.items != stated.items {
            problems.push(format!(
                "{name}: {} action items for {} in the source",
                stored.items, stated.items
            ));
        }
        totals[3].0 += stated.items;
        totals[3].1 += stored.items;
    }
    println!(
        "{folder}: starts {}/{}, resolutions {}/{}, timeline rows {}/{}, action items {}/{} (read/stated)",
        totals[0].1,
        totals[0].0,
        totals[1].1,
        totals[1].0,
        totals[2].1,
        totals[2].0,
        totals[3].1,
        totals[3].0
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    totals
}

#[tokio::test]
async fn the_moj_archive_imports_with_every_stated_time_row_and_item() {
    check_archive("moj-cloud-platform", 39).await;
}

#[tokio::test]
async fn the_mybinder_archive_imports_with_every_stated_time_row_and_item() {
    check_archive("mybinder", 23).await;
}

#[tokio::test]
async fn the_taskcluster_archive_imports_with_every_stated_time_row_and_item() {
    check_archive("taskcluster", 19).await;
}
