//! The authoring form read into the edits it asks for: only the parts the
//! author touched, each parsed by the domain's own types, with every problem
//! keyed by the id of the input it is about. The save and the live
//! checklist both start here, so they read a form the same way.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use super::form::{DocumentForm, EntryRow, ItemRow};
use crate::{
    domain::{
        document::Sections,
        incident::is_web_link,
        postmortem::TimelineKind,
        quantity::{parse_count, parse_money, parse_percent},
        section::{MAX_SECTION_CHARS, Section},
        taxonomy::{self, Taxonomy},
        time,
    },
    store::{
        action_items::ActionFields, postmortems::FactorRow, teams::Team, timeline::EntryFields,
        users::PersonOption,
    },
    web::form::FormErrors,
};

/// Most factors one postmortem may list.
pub const MAX_FACTORS: usize = 50;
/// Longest factor, in characters.
pub const MAX_FACTOR_CHARS: usize = 2_000;
/// Longest timeline entry, in characters.
pub const MAX_ENTRY_CHARS: usize = 20_000;
/// Longest name of who said an entry, in characters (the column's limit).
pub const MAX_SPEAKER_CHARS: usize = 100;

/// A part the author changed: the fingerprint it was loaded with (none when
/// the form did not say) and the one it has now.
pub struct Touched<T> {
    pub base: Option<String>,
    pub mine: String,
    pub value: T,
}

/// A timeline or item row the author changed.
pub struct RowEdit<T> {
    /// The row's position in the form (its inputs' ids carry it).
    pub index: usize,
    /// The saved row it changes; `None` for a new row.
    pub id: Option<Uuid>,
    pub base: String,
    pub mine: String,
    pub value: T,
}

/// The four impact figures.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figures {
    pub users_affected: Option<i64>,
    pub failed_requests: Option<i64>,
    pub revenue_lost_cents: Option<i64>,
    pub slo_budget_consumed: Option<f64>,
}

impl Figures {
    pub fn apply_to(self, sections: &mut Sections) {
        sections.users_affected = self.users_affected;
        sections.failed_requests = self.failed_requests;
        sections.revenue_lost_cents = self.revenue_lost_cents;
        sections.slo_budget_consumed = self.slo_budget_consumed;
    }
}

/// Everything a form asks to change.
#[derive(Default)]
pub struct Edits {
    pub sections: Vec<Touched<(Section, String)>>,
    pub figures: Option<Touched<Figures>>,
    pub factors: Option<Touched<Vec<FactorRow>>>,
    /// `None` as the value removes the entry.
    pub entries: Vec<RowEdit<Option<EntryFields>>>,
    pub items: Vec<RowEdit<ActionFields>>,
}

/// What the rows may refer to.
pub struct Known<'a> {
    pub people: &'a [PersonOption],
    pub teams: &'a [Team],
    /// The saved factors an item may answer.
    pub factors: &'a [FactorRow],
    pub taxonomy: &'a Taxonomy,
}

