//! The authoring page: the whole postmortem as one form, with the problems
//! of a refused save listed at the top and each shown beside its input.

use askama::Template;
use askama_web::WebTemplate;

use super::{
    checklist::ChecklistPanel,
    form::{DocumentForm, EntryRow, FactorInput, ItemRow, NEW_ROW},
    save::Conflict,
    saved::Directory,
};
use crate::{
    domain::{
        action::{ActionKind, ActionStatus, Priority},
        incident::display_number,
        postmortem::TimelineKind,
        section::{MAX_SECTION_CHARS, Section},
        time,
    },
    store::{attachments::AttachmentInfo, postmortems::FactorRow},
    web::{
        form::FormErrors,
        incidents::Case,
        item_form::ItemForm,
        layout::{Layout, Nav},
        session::CurrentUser,
    },
};

/// Empty rows offered for new entries when the page works without script.
const BLANK_ENTRIES: usize = 3;
/// Empty factor rows offered.
const BLANK_FACTORS: usize = 2;

#[derive(Template, WebTemplate)]
#[template(path = "incidents/edit.html")]
pub struct EditorPage {
    pub layout: Layout,
    pub case: Case,
    pub form: DocumentForm,
    pub errors: FormErrors,
    pub conflicts: Vec<Conflict>,
    pub directory: Directory,
    /// The saved factors an item may answer.
    pub factors: Vec<FactorRow>,
    pub attachments: Vec<AttachmentInfo>,
    pub checklist: ChecklistPanel,
    /// When the restored draft was autosaved, in the reader's zone.
    pub restored: Option<String>,
    /// The item form defaults (owner: the author).
    pub blank_item: ItemForm,
    /// Review threads nobody has resolved yet, listed at the top.
    pub open_threads: Vec<OpenThread>,
}

/// A review thread still open, as the author sees it above the form.
pub struct OpenThread {
    pub id: String,
    /// The section it is on: "Summary", "The postmortem as a whole".
    pub anchor: &'static str,
    pub author: String,
    /// The start of what it says.
    pub excerpt: String,
    pub outdated: bool,
}

/// One problem of the summary at the top: where it is and what it says.
pub struct Problem {
    pub anchor: String,
    pub label: String,
    pub message: String,
}

impl EditorPage {
    pub fn new(user: &CurrentUser, case: Case, parts: EditorParts) -> EditorPage {
        EditorPage {
            layout: Layout::for_user(user, Nav::Incidents),
            case,
            form: parts.form,
            errors: FormErrors::default(),
            conflicts: Vec::new(),
            directory: parts.directory,
            factors: parts.factors,
            attachments: parts.attachments,
            checklist: parts.checklist,
            restored: None,
            blank_item: ItemForm::new_for(user),
            open_threads: parts.open_threads,
        }
    }

    fn number(&self) -> String {
        display_number(self.case.incident.number)
    }

    fn path(&self) -> String {
        self.case.path()
    }

    fn sections(&self) -> [Section; 10] {
        Section::ALL
    }

    fn max_section_chars(&self) -> usize {
        MAX_SECTION_CHARS
    }

    fn section_text(&self, section: &Section) -> &str {
        self.form.text(*section)
    }

    fn is(&self, section: &Section, field: &str) -> bool {
        section.field() == field
    }

    fn conflict(&self, anchor: &str) -> Option<&Conflict> {
        self.conflicts.iter().find(|c| c.anchor == anchor)
    }

    /// The factor rows as typed, plus empty ones to add to.
    fn factor_rows(&self) -> Vec<FactorInput> {
        let mut rows = self.form.factor_rows();
        rows.extend((0..BLANK_FACTORS).map(|_| FactorInput {
            id: String::new(),
            category: String::new(),
            also: String::new(),
            description: String::new(),
        }));
        rows
    }

    /// The timeline rows as typed, plus empty ones for new entries.
    fn entry_rows(&self) -> Vec<EntryRow> {
        let mut rows = self.form.entry_rows();
        rows.extend((0..BLANK_ENTRIES).map(|_| self.blank_entry()));
        rows
    }

    fn blank_entry(&self) -> EntryRow {
        EntryRow {
            key: NEW_ROW.to_owned(),
            kind: TimelineKind::Note.as_str().to_owned(),
            ..EntryRow::default()
        }
    }

    /// The item rows as typed, plus one empty row for a new item.
    fn item_rows(&self) -> Vec<ItemRow> {
        let mut rows = self.form.item_rows();
        rows.push(self.blank_item_row());
        rows
    }

    fn blank_item_row(&self) -> ItemRow {
        ItemRow {
            key: NEW_ROW.to_owned(),
            base: String::new(),
            form: self.blank_item.clone(),
        }
    }

