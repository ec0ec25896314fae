//! The written sections of the postmortem template, as one closed set: the
//! form, the reading page, the checklist, the importer and the Markdown
//! export all walk [`Section::ALL`], so a section cannot be forgotten by one
//! of them.

use super::incident::IncidentKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    Summary,
    Impact,
    Trigger,
    Detection,
    Resolution,
    WentWell,
    WentPoorly,
    GotLucky,
    Lessons,
    OtherNotes,
}

impl Section {
    /// Every section, in template order.
    pub const ALL: [Section; 10] = [
        Section::Summary,
        Section::Impact,
        Section::Trigger,
        Section::Detection,
        Section::Resolution,
        Section::WentWell,
        Section::WentPoorly,
        Section::GotLucky,
        Section::Lessons,
        Section::OtherNotes,
    ];

    /// The form field and stored column.
    pub fn field(self) -> &'static str {
        match self {
            Section::Summary => "summary",
            Section::Impact => "impact",
            Section::Trigger => "trigger",
            Section::Detection => "detection",
            Section::Resolution => "resolution",
            Section::WentWell => "went_well",
            Section::WentPoorly => "went_poorly",
            Section::GotLucky => "got_lucky",
            Section::Lessons => "lessons",
            Section::OtherNotes => "other_notes",
        }
    }

    pub fn heading(self) -> &'static str {
        match self {
            Section::Summary => "Summary",
            Section::Impact => "Impact",
            Section::Trigger => "Trigger and root cause",
            Section::Detection => "Detection",
            Section::Resolution => "Resolution",
            Section::WentWell => "What went well",
            Section::WentPoorly => "What went poorly",
            Section::GotLucky => "Where we got lucky",
            Section::Lessons => "Lessons learned",
            Section::OtherNotes => "Other notes",
        }
    }

    /// What the author is asked to write, shown under the heading.
    pub fn help(self) -> &'static str {
        match self {
            Section::Summary => "Two or three sentences: what happened, to whom, for how long.",
            Section::Impact => "Who noticed and how. The numbers go in the fields below.",
            Section::Trigger => {
                "The proximate trigger. Name conditions and systems, never a person as the cause."
            }
            Section::Detection => "How we found out: the alert, the report, the time it took.",
            Section::Resolution => "What ended the impact, and what made it permanent.",
            Section::WentWell => {
                "What limited the damage: alerts that fired, runbooks that worked."
            }
            Section::WentPoorly => "Where the response was slowed or confused.",
            Section::GotLucky => "What saved us that we cannot count on next time.",
            Section::Lessons => "What the organization learned, beyond this incident.",
            Section::OtherNotes => {
                "Anything else worth keeping; imports put here what fits no section."
            }
        }
    }

    /// Left out of pages and exports while empty: older templates and
    /// imports use these, the standard template does not ask for them.
    pub fn optional(self) -> bool {
        matches!(
            self,
            Section::Detection | Section::Resolution | Section::OtherNotes
        )
    }

    /// Whether a review of `kind` expects this section written. Near-misses
    /// and chaos experiments get a lightweight review: summary, trigger and
    /// lessons.
    pub fn required_for(self, kind: IncidentKind) -> bool {
        match kind {
            IncidentKind::Incident => !self.optional(),
            _ => matches!(self, Section::Summary | Section::Trigger | Section::Lessons),
        }
    }

    pub fn from_field(field: &str) -> Option<Section> {
        Section::ALL
            .into_iter()
            .find(|section| section.field() == field)
    }
}

/// The longest section accepted, in characters.
pub const MAX_SECTION_CHARS: usize = 100_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_is_found_by_its_field() {
        for section in Section::ALL {
            assert_eq!(Section::from_field(section.field()), Some(section));
        }
        assert_eq!(Section::from_field("nope"), None);
    }

    #[test]
    fn a_near_miss_needs_fewer_sections_than_an_incident() {
        let needed = |kind| {
            Section::ALL
                .into_iter()
                .filter(|section| section.required_for(kind))
                .count()
        };
        assert!(needed(IncidentKind::NearMiss) < needed(IncidentKind::Incident));
    }
}
