//! The authoring page: every section of the template, the contributing
//! factors, the timeline editor and the action items, with a visible
//! version. Saving on top of someone else's save is refused with both texts
//! side by side, so nothing is overwritten and nothing typed is lost.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_extra::extract::Form;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    Case, record_revision,
    views::{EntryView, ItemView, entry_views, item_views},
};
use crate::{
    domain::{
        action::{ActionKind, ActionStatus, Priority},
        document::{Sections, TEXT_SECTIONS},
        incident::display_number,
        postmortem::{FactorCategory, TimelineKind},
        time::{self, COMMON_ZONES},
    },
    store::{self, postmortems::FactorRow, teams::Team, users::PersonOption},
    web::{
        AppError, AppState,
        action_items::ItemForm,
        form::{FormErrors, parse_version},
        layout::{Layout, Nav},
        session::CurrentUser,
    },
};

/// Most factors one postmortem may list.
const MAX_FACTORS: usize = 50;
/// Longest section accepted, in characters.
const MAX_SECTION_CHARS: usize = 100_000;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/incidents/{number}/postmortem/edit",
        get(show_editor).post(save_sections),
    )
}

/// The sections form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SectionsForm {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub impact: String,
    #[serde(default)]
    pub users_affected: String,
    #[serde(default)]
    pub failed_requests: String,
    #[serde(default)]
    pub revenue_lost: String,
    #[serde(default)]
    pub slo_budget_consumed: String,
    #[serde(default)]
    pub trigger: String,
    #[serde(default)]
    pub detection: String,
    #[serde(default)]
    pub resolution: String,
    #[serde(default)]
    pub other_notes: String,
    #[serde(default)]
    pub went_well: String,
    #[serde(default)]
    pub went_poorly: String,
    #[serde(default)]
    pub got_lucky: String,
    #[serde(default)]
    pub lessons: String,
    #[serde(default)]
    pub factor_id: Vec<String>,
    #[serde(default)]
    pub factor_category: Vec<String>,
    #[serde(default)]
    pub factor_description: Vec<String>,
    #[serde(default)]
    pub version: String,
}

/// One factor row of the form.
pub struct FactorInput {
    pub id: String,
    pub category: String,
    pub description: String,
}

impl SectionsForm {
    fn from_saved(sections: &Sections, factors: &[FactorRow], version: i32) -> SectionsForm {
        SectionsForm {
            summary: sections.summary.clone(),
            impact: sections.impact.clone(),
            users_affected: sections
                .users_affected
                .map(|n| n.to_string())
                .unwrap_or_default(),
            failed_requests: sections
                .failed_requests
                .map(|n| n.to_string())
                .unwrap_or_default(),
            revenue_lost: sections
                .revenue_lost_cents
                .map(|cents| format!("{}.{:02}", cents / 100, cents % 100))
                .unwrap_or_default(),
            slo_budget_consumed: sections
                .slo_budget_consumed
                .map(|p| p.to_string())
                .unwrap_or_default(),
            trigger: sections.trigger.clone(),
            detection: sections.detection.clone(),
            resolution: sections.resolution.clone(),
            other_notes: sections.other_notes.clone(),
            went_well: sections.went_well.clone(),
            went_poorly: sections.went_poorly.clone(),
            got_lucky: sections.got_lucky.clone(),
            lessons: sections.lessons.clone(),
            factor_id: factors.iter().map(|f| f.id.to_string()).collect(),
            factor_category: factors
                .iter()
                .map(|f| f.category.as_str().to_owned())
                .collect(),
            factor_description: factors.iter().map(|f| f.description.clone()).collect(),
            version: version.to_string(),
        }
    }

    pub fn text(&self, field: &str) -> &str {
        match field {
            "summary" => &self.summary,
            "impact" => &self.impact,
            "trigger" => &self.trigger,
            "detection" => &self.detection,
            "resolution" => &self.resolution,
            "other_notes" => &self.other_notes,
            "went_well" => &self.went_well,
            "went_poorly" => &self.went_poorly,
            "got_lucky" => &self.got_lucky,
            "lessons" => &self.lessons,
            _ => "",
        }
    }

    /// The factor rows as typed, plus two empty rows to add to.
    pub fn factor_rows(&self) -> Vec<FactorInput> {
        let cell =
            |values: &Vec<String>, index: usize| values.get(index).cloned().unwrap_or_default();
        let typed = self.factor_description.len().max(self.factor_id.len());
        (0..typed + 2)
            .map(|index| FactorInput {
                id: cell(&self.factor_id, index),
                category: cell(&self.factor_category, index),
                description: cell(&self.factor_description, index),
            })
            .collect()
    }

