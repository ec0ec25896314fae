//! Action items from an imported document: list items such as
//! `- **Title**: details (owner: Sam, due 2026-03-24)` and table rows with
//! action, owner and due columns.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

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

static DUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:due|by|deadline)\s*[:=]?\s*(?P<due>\d{4}-\d{2}-\d{2})")
        .expect("due pattern")
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

/// An item from a list line and its nested lines.
pub fn from_list_item(text: &str, nested: &[String]) -> Option<ImportedAction> {
    let (mut text, mut status) = strip_checkbox(text);
    if text.is_empty() && nested.is_empty() {
        return None;
    }
    if let Some(stripped) = strip_suffix_ci(&text, "(done)") {
        text = stripped;
        status = ActionStatus::Done;
    }
    let owner = OWNER
        .captures(&text)
        .or_else(|| MENTION.captures(&text))
        .map(|found| found["owner"].to_owned());
    let due_on = DUE
        .captures(&text)
        .and_then(|found| parse_due(&found["due"]));
    if owner.is_some() || due_on.is_some() {
        text = TRAILING_META.replace(&text, "").into_owned();
    }
    let (title, mut description) = split_title(&text);
    if !nested.is_empty() {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str(&nested.join("\n"));
    }
    Some(finish(title, description, status, owner, due_on))
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
            Column::Due if parse_due(cell).is_some() => due_on = parse_due(cell),
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

/// A due date as written: `2026-03-24`, `2026/03/24`, `24.03.2026`.
pub fn parse_due(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    [
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%d.%m.%Y",
        "%d/%m/%Y",
        "%B %d, %Y",
        "%b %d, %Y",
    ]
    .iter()
    .find_map(|format| NaiveDate::parse_from_str(text, format).ok())
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

    #[test]
    fn a_mention_names_the_owner() {
        let item = from_list_item("[ ] Add an alert on pool saturation @sam.okafor", &[])
            .expect("an item");
        assert_eq!(item.owner.as_deref(), Some("sam.okafor"));
        assert_eq!(item.status, ActionStatus::Open);
        let mailed =
            from_list_item("Write to ops@example.com about the runbook", &[]).expect("an item");
        assert_eq!(mailed.owner, None, "an email address is not a mention");
    }

    fn cells(row: &[&str]) -> Vec<String> {
        row.iter().map(|cell| (*cell).to_owned()).collect()
    }

    #[test]
    fn a_bold_title_splits_from_its_details() {
        let item = from_list_item(
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
        let item = from_list_item(
            "[x] Extend the canary window (owner: Sam, due 2026-03-17)",
            &[],
        )
        .unwrap();
        assert_eq!(item.title, "Extend the canary window");
        assert_eq!(item.owner.as_deref(), Some("Sam"));
        assert_eq!(item.due_on, NaiveDate::from_ymd_opt(2026, 3, 17));
        assert_eq!(item.status, ActionStatus::Done);
        let done = from_list_item(
            "Implement guards against invalid runtime selection (done)",
            &[],
        )
        .unwrap();
        assert_eq!(done.status, ActionStatus::Done);
    }

    #[test]
    fn long_items_keep_their_whole_text_in_the_description() {
        let long = "word ".repeat(80);
        let item = from_list_item(&long, &[]).unwrap();
        assert!(item.title.chars().count() <= TITLE_MAX);
        assert_eq!(item.description, long.trim());
    }

    #[test]
    fn nested_lines_become_the_description() {
        let item = from_list_item("Improve probes", &["- Reach out to teams".to_owned()]).unwrap();
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
        )
        .unwrap();
        assert_eq!(item.title, "Build a one-click rollback");
        assert_eq!(item.owner.as_deref(), Some("C"));
        assert_eq!(item.due_on, NaiveDate::from_ymd_opt(2026, 3, 31));
        assert_eq!(item.description, "Notes: big");
        assert_eq!(item.kind, ActionKind::Mitigate);
    }
}
