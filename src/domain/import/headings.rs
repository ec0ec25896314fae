//! Which part of a postmortem a heading in an imported document names,
//! tolerant of case, punctuation, plurals, synonyms and small typos.

use crate::domain::section::Section;

/// Where the lines under a heading go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A long-text section, by its field name (`summary`, `trigger`, ...).
    Section(&'static str),
    Timeline,
    Factors,
    Actions,
    /// "Stats" lines fill incident fields and are kept in other notes.
    Stats,
    /// A "Severity" section: its first words are the severity.
    Severity,
    /// Known headings with no section of their own (attendees, ...): kept
    /// verbatim in other notes under their heading.
    Notes,
}

impl Target {
    /// Every place a heading can send its lines, for the admin's choice.
    pub fn choices() -> Vec<Target> {
        let mut all: Vec<Target> = Section::ALL
            .iter()
            .map(|section| Target::Section(section.field()))
            .collect();
        all.extend([
            Target::Timeline,
            Target::Factors,
            Target::Actions,
            Target::Severity,
            Target::Stats,
            Target::Notes,
        ]);
        all
    }

    /// The name kept in the database: a section's field, or `timeline`, ...
    pub fn name(self) -> &'static str {
        match self {
            Target::Section(field) => field,
            Target::Timeline => "timeline",
            Target::Factors => "factors",
            Target::Actions => "actions",
            Target::Severity => "severity",
            Target::Stats => "stats",
            Target::Notes => "notes",
        }
    }

    pub fn from_name(name: &str) -> Option<Target> {
        Target::choices()
            .into_iter()
            .find(|target| target.name() == name)
    }

    /// What people read: "Summary", "Timeline entries", ...
    pub fn label(self) -> &'static str {
        match self {
            Target::Section(field) => Section::from_field(field).map_or(field, Section::heading),
            Target::Timeline => "Timeline entries",
            Target::Factors => "Contributing factors",
            Target::Actions => "Action items",
            Target::Severity => "Severity",
            Target::Stats => "Incident fields (Key: value lines)",
            Target::Notes => "Other notes, under their heading",
        }
    }
}

/// Heading names (normalized) and where they go.
const NAMES: &[(&str, Target)] = &[
    ("summary", Target::Section("summary")),
    ("issue summary", Target::Section("summary")),
    ("incident summary", Target::Section("summary")),
    ("executive summary", Target::Section("summary")),
    ("overview", Target::Section("summary")),
    ("description", Target::Section("summary")),
    ("what happened", Target::Section("summary")),
    ("impact", Target::Section("impact")),
    ("customer impact", Target::Section("impact")),
    ("fallout", Target::Section("impact")),
    ("root cause", Target::Section("trigger")),
    ("root causes", Target::Section("trigger")),
    ("root cause analysis", Target::Section("trigger")),
    ("trigger", Target::Section("trigger")),
    ("cause", Target::Section("trigger")),
    ("detection", Target::Section("detection")),
    ("how it was detected", Target::Section("detection")),
    ("resolution", Target::Section("resolution")),
    ("resolution and recovery", Target::Section("resolution")),
    ("recovery", Target::Section("resolution")),
    ("mitigation", Target::Section("resolution")),
    ("what went well", Target::Section("went_well")),
    ("things that went well", Target::Section("went_well")),
    ("what went right", Target::Section("went_well")),
    ("what went poorly", Target::Section("went_poorly")),
    ("what went wrong", Target::Section("went_poorly")),
    ("things that went wrong", Target::Section("went_poorly")),
    ("what went badly", Target::Section("went_poorly")),
    ("where we got lucky", Target::Section("got_lucky")),
    ("where we were lucky", Target::Section("got_lucky")),
    ("lessons learned", Target::Section("lessons")),
    ("lessons", Target::Section("lessons")),
    ("learnings", Target::Section("lessons")),
    ("takeaways", Target::Section("lessons")),
    ("other notes", Target::Section("other_notes")),
    ("notes", Target::Section("other_notes")),
    ("timeline", Target::Timeline),
    ("timeline of events", Target::Timeline),
    ("chronology", Target::Timeline),
    ("contributing factors", Target::Factors),
    ("contributing factor", Target::Factors),
    ("contributing factors findings", Target::Factors),
    ("factors", Target::Factors),
    ("action items", Target::Actions),
    ("action item", Target::Actions),
    ("actions", Target::Actions),
    ("follow ups", Target::Actions),
    ("followups", Target::Actions),
    ("follow up actions", Target::Actions),
    ("next steps", Target::Actions),
    ("remediation items", Target::Actions),
    ("remediation", Target::Actions),
    ("remediations", Target::Actions),
    ("corrective actions", Target::Actions),
    ("corrective measures", Target::Actions),
    ("corrective and preventative measures", Target::Actions),
    ("corrective and preventive measures", Target::Actions),
    ("corrective and preventative actions", Target::Actions),
    ("corrective and preventive actions", Target::Actions),
    ("preventative measures", Target::Actions),
    ("preventive measures", Target::Actions),
    ("long term fixes", Target::Actions),
    ("follow up items", Target::Actions),
    ("review actions", Target::Actions),
    ("action plan", Target::Actions),
    ("future actions", Target::Actions),
    ("actions following review", Target::Actions),
    ("follow up", Target::Actions),
    ("follow up tasks", Target::Actions),
    ("improvements", Target::Actions),
    ("preventive actions", Target::Actions),
    ("preventative actions", Target::Actions),
    ("prevention", Target::Actions),
    ("todo", Target::Actions),
    ("to do", Target::Actions),
    ("stats", Target::Stats),
    ("severity", Target::Severity),
    ("severity level", Target::Severity),
    ("incident severity", Target::Severity),
    ("priority", Target::Severity),
    ("statistics", Target::Stats),
    ("metrics", Target::Stats),
    ("metadata", Target::Stats),
    ("details", Target::Stats),
    ("attendees", Target::Notes),
    ("date", Target::Notes),
    ("incident date", Target::Notes),
    ("date of incident", Target::Notes),
    ("when", Target::Notes),
    ("participants", Target::Notes),
    ("supporting information", Target::Notes),
    ("references", Target::Notes),
    ("links", Target::Notes),
    ("background", Target::Notes),
    ("thanks", Target::Notes),
    ("conclusion", Target::Section("lessons")),
    ("conclusions", Target::Section("lessons")),
    ("logs", Target::Notes),
    ("related issues", Target::Notes),
    ("related issues prs", Target::Notes),
    ("acknowledgements", Target::Notes),
];