    /// Parses into sections and factors; factor ids not among `existing`
    /// become new factors.
    fn parse(&self, existing: &[FactorRow]) -> Result<(Sections, Vec<FactorRow>), FormErrors> {
        let mut errors = FormErrors::default();
        for (field, heading) in TEXT_SECTIONS {
            if self.text(field).chars().count() > MAX_SECTION_CHARS {
                errors.add(
                    field,
                    format!("{heading} is too long; keep it under {MAX_SECTION_CHARS} characters."),
                );
            }
        }
        let users_affected = errors.check("users_affected", parse_count(&self.users_affected));
        let failed_requests = errors.check("failed_requests", parse_count(&self.failed_requests));
        let revenue_lost_cents = errors.check("revenue_lost", parse_money(&self.revenue_lost));
        let slo_budget_consumed = errors.check(
            "slo_budget_consumed",
            parse_percent(&self.slo_budget_consumed),
        );
        let mut factors = Vec::new();
        for row in self.factor_rows() {
            let description = row.description.trim();
            if description.is_empty() {
                continue;
            }
            let Some(category) = FactorCategory::parse(&row.category) else {
                errors.add("factors", "Give every contributing factor a category.");
                continue;
            };
            let id = Uuid::parse_str(&row.id)
                .ok()
                .filter(|id| existing.iter().any(|factor| factor.id == *id))
                .unwrap_or_else(Uuid::now_v7);
            factors.push(FactorRow {
                id,
                category,
                description: description.chars().take(2000).collect(),
            });
        }
        if factors.len() > MAX_FACTORS {
            errors.add(
                "factors",
                format!("List at most {MAX_FACTORS} contributing factors."),
            );
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let sections = Sections {
            summary: self.summary.clone(),
            impact: self.impact.clone(),
            users_affected: users_affected.flatten(),
            failed_requests: failed_requests.flatten(),
            revenue_lost_cents: revenue_lost_cents.flatten(),
            slo_budget_consumed: slo_budget_consumed.flatten(),
            trigger: self.trigger.clone(),
            detection: self.detection.clone(),
            resolution: self.resolution.clone(),
            other_notes: self.other_notes.clone(),
            went_well: self.went_well.clone(),
            went_poorly: self.went_poorly.clone(),
            got_lucky: self.got_lucky.clone(),
            lessons: self.lessons.clone(),
        };
        Ok((sections, factors))
    }
}

/// A whole number such as `18000` or `18,000`; empty means not known.
fn parse_count(raw: &str) -> Result<Option<i64>, String> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_' && *c != ' ')
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    cleaned
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| "Use a whole number, such as 18000.".to_owned())
}

/// An amount such as `12500`, `12,500.50` or `$12500`, kept in cents.
fn parse_money(raw: &str) -> Result<Option<i64>, String> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '$' | '€' | '£' | ' '))
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    let problem = || "Use an amount such as 12500 or 12500.50.".to_owned();
    let (whole, fraction) = cleaned.split_once('.').unwrap_or((&cleaned, "0"));
    if fraction.len() > 2 || whole.is_empty() {
        return Err(problem());
    }
    let whole: i64 = whole.parse().ok().filter(|n| *n >= 0).ok_or_else(problem)?;
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| problem())?;
    whole
        .checked_mul(100)
        .and_then(|n| n.checked_add(cents))
        .map(Some)
        .ok_or_else(problem)
}

/// A percentage such as `38.5` or `38.5%`.
fn parse_percent(raw: &str) -> Result<Option<f64>, String> {
    let cleaned = raw.trim().trim_end_matches('%').trim();
    if cleaned.is_empty() {
        return Ok(None);
    }
    cleaned
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && *p >= 0.0 && *p <= 100_000.0)
        .map(Some)
        .ok_or_else(|| "Use a percentage, such as 38.5.".to_owned())
}

/// A section where the saved text and the user's text differ.
pub struct ConflictSection {
    pub field: &'static str,
    pub theirs: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/edit.html")]
pub struct EditorPage {
    pub layout: Layout,
    pub case: Case,
    pub form: SectionsForm,
    pub errors: FormErrors,
    pub conflict: Vec<ConflictSection>,
    pub entries: Vec<EntryView>,
    pub entry_form: EntryFormValues,
    pub entry_errors: FormErrors,
    pub row_edit: Option<RowEdit>,
    pub items: Vec<ItemView>,
    pub item_form: ItemForm,
    pub item_errors: FormErrors,
    pub people: Vec<PersonOption>,
    pub teams: Vec<Team>,
    pub factors: Vec<FactorRow>,
    pub checklist: super::checklist::ChecklistPanel,
}

/// The "add an entry" form as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct EntryFormValues {
    #[serde(default)]
    pub occurred_at: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub link: String,
    /// The entry's version when the row was loaded (row edits only).
    #[serde(default)]
    pub version: String,
}

