//! Creating an incident, and editing its details (title, kind, severity,
//! services, teams, tags and key times).

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_extra::extract::Form;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use uuid::Uuid;

use super::{Case, Editable, record_revision, record_revision_of};
use crate::{
    domain::{
        incident::{IncidentKind, Severity, display_number, parse_labels},
        time::{self, COMMON_ZONES},
    },
    store::{self, incidents::IncidentFields, teams::Team},
    web::{
        AppError, AppState,
        form::{FormErrors, parse_version},
        layout::{Layout, Nav},
        session::CurrentUser,
    },
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/new", get(new_incident).post(create_incident))
        .route(
            "/incidents/{number}/edit",
            get(edit_incident).post(update_incident),
        )
}

/// The incident form as typed: every value a string, so nothing is lost
/// when it comes back with problems.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct IncidentForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub services: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub started_at: String,
    #[serde(default)]
    pub detected_at: String,
    #[serde(default)]
    pub mitigated_at: String,
    #[serde(default)]
    pub resolved_at: String,
    #[serde(default)]
    pub version: String,
}

impl IncidentForm {
    fn from_case(case: &Case, team_ids: &[Uuid]) -> IncidentForm {
        let zone = case.zone();
        let local = |at: Option<DateTime<Utc>>| {
            at.map(|at| time::to_local_input(at, zone))
                .unwrap_or_default()
        };
        let incident = &case.incident;
        IncidentForm {
            title: incident.title.clone(),
            kind: incident.kind.as_str().to_owned(),
            severity: incident.severity.as_str().to_owned(),
            services: incident.services.join(", "),
            tags: incident.tags.join(", "),
            teams: team_ids.iter().map(Uuid::to_string).collect(),
            time_zone: incident.time_zone.clone(),
            started_at: local(incident.started_at),
            detected_at: local(incident.detected_at),
            mitigated_at: local(incident.mitigated_at),
            resolved_at: local(incident.resolved_at),
            version: incident.version.to_string(),
        }
    }

    /// Parses into fields and team ids, naming each problem.
    pub fn parse(&self, known_teams: &[Team]) -> Result<(IncidentFields, Vec<Uuid>), FormErrors> {
        let mut errors = FormErrors::default();
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            errors.add(
                "title",
                "Give the incident a short title (up to 200 characters).",
            );
        }
        let kind = errors.check(
            "kind",
            IncidentKind::parse(&self.kind).ok_or("Pick a kind."),
        );
        let severity = errors.check(
            "severity",
            Severity::parse(&self.severity).ok_or("Pick a severity."),
        );
        let services = errors
            .check("services", parse_labels(&self.services))
            .unwrap_or_default();
        let tags = errors
            .check("tags", parse_labels(&self.tags))
            .unwrap_or_default();
        let zone = errors.check(
            "time_zone",
            time::parse_zone(&self.time_zone).ok_or("Pick a time zone."),
        );
        let zone = zone.unwrap_or(Tz::UTC);
        let mut at = |field: &'static str, raw: &str| -> Option<DateTime<Utc>> {
            if raw.trim().is_empty() {
                return None;
            }
            errors.check(field, time::parse_local(raw, zone))
        };
        let started_at = at("started_at", &self.started_at);
        let detected_at = at("detected_at", &self.detected_at);
        let mitigated_at = at("mitigated_at", &self.mitigated_at);
        let resolved_at = at("resolved_at", &self.resolved_at);
        for (field, later, name) in [
            ("detected_at", detected_at, "Detected"),
            ("mitigated_at", mitigated_at, "Mitigated"),
            ("resolved_at", resolved_at, "Resolved"),
        ] {
            if let (Some(started), Some(later)) = (started_at, later)
                && later < started
            {
                errors.add(
                    field,
                    format!("{name} cannot be before the incident started."),
                );
            }
        }
        let mut team_ids = Vec::new();
        for raw in &self.teams {
            match known_teams.iter().find(|team| team.id.to_string() == *raw) {
                Some(team) => team_ids.push(team.id),
                None => errors.add("teams", "Pick teams from the list."),
            }
        }
        match (kind, severity, errors.is_empty()) {
            (Some(kind), Some(severity), true) => Ok((
                IncidentFields {
                    title: title.to_owned(),
                    kind,
                    severity,
                    services,
                    tags,
                    started_at,
                    detected_at,
                    mitigated_at,
                    resolved_at,
                    time_zone: zone.name().to_owned(),
                },
                team_ids,
            )),
            _ => Err(errors),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "incidents/form.html")]
