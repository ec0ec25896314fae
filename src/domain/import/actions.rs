//! Action items from an imported document: list items such as
//! `- **Title**: details (owner: Sam, due 2026-03-24)` and table rows with
//! action, owner and due columns.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use super::when::{self, DateOrder};
use crate::domain::action::{ActionKind, ActionStatus, Priority};

/// Longest title the database keeps; longer text goes to the description.
const TITLE_MAX: usize = 200;

static OWNER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:owner|owned by|assignee|assigned to|who)\s*[:=]?\s*(?P<owner>@?[\w.@-]+(?: [A-Z][\w-]*)?)")
        .expect("owner pattern")
});

/// `@sam` or `@sam.okafor` in an item names its owner (not an email address).
static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s(\[,])@(?P<owner>[A-Za-z][\w.-]*[\w])").expect("mention pattern")
});

/// `due 2026-03-24`, `by 24 March 2026`, `deadline: 03/24/2026`: the date
/// itself is read by [`when::read_day`].
static DUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:due|by|deadline)\s*(?:date|on)?\s*[:=]?\s*(?P<due>[^);\]]{6,40})")
        .expect("due pattern")
});

/// A link to an issue in a tracker: GitHub or GitLab issues and pull
/// requests, Jira, Bugzilla, Linear.
static TRACKER_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"https?://[^\s)>\]]*(?:/issues/\d+|/pull/\d+|/-/issues/\d+|/browse/[A-Z][A-Z0-9]+-\d+|show_bug\.cgi\?id=\d+|linear\.app/[^\s)>\]]*/issue/[^\s)>\]]+)")
        .expect("tracker link pattern")
});

static TRAILING_META: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*[(\[](?:[^()\[\]]*\b(?:owner|assignee|due|deadline)\b[^()\[\]]*)[)\]]\s*$")
        .expect("meta pattern")
});

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"https?://[^\s)>\]]+").expect("url pattern"));

/// One action item as the source wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedAction {
    pub title: String,
    pub description: String,
    pub kind: ActionKind,
    pub priority: Priority,
    pub status: ActionStatus,
    /// The owner as written; matched to an account when the import is saved.
    pub owner: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub tracker_url: Option<String>,
}

/// An item from a list line and its nested lines: `- [x]` closes it; the
/// owner (`owner: Sam`, `@sam`), due date and tracker link come from the
/// line, else from the lines nested under it.
pub fn from_list_item(text: &str, nested: &[String], order: DateOrder) -> Option<ImportedAction> {
    let (mut text, mut status) = strip_checkbox(text);
    if text.is_empty() && nested.is_empty() {
        return None;
    }
    if let Some(stripped) = strip_suffix_ci(&text, "(done)") {
        text = stripped;
        status = ActionStatus::Done;
    }
    let lines = || std::iter::once(text.as_str()).chain(nested.iter().map(String::as_str));
    let owner = lines().find_map(|line| {
        OWNER
            .captures(line)
            .or_else(|| MENTION.captures(line))
            .map(|found| found["owner"].to_owned())
    });
    let due_on = lines().find_map(|line| {
        DUE.captures(line)
            .and_then(|found| when::read_day(&found["due"], order))
    });
    let tracker_url =
        lines().find_map(|line| TRACKER_LINK.find(line).map(|m| m.as_str().to_owned()));
    let own_line_has_meta = OWNER.is_match(&text) || MENTION.is_match(&text) || DUE.is_match(&text);
    if own_line_has_meta {
        text = TRAILING_META.replace(&text, "").into_owned();
    }
    let (title, mut description) = split_title(&text);
    if !nested.is_empty() {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str(&nested.join("\n"));
    }
    let mut item = finish(title, description, status, owner, due_on);
    item.tracker_url = tracker_url;
    Some(item)
}

/// Column roles in an action-item table header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Title,
    Owner,
    Due,
    Status,
    Tracker,
    Priority,
    /// Anything else: kept in the description as `Header: value`.
    Other,
}

/// What each header cell of an action-item table holds.
pub fn columns(header: &[String]) -> Vec<Column> {
    let mut columns: Vec<Column> = header
        .iter()
        .map(|cell| {
            let cell = cell.to_ascii_lowercase();
            let has = |words: &[&str]| words.iter().any(|word| cell.contains(word));
            if has(&["owner", "who", "assignee", "responsible"]) {
                Column::Owner
            } else if has(&["due", "deadline", "date", "when"]) {
                Column::Due
            } else if has(&["status", "state", "done"]) {
                Column::Status
            } else if has(&["ticket", "tracker", "issue", "link", "jira"]) {
                Column::Tracker
            } else if has(&["priority"]) {
                Column::Priority
            } else if has(&["action", "item", "task", "what", "description", "title"]) {
                Column::Title
            } else {
                Column::Other
            }
        })
        .collect();
    if !columns.contains(&Column::Title)
        && let Some(first) = columns.iter_mut().find(|c| **c == Column::Other)
    {
        *first = Column::Title;
    }
    columns
}