/// A timeline row that came back with problems: what was typed in it.
pub struct RowEdit {
    pub id: String,
    pub form: EntryFormValues,
    pub errors: FormErrors,
}

/// The values a timeline row shows: as typed after a failed save, else as stored.
pub struct RowValues {
    pub local_input: String,
    pub kind: String,
    pub text: String,
    pub source: String,
    pub link: String,
    pub version: String,
    pub problem: Option<String>,
}

impl EditorPage {
    pub async fn load(state: &AppState, user: &CurrentUser, case: Case) -> Result<Self, AppError> {
        let id = case.postmortem.id;
        let factors = store::postmortems::list_factors(&state.db, id).await?;
        let entries = store::timeline::list_entries(&state.db, id).await?;
        let items = store::action_items::list_for_postmortem(&state.db, id).await?;
        Ok(EditorPage {
            layout: Layout::for_user(user, Nav::Incidents),
            form: SectionsForm::from_saved(
                &case.postmortem.sections,
                &factors,
                case.postmortem.version,
            ),
            errors: FormErrors::default(),
            conflict: Vec::new(),
            entries: entry_views(&entries, case.zone()),
            entry_form: EntryFormValues {
                time_zone: case.incident.time_zone.clone(),
                kind: TimelineKind::Note.as_str().to_owned(),
                source: "typed".to_owned(),
                ..EntryFormValues::default()
            },
            entry_errors: FormErrors::default(),
            row_edit: None,
            items: item_views(items, user.today(state.clock.now())),
            item_form: ItemForm::new_for(user),
            item_errors: FormErrors::default(),
            people: store::users::list_active_people(&state.db).await?,
            teams: store::teams::list_team_options(&state.db).await?,
            checklist: super::checklist::saved_panel(state, &case).await?,
            factors,
            case,
        })
    }

    fn number(&self) -> String {
        display_number(self.case.incident.number)
    }

    fn row(&self, entry: &EntryView) -> RowValues {
        match &self.row_edit {
            Some(edit) if edit.id == entry.id => RowValues {
                local_input: edit.form.occurred_at.clone(),
                kind: edit.form.kind.clone(),
                text: edit.form.text.clone(),
                source: edit.form.source.clone(),
                link: edit.form.link.clone(),
                version: edit.form.version.clone(),
                problem: ["row", "occurred_at", "kind", "text", "link", "time_zone"]
                    .iter()
                    .find_map(|field| edit.errors.get(field))
                    .map(str::to_owned),
            },
            _ => RowValues {
                local_input: entry.local_input.clone(),
                kind: entry.kind.as_str().to_owned(),
                text: entry.text.clone(),
                source: entry.source.clone(),
                link: entry.link.clone().unwrap_or_default(),
                version: entry.version.to_string(),
                problem: None,
            },
        }
    }

    fn sections(&self) -> [(&'static str, &'static str); 10] {
        TEXT_SECTIONS
    }

    fn section_help(&self, field: &str) -> &'static str {
        match field {
            "summary" => "Two or three sentences: what happened, to whom, for how long.",
            "impact" => "Who noticed and how. The numbers go in the fields below.",
            "trigger" => {
                "The proximate trigger. Name conditions and systems, never a person as the cause."
            }
            "went_well" => "What limited the damage: alerts that fired, runbooks that worked.",
            "went_poorly" => "Where the response was slowed or confused.",
            "got_lucky" => "What saved us that we cannot count on next time.",
            "lessons" => "What the organization learned, beyond this incident.",
            "detection" => "How we found out: the alert, the report, the time it took.",
            "resolution" => "What ended the impact, and what made it permanent.",
            "other_notes" => "Anything else worth keeping; imports put here what fits no section.",
            _ => "",
        }
    }

    fn categories(&self) -> &'static [FactorCategory] {
        FactorCategory::ALL
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

    fn zones(&self) -> &'static [&'static str] {
        COMMON_ZONES
    }

    fn zone_name(&self) -> &str {
        &self.case.incident.time_zone
    }

    /// Whether two names are the same (for comparisons in the template).
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }

    fn updated(&self) -> String {
        time::format_in(self.case.postmortem.updated_at, self.layout.zone())
    }
}