struct IncidentFormPage {
    layout: Layout,
    form: IncidentForm,
    errors: FormErrors,
    teams: Vec<Team>,
    /// `None` for a new incident.
    number: Option<i32>,
    /// Set when someone else saved first: what they saved, to compare.
    conflict: Option<Vec<(String, String)>>,
}

impl IncidentFormPage {
    fn kinds(&self) -> &'static [IncidentKind] {
        IncidentKind::ALL
    }

    fn severities(&self) -> &'static [Severity] {
        Severity::ALL
    }

    fn zones(&self) -> Vec<&str> {
        let mut zones: Vec<&str> = COMMON_ZONES.to_vec();
        if !self.form.time_zone.is_empty() && !zones.contains(&self.form.time_zone.as_str()) {
            zones.insert(0, &self.form.time_zone);
        }
        zones
    }

    fn team_checked(&self, team: &Team) -> bool {
        self.form.teams.contains(&team.id.to_string())
    }

    fn title_text(&self) -> String {
        match self.number {
            Some(number) => format!("Edit {}", display_number(number)),
            None => "New incident".to_owned(),
        }
    }

    fn action(&self) -> String {
        match self.number {
            Some(number) => format!("/incidents/{number}/edit"),
            None => "/incidents/new".to_owned(),
        }
    }
}

fn require_writer(user: &CurrentUser) -> Result<(), AppError> {
    if user.can_write() {
        Ok(())
    } else {
        Err(AppError::Forbidden(super::VIEWERS_READ_ONLY))
    }
}