    /// The problem with one input of a row: `entry-3-text`.
    fn row_error(&self, prefix: &str, index: &usize, field: &str) -> Option<&str> {
        self.errors.get(&format!("{prefix}-{index}-{field}"))
    }

    fn row_has_error(&self, prefix: &str, index: &usize) -> bool {
        let start = format!("{prefix}-{index}-");
        self.errors
            .iter()
            .any(|(field, _)| field.starts_with(&start))
    }

    /// Every problem, with a label saying where it is.
    fn problems(&self) -> Vec<Problem> {
        self.errors
            .iter()
            .filter(|(field, _)| *field != "form")
            .map(|(field, message)| Problem {
                anchor: field.to_owned(),
                label: label_of(field),
                message: message.to_owned(),
            })
            .collect()
    }

    fn problem_count(&self) -> String {
        match self.problems().len() {
            1 => "1 problem stopped this save".to_owned(),
            n => format!("{n} problems stopped this save"),
        }
    }

    /// The categories a factor row may pick: the live ones, and the one
    /// it has if that is no longer offered (so saving changes nothing).
    fn category_choices(&self, current: &str) -> Vec<(String, String)> {
        let taxonomy = &self.directory.taxonomy;
        let mut choices: Vec<(String, String)> = taxonomy
            .live()
            .map(|c| (c.slug.clone(), c.name.clone()))
            .collect();
        for slug in current.split(',').filter(|slug| !slug.is_empty()) {
            if !choices.iter().any(|(known, _)| known == slug) {
                choices.push((
                    slug.to_owned(),
                    format!("{} (retired)", taxonomy.label(slug)),
                ));
            }
        }
        choices
    }

    /// The further categories of a row that carries more than one beyond
    /// its main one, offered as they are so saving keeps them all.
    fn also_combination(&self, also: &str) -> Option<String> {
        also.contains(',').then(|| {
            let slugs: Vec<String> = also.split(',').map(str::to_owned).collect();
            self.directory.taxonomy.labels(&slugs).join(" + ")
        })
    }

    /// "Technical, Process": a saved factor's categories, as an item's
    /// factor picker names them.
    fn factor_label(&self, factor: &FactorRow) -> String {
        self.directory
            .taxonomy
            .labels(&factor.categories)
            .join(", ")
    }

    fn timeline_kinds(&self) -> &'static [TimelineKind] {
        TimelineKind::ALL
    }

    fn action_kinds(&self) -> &'static [ActionKind] {
        ActionKind::ALL
    }

    fn priorities(&self) -> &'static [Priority] {
        Priority::ALL
    }

    fn statuses(&self) -> &'static [ActionStatus] {
        ActionStatus::ALL
    }

    fn zone_name(&self) -> String {
        self.layout.zone().name().to_owned()
    }

    fn updated(&self) -> String {
        time::format_in(self.case.postmortem.updated_at, self.layout.zone())
    }

    fn attachment_url(&self, attachment: &AttachmentInfo) -> String {
        format!(
            "/incidents/{}/attachments/{}/{}",
            self.case.incident.number, attachment.id, attachment.file_name
        )
    }
}

/// What a page needs besides the form and its problems.
pub struct EditorParts {
    pub form: DocumentForm,
    pub directory: Directory,
    pub factors: Vec<FactorRow>,
    pub attachments: Vec<AttachmentInfo>,
    pub checklist: ChecklistPanel,
    pub open_threads: Vec<OpenThread>,
}

/// Where a problem is, as a person reads it: `Timeline row 3`.
fn label_of(field: &str) -> String {
    if let Some(section) = Section::from_field(field) {
        return section.heading().to_owned();
    }
    let row = |rest: &str| {
        rest.split('-')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .map_or(0, |n| n + 1)
    };
    if let Some(rest) = field.strip_prefix("entry-") {
        return format!("Timeline row {}", row(rest));
    }
    if let Some(rest) = field.strip_prefix("item-") {
        return format!("Action item {}", row(rest));
    }
    match field {
        "users_affected" => "Users affected",
        "failed_requests" => "Failed requests",
        "revenue_lost" => "Revenue lost",
        "slo_budget_consumed" => "SLO budget used",
        "factors" => "Contributing factors",
        _ => "The form",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::label_of;

    #[test]
    fn problems_are_labelled_by_where_they_are() {
        assert_eq!(label_of("summary"), "Summary");
        assert_eq!(label_of("entry-2-at"), "Timeline row 3");
        assert_eq!(label_of("item-0-due_on"), "Action item 1");
        assert_eq!(label_of("revenue_lost"), "Revenue lost");
    }
}
