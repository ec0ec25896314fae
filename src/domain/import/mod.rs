//! Reading an existing postmortem written in Markdown into Debrief's shape.
//! Headings map to sections, timeline tables to entries, action-item lists
//! and tables to items, front matter and "Stats" lines to incident fields;
//! whatever maps nowhere is kept verbatim in "Other notes", and the report
//! says where every part went.

mod actions;
mod blocks;
mod front_matter;
mod headings;
mod incident_fields;
mod summary;
mod timeline;
mod vocabulary;
pub mod when;

use chrono_tz::Tz;

pub use actions::ImportedAction;
pub use headings::Target;
pub use headings::normalize as normalize_heading;
pub use incident_fields::IncidentFields;
pub use summary::unmapped_headings;
pub use timeline::ImportedEntry;
pub use vocabulary::{DEFAULT_SEVERITY_WORDS, Vocabulary};

use crate::domain::document::Sections;

/// Words above which a text without headings is a narrative, not a summary.
const NARRATIVE_WORDS: usize = 150;

/// Longest factor description the database keeps.
const FACTOR_MAX: usize = 2000;

/// A document read for import.
#[derive(Clone, Debug)]
pub struct ImportedDocument {
    /// The file it came from (its name; importing it again updates it).
    pub source_name: String,
    pub title: String,
    pub fields: IncidentFields,
    pub sections: Sections,
    /// (category slug, description); the slug is one of the built-in
    /// categories, resolved against the taxonomy when stored.
    pub factors: Vec<(&'static str, String)>,
    pub timeline: Vec<ImportedEntry>,
    pub actions: Vec<ImportedAction>,
    /// Relative paths of images the document shows.
    pub images: Vec<String>,
    /// Where each part of the source went, one line each.
    pub report: Vec<String>,
    /// Headings that named no part of a postmortem (kept in other notes).
    pub unmapped: Vec<String>,
}

/// Lines under one heading of the source.
struct Block {
    target: Option<Target>,
    heading: Option<String>,
    lines: Vec<String>,
}

/// Reads `text`, the Markdown file `source_name`; times without a named
/// zone are read in `zone`; entries with no usable time are kept as "time
/// unknown".
pub fn parse_markdown(
    source_name: &str,
    text: &str,
    zone: Tz,
    words: &Vocabulary,
) -> ImportedDocument {
    let text = text.replace("\r\n", "\n");
    let (fields, body) = match front_matter::split(&text) {
        Some((lines, body)) => (front_matter::fields(&lines), body),
        None => (Vec::new(), text.as_str()),
    };
    let mut doc = ImportedDocument {
        source_name: source_name.to_owned(),
        title: String::new(),
        fields: IncidentFields::default(),
        sections: Sections::default(),
        factors: Vec::new(),
        timeline: Vec::new(),
        actions: Vec::new(),
        images: blocks::image_paths(body),
        report: Vec::new(),
        unmapped: Vec::new(),
    };
    let mut notes = Vec::new();
    let (order, decided) = when::DateOrder::decide(body);
    doc.report.extend(decided);
    let dialect = doc.fields.read_front_matter(
        &fields,
        when::Dialect { zone, order },
        words,
        &mut doc.title,
        &mut notes,
        &mut doc.report,
    );
    let (title, found) = split_blocks(body, words);
    if doc.title.is_empty()
        && let Some(title) = title
    {
        doc.title = title;
    }
    doc.fields
        .read_key_times(body, dialect, words, &mut doc.report);
    // A "Date" section: with a time it is the start; a day alone is the day
    // of time-only rows, and the start only if nothing better turns up.
    let date_section = found
        .iter()
        .filter(|block| {
            block.heading.as_deref().is_some_and(|heading| {
                matches!(
                    headings::normalize(heading).as_str(),
                    "date" | "incident date" | "date of incident" | "when"
                )
            })
        })
        .flat_map(|block| block.lines.iter())
        .find_map(|line| {
            let (written, _) = when::leading_time(line)?;
            Some(when::read_time(written, dialect, None))
        });
    if let Some(when::Reading::Exact(at)) = date_section
        && doc.fields.started_at.is_none()
    {
        doc.fields.started_at = Some(at);
        doc.report.push(format!(
            "“Date” section → start {} UTC",
            at.format("%Y-%m-%d %H:%M")
        ));
    }
    let section_day = date_section
        .and_then(when::Reading::at)
        .map(|at| at.with_timezone(&dialect.zone).date_naive());
    // Rows giving only a time of day start on the incident's day: from its
    // key times, else a date in the title, else the file's name.
    let first_day = doc
        .fields
        .started_at
        .or(doc.fields.detected_at)
        .map(|at| at.with_timezone(&dialect.zone).date_naive())
        .or(section_day)
        .or_else(|| when::read_day(&doc.title, order))
        .or_else(|| when::read_day(source_name, order));
    let headed = found.iter().any(|block| block.heading.is_some());
    for block in found {
        place(&mut doc, block, dialect, first_day, words, &mut notes);
    }
    // A document that is one long story without headings is a narrative:
    // kept whole in other notes, with its first paragraph as the summary.
    if !headed && doc.sections.summary.split_whitespace().count() > NARRATIVE_WORDS {
        let story = std::mem::take(&mut doc.sections.summary);
        doc.sections.summary = story
            .split("\n\n")
            .next()
            .filter(|first| first.split_whitespace().count() <= NARRATIVE_WORDS)
            .unwrap_or_default()
            .to_owned();
        notes.insert(0, format!("### Narrative\n\n{story}"));
        doc.report
            .push("a long text without headings → other notes (narrative), its first paragraph the Summary".to_owned());
    }
    // A short summary from front matter comes first in the Summary.
    if let Some(summary) = doc.fields.summary.take() {
        let body = std::mem::take(&mut doc.sections.summary);
        doc.sections.summary = summary;
        append_text(&mut doc.sections.summary, &body, None);
    }
    if !doc.fields.authors.is_empty() {
        notes.push(format!("### Authors\n\n{}", doc.fields.authors.join(", ")));
    }
    // No title in the document: the summary's first sentence, else the
    // file's name made readable.
    if doc.title.is_empty() {
        doc.title =
            first_sentence(&doc.sections.summary).unwrap_or_else(|| title_from_name(source_name));
    }
    doc.fields.finish(&doc.timeline, &mut doc.report);
    if doc.fields.started_at.is_none()
        && let Some(day) = date_section.and_then(when::Reading::at)
    {
        doc.fields.started_at = Some(day);
        doc.report.push(format!(
            "“Date” section → start {} (a day without a time)",
            day.format("%Y-%m-%d")
        ));
    }
    append_notes(&mut doc.sections.other_notes, &notes);
    doc.title = doc.title.chars().take(200).collect();
    doc
}

/// The first H1 (the title) and the blocks under each heading.
fn split_blocks(body: &str, words: &Vocabulary) -> (Option<String>, Vec<Block>) {
    let mut title = None;
    let mut found = vec![Block {
        target: Some(Target::Section("summary")),
        heading: None,
        lines: Vec::new(),
    }];
    // Before the first heading that names a section, a list of bold labels
    // (`- **Impact**:` with its points nested under it) is that document's
    // way of writing sections.
    let mut labels_allowed = true;
    let mut under_label = false;
    // How far the lines under a label are indented: that of its first line.
    let mut label_indent: Option<usize> = None;
    let mut previous_blank = true;
    for line in body.lines() {
        if labels_allowed && let Some((label, rest)) = bold_label(line) {
            let target = match words.classify(label) {
                // Lines under a "Key events" label rarely start with their
                // time; their key times are read from the body instead.
                Some(Target::Timeline) => Some(Target::Notes),
                other => other,
            };
            if target.is_some() {
                found.push(Block {
                    target,
                    heading: Some(label.to_owned()),
                    lines: if rest.is_empty() {
                        Vec::new()
                    } else {
                        vec![rest.to_owned()]
                    },
                });
                under_label = true;
                label_indent = None;
                continue;
            }
        }
        // `Action Items` (or `Timeline:`) alone on a line after a blank one
        // is a heading written without its marks.
        if previous_blank && let Some((label, target)) = bare_label(line, words) {
            labels_allowed = false;
            under_label = false;
            found.push(Block {
                target: Some(target),
                heading: Some(label.to_owned()),
                lines: Vec::new(),
            });
            previous_blank = false;
            continue;
        }
        previous_blank = line.trim().is_empty();
        if let Some((level, text)) = blocks::heading(line) {
            // `# Title: Checkout 502s` names the title after its label.
            let text = strip_label(text, "title").unwrap_or(text);
            let target = words.classify(text);
            if level == 1 && title.is_none() && target.is_none() && !text.is_empty() {
                title = Some(text.to_owned());
                continue;
            }
            // `## Feb 21, 13:00` inside a timeline is one of its entries.
            let in_timeline = found
                .last()
                .is_some_and(|block| block.target == Some(Target::Timeline));
            if target.is_none() && in_timeline && when::leading_time(text).is_some() {
                if let Some(block) = found.last_mut() {
                    block.lines.push(line.to_owned());
                }
                continue;
            }
            if target.is_some() || level <= 2 {
                labels_allowed = false;
                under_label = false;
                found.push(Block {
                    target,
                    heading: Some(text.to_owned()),
                    lines: Vec::new(),
                });
                continue;
            }
        }
        if let Some(block) = found.last_mut() {
            // The points nested under a label are the section's own lines.
            let line = if under_label && !line.trim().is_empty() {
                let indent = line.len() - line.trim_start().len();
                let by = *label_indent.get_or_insert(indent);
                if indent >= by { &line[by..] } else { line }
            } else {
                line
            };
            block.lines.push(line.to_owned());
        }
    }
    (title, found)
}

/// Puts one block where its heading says.
fn place(
    doc: &mut ImportedDocument,
    block: Block,
    dialect: when::Dialect,
    first_day: Option<chrono::NaiveDate>,
    words: &Vocabulary,
    notes: &mut Vec<String>,
) {
    let heading = block
        .heading
        .clone()
        .unwrap_or_else(|| "(before the first heading)".to_owned());
    let content = blocks::join_trimmed(&block.lines);
    if content.is_empty() && block.heading.is_none() {
        return;
    }
    if block.target != Some(Target::Actions) {
        let marked = actions::marked_in(&block.lines, dialect.order);
        if !marked.is_empty() {
            doc.report.push(format!(
                "“{heading}”: {} action items marked inline (the text stays in place too)",
                marked.len()
            ));
            doc.actions.extend(marked);
        }
    }
    match block.target {
        // A root-cause section that is a list names contributing factors.
        Some(Target::Section("trigger")) if is_list(&block.lines) => {
            place_factors(doc, &heading, &block.lines, notes);
        }
        Some(Target::Section(field)) => {
            if let Some(section) = doc.sections.text_mut(field) {
                append_text(
                    section,
                    &content,
                    block.heading.as_deref().filter(|_| !section.is_empty()),
                );
            }
            doc.report
                .push(format!("“{heading}” → {}", section_heading(field)));
        }
        Some(Target::Timeline) => {
            let read = timeline::read(&block.lines, block.heading.as_deref(), dialect, first_day);
            doc.report.push(format!(
                "“{heading}” → timeline: {} entries, times read in {}",
                read.entries.len(),
                read.zone.unwrap_or(dialect.zone).name()
            ));
            doc.report.extend(read.report);
            doc.timeline.extend(read.entries);
            keep(notes, &heading, &read.notes);
        }
        Some(Target::Factors) => place_factors(doc, &heading, &block.lines, notes),
        Some(Target::Actions) => place_actions(doc, &heading, &block.lines, dialect, notes),
        Some(Target::Stats) => {
            doc.fields.read_stats(&block.lines, words, &mut doc.report);
            keep(notes, &heading, &block.lines);
            doc.report.push(format!(
                "“{heading}” → incident fields, and kept in other notes"
            ));
        }
        Some(Target::Severity) => {
            let said = block.lines.iter().map(|l| l.trim()).find(|l| !l.is_empty());
            match said.and_then(|said| words.severity(said)) {
                Some(severity) if doc.fields.severity.is_none() => {
                    doc.fields.severity = Some(severity);
                    doc.report.push(format!(
                        "“{heading}” → severity {}, and kept in other notes",
                        severity.label()
                    ));
                }
                _ => doc.report.push(format!(
                    "“{heading}” → other notes (no severity word the table knows)"
                )),
            }
            keep(notes, &heading, &block.lines);
        }
        Some(Target::Notes) => {
            keep(notes, &heading, &block.lines);
            doc.report.push(format!("“{heading}” → other notes"));
        }
        None => {
            keep(notes, &heading, &block.lines);
            doc.report
                .push(format!("“{heading}” → other notes (no matching section)"));
            doc.unmapped.push(heading);
        }
    }
}

fn place_factors(
    doc: &mut ImportedDocument,
    heading: &str,
    lines: &[String],
    notes: &mut Vec<String>,
) {
    let split = blocks::split_items(lines);
    let before = doc.factors.len();
    for (text, nested) in split.items {
        let mut description = text;
        for line in nested {
            description.push('\n');
            description.push_str(&line);
        }
        let description = description.trim().to_owned();
        if description.is_empty() {
            continue;
        }
        if description.chars().count() > FACTOR_MAX {
            notes.push(description.clone());
        }
        let category = guess_category(&description);
        doc.factors
            .push((category, description.chars().take(FACTOR_MAX).collect()));
    }
    doc.report.push(format!(
        "“{heading}” → {} contributing factors",
        doc.factors.len() - before
    ));
    keep(notes, heading, &split.other);
}

fn place_actions(
    doc: &mut ImportedDocument,
    heading: &str,
    lines: &[String],
    dialect: when::Dialect,
    notes: &mut Vec<String>,
) {
    let before = doc.actions.len();
    let mut list_lines = Vec::new();
    let mut header: Option<(Vec<String>, Vec<actions::Column>)> = None;
    for line in lines {
        let Some(cells) = blocks::table_cells(line) else {
            list_lines.push(line.clone());
            continue;
        };
        if blocks::is_separator(&cells) {
            continue;
        }
        match &header {
            None => {
                let roles = actions::columns(&cells);
                header = Some((cells, roles));
            }
            Some((names, roles)) => {
                doc.actions
                    .extend(actions::from_table_row(names, roles, &cells, dialect.order))
            }
        }
    }
    let split = blocks::split_items(&list_lines);
    let listed = !split.items.is_empty() || header.is_some();
    for (text, nested) in split.items {
        doc.actions
            .extend(actions::from_list_item(&text, &nested, dialect.order));
    }
    // Under an action heading with no list or table, the paragraphs are the
    // actions; they are also kept as written.
    let mut other = split.other;
    if !listed {
        let (prose, rest) = actions::paragraphs(&other);
        for paragraph in &prose {
            doc.actions
                .extend(actions::from_list_item(paragraph, &[], dialect.order));
        }
        if !prose.is_empty() {
            other = rest;
        }
    }
    doc.report.push(format!(
        "“{heading}” → {} action items",
        doc.actions.len() - before
    ));
    keep(notes, heading, &other);
}

/// Whether the lines are a list of two or more items and nothing else.
fn is_list(lines: &[String]) -> bool {
    let split = blocks::split_items(lines);
    split.items.len() >= 2 && split.other.iter().all(|line| line.trim().is_empty())
}

/// Keeps lines verbatim in other notes under the heading they had.
fn keep(notes: &mut Vec<String>, heading: &str, lines: &[String]) {
    let content = blocks::join_trimmed(lines);
    if !content.trim().is_empty() {
        notes.push(format!("### {heading}\n\n{content}"));
    }
}

fn append_notes(other_notes: &mut String, notes: &[String]) {
    for note in notes {
        append_text(other_notes, note, None);
    }
}

fn append_text(section: &mut String, text: &str, heading: Option<&str>) {
    if text.trim().is_empty() {
        return;
    }
    if !section.is_empty() {
        section.push_str("\n\n");
    }
    if let Some(heading) = heading {
        section.push_str(&format!("### {heading}\n\n"));
    }
    section.push_str(text);
}

fn section_heading(field: &str) -> &'static str {
    crate::domain::section::Section::from_field(field)
        .map_or("other notes", crate::domain::section::Section::heading)
}