/// An item from one table row, read with [`columns`].
pub fn from_table_row(
    header: &[String],
    roles: &[Column],
    cells: &[String],
    order: DateOrder,
) -> Option<ImportedAction> {
    let mut title = String::new();
    let mut extra = Vec::new();
    let mut owner = None;
    let mut due_on = None;
    let mut status = ActionStatus::Open;
    let mut tracker_url = None;
    let mut priority = Priority::P2;
    for (index, cell) in cells.iter().enumerate() {
        let cell = cell.trim();
        if cell.is_empty() || cell == "-" {
            continue;
        }
        let label = header.get(index).map_or("", String::as_str);
        match roles.get(index).copied().unwrap_or(Column::Other) {
            Column::Title if title.is_empty() => title = cell.to_owned(),
            Column::Owner => owner = Some(cell.to_owned()),
            Column::Due if when::read_day(cell, order).is_some() => {
                due_on = when::read_day(cell, order)
            }
            Column::Status if status_of(cell).is_some() => {
                status = status_of(cell).unwrap_or(status)
            }
            Column::Tracker if URL.is_match(cell) => {
                tracker_url = URL.find(cell).map(|m| m.as_str().to_owned());
                if tracker_url.as_deref() != Some(cell) {
                    extra.push(format!("{label}: {cell}"));
                }
            }
            Column::Priority if priority_of(cell).is_some() => {
                priority = priority_of(cell).unwrap_or(priority);
            }
            _ => extra.push(format!("{label}: {cell}")),
        }
    }
    if title.is_empty() && extra.is_empty() {
        return None;
    }
    let (title, mut description) = split_title(&title);
    for line in extra {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str(&line);
    }
    let mut item = finish(title, description, status, owner, due_on);
    item.tracker_url = tracker_url;
    item.priority = priority;
    Some(item)
}

/// `[Action Item] text` or `Action item: text` in the middle of another part
/// (a timeline, a narrative).
static MARKED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:[-*+]\s+)?(?:\*\*)?\[?(?:action item|action|todo|follow[- ]up)\]?(?:\*\*)?\s*[:\]]?\s*(?:\*\*)?(?P<text>.+)$")
        .expect("marked action pattern")
});

/// Action items marked inline in `lines` (`[Action Item] …`), each with the
/// lines that continue its paragraph; the lines stay where they are too.
pub fn marked_in(lines: &[String], order: DateOrder) -> Vec<ImportedAction> {
    let mut out = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = &lines[index];
        index += 1;
        let marked = line
            .trim_start()
            .starts_with(['[', '*', '-', 'A', 'a', 'T', 't', 'F', 'f'])
            && has_marker(line);
        let Some(found) = MARKED.captures(line).filter(|_| marked) else {
            continue;
        };
        let mut text = found["text"].trim().to_owned();
        while let Some(next) = lines.get(index) {
            if next.trim().is_empty() || next.trim_start().starts_with(['#', '-', '*', '|']) {
                break;
            }
            text.push(' ');
            text.push_str(next.trim());
            index += 1;
        }
        out.extend(from_list_item(&text, &[], order));
    }
    out
}

/// Whether a line opens with an explicit action marker: `[Action Item]`,
/// `Action item:`, `**TODO**:`; a sentence merely starting with "Action" is not one.
fn has_marker(line: &str) -> bool {
    let bare = line
        .trim_start()
        .trim_start_matches(['-', '*', '+', ' '])
        .to_ascii_lowercase();
    [
        "[action item]",
        "action item:",
        "[action]",
        "action:",
        "[todo]",
        "todo:",
        "[follow-up]",
        "follow-up:",
        "follow up:",
    ]
    .iter()
    .any(|marker| bare.starts_with(marker))
        || bare.starts_with("action item**:")
        || bare.starts_with("todo**:")
}

