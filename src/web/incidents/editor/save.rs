//! Saving the authoring form: each touched part is compared with what is
//! saved now (three ways: as loaded, as typed, as saved), applied when only
//! the author changed it, and reported as a conflict when someone else
//! changed it too. Everything lands in the caller's transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    form::{DocumentForm, EntryRow, ItemRow, NEW_ROW, fingerprint},
    parse::{Edits, RowEdit},
    saved::{Directory, Saved},
};
use crate::{
    domain::markdown::excerpt,
    store::{
        self,
        action_items::NewChange,
        audit::AuditEvent,
        timeline::{EntryFields, EntryUpdate},
    },
    web::{
        AppError,
        item_form::history_changes,
        notify::{self, ItemChange},
    },
};

/// A part someone else changed while the author changed it too.
pub struct Conflict {
    /// The id of the part on the page.
    pub anchor: String,
    pub label: String,
    /// What is saved now.
    pub theirs: String,
}

/// The edits that can be applied, and what stops the others.
pub struct Plan {
    pub edits: Edits,
    pub conflicts: Vec<Conflict>,
    /// The form to show when there are conflicts: what is saved now, with
    /// the author's touched parts laid over it and every base current.
    pub merged: DocumentForm,
}

enum Decision {
    Apply,
    Skip,
    Conflict,
}

/// A form that says neither what it was loaded from nor at which version
/// may fill an empty part, but never overwrite a written one blind.
fn decide(base: Option<&str>, mine: &str, current: &str, same_version: bool) -> Decision {
    let blank = fingerprint(&[""]);
    let empty_list = fingerprint(&[]);
    let empty_figures = fingerprint(&["", "", "", ""]);
    let nothing_there = [blank.as_str(), &empty_list, &empty_figures].contains(&current);
    let base = base.or((same_version || nothing_there).then_some(current));
    if base == Some(current) {
        Decision::Apply
    } else if mine == current {
        Decision::Skip
    } else {
        Decision::Conflict
    }
}

