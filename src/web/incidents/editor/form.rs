//! The authoring form: the whole postmortem as one form, every value a
//! string as typed, so nothing is lost when it comes back with problems.
//! Timeline rows and action items are parallel lists, one value per row.
//!
//! Every part (a section, the impact figures, the factor list, a timeline
//! row, an item) carries the fingerprint of how it looked when the page was
//! loaded. A part whose typed value still has that fingerprint was not
//! touched, and a save leaves it as it is now, whoever changed it since.

use std::collections::HashMap;

use chrono_tz::Tz;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::saved::Saved;
use crate::{
    domain::{quantity::format_money, section::Section, time},
    store::{action_items::ActionItem, postmortems::FactorRow, timeline::TimelineEntry},
    web::item_form::ItemForm,
};

/// The key of a row that is not saved yet.
pub const NEW_ROW: &str = "new";

/// The authoring form as posted (or autosaved).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct DocumentForm {
    pub summary: String,
    pub impact: String,
    pub trigger: String,
    pub detection: String,
    pub resolution: String,
    pub went_well: String,
    pub went_poorly: String,
    pub got_lucky: String,
    pub lessons: String,
    pub other_notes: String,
    pub users_affected: String,
    pub failed_requests: String,
    pub revenue_lost: String,
    pub slo_budget_consumed: String,
    pub factor_id: Vec<String>,
    pub factor_category: Vec<String>,
    /// A factor's further categories, slugs joined by commas.
    #[serde(default)]
    pub factor_also: Vec<String>,
    pub factor_description: Vec<String>,
    pub entry_key: Vec<String>,
    pub entry_base: Vec<String>,
    pub entry_at: Vec<String>,
    pub entry_kind: Vec<String>,
    pub entry_speaker: Vec<String>,
    pub entry_text: Vec<String>,
    pub entry_source: Vec<String>,
    pub entry_link: Vec<String>,
    /// Keys of the rows ticked for removal.
    pub entry_remove: Vec<String>,
    pub item_key: Vec<String>,
    pub item_base: Vec<String>,
    pub item_title: Vec<String>,
    pub item_owner: Vec<String>,
    pub item_team: Vec<String>,
    pub item_due: Vec<String>,
    pub item_priority: Vec<String>,
    pub item_kind: Vec<String>,
    pub item_status: Vec<String>,
    pub item_factor: Vec<String>,
    pub item_tracker: Vec<String>,
    pub item_description: Vec<String>,
    pub item_reason: Vec<String>,
    /// Fingerprints of the sections, figures and factors: `part:hash;…`.
    pub base: String,
    /// The postmortem's version when the page was loaded.
    pub version: String,
    /// The names the form sent. A part the form does not mention at all is
    /// left alone, so a post that adds one timeline row changes only that.
    #[serde(skip)]
    pub sent: std::collections::HashSet<String>,
}

/// A factor row as typed.
pub struct FactorInput {
    pub id: String,
    pub category: String,
    /// Further categories, slugs joined by commas.
    pub also: String,
    pub description: String,
}

/// A timeline row as typed.
#[derive(Clone, Debug, Default)]
pub struct EntryRow {
    /// The entry's id, or [`NEW_ROW`].
    pub key: String,
    pub base: String,
    pub at: String,
    pub kind: String,
    pub speaker: String,
    pub text: String,
    pub source: String,
    pub link: String,
    pub removed: bool,
}

/// An action item row as typed.
#[derive(Clone, Debug, Default)]
pub struct ItemRow {
    /// The item's id, or [`NEW_ROW`].
    pub key: String,
    pub base: String,
    pub form: ItemForm,
}