/// `- **Impact**: text` as the label and what follows it on the line; only
/// for list items that are not indented.
fn bold_label(line: &str) -> Option<(&str, &str)> {
    let rest = line
        .strip_prefix("- ")
        .or_else(|| line.strip_prefix("* "))?;
    let rest = rest.trim_start().strip_prefix("**")?;
    let (label, after) = rest.split_once("**")?;
    let label = label.trim().trim_end_matches(':').trim();
    let after = after.trim_start().trim_start_matches(':').trim();
    (!label.is_empty()).then_some((label, after))
}

/// A line that is only a part's name (`Action Items`, `**Timeline:**`):
/// short, no sentence in it, and a name the vocabulary knows exactly.
fn bare_label<'a>(line: &'a str, words: &Vocabulary) -> Option<(&'a str, Target)> {
    let label = line
        .trim()
        .trim_matches('*')
        .trim()
        .trim_end_matches(':')
        .trim_matches('*')
        .trim();
    let bold = line.trim_start().starts_with("**");
    let marked = line
        .trim_start()
        .starts_with(['-', '*', '#', '|', '>', '+'])
        && !bold;
    if label.is_empty()
        || label.chars().count() > 40
        || marked
        || label.contains(['.', ',', '!', '?', '('])
        || blocks::list_item(line).is_some()
    {
        return None;
    }
    let target = words.classify_exact(label)?;
    matches!(target, Target::Actions | Target::Timeline | Target::Factors)
        .then_some((label, target))
}

