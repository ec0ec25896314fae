//! The postmortem's editable parts as they are stored now, read in one go
//! (inside the save's transaction, after the postmortem row is locked).

use chrono_tz::Tz;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use super::{
    form::DocumentForm,
    parse::{Edits, Known, parse},
};

use crate::{
    domain::document::Sections,
    store::{
        self, action_items::ActionItem, postmortems::FactorRow, timeline::TimelineEntry,
        users::PersonOption,
    },
    web::{AppError, AppState, form::FormErrors, incidents::Case},
};

/// What the authoring form edits, as saved.
pub struct Saved {
    pub sections: Sections,
    pub version: i32,
    pub factors: Vec<FactorRow>,
    pub entries: Vec<TimelineEntry>,
    pub items: Vec<ActionItem>,
}

impl Saved {
    pub async fn load(db: &mut PgConnection, incident_number: i32) -> sqlx::Result<Saved> {
        let postmortem =
            store::postmortems::find_by_number(&mut *db, incident_number, None, None, None)
                .await?
                .ok_or(sqlx::Error::RowNotFound)?
                .postmortem;
        let id: Uuid = postmortem.id;
        Ok(Saved {
            sections: postmortem.sections,
            version: postmortem.version,
            factors: store::postmortems::list_factors(&mut *db, id).await?,
            entries: store::timeline::list_entries(&mut *db, id).await?,
            items: store::action_items::list_for_postmortem(&mut *db, id).await?,
        })
    }
}

/// The people and teams an item may name.
pub struct Directory {
    pub people: Vec<PersonOption>,
    pub teams: Vec<store::teams::Team>,
    pub taxonomy: crate::domain::taxonomy::Taxonomy,
}

impl Directory {
    pub async fn load(db: &sqlx::PgPool) -> sqlx::Result<Directory> {
        Ok(Directory {
            people: store::users::list_active_people(db).await?,
            teams: store::teams::list_team_options(db).await?,
            taxonomy: store::taxonomy::load(db).await?,
        })
    }
}

/// A save in progress: its transaction, with the postmortem row locked, and
/// what is stored and may be referred to as of that lock.
pub struct Opened {
    pub tx: Transaction<'static, Postgres>,
    pub saved: Saved,
    pub directory: Directory,
}

impl Opened {
    /// Locks `case`'s postmortem and reads its parts. The save and the live
    /// checklist both start here.
    pub async fn open(state: &AppState, case: &Case) -> Result<Opened, AppError> {
        let directory = Directory::load(&state.db).await?;
        let mut tx = crate::store::begin(&state.db).await?;
        crate::store::postmortems::lock_postmortem(&mut *tx, case.postmortem.id).await?;
        let saved = Saved::load(&mut tx, case.incident.number).await?;
        Ok(Opened {
            tx,
            saved,
            directory,
        })
    }

    /// Reads `form` against what is stored now, times in `zone`.
    pub fn parse(&self, form: &DocumentForm, zone: Tz) -> (Edits, FormErrors) {
        let known = Known {
            people: &self.directory.people,
            teams: &self.directory.teams,
            factors: &self.saved.factors,
            taxonomy: &self.directory.taxonomy,
        };
        parse(form, &known, zone)
    }
}