/// A short, stable fingerprint of a part's values as the form shows them.
pub fn fingerprint(values: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for value in values {
        hasher.update(normalize(value).as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
}

/// Text as compared: browsers send line ends as CRLF, and trailing space
/// is not a change anyone means.
pub fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_owned()
}

fn cell(values: &[String], index: usize) -> String {
    values.get(index).cloned().unwrap_or_default()
}

impl EntryRow {
    pub fn from_entry(entry: &TimelineEntry, zone: Tz) -> EntryRow {
        let mut row = EntryRow {
            key: entry.id.to_string(),
            at: if entry.time_unknown {
                String::new()
            } else {
                time::to_local_input(entry.occurred_at, zone)
            },
            kind: entry.kind.as_str().to_owned(),
            speaker: entry.speaker.clone().unwrap_or_default(),
            text: entry.text.clone(),
            source: entry.source.clone(),
            link: entry.link.clone().unwrap_or_default(),
            ..EntryRow::default()
        };
        row.base = row.fingerprint();
        row
    }

    pub fn fingerprint(&self) -> String {
        let mut parts = vec![
            self.at.as_str(),
            &self.kind,
            &self.text,
            &self.source,
            &self.link,
        ];
        // Without a speaker, the fingerprint is what it was before rows had
        // one, so drafts autosaved then still merge cleanly.
        if !self.speaker.is_empty() {
            parts.push(&self.speaker);
        }
        fingerprint(&parts)
    }

    pub fn is_new(&self) -> bool {
        self.key == NEW_ROW || self.key.is_empty()
    }

    /// A new row nobody wrote anything into.
    pub fn is_blank(&self) -> bool {
        self.is_new()
            && self.text.trim().is_empty()
            && self.at.trim().is_empty()
            && self.link.trim().is_empty()
    }
}

impl ItemRow {
    pub fn from_item(item: &ActionItem) -> ItemRow {
        let mut row = ItemRow {
            key: item.id.to_string(),
            base: String::new(),
            form: ItemForm::from_item(item),
        };
        row.base = row.fingerprint();
        row
    }

    pub fn fingerprint(&self) -> String {
        let f = &self.form;
        fingerprint(&[
            &f.title,
            &f.owner_id,
            &f.team_id,
            &f.due_on,
            &f.priority,
            &f.kind,
            &f.status,
            &f.factor_id,
            &f.tracker_url,
            &f.description,
            &f.closing_reason,
        ])
    }

    pub fn is_new(&self) -> bool {
        self.key == NEW_ROW || self.key.is_empty()
    }

    /// A new row nobody wrote anything into (its owner is preset).
    pub fn is_blank(&self) -> bool {
        let f = &self.form;
        self.is_new()
            && f.title.trim().is_empty()
            && f.description.trim().is_empty()
            && f.due_on.trim().is_empty()
            && f.tracker_url.trim().is_empty()
    }
}

impl DocumentForm {
    /// Reads a URL-encoded form body, noting which names it sent.
    pub fn from_body(body: &[u8]) -> Result<DocumentForm, String> {
        let mut form: DocumentForm =
            serde_html_form::from_bytes(body).map_err(|error| error.to_string())?;
        form.sent = form_urlencoded::parse(body)
            .map(|(name, _)| name.into_owned())
            .collect();
        Ok(form)
    }

    /// Whether the form sent anything for a whole-document part.
    pub fn mentions(&self, part: &str) -> bool {
        match part {
            "numbers" => [
                "users_affected",
                "failed_requests",
                "revenue_lost",
                "slo_budget_consumed",
            ]
            .iter()
            .any(|name| self.sent.contains(*name)),
            "factors" => self.sent.contains("factor_description"),
            section => self.sent.contains(section),
        }
    }

    /// The form for the postmortem as saved, times in `zone`.
    pub fn from_saved(saved: &Saved, zone: Tz) -> DocumentForm {
        let s = &saved.sections;
        let mut form = DocumentForm {
            users_affected: s.users_affected.map(|n| n.to_string()).unwrap_or_default(),
            failed_requests: s.failed_requests.map(|n| n.to_string()).unwrap_or_default(),
            revenue_lost: s.revenue_lost_cents.map(format_money).unwrap_or_default(),
            slo_budget_consumed: s
                .slo_budget_consumed
                .map(|p| p.to_string())
                .unwrap_or_default(),
            version: saved.version.to_string(),
            ..DocumentForm::default()
        };
        for section in Section::ALL {
            if let Some(text) = form.text_mut(section) {
                text.clone_from(&s.text(section.field()).to_owned());
            }
        }
        form.set_factors(&saved.factors);
        form.set_entry_rows(
            saved
                .entries
                .iter()
                .map(|entry| EntryRow::from_entry(entry, zone))
                .collect(),
        );
        form.set_item_rows(saved.items.iter().map(ItemRow::from_item).collect());
        form.base = form.part_bases();
        form
    }

    pub fn text(&self, section: Section) -> &str {
        match section {
            Section::Summary => &self.summary,
            Section::Impact => &self.impact,
            Section::Trigger => &self.trigger,
            Section::Detection => &self.detection,
            Section::Resolution => &self.resolution,
            Section::WentWell => &self.went_well,
            Section::WentPoorly => &self.went_poorly,
            Section::GotLucky => &self.got_lucky,
            Section::Lessons => &self.lessons,
            Section::OtherNotes => &self.other_notes,
        }
    }

    fn text_mut(&mut self, section: Section) -> Option<&mut String> {
        Some(match section {
            Section::Summary => &mut self.summary,
            Section::Impact => &mut self.impact,
            Section::Trigger => &mut self.trigger,
            Section::Detection => &mut self.detection,
            Section::Resolution => &mut self.resolution,
            Section::WentWell => &mut self.went_well,
            Section::WentPoorly => &mut self.went_poorly,
            Section::GotLucky => &mut self.got_lucky,
            Section::Lessons => &mut self.lessons,
            Section::OtherNotes => &mut self.other_notes,
        })
    }

    /// Puts `text` into a section (merging after a conflict).
    pub fn set_text(&mut self, section: Section, text: &str) {
        if let Some(slot) = self.text_mut(section) {
            *slot = text.to_owned();
        }
    }

    /// The four impact figures as typed.
    pub fn numbers(&self) -> [&str; 4] {
        [
            &self.users_affected,
            &self.failed_requests,
            &self.revenue_lost,
            &self.slo_budget_consumed,
        ]
    }

    pub fn set_numbers_from(&mut self, other: &DocumentForm) {
        self.users_affected.clone_from(&other.users_affected);
        self.failed_requests.clone_from(&other.failed_requests);
        self.revenue_lost.clone_from(&other.revenue_lost);
        self.slo_budget_consumed
            .clone_from(&other.slo_budget_consumed);
    }

    /// The factor rows that say something.
    pub fn factor_rows(&self) -> Vec<FactorInput> {
        let typed = self.factor_description.len().max(self.factor_id.len());
        (0..typed)
            .map(|index| FactorInput {
                id: cell(&self.factor_id, index),
                category: cell(&self.factor_category, index),
                also: cell(&self.factor_also, index),
                description: cell(&self.factor_description, index),
            })
            .filter(|row| !row.description.trim().is_empty() || !row.id.is_empty())
            .collect()
    }

    fn set_factors(&mut self, factors: &[FactorRow]) {
        self.factor_id = factors.iter().map(|f| f.id.to_string()).collect();
        self.factor_category = factors
            .iter()
            .map(|f| f.categories.first().cloned().unwrap_or_default())
            .collect();
        self.factor_also = factors
            .iter()
            .map(|f| f.categories.get(1..).unwrap_or_default().join(","))
            .collect();
        self.factor_description = factors.iter().map(|f| f.description.clone()).collect();
    }

    pub fn set_factors_from(&mut self, other: &DocumentForm) {
        self.factor_id.clone_from(&other.factor_id);
        self.factor_category.clone_from(&other.factor_category);
        self.factor_also.clone_from(&other.factor_also);
        self.factor_description
            .clone_from(&other.factor_description);
    }

    pub fn entry_rows(&self) -> Vec<EntryRow> {
        (0..self.entry_key.len().max(self.entry_text.len()))
            .map(|index| {
                let key = cell(&self.entry_key, index);
                EntryRow {
                    removed: !key.is_empty() && key != NEW_ROW && self.entry_remove.contains(&key),
                    key,
                    base: cell(&self.entry_base, index),
                    at: cell(&self.entry_at, index),
                    kind: cell(&self.entry_kind, index),
                    speaker: cell(&self.entry_speaker, index),
                    text: cell(&self.entry_text, index),
                    source: cell(&self.entry_source, index),
                    link: cell(&self.entry_link, index),
                }
            })
            .collect()
    }

    pub fn set_entry_rows(&mut self, rows: Vec<EntryRow>) {
        self.entry_remove = rows
            .iter()
            .filter(|row| row.removed)
            .map(|row| row.key.clone())
            .collect();
        let column =
            |pick: fn(&EntryRow) -> &String| rows.iter().map(|r| pick(r).clone()).collect();
        self.entry_key = column(|r| &r.key);
        self.entry_base = column(|r| &r.base);
        self.entry_at = column(|r| &r.at);
        self.entry_kind = column(|r| &r.kind);
        self.entry_speaker = column(|r| &r.speaker);
        self.entry_text = column(|r| &r.text);
        self.entry_source = column(|r| &r.source);
        self.entry_link = column(|r| &r.link);
    }

    pub fn item_rows(&self) -> Vec<ItemRow> {
        (0..self.item_key.len().max(self.item_title.len()))
            .map(|index| ItemRow {
                key: cell(&self.item_key, index),
                base: cell(&self.item_base, index),
                form: ItemForm {
                    title: cell(&self.item_title, index),
                    description: cell(&self.item_description, index),
                    kind: cell(&self.item_kind, index),
                    priority: cell(&self.item_priority, index),
                    owner_id: cell(&self.item_owner, index),
                    team_id: cell(&self.item_team, index),
                    due_on: cell(&self.item_due, index),
                    tracker_url: cell(&self.item_tracker, index),
                    status: cell(&self.item_status, index),
                    factor_id: cell(&self.item_factor, index),
                    closing_reason: cell(&self.item_reason, index),
                    version: String::new(),
                },
            })
            .collect()
    }

    pub fn set_item_rows(&mut self, rows: Vec<ItemRow>) {
        let column = |pick: fn(&ItemRow) -> &String| rows.iter().map(|r| pick(r).clone()).collect();
        self.item_key = column(|r| &r.key);
        self.item_base = column(|r| &r.base);
        self.item_title = column(|r| &r.form.title);
        self.item_owner = column(|r| &r.form.owner_id);
        self.item_team = column(|r| &r.form.team_id);
        self.item_due = column(|r| &r.form.due_on);
        self.item_priority = column(|r| &r.form.priority);
        self.item_kind = column(|r| &r.form.kind);
        self.item_status = column(|r| &r.form.status);
        self.item_factor = column(|r| &r.form.factor_id);
        self.item_tracker = column(|r| &r.form.tracker_url);
        self.item_description = column(|r| &r.form.description);
        self.item_reason = column(|r| &r.form.closing_reason);
    }

    /// Fingerprint of one whole-document part as typed now.
    pub fn part_fingerprint(&self, part: &str) -> String {
        if let Some(section) = Section::from_field(part) {
            return fingerprint(&[self.text(section)]);
        }
        match part {
            "numbers" => fingerprint(&self.numbers()),
            _ => {
                let rows = self.factor_rows();
                let values: Vec<&str> = rows
                    .iter()
                    .flat_map(|row| [row.id.as_str(), &row.category, &row.also, &row.description])
                    .collect();
                fingerprint(&values)
            }
        }
    }

    /// The names of the whole-document parts: sections, figures, factors.
    pub fn parts() -> impl Iterator<Item = &'static str> {
        Section::ALL
            .into_iter()
            .map(Section::field)
            .chain(["numbers", "factors"])
    }

    /// `part:fingerprint;…` for every part as it is now.
    pub fn part_bases(&self) -> String {
        DocumentForm::parts()
            .map(|part| format!("{part}:{}", self.part_fingerprint(part)))
            .collect::<Vec<_>>()
            .join(";")
    }

    /// The fingerprints the form was loaded with, by part.
    pub fn bases(&self) -> HashMap<&str, &str> {
        self.base
            .split(';')
            .filter_map(|pair| pair.split_once(':'))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_and_trailing_space_do_not_change_a_fingerprint() {
        assert_eq!(fingerprint(&["a\r\nb  "]), fingerprint(&["a\nb"]));
        assert_ne!(fingerprint(&["a", "b"]), fingerprint(&["ab", ""]));
    }

    #[test]
    fn bases_name_every_part() {
        let mut form = DocumentForm {
            summary: "Checkout failed.".to_owned(),
            ..DocumentForm::default()
        };
        form.base = form.part_bases();
        let summary = form.part_fingerprint("summary");
        assert_eq!(form.bases().get("summary"), Some(&summary.as_str()));
        assert_eq!(form.bases().len(), DocumentForm::parts().count());
    }

    #[test]
    fn rows_keep_their_columns_and_removal_marks() {
        let mut form = DocumentForm::default();
        let rows = vec![
            EntryRow {
                key: "a".to_owned(),
                text: "Deploy".to_owned(),
                removed: true,
                ..EntryRow::default()
            },
            EntryRow {
                key: NEW_ROW.to_owned(),
                text: "Alert".to_owned(),
                ..EntryRow::default()
            },
        ];
        form.set_entry_rows(rows);
        let back = form.entry_rows();
        assert_eq!(back.len(), 2);
        assert!(back[0].removed && !back[1].removed);
        assert_eq!(back[1].text, "Alert");
        assert!(!back[1].is_blank());
    }
}
