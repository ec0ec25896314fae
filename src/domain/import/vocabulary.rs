//! What the importer understands beyond its built-in names, as an admin
//! keeps it: heading synonyms (a heading and the part of a postmortem it
//! names) and severity words (a word and the severity it means). Both are
//! data, loaded from the database before an import.

use super::headings::{self, Target};
use crate::domain::incident::Severity;

/// The words an import reads with.
#[derive(Clone, Debug, PartialEq)]
pub struct Vocabulary {
    /// Headings (normalized) an admin added, checked before the built-in names.
    pub headings: Vec<(String, Target)>,
    /// Severity words (lowercase), e.g. `critical` → SEV1.
    pub severities: Vec<(String, Severity)>,
}

/// The severity words a new installation starts with; the admin page
/// changes them.
pub const DEFAULT_SEVERITY_WORDS: &[(&str, Severity)] = &[
    ("critical", Severity::Sev1),
    ("blocker", Severity::Sev1),
    ("major", Severity::Sev1),
    ("emergency", Severity::Sev1),
    ("high", Severity::Sev2),
    ("serious", Severity::Sev2),
    ("medium", Severity::Sev3),
    ("moderate", Severity::Sev3),
    ("normal", Severity::Sev3),
    ("low", Severity::Sev4),
    ("minor", Severity::Sev4),
    ("trivial", Severity::Sev4),
];

impl Default for Vocabulary {
    fn default() -> Self {
        Vocabulary {
            headings: Vec::new(),
            severities: DEFAULT_SEVERITY_WORDS
                .iter()
                .map(|(word, severity)| ((*word).to_owned(), *severity))
                .collect(),
        }
    }
}

impl Vocabulary {
    /// Where a heading's lines go: an admin's synonym first, then the
    /// built-in names.
    pub fn classify(&self, heading: &str) -> Option<Target> {
        let normal = headings::normalize(heading);
        self.headings
            .iter()
            .find(|(name, _)| *name == normal)
            .map(|(_, target)| *target)
            .or_else(|| headings::classify(heading))
    }

    /// As [`Vocabulary::classify`], without forgiving typos: for lines that
    /// might be a heading written without its marks.
    pub fn classify_exact(&self, heading: &str) -> Option<Target> {
        let normal = headings::normalize(heading);
        self.headings
            .iter()
            .find(|(name, _)| *name == normal)
            .map(|(_, target)| *target)
            .or_else(|| headings::named(&normal))
    }

    /// A severity as written: `SEV-2`, `sev2`, `S1`, `P1` (P0 and P1 are
    /// SEV1), a bare digit, or one of the severity words ("Critical").
    pub fn severity(&self, text: &str) -> Option<Severity> {
        let lower = text
            .trim()
            .trim_matches(['*', '`', '.'])
            .trim()
            .to_lowercase();
        let by_number = |digits: &str, p_scale: bool| -> Option<Severity> {
            let n: u32 = digits.parse().ok()?;
            let n = if p_scale { n.max(1) } else { n };
            match n {
                1 => Some(Severity::Sev1),
                2 => Some(Severity::Sev2),
                3 => Some(Severity::Sev3),
                4 | 5 => Some(Severity::Sev4),
                _ => None,
            }
        };
        let compact: String = lower
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '_'))
            .collect();
        for (prefix, p_scale) in [
            ("severity", false),
            ("sev", false),
            ("s", false),
            ("p", true),
        ] {
            if let Some(digits) = compact.strip_prefix(prefix)
                && !digits.is_empty()
                && digits.chars().all(|c| c.is_ascii_digit())
            {
                return by_number(digits, p_scale);
            }
        }
        if lower.chars().all(|c| c.is_ascii_digit()) && !lower.is_empty() {
            return by_number(&lower, false);
        }
        // "Critical", "High (customer facing)", "major outage": the first word.
        let word = lower
            .split(|c: char| !c.is_alphanumeric())
            .find(|word| !word.is_empty())?;
        self.severities
            .iter()
            .find(|(known, _)| known == word || *known == lower)
            .map(|(_, severity)| *severity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_read_from_numbers_and_the_word_table() {
        let words = Vocabulary::default();
        for (text, severity) in [
            ("SEV-2", Severity::Sev2),
            ("sev1", Severity::Sev1),
            ("P1", Severity::Sev1),
            ("P0", Severity::Sev1),
            ("p3", Severity::Sev3),
            ("S2", Severity::Sev2),
            ("Critical", Severity::Sev1),
            ("High (customer facing)", Severity::Sev2),
            ("**Major**", Severity::Sev1),
            ("3", Severity::Sev3),
        ] {
            assert_eq!(words.severity(text), Some(severity), "{text}");
        }
        assert_eq!(words.severity("unclear"), None);
    }

    #[test]
    fn an_admins_words_change_what_is_read() {
        let mut words = Vocabulary::default();
        words.severities.retain(|(word, _)| word != "major");
        words.severities.push(("major".to_owned(), Severity::Sev2));
        words.severities.push(("red".to_owned(), Severity::Sev1));
        assert_eq!(words.severity("Major"), Some(Severity::Sev2));
        assert_eq!(words.severity("Red"), Some(Severity::Sev1));
        assert_eq!(words.classify("Reflections"), None);
        words
            .headings
            .push(("reflections".to_owned(), Target::Section("lessons")));
        assert_eq!(
            words.classify("Reflections:"),
            Some(Target::Section("lessons"))
        );
    }
}
