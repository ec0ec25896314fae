//! Alert intake: Alertmanager and PagerDuty post here, and an incident opens
//! (or the one it already opened is updated). Each sender proves itself its
//! own way: Alertmanager with a shared bearer token, PagerDuty by signing
//! the body. A notification sent again adds nothing; every one that changed
//! something is in the audit trail and keeps a revision.

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde::Serialize;
use serde_json::json;

use super::{Problem, caller, webhook};
use crate::{
    domain::{
        alerts::{self, AlertIncident, Unreadable},
        incident::{IncidentKind, display_number},
        signature,
    },
    store::{
        self, audit::AuditEvent, incidents::IncidentFields, revisions::Change,
        timeline::EntryFields,
    },
    web::AppState,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts/alertmanager", post(alertmanager))
        .route("/api/v1/alerts/pagerduty", post(pagerduty))
}

/// What became of a notification.
#[derive(Debug, Serialize)]
struct Taken {
    /// `INC-12`.
    incident: String,
    url: String,
    /// Whether this notification opened the incident.
    opened: bool,
    /// Events that became timeline entries now.
    added: usize,
    /// Events already on the timeline from an earlier notification.
    seen_before: usize,
}

fn unread(why: Unreadable) -> Response {
    match why {
        Unreadable::Shape(detail) => webhook::unreadable(&detail),
        Unreadable::Ignored(detail) => webhook::ignored(&detail),
    }
}

async fn alertmanager(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = state.config.integrations.alertmanager_token.as_deref() else {
        return webhook::switched_off("Alerts from Alertmanager", "DEBRIEF_ALERTMANAGER_TOKEN")
            .into_response();
    };
    let presented = caller::bearer(&headers).unwrap_or_default();
    if !signature::same_secret(presented, secret) {
        return Problem::unauthorized(
            "Send the token set in DEBRIEF_ALERTMANAGER_TOKEN as `Authorization: Bearer ...`.",
        )
        .into_response();
    }
    match alerts::from_alertmanager(&body) {
        Ok(alert) => respond(take(&state, &alert).await),
        Err(why) => unread(why),
    }
}

async fn pagerduty(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = state.config.integrations.pagerduty_secret.as_deref() else {
        return webhook::switched_off("Alerts from PagerDuty", "DEBRIEF_PAGERDUTY_SECRET")
            .into_response();
    };
    let signed = signature::verify(
        secret,
        &body,
        webhook::header(&headers, "x-pagerduty-signature"),
        "v1=",
    );
    if !signed {
        return Problem::unauthorized(
            "The X-PagerDuty-Signature header does not sign this body with the subscription's secret.",
        )
        .into_response();
    }
    match alerts::from_pagerduty(&body) {
        Ok(alert) => respond(take(&state, &alert).await),
        Err(why) => unread(why),
    }
}

fn respond(taken: Result<Taken, Problem>) -> Response {
    match taken {
        Ok(taken) => {
            let status = if taken.opened {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(taken)).into_response()
        }
        Err(problem) => problem.into_response(),
    }
}

/// Opens or updates the incident of `alert` and adds the events not seen
/// before, in one transaction.
async fn take(state: &AppState, alert: &AlertIncident) -> Result<Taken, Problem> {
    let now = state.clock.now();
    let source = alert.source;
    let mut tx = crate::store::begin(&state.db).await?;
    store::alerts::lock(&mut tx, source, &alert.key).await?;
    let (linked, opened) = match store::alerts::find_incident(&mut tx, source, &alert.key).await? {
        Some(linked) => (linked, false),
        None => (open(state, &mut tx, alert).await?, true),
    };
    let mut added = 0;
    for event in &alert.events {
        if !store::alerts::claim_event(&mut tx, source, &event.key, linked.incident_id, now).await?
        {
            continue;
        }
        let fields = EntryFields {
            occurred_at: event.at,
            time_unknown: false,
            kind: event.kind,
            speaker: event.speaker.clone(),
            text: event.text.clone(),
            source: source.label().to_owned(),
            link: event.link.clone(),
        };
        let entry_id =
            store::timeline::insert_entry(&mut *tx, linked.postmortem_id, &fields, None, now)
                .await?;
        store::alerts::set_event_entry(&mut tx, source, &event.key, entry_id).await?;
        added += 1;
    }
    let resolved = match alert.resolved_at {
        Some(at) => store::alerts::mark_resolved(&mut tx, linked.incident_id, at, now).await?,
        None => false,
    };
    let seen_before = alert.events.len() - added;
    if opened || added > 0 || resolved {
        let summary = match (opened, added) {
            (true, _) => format!("Opened from {}", source.label()),
            (false, 1) => format!("1 event from {}", source.label()),
            (false, n) => format!("{n} events from {}", source.label()),
        };
        let change = Change {
            postmortem_id: linked.postmortem_id,
            incident_number: linked.number,
            author_id: None,
            summary: &summary,
            at: now,
        };
        store::revisions::record(&mut tx, &change, state.config.review_due_days, now).await?;
        let event = AuditEvent::new(None, "alert_received").detail(json!({
            "source": source.as_str(),
            "key": alert.key,
            "incident": display_number(linked.number),
            "opened": opened,
            "added": added,
            "resolved": resolved,
        }));
        store::audit::record(&mut *tx, event, now).await?;
    }
    tx.commit().await?;
    Ok(Taken {
        incident: display_number(linked.number),
        url: format!(
            "{}/incidents/{}",
            state.config.public_base_url(),
            linked.number
        ),
        opened,
        added,
        seen_before,
    })
}

/// Opens the incident for a sender's incident not seen before: a draft
/// postmortem with no author yet (admins see it and name the authors).
async fn open(
    state: &AppState,
    tx: &mut sqlx::PgConnection,
    alert: &AlertIncident,
) -> Result<store::alerts::Linked, Problem> {
    let now = state.clock.now();
    let title = if alert.title.is_empty() {
        format!("Alert from {}", alert.source.label())
    } else {
        alert.title.clone()
    };
    let fields = IncidentFields {
        title,
        kind: IncidentKind::Incident,
        severity: alert.severity,
        services: alert.services.clone(),
        tags: vec![alert.source.as_str().to_owned()],
        started_at: Some(alert.started_at),
        detected_at: Some(alert.started_at),
        mitigated_at: None,
        resolved_at: None,
        time_zone: state.config.time_zone.name().to_owned(),
    };
    let (incident_id, number) =
        store::incidents::insert_incident(&mut *tx, &fields, None, now).await?;
    let postmortem_id =
        store::postmortems::insert_postmortem(&mut *tx, incident_id, None, now).await?;
    store::alerts::link_incident(&mut *tx, alert.source, &alert.key, incident_id, now).await?;
    Ok(store::alerts::Linked {
        incident_id,
        number,
        postmortem_id,
    })
}