/// Paragraphs of prose, each an action: lines joined unless every line of a
/// paragraph ends a sentence, when each line is one. Code, quotes, tables
/// and headings are not actions: they come back as the second list.
pub fn paragraphs(lines: &[String]) -> (Vec<String>, Vec<String>) {
    let mut out = Vec::new();
    let mut rest = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut in_code = false;
    let flush = |current: &mut Vec<&str>, out: &mut Vec<String>| {
        let ends_sentences = current
            .iter()
            .all(|line| line.ends_with(['.', '!', '?', ')']));
        if current.len() > 1 && ends_sentences {
            out.extend(current.iter().map(|line| (*line).to_owned()));
        } else if !current.is_empty() {
            out.push(current.join(" "));
        }
        current.clear();
    };
    for line in lines {
        let line = line.trim();
        if line.starts_with("```") {
            in_code = !in_code;
            rest.push(line.to_owned());
            continue;
        }
        if in_code || line.starts_with(['#', '>', '<', '|', '!']) {
            rest.push(line.to_owned());
            continue;
        }
        if line.is_empty() {
            flush(&mut current, &mut out);
        } else {
            current.push(line);
        }
    }
    flush(&mut current, &mut out);
    (out, rest)
}

fn finish(
    title: String,
    description: String,
    status: ActionStatus,
    owner: Option<String>,
    due_on: Option<NaiveDate>,
) -> ImportedAction {
    let title = if title.is_empty() {
        "(untitled action item)".to_owned()
    } else {
        title
    };
    let kind = guess_kind(&format!("{title} {description}"));
    ImportedAction {
        title,
        description,
        kind,
        priority: Priority::P2,
        status,
        owner,
        due_on,
        tracker_url: None,
    }
}