/// Compares the edits of `typed` with `saved`, times in `zone`.
pub fn plan(mut edits: Edits, typed: &DocumentForm, saved: &Saved, zone: Tz) -> Plan {
    let current = DocumentForm::from_saved(saved, zone);
    let same_version = typed.version.trim() == saved.version.to_string();
    let mut merged = current.clone();
    let mut conflicts = Vec::new();

    edits.sections.retain(|edit| {
        let (section, text) = &edit.value;
        let now = current.part_fingerprint(section.field());
        merged.set_text(*section, text);
        match decide(edit.base.as_deref(), &edit.mine, &now, same_version) {
            Decision::Apply => true,
            Decision::Skip => false,
            Decision::Conflict => {
                conflicts.push(Conflict {
                    anchor: section.field().to_owned(),
                    label: section.heading().to_owned(),
                    theirs: current.text(*section).to_owned(),
                });
                false
            }
        }
    });
    if let Some(edit) = &edits.figures {
        let now = current.part_fingerprint("numbers");
        merged.set_numbers_from(typed);
        match decide(edit.base.as_deref(), &edit.mine, &now, same_version) {
            Decision::Apply => {}
            Decision::Skip => edits.figures = None,
            Decision::Conflict => {
                conflicts.push(Conflict {
                    anchor: "users_affected".to_owned(),
                    label: "Impact figures".to_owned(),
                    theirs: current.numbers().join(" · "),
                });
                edits.figures = None;
            }
        }
    }
    if let Some(edit) = &edits.factors {
        let now = current.part_fingerprint("factors");
        merged.set_factors_from(typed);
        match decide(edit.base.as_deref(), &edit.mine, &now, same_version) {
            Decision::Apply => {}
            Decision::Skip => edits.factors = None,
            Decision::Conflict => {
                let theirs = saved
                    .factors
                    .iter()
                    .map(|f| format!("- {}: {}", f.categories.join(", "), f.description))
                    .collect::<Vec<_>>()
                    .join("\n");
                conflicts.push(Conflict {
                    anchor: "factors".to_owned(),
                    label: "Contributing factors".to_owned(),
                    theirs,
                });
                edits.factors = None;
            }
        }
    }

    let typed_entries = typed.entry_rows();
    let mut entry_rows = current.entry_rows();
    let entry_now: HashMap<String, String> = entry_rows
        .iter()
        .map(|row| (row.key.clone(), row.fingerprint()))
        .collect();
    edits.entries.retain(|edit| {
        let mine = typed_entries.get(edit.index).cloned().unwrap_or_default();
        let number = edit.index + 1;
        let Some(id) = edit.id else {
            entry_rows.push(mine);
            return true;
        };
        let Some(now) = entry_now.get(&id.to_string()) else {
            if edit.value.is_none() {
                return false;
            }
            conflicts.push(Conflict {
                anchor: format!("entry-{}-text", entry_rows.len()),
                label: format!("Timeline row {number}"),
                theirs: "Someone else removed this entry. Your text is kept as a new row."
                    .to_owned(),
            });
            entry_rows.push(EntryRow {
                key: NEW_ROW.to_owned(),
                base: String::new(),
                ..mine
            });
            return false;
        };
        let position = entry_rows.iter().position(|row| row.key == id.to_string());
        let decision = decide(Some(&edit.base), &edit.mine, now, false);
        if let (Some(position), Decision::Apply | Decision::Conflict) = (position, &decision) {
            let theirs = entry_rows[position].clone();
            if matches!(decision, Decision::Conflict) {
                conflicts.push(Conflict {
                    anchor: format!("entry-{position}-text"),
                    label: format!("Timeline row {number}"),
                    theirs: format!("{} · {} · {}", theirs.at, theirs.kind, theirs.text),
                });
            }
            entry_rows[position] = EntryRow {
                key: theirs.key,
                base: theirs.base,
                ..mine
            };
        }
        matches!(decision, Decision::Apply)
    });
    merged.set_entry_rows(entry_rows);

    let typed_items = typed.item_rows();
    let mut item_rows = current.item_rows();
    edits.items.retain(|edit| {
        let mine = typed_items.get(edit.index).cloned().unwrap_or_default();
        let Some(id) = edit.id else {
            item_rows.push(mine);
            return true;
        };
        let Some(position) = item_rows.iter().position(|row| row.key == id.to_string()) else {
            return false;
        };
        let theirs = item_rows[position].clone();
        let decision = decide(Some(&edit.base), &edit.mine, &theirs.fingerprint(), false);
        if matches!(decision, Decision::Conflict) {
            conflicts.push(Conflict {
                anchor: format!("item-{position}-title"),
                label: format!("Action item {}", edit.index + 1),
                theirs: format!(
                    "{} · due {} · {}",
                    theirs.form.title, theirs.form.due_on, theirs.form.status
                ),
            });
        }
        if !matches!(decision, Decision::Skip) {
            item_rows[position] = ItemRow {
                key: theirs.key,
                base: theirs.base,
                form: mine.form,
            };
        }
        matches!(decision, Decision::Apply)
    });
    merged.set_item_rows(item_rows);
    Plan {
        edits,
        conflicts,
        merged,
    }
}

/// Writes `edits` over `saved`; returns what changed, for the revision.
pub async fn apply(
    tx: &mut PgConnection,
    (postmortem_id, incident_number, author_id): (Uuid, i32, Uuid),
    edits: &Edits,
    saved: &Saved,
    directory: &Directory,
    now: DateTime<Utc>,
) -> Result<String, AppError> {
    let mut sections = saved.sections.clone();
    for edit in &edits.sections {
        let (section, text) = &edit.value;
        if let Some(slot) = sections.text_mut(section.field()) {
            slot.clone_from(text);
        }
    }
    if let Some(figures) = &edits.figures {
        figures.value.apply_to(&mut sections);
    }
    // Every save moves the document's version on, rows included.
    store::postmortems::update_sections(&mut *tx, postmortem_id, saved.version, &sections, now)
        .await?
        .ok_or(AppError::Conflict(
            "Someone else saved this postmortem at the same moment. Reload the page; your text is kept as a draft.",
        ))?;
    let mut changed: Vec<String> = sections
        .changed_from(&saved.sections)
        .into_iter()
        .map(str::to_owned)
        .collect();
    if let Some(factors) = &edits.factors {
        store::postmortems::save_factors(&mut *tx, postmortem_id, &factors.value).await?;
        changed.push("Contributing factors".to_owned());
    }
    if let Some(counts) = apply_entries(
        &mut *tx,
        (postmortem_id, incident_number, author_id),
        &edits.entries,
        saved,
        now,
    )
    .await?
    {
        changed.push(format!("Timeline ({counts})"));
    }
    if let Some(counts) = apply_items(
        &mut *tx,
        (postmortem_id, author_id),
        &edits.items,
        saved,
        directory,
        now,
    )
    .await?
    {
        changed.push(format!("Action items ({counts})"));
    }
    Ok(if changed.is_empty() {
        "Saved without changes".to_owned()
    } else {
        format!("Edited {}", changed.join(", "))
    })
}