/// Reads the touched parts of `form`, times in `zone`. Problems come back
/// beside what could be read, so the live checklist can check the rest.
pub fn parse(form: &DocumentForm, known: &Known<'_>, zone: Tz) -> (Edits, FormErrors) {
    let mut errors = FormErrors::default();
    let bases = form.bases();
    let touched = |part: &str| -> Option<(Option<String>, String)> {
        if !form.mentions(part) {
            return None;
        }
        let mine = form.part_fingerprint(part);
        let base = bases.get(part).map(|base| (*base).to_owned());
        (base.as_deref() != Some(mine.as_str())).then_some((base, mine))
    };
    let mut edits = Edits::default();
    for section in Section::ALL {
        let Some((base, mine)) = touched(section.field()) else {
            continue;
        };
        let text = form.text(section).replace("\r\n", "\n");
        let length = text.chars().count();
        if length > MAX_SECTION_CHARS {
            errors.add(
                section.field(),
                format!(
                    "{} is {length} characters long; the limit is {MAX_SECTION_CHARS}. Move the rest to an attachment or a linked document.",
                    section.heading()
                ),
            );
            continue;
        }
        edits.sections.push(Touched {
            base,
            mine,
            value: (section, text),
        });
    }
    if let Some((base, mine)) = touched("numbers") {
        let figures = Figures {
            users_affected: errors
                .check("users_affected", parse_count(&form.users_affected))
                .flatten(),
            failed_requests: errors
                .check("failed_requests", parse_count(&form.failed_requests))
                .flatten(),
            revenue_lost_cents: errors
                .check("revenue_lost", parse_money(&form.revenue_lost))
                .flatten(),
            slo_budget_consumed: errors
                .check(
                    "slo_budget_consumed",
                    parse_percent(&form.slo_budget_consumed),
                )
                .flatten(),
        };
        edits.figures = Some(Touched {
            base,
            mine,
            value: figures,
        });
    }
    if let Some((base, mine)) = touched("factors") {
        let value = parse_factors(form, known.factors, known.taxonomy, &mut errors);
        edits.factors = Some(Touched { base, mine, value });
    }
    let rows = form.entry_rows();
    let sort_times = sort_times(&rows, zone);
    for (index, row) in rows.into_iter().enumerate() {
        if row.is_blank() || (!row.is_new() && row.fingerprint() == row.base && !row.removed) {
            continue;
        }
        let Some(id) = row_id(&row.key) else {
            errors.add(
                format!("entry-{index}-text"),
                "This row is not one of this postmortem's entries; copy its text into a new row.",
            );
            continue;
        };
        let value = if row.removed {
            None
        } else {
            match parse_entry(&row, zone, index, sort_times[index]) {
                Ok(fields) => Some(fields),
                Err(problems) => {
                    errors.extend(problems);
                    continue;
                }
            }
        };
        edits.entries.push(RowEdit {
            index,
            id,
            mine: row.fingerprint(),
            base: row.base,
            value,
        });
    }
    for (index, row) in form.item_rows().into_iter().enumerate() {
        if row.is_blank() || (!row.is_new() && row.fingerprint() == row.base) {
            continue;
        }
        let Some(id) = row_id(&row.key) else {
            errors.add(
                format!("item-{index}-title"),
                "This row is not one of this postmortem's items; copy it into a new row.",
            );
            continue;
        };
        match parse_item(&row, known, index) {
            Ok(fields) => edits.items.push(RowEdit {
                index,
                id,
                mine: row.fingerprint(),
                base: row.base,
                value: fields,
            }),
            Err(problems) => errors.extend(problems),
        }
    }
    (edits, errors)
}

/// `None` inside for a new row; `None` outside for a key that is no id.
fn row_id(key: &str) -> Option<Option<Uuid>> {
    if key.is_empty() || key == super::form::NEW_ROW {
        return Some(None);
    }
    Uuid::parse_str(key).ok().map(Some)
}

fn parse_factors(
    form: &DocumentForm,
    saved: &[FactorRow],
    taxonomy: &Taxonomy,
    errors: &mut FormErrors,
) -> Vec<FactorRow> {
    let mut factors = Vec::new();
    for (position, row) in form.factor_rows().into_iter().enumerate() {
        let description = row.description.trim();
        if description.is_empty() {
            continue;
        }
        let number = position + 1;
        // A retired category stays valid on a factor that already has it.
        let kept: &[String] = saved
            .iter()
            .find(|factor| factor.id.to_string() == row.id)
            .map_or(&[], |factor| factor.categories.as_slice());
        let Some(main) = taxonomy.parse(&row.category, kept) else {
            errors.add("factors", format!("Give factor {number} a category."));
            continue;
        };
        let mut categories = vec![main];
        for also in row.also.split(',').filter(|text| !text.trim().is_empty()) {
            match taxonomy.parse(also, kept) {
                Some(slug) if !categories.contains(&slug) => categories.push(slug),
                Some(_) => {}
                None => {
                    errors.add(
                        "factors",
                        format!(
                            "Factor {number} names a category that is not offered: “{}”.",
                            also.trim()
                        ),
                    );
                }
            }
        }
        categories.truncate(taxonomy::MAX_PER_FACTOR);
        if description.chars().count() > MAX_FACTOR_CHARS {
            errors.add(
                "factors",
                format!("Factor {number} is longer than {MAX_FACTOR_CHARS} characters; say the rest in the root cause."),
            );
            continue;
        }
        // Only this postmortem's own factors keep their id (and the items
        // that answer them); anything else becomes a new factor.
        let id = Uuid::parse_str(&row.id)
            .ok()
            .filter(|id| saved.iter().any(|factor| factor.id == *id))
            .unwrap_or_else(Uuid::now_v7);
        factors.push(FactorRow {
            id,
            categories,
            description: description.to_owned(),
            themes: Vec::new(),
            dismissed: Vec::new(),
        });
    }
    if factors.len() > MAX_FACTORS {
        errors.add(
            "factors",
            format!("List at most {MAX_FACTORS} contributing factors."),
        );
    }
    factors
}