/// The part a normalized heading names exactly (no typo forgiven).
pub fn named(normal: &str) -> Option<Target> {
    NAMES
        .iter()
        .find(|(name, _)| *name == normal)
        .map(|(_, target)| *target)
}

/// Where a heading's lines go, or `None` for a heading that names nothing
/// known (kept as it is, inside whatever section it appears in).
pub fn classify(heading: &str) -> Option<Target> {
    classify_whole(heading).or_else(|| {
        // `Timeline (PST)`, `Action Items (should be achievable soon):`,
        // `Timeline: in PT`: the name before the aside.
        let name = heading.split(['(', ':', '[']).next()?;
        (name.len() < heading.len())
            .then(|| classify_whole(name))
            .flatten()
    })
}

fn classify_whole(heading: &str) -> Option<Target> {
    let normal = normalize(heading);
    if normal.is_empty() {
        return None;
    }
    if let Some((_, target)) = NAMES.iter().find(|(name, _)| *name == normal) {
        return Some(*target);
    }
    // Small typos ("Atendees", "Contributing Factros"): one edit for short
    // names, two for long ones.
    NAMES
        .iter()
        .filter(|(name, _)| name.len() >= 5)
        .map(|(name, target)| (strsim::levenshtein(name, &normal), name.len(), *target))
        .filter(|(edits, len, _)| *edits <= if *len >= 12 { 2 } else { 1 })
        .min_by_key(|(edits, _, _)| *edits)
        .map(|(_, _, target)| target)
}

/// Lowercase words only: "Root Cause(s):" becomes "root causes".
pub fn normalize(heading: &str) -> String {
    let cleaned: String = heading
        .chars()
        .map(|c| match c {
            '(' | ')' | '\'' | '’' => '\u{0}',
            c if c.is_alphanumeric() => c.to_ascii_lowercase(),
            _ => ' ',
        })
        .filter(|c| *c != '\u{0}')
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_match_whatever_their_case_and_punctuation() {
        assert_eq!(classify("Summary"), Some(Target::Section("summary")));
        assert_eq!(classify("ISSUE SUMMARY"), Some(Target::Section("summary")));
        assert_eq!(classify("Root Cause(s)"), Some(Target::Section("trigger")));
        assert_eq!(
            classify("Contributing Factors (findings)"),
            Some(Target::Factors)
        );
        assert_eq!(
            classify("What Went Well?"),
            Some(Target::Section("went_well"))
        );
        assert_eq!(classify("Action Items"), Some(Target::Actions));
        assert_eq!(
            classify("Action Items (should be achievable in short-medium term):"),
            Some(Target::Actions)
        );
        assert_eq!(classify("Timeline: (in PT)"), Some(Target::Timeline));
    }

    #[test]
    fn small_typos_are_forgiven() {
        assert_eq!(classify("Atendees"), Some(Target::Notes));
        assert_eq!(classify("Contributing Factros"), Some(Target::Factors));
        assert_eq!(classify("Timline"), Some(Target::Timeline));
    }

    #[test]
    fn unrelated_headings_name_nothing() {
        assert_eq!(classify("Reflections on external collaboration"), None);
        assert_eq!(classify("General"), None);
        assert_eq!(
            classify("Kubernetes network infrastructure IP starvation"),
            None
        );
    }
}