/// "2 added, 1 changed", or `None` when nothing happened.
fn counts(added: usize, changed: usize, removed: usize) -> Option<String> {
    let parts: Vec<String> = [(added, "added"), (changed, "changed"), (removed, "removed")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

async fn apply_entries(
    tx: &mut PgConnection,
    (postmortem_id, incident_number, author_id): (Uuid, i32, Uuid),
    edits: &[RowEdit<Option<EntryFields>>],
    saved: &Saved,
    now: DateTime<Utc>,
) -> Result<Option<String>, AppError> {
    let (mut added, mut changed, mut removed) = (0, 0, 0);
    for edit in edits {
        match (edit.id, &edit.value) {
            (None, Some(fields)) => {
                store::timeline::insert_entry(
                    &mut *tx,
                    postmortem_id,
                    fields,
                    Some(author_id),
                    now,
                )
                .await?;
                added += 1;
            }
            (Some(id), Some(fields)) => {
                let version = saved
                    .entries
                    .iter()
                    .find(|entry| entry.id == id)
                    .map_or(0, |entry| entry.version);
                let outcome =
                    store::timeline::update_entry(&mut *tx, postmortem_id, id, version, fields)
                        .await?;
                if outcome != EntryUpdate::Saved {
                    return Err(AppError::Conflict(
                        "A timeline entry changed at the same moment. Reload the page; your text is kept as a draft.",
                    ));
                }
                changed += 1;
            }
            (Some(id), None) => {
                if store::timeline::remove_entry(&mut *tx, postmortem_id, id, Some(author_id), now)
                    .await?
                {
                    let text = saved
                        .entries
                        .iter()
                        .find(|entry| entry.id == id)
                        .map(|entry| excerpt(&entry.text, 120))
                        .unwrap_or_default();
                    let event = AuditEvent::new(author_id, "timeline_entry_removed").detail(
                        serde_json::json!({ "incident": incident_number, "entry": id, "text": text }),
                    );
                    store::audit::record(&mut *tx, event, now).await?;
                    removed += 1;
                }
            }
            (None, None) => {}
        }
    }
    Ok(counts(added, changed, removed))
}

async fn apply_items(
    tx: &mut PgConnection,
    (postmortem_id, author_id): (Uuid, Uuid),
    edits: &[RowEdit<store::action_items::ActionFields>],
    saved: &Saved,
    directory: &Directory,
    now: DateTime<Utc>,
) -> Result<Option<String>, AppError> {
    let (mut added, mut changed) = (0, 0);
    for edit in edits {
        let fields = &edit.value;
        match edit
            .id
            .and_then(|id| saved.items.iter().find(|item| item.id == id))
        {
            None => {
                let id =
                    store::action_items::insert_item(&mut *tx, postmortem_id, fields, now).await?;
                let created = NewChange {
                    field: "created",
                    old_value: None,
                    new_value: Some(fields.title.clone()),
                    note: None,
                };
                store::action_items::record_change(&mut *tx, id, Some(author_id), created, now)
                    .await?;
                notify::item_changed(tx, id, ItemChange::Assigned, author_id, now).await?;
                added += 1;
            }
            Some(item) => {
                if !store::action_items::update_item(&mut *tx, item.id, item.version, fields, now)
                    .await?
                {
                    return Err(AppError::Conflict(
                        "An action item changed at the same moment. Reload the page; your text is kept as a draft.",
                    ));
                }
                let changes = history_changes(item, fields, &directory.people);
                notify::record_item_changes(tx, item.id, author_id, changes, now).await?;
                changed += 1;
            }
        }
    }
    Ok(counts(added, changed, 0))
}