/// For each row, where it sorts if its time is left blank ("time unknown").
fn sort_times(rows: &[EntryRow], zone: Tz) -> Vec<Option<DateTime<Utc>>> {
    let times: Vec<Option<DateTime<Utc>>> = rows
        .iter()
        .map(|row| time::parse_local(&row.at, zone).ok())
        .collect();
    crate::domain::postmortem::sort_times(&times)
}

/// One timeline row, with problems keyed `entry-{index}-{field}`. A row
/// left without a time is "time unknown" and sorts at `sort_at`; there must
/// be another row with a time to sort it by.
pub fn parse_entry(
    row: &EntryRow,
    zone: Tz,
    index: usize,
    sort_at: Option<DateTime<Utc>>,
) -> Result<EntryFields, FormErrors> {
    let mut errors = FormErrors::default();
    let key = |field: &str| format!("entry-{index}-{field}");
    let time_unknown = row.at.trim().is_empty() && sort_at.is_some();
    let occurred_at = if time_unknown {
        sort_at
    } else {
        errors.check(key("at"), time::parse_local(&row.at, zone))
    };
    let kind = errors.check(
        key("kind"),
        TimelineKind::parse(&row.kind).ok_or("Pick a kind."),
    );
    let text = row.text.replace("\r\n", "\n");
    let text = text.trim();
    if text.is_empty() {
        errors.add(key("text"), "Say what happened.");
    } else if text.chars().count() > MAX_ENTRY_CHARS {
        errors.add(
            key("text"),
            format!("Keep an entry under {MAX_ENTRY_CHARS} characters; split it into several."),
        );
    }
    let link = row.link.trim();
    if !link.is_empty() && !is_web_link(link) {
        errors.add(key("link"), "Links start with https:// or http://.");
    }
    let speaker = row.speaker.trim();
    if speaker.chars().count() > MAX_SPEAKER_CHARS {
        errors.add(
            key("speaker"),
            format!("Name who said it in up to {MAX_SPEAKER_CHARS} characters."),
        );
    }
    let source = row.source.trim();
    match (occurred_at, kind, errors.is_empty()) {
        (Some(occurred_at), Some(kind), true) => Ok(EntryFields {
            occurred_at,
            time_unknown,
            kind,
            speaker: Some(speaker.to_owned()).filter(|speaker| !speaker.is_empty()),
            text: text.to_owned(),
            source: if source.is_empty() {
                "typed".to_owned()
            } else {
                source.chars().take(60).collect()
            },
            link: Some(link.to_owned()).filter(|link| !link.is_empty()),
        }),
        _ => Err(errors),
    }
}

/// One item row, with problems keyed `item-{index}-{field}`.
fn parse_item(row: &ItemRow, known: &Known<'_>, index: usize) -> Result<ActionFields, FormErrors> {
    row.form
        .parse(known.people, known.teams, known.factors)
        .map_err(|problems| {
            let mut keyed = FormErrors::default();
            for (field, message) in problems.iter() {
                keyed.add(format!("item-{index}-{field}"), message);
            }
            keyed
        })
}