/// `**Title**: details` splits at the bold title; otherwise the whole text
/// is the title, cut at a word when too long (the full text then becomes
/// the description, so nothing is lost).
fn split_title(text: &str) -> (String, String) {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("**")
        && let Some(end) = rest.find("**")
    {
        let title = rest[..end].trim().trim_end_matches(':').trim();
        let after = rest[end + 2..].trim_start_matches(':').trim();
        if !title.is_empty() && title.chars().count() <= TITLE_MAX {
            return (title.to_owned(), after.to_owned());
        }
    }
    if text.chars().count() <= TITLE_MAX {
        return (text.to_owned(), String::new());
    }
    let mut title = String::new();
    for word in text.split_whitespace() {
        if title.chars().count() + word.chars().count() + 2 > TITLE_MAX {
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    title.push('…');
    (title, text.to_owned())
}

fn strip_checkbox(text: &str) -> (String, ActionStatus) {
    let trimmed = text.trim();
    for (mark, status) in [
        ("[ ]", ActionStatus::Open),
        ("[x]", ActionStatus::Done),
        ("[X]", ActionStatus::Done),
    ] {
        if let Some(rest) = trimmed.strip_prefix(mark) {
            return (rest.trim().to_owned(), status);
        }
    }
    (trimmed.to_owned(), ActionStatus::Open)
}

fn strip_suffix_ci(text: &str, suffix: &str) -> Option<String> {
    let trimmed = text.trim_end();
    let cut = trimmed.len().checked_sub(suffix.len())?;
    (trimmed.is_char_boundary(cut) && trimmed[cut..].eq_ignore_ascii_case(suffix))
        .then(|| trimmed[..cut].trim_end().to_owned())
}

fn status_of(text: &str) -> Option<ActionStatus> {
    let text = text.to_ascii_lowercase();
    let text = text.trim();
    match text {
        "done" | "closed" | "complete" | "completed" | "fixed" | "resolved" | "yes" | "x"
        | "✅" => Some(ActionStatus::Done),
        "open" | "todo" | "to do" | "new" | "no" => Some(ActionStatus::Open),
        "in progress" | "in-progress" | "started" | "doing" | "wip" => {
            Some(ActionStatus::InProgress)
        }
        _ => None,
    }
}

fn priority_of(text: &str) -> Option<Priority> {
    Priority::parse(&text.trim().to_ascii_lowercase())
}

/// A kind from the words an item uses; "prevent" when nothing says more.
fn guess_kind(text: &str) -> ActionKind {
    let text = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|word| text.contains(word));
    if has(&[
        "investigate",
        "look into",
        "consider",
        "assess",
        "figure out",
        "discuss",
        "reflect",
        "evaluate",
    ]) {
        ActionKind::Investigate
    } else if has(&[
        "monitor",
        "alert",
        "alarm",
        "dashboard",
        "detect",
        "metric",
        "probe",
    ]) {
        ActionKind::Detect
    } else if has(&[
        "document",
        "process",
        "procedure",
        "runbook",
        "guideline",
        "wiki",
        "teach",
        "communicat",
        "train",
    ]) {
        ActionKind::Process
    } else if has(&[
        "rollback",
        "roll back",
        "mitigat",
        "limit",
        "fallback",
        "one-click",
    ]) {
        ActionKind::Mitigate
    } else {
        ActionKind::Prevent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list_item(text: &str, nested: &[String]) -> Option<ImportedAction> {
        from_list_item(text, nested, DateOrder::DayFirst)
    }

    #[test]
    fn actions_marked_inside_other_parts_are_found() {
        let lines: Vec<String> = "Launches hit the limit.\n\n[Action Item] launches rejected by the rate limit are\ncounted as failed launches.\n\nAction items were discussed later."
            .lines()
            .map(str::to_owned)
            .collect();
        let found = marked_in(&lines, DateOrder::DayFirst);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].title,
            "launches rejected by the rate limit are counted as failed launches."
        );
    }

    #[test]
    fn checklists_tracker_links_and_nested_owner_lines_are_read() {
        let item = list_item(
            "[x] Alert on queue depth ([#4521](https://github.com/acme/ops/issues/4521))",
            &[
                "- Owner: Priya".to_owned(),
                "- Due: 24 March 2026".to_owned(),
            ],
        )
        .unwrap();
        assert_eq!(item.status, ActionStatus::Done);
        assert_eq!(
            item.tracker_url.as_deref(),
            Some("https://github.com/acme/ops/issues/4521")
        );
        assert_eq!(item.owner.as_deref(), Some("Priya"));
        assert_eq!(item.due_on, NaiveDate::from_ymd_opt(2026, 3, 24));
        let jira = super::from_list_item(
            "Rotate keys, see https://acme.atlassian.net/browse/OPS-42 (due 03/24/2026)",
            &[],
            DateOrder::MonthFirst,
        )
        .unwrap();
        assert_eq!(
            jira.tracker_url.as_deref(),
            Some("https://acme.atlassian.net/browse/OPS-42")
        );
        assert_eq!(jira.due_on, NaiveDate::from_ymd_opt(2026, 3, 24));
    }

    #[test]
    fn a_mention_names_the_owner() {
        let item =
            list_item("[ ] Add an alert on pool saturation @sam.okafor", &[]).expect("an item");
        assert_eq!(item.owner.as_deref(), Some("sam.okafor"));
        assert_eq!(item.status, ActionStatus::Open);
        let mailed = list_item("Write to ops@example.com about the runbook", &[]).expect("an item");
        assert_eq!(mailed.owner, None, "an email address is not a mention");
    }

    fn cells(row: &[&str]) -> Vec<String> {
        row.iter().map(|cell| (*cell).to_owned()).collect()
    }

    #[test]
    fn a_bold_title_splits_from_its_details() {
        let item = list_item(
            "**Implement priority-classes for critical workloads**: It can happen even in none resource starved states",
            &[],
        )
        .unwrap();
        assert_eq!(
            item.title,
            "Implement priority-classes for critical workloads"
        );
        assert_eq!(
            item.description,
            "It can happen even in none resource starved states"
        );
    }

    #[test]
    fn owner_due_and_done_marks_are_read() {
        let item = list_item(
            "[x] Extend the canary window (owner: Sam, due 2026-03-17)",
            &[],
        )
        .unwrap();
        assert_eq!(item.title, "Extend the canary window");
        assert_eq!(item.owner.as_deref(), Some("Sam"));
        assert_eq!(item.due_on, NaiveDate::from_ymd_opt(2026, 3, 17));
        assert_eq!(item.status, ActionStatus::Done);
        let done = list_item(
            "Implement guards against invalid runtime selection (done)",
            &[],
        )
        .unwrap();
        assert_eq!(done.status, ActionStatus::Done);
    }

    #[test]
    fn long_items_keep_their_whole_text_in_the_description() {
        let long = "word ".repeat(80);
        let item = list_item(&long, &[]).unwrap();
        assert!(item.title.chars().count() <= TITLE_MAX);
        assert_eq!(item.description, long.trim());
    }

    #[test]
    fn nested_lines_become_the_description() {
        let item = list_item("Improve probes", &["- Reach out to teams".to_owned()]).unwrap();
        assert_eq!(item.description, "- Reach out to teams");
        assert_eq!(item.kind, ActionKind::Detect);
    }

    #[test]
    fn table_rows_map_by_their_header() {
        let header = cells(&["Action", "Owner", "Due", "Notes"]);
        let roles = columns(&header);
        let item = from_table_row(
            &header,
            &roles,
            &cells(&["Build a one-click rollback", "C", "2026-03-31", "big"]),
            DateOrder::DayFirst,
        )
        .unwrap();
        assert_eq!(item.title, "Build a one-click rollback");
        assert_eq!(item.owner.as_deref(), Some("C"));
        assert_eq!(item.due_on, NaiveDate::from_ymd_opt(2026, 3, 31));
        assert_eq!(item.description, "Notes: big");
        assert_eq!(item.kind, ActionKind::Mitigate);
    }
}
