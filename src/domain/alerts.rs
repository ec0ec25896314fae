//! Alerts from paging and monitoring tools, read into one shape: the
//! incident they belong to (one Alertmanager group, one PagerDuty incident)
//! and the events that become its timeline entries. Every event carries a
//! key that stays the same when the sender repeats it, so a retried or
//! re-sent notification adds nothing twice.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{incident::Severity, incident::is_web_link, postmortem::TimelineKind};

crate::closed_set! {
    /// Who sent an alert.
    AlertSource as "alert_source" {
        Alertmanager = "alertmanager", "Alertmanager";
        PagerDuty = "pagerduty", "PagerDuty";
    }
}

/// The longest title an incident takes.
const MAX_TITLE_CHARS: usize = 200;
/// Alert text beyond this is cut (a timeline entry holds 20,000).
const MAX_EVENT_CHARS: usize = 4_000;

/// What one notification says about one incident.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertIncident {
    pub source: AlertSource,
    /// Stays the same for every notification about this incident.
    pub key: String,
    pub title: String,
    pub severity: Severity,
    pub services: Vec<String>,
    /// When the first alert fired.
    pub started_at: DateTime<Utc>,
    /// When the sender considers the whole incident resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    pub events: Vec<AlertEvent>,
}

/// One thing that happened, as a timeline entry.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEvent {
    /// Stays the same when the sender repeats the event.
    pub key: String,
    pub at: DateTime<Utc>,
    pub kind: TimelineKind,
    pub text: String,
    pub speaker: Option<String>,
    pub link: Option<String>,
}

/// Why a payload could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// Not the JSON shape the sender documents; says where.
    Shape(String),
    /// Well-formed, but about nothing Debrief opens incidents for (a
    /// PagerDuty ping or a service change).
    Ignored(String),
}

/// The text trimmed, without NUL (which Postgres refuses), and cut to
/// `limit` characters.
fn cut(text: &str, limit: usize) -> String {
    let text = text.replace('\0', "");
    let text = text.trim();
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(limit - 1).collect();
    short.push('…');
    short
}

/// A link only when it is a web address.
fn web_link(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|link| is_web_link(link) && link.len() <= 2_000)
        .map(str::to_owned)
}

/// The severity a label or priority names: `critical`, `P1`, `sev2`, ...
pub fn severity_of(text: &str) -> Option<Severity> {
    match text.trim().to_ascii_lowercase().as_str() {
        "critical" | "page" | "p1" | "sev1" | "sev-1" | "emergency" | "disaster" => {
            Some(Severity::Sev1)
        }
        "high" | "error" | "major" | "p2" | "sev2" | "sev-2" => Some(Severity::Sev2),
        "warning" | "warn" | "medium" | "moderate" | "p3" | "sev3" | "sev-3" => {
            Some(Severity::Sev3)
        }
        "info" | "low" | "minor" | "none" | "p4" | "p5" | "sev4" | "sev-4" | "sev5" => {
            Some(Severity::Sev4)
        }
        _ => None,
    }
}

fn shape(error: serde_json::Error) -> Unreadable {
    Unreadable::Shape(error.to_string())
}

// ---------------------------------------------------------------------------
// Prometheus Alertmanager, webhook version 4.

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmPayload {
    #[serde(default)]
    group_key: String,
    status: String,
    #[serde(default)]
    group_labels: BTreeMap<String, String>,
    #[serde(default)]
    common_labels: BTreeMap<String, String>,
    #[serde(default)]
    common_annotations: BTreeMap<String, String>,
    alerts: Vec<AmAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: DateTime<Utc>,
    ends_at: Option<DateTime<Utc>>,
    #[serde(rename = "generatorURL", default)]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: String,
}