/// `text` after a leading `label:` (any case), trimmed.
fn strip_label<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let (head, rest) = text.split_once(':')?;
    head.trim().eq_ignore_ascii_case(label).then(|| rest.trim())
}

/// The first sentence of a summary, when it is short enough to be a title.
fn first_sentence(summary: &str) -> Option<String> {
    let text = summary
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with(['|', '#', '!', '<']))?;
    let text = text
        .trim_start_matches(['-', '*', '>', ' '])
        .replace(['*', '`'], "");
    let end = text
        .char_indices()
        .find(|(at, c)| {
            matches!(c, '.' | '!' | '?')
                && text[at + c.len_utf8()..]
                    .chars()
                    .next()
                    .is_none_or(char::is_whitespace)
        })
        .map_or(text.len(), |(at, _)| at);
    let sentence = text[..end].trim();
    (sentence.chars().count() >= 8 && sentence.chars().count() <= 120).then(|| sentence.to_owned())
}

/// A file's name made readable: `PM2020-004 - CoreDNS upgrade issue.md` →
/// `PM2020-004 - CoreDNS upgrade issue`; `2021-03-04-ingress-outage.html.md.erb`
/// → `2021-03-04 ingress outage`.
fn title_from_name(source_name: &str) -> String {
    let name = source_name.rsplit('/').next().unwrap_or(source_name);
    let mut stem = name;
    while let Some((before, extension)) = stem.rsplit_once('.') {
        let known = ["md", "markdown", "erb", "html", "txt", "mdx", "rst"];
        if before.is_empty() || !known.contains(&extension.to_ascii_lowercase().as_str()) {
            break;
        }
        stem = before;
    }
    let stem = stem.trim();
    if stem.is_empty() {
        return "Imported postmortem".to_owned();
    }
    if stem.contains(' ') {
        return stem.to_owned();
    }
    // A slug: words joined by dashes or underscores, a leading date kept whole.
    let (date, rest) = match stem.get(..10) {
        Some(date) if chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok() => {
            (Some(date), stem[10..].trim_start_matches(['-', '_']))
        }
        _ => (None, stem),
    };
    let words = rest.replace(['-', '_'], " ");
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    match date {
        Some(date) if words.is_empty() => date.to_owned(),
        Some(date) => format!("{date} {words}"),
        None => words,
    }
}

/// A category from the words a factor uses.
fn guess_category(text: &str) -> &'static str {
    let text = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|word| text.contains(word));
    if has(&[
        "monitor",
        "alert",
        "alarm",
        "detect",
        "dashboard",
        "metric",
        "observab",
    ]) {
        "detection"
    } else if has(&["communicat", "announce", "informed", "notif", "slack"]) {
        "communication"
    } else if has(&[
        "vendor",
        "aws",
        "amazon",
        "upstream",
        "third-party",
        "third party",
        "provider",
    ]) {
        "external"
    } else if has(&[
        "process",
        "procedure",
        "runbook",
        "review",
        "checklist",
        "pipeline",
        "documentation",
    ]) {
        "process"
    } else if has(&[
        "team",
        "ownership",
        "priorit",
        "staff",
        "knowledge",
        "war room",
    ]) {
        "organizational"
    } else {
        "technical"
    }
}

#[cfg(test)]
mod tests;
