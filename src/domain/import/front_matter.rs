//! YAML front matter as postmortem archives use it: `key: value` lines,
//! lists written `[a, b]` or as `- item` lines below their key.

/// The front matter's lines and the document after it, or `None` when the
/// document has none.
pub fn split(text: &str) -> Option<(Vec<&str>, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    let mut lines = Vec::new();
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        let bare = line.trim_end();
        if bare == "---" || bare == "..." {
            return Some((lines, &rest[offset..]));
        }
        lines.push(bare);
    }
    None
}

/// One key and its values, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub key: String,
    pub values: Vec<String>,
    /// The lines as written, to keep verbatim when the key maps nowhere.
    pub raw: Vec<String>,
}

/// Reads `key: value`, `key: [a, b]` and `key:` followed by `- item` lines.
/// Lines that fit none of these are returned as fields with an empty key.
pub fn fields(lines: &[&str]) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::new();
    for line in lines {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let item = line.trim_start().strip_prefix("- ");
        if let (Some(item), Some(last)) = (item, out.last_mut())
            && (line.starts_with(' ') || line.starts_with('-'))
        {
            last.values.push(unquote(item));
            last.raw.push((*line).to_owned());
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) if !key.trim().is_empty() && !key.contains(' ') => out.push(Field {
                key: key.trim().to_ascii_lowercase(),
                values: list_values(value.trim()),
                raw: vec![(*line).to_owned()],
            }),
            _ => out.push(Field {
                key: String::new(),
                values: Vec::new(),
                raw: vec![(*line).to_owned()],
            }),
        }
    }
    out
}

fn list_values(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(inner) => inner
            .split(',')
            .map(unquote)
            .filter(|v| !v.is_empty())
            .collect(),
        None => vec![unquote(value)],
    }
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_splits_from_the_body() {
        let (lines, body) = split("---\ntitle: A\n---\n# Body\n").unwrap();
        assert_eq!(lines, vec!["title: A"]);
        assert_eq!(body, "# Body\n");
        assert!(split("# No front matter\n").is_none());
    }

    #[test]
    fn values_lists_and_item_lines_are_read() {
        let parsed = fields(&[
            "title: \"Checkout: slow\"",
            "services: [checkout, fraud-check]",
            "tags:",
            "  - latency",
            "  - 'deploys'",
            "started_at: 2026-03-10T14:02:00Z",
        ]);
        assert_eq!(parsed[0].values, vec!["Checkout: slow"]);
        assert_eq!(parsed[1].values, vec!["checkout", "fraud-check"]);
        assert_eq!(parsed[2].values, vec!["latency", "deploys"]);
        assert_eq!(parsed[3].values, vec!["2026-03-10T14:02:00Z"]);
    }
}