/// A stable short digest of labels, for senders that leave out a key.
fn labels_digest(labels: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (name, value) in labels {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    hex::encode(&hasher.finalize()[..8])
}

/// Reads an Alertmanager webhook: one alert group is one incident, each
/// alert's firing and resolution a timeline entry.
pub fn from_alertmanager(body: &[u8]) -> Result<AlertIncident, Unreadable> {
    let payload: AmPayload = serde_json::from_slice(body).map_err(shape)?;
    if payload.alerts.is_empty() {
        return Err(Unreadable::Shape("`alerts` is empty".to_owned()));
    }
    let key = if payload.group_key.trim().is_empty() {
        labels_digest(&payload.group_labels)
    } else {
        cut(&payload.group_key, 500)
    };
    let label = |name: &str| {
        payload
            .common_labels
            .get(name)
            .or_else(|| payload.group_labels.get(name))
            .or_else(|| payload.alerts[0].labels.get(name))
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    };
    let alertname = label("alertname").unwrap_or("Alert");
    let title = payload
        .common_annotations
        .get("summary")
        .filter(|summary| !summary.trim().is_empty())
        .map(|summary| format!("{alertname}: {}", summary.trim()))
        .unwrap_or_else(|| alertname.to_owned());
    let severity = label("severity")
        .or_else(|| label("priority"))
        .and_then(severity_of)
        .unwrap_or(Severity::Sev3);
    let mut services: Vec<String> = payload
        .alerts
        .iter()
        .filter_map(|alert| {
            alert
                .labels
                .get("service")
                .or_else(|| alert.labels.get("job"))
        })
        .map(|service| cut(service, 60))
        .filter(|service| !service.is_empty())
        .collect();
    services.sort();
    services.dedup();
    services.truncate(20);

    let mut events = Vec::new();
    for alert in &payload.alerts {
        let fingerprint = if alert.fingerprint.trim().is_empty() {
            labels_digest(&alert.labels)
        } else {
            cut(&alert.fingerprint, 200)
        };
        let name = alert
            .labels
            .get("alertname")
            .map(String::as_str)
            .unwrap_or(alertname);
        let about = alert
            .annotations
            .get("summary")
            .or_else(|| alert.annotations.get("description"))
            .map(|text| format!(": {}", text.trim()))
            .unwrap_or_default();
        let place = ["instance", "pod", "cluster"]
            .iter()
            .find_map(|label| alert.labels.get(*label))
            .map(|value| format!(" on {value}"))
            .unwrap_or_default();
        let link = web_link(alert.generator_url.as_deref());
        let started = alert.starts_at.to_rfc3339();
        events.push(AlertEvent {
            key: format!("{fingerprint}/{started}/firing"),
            at: alert.starts_at,
            kind: TimelineKind::Detection,
            text: cut(
                &format!("Alert {name} firing{place}{about}"),
                MAX_EVENT_CHARS,
            ),
            speaker: None,
            link: link.clone(),
        });
        let ended = alert.ends_at.filter(|ends| *ends > alert.starts_at);
        if alert.status == "resolved" {
            events.push(AlertEvent {
                key: format!("{fingerprint}/{started}/resolved"),
                at: ended.unwrap_or(alert.starts_at),
                kind: TimelineKind::Resolution,
                text: cut(&format!("Alert {name} resolved{place}"), MAX_EVENT_CHARS),
                speaker: None,
                link,
            });
        }
    }
    let started_at = payload
        .alerts
        .iter()
        .map(|alert| alert.starts_at)
        .min()
        .unwrap_or_default();
    let resolved_at = (payload.status == "resolved")
        .then(|| {
            events
                .iter()
                .filter(|event| event.kind == TimelineKind::Resolution)
                .map(|event| event.at)
                .max()
        })
        .flatten();
    Ok(AlertIncident {
        source: AlertSource::Alertmanager,
        key,
        title: cut(&title, MAX_TITLE_CHARS),
        severity,
        services,
        started_at,
        resolved_at,
        events,
    })
}

// ---------------------------------------------------------------------------
// PagerDuty, webhook version 3.

#[derive(Deserialize)]
struct PdPayload {
    event: PdEvent,
}

#[derive(Deserialize)]
struct PdEvent {
    id: String,
    event_type: String,
    #[serde(default)]
    resource_type: String,
    occurred_at: DateTime<Utc>,
    #[serde(default)]
    agent: Option<PdReference>,
    #[serde(default)]
    data: serde_json::Value,
}

#[derive(Deserialize)]
struct PdReference {
    #[serde(default)]
    summary: Option<String>,
}

/// The incident part of an event's `data`: the incident itself, or (for
/// notes and responders) the reference under `data.incident`.
#[derive(Deserialize, Default)]
struct PdIncident {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    priority: Option<PdReference>,
    #[serde(default)]
    service: Option<PdReference>,
}

fn text_at<'a>(value: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |value, name| value.get(name))
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

/// Reads a PagerDuty v3 webhook: one PagerDuty incident is one incident,
/// each event on it (triggered, acknowledged, escalated, annotated,
/// resolved, ...) a timeline entry keyed by the event's id.
pub fn from_pagerduty(body: &[u8]) -> Result<AlertIncident, Unreadable> {
    let payload: PdPayload = serde_json::from_slice(body).map_err(shape)?;
    let event = payload.event;
    if event.resource_type != "incident" {
        return Err(Unreadable::Ignored(format!(
            "{} events open no incident",
            if event.event_type.is_empty() {
                "These"
            } else {
                &event.event_type
            }
        )));
    }
    let incident_value = if event.data.get("type").and_then(|t| t.as_str()) == Some("incident") {
        event.data.clone()
    } else {
        event.data.get("incident").cloned().unwrap_or_default()
    };
    let incident: PdIncident = serde_json::from_value(incident_value)
        .map_err(|error| Unreadable::Shape(format!("`event.data` names no incident: {error}")))?;
    if incident.id.trim().is_empty() {
        return Err(Unreadable::Shape(
            "`event.data` names no incident id".to_owned(),
        ));
    }
    let title = incident
        .title
        .as_deref()
        .or(incident.summary.as_deref())
        .map(str::trim)
        .filter(|title| !title.is_empty())
        .unwrap_or("PagerDuty incident");
    let by_urgency = match incident.urgency.as_deref() {
        Some("high") => Severity::Sev2,
        Some("low") => Severity::Sev4,
        _ => Severity::Sev3,
    };
    let severity = incident
        .priority
        .as_ref()
        .and_then(|priority| priority.summary.as_deref())
        .and_then(severity_of)
        .unwrap_or(by_urgency);
    let services: Vec<String> = incident
        .service
        .as_ref()
        .and_then(|service| service.summary.as_deref())
        .map(|service| cut(service, 60))
        .filter(|service| !service.is_empty())
        .into_iter()
        .collect();
    let who = event
        .agent
        .as_ref()
        .and_then(|agent| agent.summary.as_deref())
        .map(|name| cut(name, 100))
        .filter(|name| !name.is_empty());
    let by = who
        .as_deref()
        .map(|name| format!(" by {name}"))
        .unwrap_or_default();
    let change = event
        .event_type
        .strip_prefix("incident.")
        .unwrap_or(&event.event_type);
    let (kind, text) = match change {
        "triggered" => (
            TimelineKind::Detection,
            format!("PagerDuty incident triggered: {title}"),
        ),
        "acknowledged" => (
            TimelineKind::Escalation,
            format!("Acknowledged in PagerDuty{by}"),
        ),
        "unacknowledged" => (
            TimelineKind::Escalation,
            "Acknowledgement timed out in PagerDuty".to_owned(),
        ),
        "escalated" | "reassigned" | "delegated" => (
            TimelineKind::Escalation,
            format!("PagerDuty incident {change}{by}"),
        ),
        "responder.added" => (
            TimelineKind::Escalation,
            format!("Responder requested in PagerDuty{by}"),
        ),
        "responder.replied" => (
            TimelineKind::Escalation,
            format!("Responder replied in PagerDuty{by}"),
        ),
        "resolved" => (
            TimelineKind::Resolution,
            format!("Resolved in PagerDuty{by}"),
        ),
        "reopened" => (TimelineKind::Note, format!("Reopened in PagerDuty{by}")),
        "priority_updated" => {
            let priority = text_at(&event.data, &["priority", "summary"]).unwrap_or("none");
            (
                TimelineKind::Note,
                format!("PagerDuty priority set to {priority}{by}"),
            )
        }
        "annotated" => {
            let note = text_at(&event.data, &["content"]).unwrap_or("");
            (TimelineKind::Note, format!("Note in PagerDuty{by}: {note}"))
        }
        other => (TimelineKind::Note, format!("PagerDuty: {other}{by}")),
    };
    let resolved_at = (change == "resolved").then_some(event.occurred_at);
    Ok(AlertIncident {
        source: AlertSource::PagerDuty,
        key: cut(&incident.id, 200),
        title: cut(title, MAX_TITLE_CHARS),
        severity,
        services,
        started_at: incident.created_at.unwrap_or(event.occurred_at),
        resolved_at,
        events: vec![AlertEvent {
            key: cut(&event.id, 200),
            at: event.occurred_at,
            kind,
            text: cut(&text, MAX_EVENT_CHARS),
            speaker: who,
            link: web_link(incident.html_url.as_deref()),
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALERTMANAGER: &str = r#"{
      "version": "4",
      "groupKey": "{}:{alertname=\"CheckoutErrors\"}",
      "truncatedAlerts": 0,
      "status": "firing",
      "receiver": "debrief",
      "groupLabels": {"alertname": "CheckoutErrors"},
      "commonLabels": {"alertname": "CheckoutErrors", "severity": "critical"},
      "commonAnnotations": {"summary": "5xx above 2% for 5 minutes"},
      "externalURL": "http://alertmanager:9093",
      "alerts": [
        {"status": "firing", "labels": {"alertname": "CheckoutErrors", "service": "checkout", "instance": "web-1"},
         "annotations": {"summary": "5xx above 2% for 5 minutes"},
         "startsAt": "2026-11-24T14:12:00Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "http://prometheus:9090/graph?g0.expr=rate", "fingerprint": "a1b2c3"},
        {"status": "resolved", "labels": {"alertname": "CheckoutErrors", "service": "payments"},
         "annotations": {},
         "startsAt": "2026-11-24T14:10:00Z", "endsAt": "2026-11-24T14:40:00Z",
         "generatorURL": "javascript:alert(1)", "fingerprint": "d4e5f6"}
      ]
    }"#;

    #[test]
    fn an_alertmanager_group_is_one_incident_with_an_entry_per_change() {
        let incident = from_alertmanager(ALERTMANAGER.as_bytes()).unwrap();
        assert_eq!(incident.source, AlertSource::Alertmanager);
        assert_eq!(incident.key, "{}:{alertname=\"CheckoutErrors\"}");
        assert_eq!(incident.title, "CheckoutErrors: 5xx above 2% for 5 minutes");
        assert_eq!(incident.severity, Severity::Sev1);
        assert_eq!(incident.services, ["checkout", "payments"]);
        assert_eq!(
            incident.started_at.to_rfc3339(),
            "2026-11-24T14:10:00+00:00"
        );
        assert_eq!(incident.resolved_at, None, "the group still fires");
        let texts: Vec<_> = incident
            .events
            .iter()
            .map(|e| (e.kind, e.text.as_str()))
            .collect();
        assert_eq!(
            texts,
            [
                (
                    TimelineKind::Detection,
                    "Alert CheckoutErrors firing on web-1: 5xx above 2% for 5 minutes"
                ),
                (TimelineKind::Detection, "Alert CheckoutErrors firing"),
                (TimelineKind::Resolution, "Alert CheckoutErrors resolved"),
            ]
        );
        assert_eq!(
            incident.events[0].link.as_deref(),
            Some("http://prometheus:9090/graph?g0.expr=rate")
        );
        assert_eq!(incident.events[1].link, None, "only web links are kept");
        assert_eq!(
            incident.events[2].at.to_rfc3339(),
            "2026-11-24T14:40:00+00:00"
        );
    }

    #[test]
    fn a_repeated_notification_keeps_its_keys() {
        let first = from_alertmanager(ALERTMANAGER.as_bytes()).unwrap();
        let again = from_alertmanager(
            ALERTMANAGER
                .replace("\"truncatedAlerts\": 0", "\"truncatedAlerts\": 1")
                .as_bytes(),
        )
        .unwrap();
        let keys = |incident: &AlertIncident| {
            incident
                .events
                .iter()
                .map(|e| e.key.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&first), keys(&again));
        assert_eq!(first.key, again.key);
    }

    #[test]
    fn a_resolved_group_resolves_at_its_last_alert() {
        let body = ALERTMANAGER.replace(
            "\"status\": \"firing\",\n      \"receiver\"",
            "\"status\": \"resolved\",\n      \"receiver\"",
        );
        let incident = from_alertmanager(body.as_bytes()).unwrap();
        assert_eq!(
            incident.resolved_at.map(|at| at.to_rfc3339()).as_deref(),
            Some("2026-11-24T14:40:00+00:00")
        );
    }

    #[test]
    fn unreadable_payloads_say_where() {
        assert!(
            matches!(from_alertmanager(b"{}"), Err(Unreadable::Shape(text)) if text.contains("status"))
        );
        assert!(matches!(
            from_alertmanager(br#"{"status":"firing","alerts":[]}"#),
            Err(Unreadable::Shape(_))
        ));
        assert!(matches!(
            from_alertmanager(b"not json"),
            Err(Unreadable::Shape(_))
        ));
    }

    const PAGERDUTY: &str = r#"{"event": {
      "id": "5ac64822-4adc-4fda-ade0-410becf0de4f",
      "event_type": "incident.triggered",
      "resource_type": "incident",
      "occurred_at": "2026-11-24T14:12:03.000Z",
      "agent": {"html_url": "https://acme.pagerduty.com/users/PLH1HKV", "id": "PLH1HKV", "self": "https://api.pagerduty.com/users/PLH1HKV", "summary": "Tenex Engineer", "type": "user_reference"},
      "client": {"name": "PagerDuty"},
      "data": {
        "id": "PGR0VU2", "type": "incident", "self": "https://api.pagerduty.com/incidents/PGR0VU2",
        "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2", "number": 2, "status": "triggered",
        "incident_key": "d3640fbd41094207a1c11e58e46b1662", "created_at": "2026-11-24T14:12:00Z",
        "title": "Checkout 5xx rate high",
        "service": {"html_url": "https://acme.pagerduty.com/services/PF9KMXH", "id": "PF9KMXH", "self": "https://api.pagerduty.com/services/PF9KMXH", "summary": "checkout-api", "type": "service_reference"},
        "assignees": [], "escalation_policy": {"id": "PUS0KTE", "summary": "Default", "type": "escalation_policy_reference"},
        "teams": [], "priority": {"id": "PSO75BM", "summary": "P1", "type": "priority_reference"},
        "urgency": "high", "conference_bridge": null, "resolve_reason": null
      }
    }}"#;

    #[test]
    fn a_pagerduty_event_is_an_entry_of_its_incident() {
        let incident = from_pagerduty(PAGERDUTY.as_bytes()).unwrap();
        assert_eq!(incident.key, "PGR0VU2");
        assert_eq!(incident.title, "Checkout 5xx rate high");
        assert_eq!(incident.severity, Severity::Sev1);
        assert_eq!(incident.services, ["checkout-api"]);
        assert_eq!(incident.events.len(), 1);
        let event = &incident.events[0];
        assert_eq!(event.key, "5ac64822-4adc-4fda-ade0-410becf0de4f");
        assert_eq!(event.kind, TimelineKind::Detection);
        assert_eq!(
            event.text,
            "PagerDuty incident triggered: Checkout 5xx rate high"
        );
        assert_eq!(event.speaker.as_deref(), Some("Tenex Engineer"));
        assert_eq!(
            event.link.as_deref(),
            Some("https://acme.pagerduty.com/incidents/PGR0VU2")
        );
    }

    #[test]
    fn a_pagerduty_note_names_its_incident_by_reference() {
        let body = r#"{"event": {"id": "01DEN4HPBQAAAG05V5QQYBRZMF", "event_type": "incident.annotated",
          "resource_type": "incident", "occurred_at": "2026-11-24T14:20:00Z",
          "agent": {"summary": "Tenex Engineer", "type": "user_reference"},
          "data": {"incident": {"html_url": "https://acme.pagerduty.com/incidents/PGR0VU2", "id": "PGR0VU2", "self": "https://api.pagerduty.com/incidents/PGR0VU2", "summary": "Checkout 5xx rate high", "type": "incident_reference"},
                   "id": "P8XD1PQ", "content": "Rolled back 1.42", "trimmed": false, "type": "incident_note"}}}"#;
        let incident = from_pagerduty(body.as_bytes()).unwrap();
        assert_eq!(incident.key, "PGR0VU2");
        assert_eq!(incident.title, "Checkout 5xx rate high");
        assert_eq!(incident.events[0].kind, TimelineKind::Note);
        assert_eq!(
            incident.events[0].text,
            "Note in PagerDuty by Tenex Engineer: Rolled back 1.42"
        );
    }

    #[test]
    fn a_pagerduty_ping_opens_nothing() {
        let body = r#"{"event": {"id": "01", "event_type": "pagey.ping", "resource_type": "pagey", "occurred_at": "2026-11-24T14:20:00Z", "data": {"message": "Hello from your friend Pagey!", "type": "ping"}}}"#;
        assert!(matches!(
            from_pagerduty(body.as_bytes()),
            Err(Unreadable::Ignored(_))
        ));
    }

    #[test]
    fn severities_are_read_from_common_words() {
        assert_eq!(severity_of("Critical"), Some(Severity::Sev1));
        assert_eq!(severity_of("P2"), Some(Severity::Sev2));
        assert_eq!(severity_of("warning"), Some(Severity::Sev3));
        assert_eq!(severity_of("P5"), Some(Severity::Sev4));
        assert_eq!(severity_of("whatever"), None);
    }
}