async fn show_editor(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(number): Path<String>,
) -> Result<EditorPage, AppError> {
    let case = Case::load_for_edit(&state, &user, &number).await?;
    EditorPage::load(&state, &user, case).await
}

async fn save_sections(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(number): Path<String>,
    Form(form): Form<SectionsForm>,
) -> Result<Response, AppError> {
    let case = Case::load_for_edit(&state, &user, &number).await?;
    let existing = store::postmortems::list_factors(&state.db, case.postmortem.id).await?;
    let (sections, factors) = match form.parse(&existing) {
        Ok(parsed) => parsed,
        Err(errors) => {
            let mut page = EditorPage::load(&state, &user, case).await?;
            page.form = form;
            page.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let expected = parse_version(&form.version);
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let saved =
        store::postmortems::update_sections(&mut *tx, case.postmortem.id, expected, &sections, now)
            .await?;
    if saved.is_none() {
        tx.rollback().await?;
        return conflict(&state, &user, case, form, existing).await;
    }
    store::postmortems::save_factors(&mut tx, case.postmortem.id, &factors).await?;
    let mut changed = sections.changed_from(&case.postmortem.sections);
    if factors_changed(&existing, &factors) {
        changed.push("Contributing factors");
    }
    let summary = if changed.is_empty() {
        "Saved without changes".to_owned()
    } else {
        format!("Edited {}", changed.join(", "))
    };
    let revision = record_revision(&mut tx, &case, &user, &summary, now).await?;
    tx.commit().await?;
    user.flash(&state, &format!("Saved as revision {revision}."))
        .await?;
    Ok(Redirect::to(&format!("{}/postmortem/edit", case.path())).into_response())
}

fn factors_changed(before: &[FactorRow], after: &[FactorRow]) -> bool {
    before.len() != after.len()
        || before.iter().zip(after).any(|(a, b)| {
            a.id != b.id || a.category != b.category || a.description != b.description
        })
}

/// Someone saved since this form was opened: show their text beside the
/// user's, with the form now at the current version so saving again merges.
async fn conflict(
    state: &AppState,
    user: &CurrentUser,
    case: Case,
    form: SectionsForm,
    existing: Vec<FactorRow>,
) -> Result<Response, AppError> {
    let saved = SectionsForm::from_saved(
        &case.postmortem.sections,
        &existing,
        case.postmortem.version,
    );
    let mut conflict: Vec<ConflictSection> = TEXT_SECTIONS
        .iter()
        .filter(|(field, _)| saved.text(field).trim() != form.text(field).trim())
        .map(|(field, _)| ConflictSection {
            field,
            theirs: saved.text(field).to_owned(),
        })
        .collect();
    let typed: Vec<&str> = form
        .factor_description
        .iter()
        .map(|text| text.trim())
        .filter(|text| !text.is_empty())
        .collect();
    let stored: Vec<&str> = existing
        .iter()
        .map(|factor| factor.description.as_str())
        .collect();
    if typed != stored {
        let theirs = existing
            .iter()
            .map(|factor| format!("- {}: {}", factor.category.label(), factor.description))
            .collect::<Vec<_>>()
            .join("\n");
        conflict.push(ConflictSection {
            field: "factors",
            theirs,
        });
    }
    let version = case.postmortem.version;
    let mut page = EditorPage::load(state, user, case).await?;
    page.form = SectionsForm {
        version: version.to_string(),
        ..form
    };
    page.errors.add(
        "form",
        "Someone else saved this postmortem while you were writing, so your save was not applied. \
         Their text is shown beside yours below; merge what you need into your text and save again.",
    );
    page.conflict = conflict;
    Ok((StatusCode::CONFLICT, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_money_and_percentages_parse_leniently() {
        assert_eq!(parse_count(" 18,000 "), Ok(Some(18000)));
        assert_eq!(parse_count(""), Ok(None));
        assert!(parse_count("-5").is_err());
        assert!(parse_count("many").is_err());
        assert_eq!(parse_money("$12,500.5"), Ok(Some(1_250_050)));
        assert_eq!(parse_money("99"), Ok(Some(9900)));
        assert!(parse_money("1.234").is_err());
        assert!(parse_money("-3").is_err());
        assert_eq!(parse_percent("38.5%"), Ok(Some(38.5)));
        assert!(parse_percent("lots").is_err());
    }
}