async fn new_incident(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, AppError> {
    require_writer(&user)?;
    let form = IncidentForm {
        kind: IncidentKind::Incident.as_str().to_owned(),
        severity: Severity::Sev3.as_str().to_owned(),
        time_zone: user.time_zone.name().to_owned(),
        ..IncidentForm::default()
    };
    let page = IncidentFormPage {
        layout: Layout::for_user(&user, Nav::Incidents),
        form,
        errors: FormErrors::default(),
        teams: store::teams::list_team_options(&state.db).await?,
        number: None,
        conflict: None,
    };
    Ok(page.into_response())
}

/// Creates an incident and its empty draft postmortem, with its first
/// revision: the one way an incident is made, from the form or the API.
pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    fields: &IncidentFields,
    team_ids: &[Uuid],
) -> Result<i32, AppError> {
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    let (incident_id, number) =
        store::incidents::insert_incident(&mut *tx, fields, Some(user.id), now).await?;
    store::incidents::set_teams(&mut tx, incident_id, team_ids).await?;
    let postmortem_id =
        store::postmortems::insert_postmortem(&mut tx, incident_id, Some(user.id), now).await?;
    record_revision_of(
        &mut tx,
        (postmortem_id, number),
        user,
        "Incident created",
        state.config.review_due_days,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(number)
}

async fn create_incident(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<IncidentForm>,
) -> Result<Response, AppError> {
    require_writer(&user)?;
    let teams = store::teams::list_team_options(&state.db).await?;
    let (fields, team_ids) = match form.parse(&teams) {
        Ok(parsed) => parsed,
        Err(errors) => {
            let page = IncidentFormPage {
                layout: Layout::for_user(&user, Nav::Incidents),
                form,
                errors,
                teams,
                number: None,
                conflict: None,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let number = create(&state, &user, &fields, &team_ids).await?;
    let message = format!(
        "{} created. Write its postmortem here; every save keeps a revision.",
        display_number(number)
    );
    user.flash(&state, &message).await?;
    Ok(Redirect::to(&format!("/incidents/{number}/postmortem/edit")).into_response())
}

async fn edit_incident(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
) -> Result<Response, AppError> {
    let team_ids: Vec<Uuid> = store::incidents::list_teams(&state.db, case.incident.id)
        .await?
        .into_iter()
        .map(|team| team.id)
        .collect();
    let page = IncidentFormPage {
        layout: Layout::for_user(&user, Nav::Incidents),
        form: IncidentForm::from_case(&case, &team_ids),
        errors: FormErrors::default(),
        teams: store::teams::list_team_options(&state.db).await?,
        number: Some(case.incident.number),
        conflict: None,
    };
    Ok(page.into_response())
}

async fn update_incident(
    State(state): State<AppState>,
    user: CurrentUser,
    Editable(case): Editable,
    Form(form): Form<IncidentForm>,
) -> Result<Response, AppError> {
    let teams = store::teams::list_team_options(&state.db).await?;
    let page = |form: IncidentForm, errors: FormErrors, conflict| IncidentFormPage {
        layout: Layout::for_user(&user, Nav::Incidents),
        form,
        errors,
        teams: teams.clone(),
        number: Some(case.incident.number),
        conflict,
    };
    let (fields, team_ids) = match form.parse(&teams) {
        Ok(parsed) => parsed,
        Err(errors) => {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(form, errors, None)).into_response());
        }
    };
    let expected_version = parse_version(&form.version);
    let now = state.clock.now();
    let mut tx = crate::store::begin(&state.db).await?;
    if !store::incidents::update_incident(
        &mut *tx,
        case.incident.id,
        expected_version,
        &fields,
        now,
    )
    .await?
    {
        // Someone saved first: show what they saved next to what was typed,
        // and let a second submit (at the new version) decide.
        tx.rollback().await?;
        let current_teams: Vec<Uuid> = store::incidents::list_teams(&state.db, case.incident.id)
            .await?
            .into_iter()
            .map(|team| team.id)
            .collect();
        let saved = IncidentForm::from_case(&case, &current_teams);
        let differences = differences(&saved, &form);
        let mut form = form;
        form.version = case.incident.version.to_string();
        let mut errors = FormErrors::default();
        errors.add("form", "Someone else changed this incident while you were editing. Your text is kept below; compare, then save again.");
        return Ok((StatusCode::CONFLICT, page(form, errors, Some(differences))).into_response());
    }
    store::incidents::set_teams(&mut tx, case.incident.id, &team_ids).await?;
    record_revision(&mut tx, &case, &user, "Incident details changed", now).await?;
    tx.commit().await?;
    user.flash(&state, "Incident details saved.").await?;
    Ok(Redirect::to(&case.path()).into_response())
}

/// The fields whose saved value differs from the typed one: (label, saved).
fn differences(saved: &IncidentForm, typed: &IncidentForm) -> Vec<(String, String)> {
    let pairs = [
        ("Title", &saved.title, &typed.title),
        ("Kind", &saved.kind, &typed.kind),
        ("Severity", &saved.severity, &typed.severity),
        ("Services", &saved.services, &typed.services),
        ("Tags", &saved.tags, &typed.tags),
        ("Time zone", &saved.time_zone, &typed.time_zone),
        ("Started", &saved.started_at, &typed.started_at),
        ("Detected", &saved.detected_at, &typed.detected_at),
        ("Mitigated", &saved.mitigated_at, &typed.mitigated_at),
        ("Resolved", &saved.resolved_at, &typed.resolved_at),
    ];
    pairs
        .into_iter()
        .filter(|(_, saved, typed)| saved.trim() != typed.trim())
        .map(|(label, saved, _)| (label.to_owned(), saved.clone()))
        .collect()
}
