//! What a person checks after a dry run: the incident fields read, each
//! timeline entry with the time it was read as, and, over many files, the
//! headings that mapped nowhere.

use std::collections::BTreeMap;

use super::ImportedDocument;

/// Longest piece of an entry's text shown in a check.
const SHOWN_CHARS: usize = 90;

impl ImportedDocument {
    /// The incident fields read, one `name: value` line each.
    pub fn field_lines(&self) -> Vec<String> {
        let f = &self.fields;
        let time = |at: Option<chrono::DateTime<chrono::Utc>>| {
            at.map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
        };
        let list = |values: &[String]| (!values.is_empty()).then(|| values.join(", "));
        [
            ("kind", f.kind.map(|kind| kind.label().to_owned())),
            (
                "severity",
                Some(
                    f.severity
                        .map_or("not given (SEV3)".to_owned(), |s| s.label().to_owned()),
                ),
            ),
            ("started", time(f.started_at)),
            ("detected", time(f.detected_at)),
            ("mitigated", time(f.mitigated_at)),
            ("resolved", time(f.resolved_at)),
            ("services", list(&f.services)),
            ("tags", list(&f.tags)),
            ("source", f.source_url.clone()),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| format!("{name}: {value}")))
        .collect()
    }

    /// Each timeline entry as read: its UTC time (or "time unknown"), kind,
    /// the time as written when it differs, and the start of its text.
    pub fn entry_lines(&self) -> Vec<String> {
        self.timeline
            .iter()
            .map(|entry| {
                let at = entry.at.map_or("time unknown    ".to_owned(), |at| {
                    at.format("%Y-%m-%d %H:%M").to_string()
                });
                let written = entry
                    .written_at
                    .as_ref()
                    .map(|w| format!(" (written “{w}”)"))
                    .unwrap_or_default();
                let text = crate::domain::markdown::excerpt(&entry.text, SHOWN_CHARS);
                format!("{at}  {:<10} {text}{written}", entry.kind.as_str())
            })
            .collect()
    }
}

/// Headings that mapped nowhere, with the number of files each was seen in,
/// most frequent first.
pub fn unmapped_headings<'a>(
    documents: impl IntoIterator<Item = &'a ImportedDocument>,
) -> Vec<(String, usize)> {
    let mut seen: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for doc in documents {
        let mut in_this = std::collections::BTreeSet::new();
        for heading in &doc.unmapped {
            let key = heading.trim().to_lowercase();
            if in_this.insert(key.clone()) {
                seen.entry(key).or_insert_with(|| (heading.clone(), 0)).1 += 1;
            }
        }
    }
    let mut table: Vec<(String, usize)> = seen.into_values().collect();
    table.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    table
}

#[cfg(test)]
mod tests {
    use chrono_tz::Tz;

    use super::*;
    use crate::domain::import::parse_markdown;

    #[test]
    fn a_check_lists_fields_entries_and_headings_that_went_nowhere() {
        let words = crate::domain::import::Vocabulary::default();
        let one = parse_markdown(
            "a.md",
            "# Queue stall\n\nSeverity: high\n\n## Timeline\n\n- 29-11-2024 13:00 Alert fired\n- sometime later: restarted\n\n## Corrective and Preventative Measures\n\nx\n\n## Reflections\n\ny\n",
            Tz::UTC,
            &words,
        );
        let two = parse_markdown("b.md", "# B\n\n## Reflections\n\nz\n", Tz::UTC, &words);
        assert!(
            one.field_lines()
                .contains(&"started: 2024-11-29 13:00 UTC".to_owned())
        );
        let entries = one.entry_lines();
        assert!(
            entries[0].starts_with("2024-11-29 13:00  detection"),
            "{entries:?}"
        );
        assert_eq!(
            unmapped_headings([&one, &two]),
            vec![("Reflections".to_owned(), 2)]
        );
    }
}
