//! The Markdown shapes an import reads inside a section: table rows, list
//! items with their continuation lines, headings, and image references.

use std::sync::LazyLock;

use regex::Regex;

static LIST_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<indent>\s*)(?:[-*+]|\d{1,3}[.)])(?:\s+(?P<text>.*))?$").expect("list pattern")
});

static IMAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!\[[^\]]*\]\((?P<path>[^)\s]+)").expect("image pattern"));

/// A heading line: its level and text.
pub fn heading(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let level = trimmed.chars().take_while(|c| *c == '#').count();
    if level == 0 || level > 6 || line.len() - trimmed.len() > 3 {
        return None;
    }
    let rest = &trimmed[level..];
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    Some((level, rest.trim().trim_end_matches('#').trim()))
}

/// The cells of a table row (`| a | b |`), or `None` for other lines.
pub fn table_cells(line: &str) -> Option<Vec<String>> {
    let trimmed = line.trim();
    if !trimmed.starts_with('|') {
        return None;
    }
    let inner = trimmed.trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                current.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut current).trim().to_owned()),
            c => current.push(c),
        }
    }
    cells.push(current.trim().to_owned());
    Some(cells)
}

/// A table's separator row (`|---|:--|`).
pub fn is_separator(cells: &[String]) -> bool {
    cells.iter().all(|cell| {
        let cell = cell.trim();
        !cell.is_empty() && cell.chars().all(|c| matches!(c, '-' | ':' | ' '))
    })
}

/// A list item line: its indent and text (empty for a bare `-`).
pub fn list_item(line: &str) -> Option<(usize, &str)> {
    let found = LIST_ITEM.captures(line)?;
    let indent = found.name("indent").map_or(0, |m| m.as_str().len());
    let text = found.name("text").map_or("", |m| m.as_str().trim());
    Some((indent, text))
}

/// Top-level list items with their nested and continuation lines, and the
/// lines that are not part of any item.
#[derive(Debug, Default, PartialEq)]
pub struct Items {
    /// Each item: its own text, then its nested lines as written.
    pub items: Vec<(String, Vec<String>)>,
    pub other: Vec<String>,
}

/// Splits a section's lines into list items and everything else. Blank
/// lines end an item unless the next line is indented under it. The
/// top level is where the section's first item is (some archives indent
/// every item by two spaces).
pub fn split_items(lines: &[String]) -> Items {
    let mut out = Items::default();
    let mut in_item = false;
    let top = lines
        .iter()
        .find_map(|line| list_item(line).map(|(indent, _)| indent))
        .unwrap_or(0);
    for line in lines {
        if line.trim().is_empty() {
            // Between paragraphs a blank line is kept: it separates them.
            if !in_item {
                out.other.push(String::new());
            }
            continue;
        }
        match list_item(line) {
            Some((indent, text)) if indent < top + 2 => {
                out.items.push((text.to_owned(), Vec::new()));
                in_item = true;
            }
            _ if in_item && line.len() - line.trim_start().len() > top => {
                if let Some((_, nested)) = out.items.last_mut() {
                    nested.push(line.trim().to_owned());
                }
            }
            _ => {
                in_item = false;
                out.other.push(line.clone());
            }
        }
    }
    out
}

/// Relative image paths referenced with `![alt](path)`.
pub fn image_paths(text: &str) -> Vec<String> {
    IMAGE
        .captures_iter(text)
        .map(|found| found["path"].to_owned())
        .filter(|path| {
            let lower = path.to_ascii_lowercase();
            !(lower.starts_with("http:")
                || lower.starts_with("https:")
                || lower.starts_with("data:")
                || lower.starts_with('/')
                || lower.starts_with('#'))
        })
        .collect()
}

/// Joins lines and trims blank lines at both ends.
pub fn join_trimmed(lines: &[String]) -> String {
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let end = lines.iter().rposition(|l| !l.trim().is_empty());
    match (start, end) {
        (Some(start), Some(end)) => lines[start..=end].join("\n"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn headings_have_a_level_and_text() {
        assert_eq!(heading("## Action Items"), Some((2, "Action Items")));
        assert_eq!(heading("# Stats #"), Some((1, "Stats")));
        assert_eq!(heading("#hashtag"), None);
        assert_eq!(heading("text"), None);
    }

    #[test]
    fn table_rows_split_into_cells_keeping_escaped_pipes() {
        assert_eq!(
            table_cells("| 2020-02-03 11:21 | a \\| b |"),
            Some(vec!["2020-02-03 11:21".to_owned(), "a | b".to_owned()])
        );
        assert_eq!(
            table_cells("| 20202-01-17 12:00 | text | "),
            Some(vec!["20202-01-17 12:00".to_owned(), "text".to_owned()])
        );
        assert!(is_separator(&table_cells("|:-----|----|").unwrap()));
        assert!(!is_separator(&table_cells("| Time | Event |").unwrap()));
    }

    #[test]
    fn list_items_keep_their_nested_lines() {
        let items = split_items(&lines(
            "Intro line\n- First\n    - nested a\n    - nested b\n- Second\n\nAfter the list",
        ));
        assert_eq!(items.items.len(), 2);
        assert_eq!(
            items.items[0].1,
            vec!["- nested a".to_owned(), "- nested b".to_owned()]
        );
        assert_eq!(items.other, vec!["Intro line", "After the list"]);
    }

    #[test]
    fn only_relative_images_are_collected() {
        let text = "![graph](images/p99.png) ![x](https://example.com/a.png) ![y](/abs.png)";
        assert_eq!(image_paths(text), vec!["images/p99.png".to_owned()]);
    }
}
