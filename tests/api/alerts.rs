//! Alert intake: real-shaped Alertmanager and PagerDuty notifications open
//! one incident however often they are sent, add each event to its
//! timeline once, and a sender that cannot prove itself changes nothing.

use debrief::domain::{role::Role, signature};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ALERTMANAGER_TOKEN, PAGERDUTY_SECRET, TestApp};

fn alertmanager_payload(status: &str) -> Value {
    let resolved = status == "resolved";
    json!({
        "version": "4",
        "groupKey": "{}/{severity=\"critical\"}:{alertname=\"CheckoutErrors\"}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "debrief",
        "groupLabels": {"alertname": "CheckoutErrors"},
        "commonLabels": {"alertname": "CheckoutErrors", "severity": "critical", "service": "checkout"},
        "commonAnnotations": {"summary": "Checkout 5xx above 2% for 5 minutes"},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "CheckoutErrors", "severity": "critical", "service": "checkout", "instance": "web-1:9100"},
                "annotations": {"summary": "Checkout 5xx above 2% for 5 minutes"},
                "startsAt": "2026-11-24T14:12:00.000Z",
                "endsAt": if resolved { "2026-11-24T14:52:30.000Z" } else { "0001-01-01T00:00:00Z" },
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr=checkout_5xx",
                "fingerprint": "4d8a0fb1c2e3f405"
            },
            {
                "status": status,
                "labels": {"alertname": "CheckoutErrors", "severity": "critical", "service": "checkout", "instance": "web-2:9100"},
                "annotations": {"summary": "Checkout 5xx above 2% for 5 minutes"},
                "startsAt": "2026-11-24T14:13:00.000Z",
                "endsAt": if resolved { "2026-11-24T14:51:00.000Z" } else { "0001-01-01T00:00:00Z" },
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr=checkout_5xx",
                "fingerprint": "9e1f2a3b4c5d6e7f"
            }
        ]
    })
}

fn pagerduty_event(id: &str, event_type: &str, occurred_at: &str) -> Value {
    json!({"event": {
        "id": id,
        "event_type": event_type,
        "resource_type": "incident",
        "occurred_at": occurred_at,
        "agent": {"html_url": "https://acme.pagerduty.com/users/PLH1HKV", "id": "PLH1HKV",
                  "self": "https://api.pagerduty.com/users/PLH1HKV", "summary": "Sam Oncall", "type": "user_reference"},
        "client": {"name": "PagerDuty"},
        "data": {
            "id": "PGR0VU2", "type": "incident", "self": "https://api.pagerduty.com/incidents/PGR0VU2",
            "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2", "number": 2,
            "status": event_type.trim_start_matches("incident."),
            "incident_key": "d3640fbd41094207a1c11e58e46b1662", "created_at": "2026-11-24T14:12:00Z",
            "title": "Payments API latency above SLO",
            "service": {"html_url": "https://acme.pagerduty.com/services/PF9KMXH", "id": "PF9KMXH",
                        "self": "https://api.pagerduty.com/services/PF9KMXH", "summary": "payments-api", "type": "service_reference"},
            "assignees": [{"html_url": "https://acme.pagerduty.com/users/PTUXL6G", "id": "PTUXL6G",
                           "self": "https://api.pagerduty.com/users/PTUXL6G", "summary": "Sam Oncall", "type": "user_reference"}],
            "escalation_policy": {"html_url": "https://acme.pagerduty.com/escalation_policies/PUS0KTE", "id": "PUS0KTE",
                                  "self": "https://api.pagerduty.com/escalation_policies/PUS0KTE", "summary": "Default", "type": "escalation_policy_reference"},
            "teams": [],
            "priority": {"html_url": "https://acme.pagerduty.com/account/incident_priorities", "id": "PSO75BM",
                         "self": "https://api.pagerduty.com/priorities/PSO75BM", "summary": "P2", "type": "priority_reference"},
            "urgency": "high", "conference_bridge": null,
            "resolve_reason": null
        }
    }})
}

async fn post_alertmanager(app: &TestApp, token: &str, body: &Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/alerts/alertmanager", app.address))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post_pagerduty(app: &TestApp, secret: &str, body: &Value) -> (StatusCode, Value) {
    let bytes = serde_json::to_vec(body).expect("json");
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/alerts/pagerduty", app.address))
        .header("content-type", "application/json")
        .header(
            "x-pagerduty-signature",
            format!("v1={}", signature::sign(secret, &bytes)),
        )
        .body(bytes)
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&app.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn an_alertmanager_group_sent_twice_opens_one_incident() {
    let app = TestApp::spawn().await;
    let firing = alertmanager_payload("firing");

    let (status, first) = post_alertmanager(&app, ALERTMANAGER_TOKEN, &firing).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["incident"], "INC-1");
    assert_eq!(first["opened"], true);
    assert_eq!(first["added"], 2);

    // Alertmanager repeats a firing group on its repeat interval.
    let (status, again) = post_alertmanager(&app, ALERTMANAGER_TOKEN, &firing).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["incident"], "INC-1");
    assert_eq!(again["opened"], false);
    assert_eq!(again["added"], 0);
    assert_eq!(again["seen_before"], 2);
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 1);
    assert_eq!(
        count(&app, "SELECT count(*) FROM timeline_entries").await,
        2
    );

    // The resolution adds one entry per alert and resolves the incident at
    // the last alert's end.
    let (status, resolved) =
        post_alertmanager(&app, ALERTMANAGER_TOKEN, &alertmanager_payload("resolved")).await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["added"], 2);
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 1);
    assert_eq!(
        count(&app, "SELECT count(*) FROM timeline_entries").await,
        4
    );
    let (severity, services, resolved_at): (String, Vec<String>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT severity::text, services, resolved_at FROM incidents")
            .fetch_one(&app.db)
            .await
            .expect("incident");
    assert_eq!(severity, "sev1");
    assert_eq!(services, ["checkout"]);
    assert_eq!(resolved_at.to_rfc3339(), "2026-11-24T14:52:30+00:00");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_events WHERE action = 'alert_received'"
        )
        .await,
        2,
        "the opening and the resolution are audited; the repeat changed nothing"
    );

    // An admin reads the draft with the alerts on its timeline and their source.
    let (admin, _) = app.signed_in(Role::Admin).await;
    let page = admin.get("/incidents/1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Alert CheckoutErrors firing on web-1:9100"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Alertmanager"));
}

#[tokio::test]
async fn an_alertmanager_post_without_the_token_changes_nothing() {
    let app = TestApp::spawn().await;
    let firing = alertmanager_payload("firing");
    let (status, problem) = post_alertmanager(&app, "not-the-token", &firing).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    assert_eq!(problem["status"], 401);
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/alerts/alertmanager", app.address))
        .json(&firing)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 0);

    // A payload of another shape is named, not half-read.
    let (status, problem) =
        post_alertmanager(&app, ALERTMANAGER_TOKEN, &json!({"status": "firing"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("alerts"),
        "{problem}"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 0);
}

#[tokio::test]
async fn pagerduty_events_sent_twice_make_one_incident_and_one_entry_each() {
    let app = TestApp::spawn().await;
    let triggered = pagerduty_event(
        "5ac64822-4adc-4fda-ade0-410becf0de4f",
        "incident.triggered",
        "2026-11-24T14:12:03.000Z",
    );
    // Sent twice at once (two webhook deliveries racing), then once more.
    let (first, second) = tokio::join!(
        post_pagerduty(&app, PAGERDUTY_SECRET, &triggered),
        post_pagerduty(&app, PAGERDUTY_SECRET, &triggered)
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CREATED],
        "{first:?} {second:?}"
    );
    let (status, again) = post_pagerduty(&app, PAGERDUTY_SECRET, &triggered).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["seen_before"], 1);

    let acknowledged = pagerduty_event(
        "7bd5a4c1-0e2f-4c11-9d7e-0a4b8c2d6e10",
        "incident.acknowledged",
        "2026-11-24T14:15:41.000Z",
    );
    let (status, taken) = post_pagerduty(&app, PAGERDUTY_SECRET, &acknowledged).await;
    assert_eq!(status, StatusCode::OK, "{taken}");
    assert_eq!(taken["added"], 1);
    let resolved = pagerduty_event(
        "9c0e1f2a-3b4c-4d5e-8f60-718293a4b5c6",
        "incident.resolved",
        "2026-11-24T15:02:00.000Z",
    );
    post_pagerduty(&app, PAGERDUTY_SECRET, &resolved).await;

    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 1);
    let entries: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT kind::text, text, speaker, source FROM timeline_entries ORDER BY occurred_at",
    )
    .fetch_all(&app.db)
    .await
    .expect("entries");
    assert_eq!(
        entries,
        [
            (
                "detection".to_owned(),
                "PagerDuty incident triggered: Payments API latency above SLO".to_owned(),
                Some("Sam Oncall".to_owned()),
                "PagerDuty".to_owned()
            ),
            (
                "escalation".to_owned(),
                "Acknowledged in PagerDuty by Sam Oncall".to_owned(),
                Some("Sam Oncall".to_owned()),
                "PagerDuty".to_owned()
            ),
            (
                "resolution".to_owned(),
                "Resolved in PagerDuty by Sam Oncall".to_owned(),
                Some("Sam Oncall".to_owned()),
                "PagerDuty".to_owned()
            ),
        ]
    );
    let (title, severity): (String, String) =
        sqlx::query_as("SELECT title, severity::text FROM incidents")
            .fetch_one(&app.db)
            .await
            .expect("incident");
    assert_eq!(title, "Payments API latency above SLO");
    assert_eq!(severity, "sev2");
}

#[tokio::test]
async fn a_wrong_pagerduty_signature_gets_401_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let triggered = pagerduty_event("e1", "incident.triggered", "2026-11-24T14:12:03Z");
    let (status, problem) = post_pagerduty(&app, "someone-elses-secret", &triggered).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    let unsigned = reqwest::Client::new()
        .post(format!("{}/api/v1/alerts/pagerduty", app.address))
        .json(&triggered)
        .send()
        .await
        .expect("request");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 0);
    assert_eq!(count(&app, "SELECT count(*) FROM alert_events").await, 0);

    // PagerDuty's test ping is accepted and opens nothing.
    let ping = json!({"event": {"id": "01", "event_type": "pagey.ping", "resource_type": "pagey",
        "occurred_at": "2026-11-24T14:20:00Z", "agent": null, "client": null,
        "data": {"message": "Hello from your friend Pagey!", "type": "ping"}}});
    let (status, _) = post_pagerduty(&app, PAGERDUTY_SECRET, &ping).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 0);
}

#[tokio::test]
async fn an_intake_without_its_secret_is_off() {
    let app = TestApp::spawn_integrated(Default::default()).await;
    let (status, problem) = post_alertmanager(&app, "", &alertmanager_payload("firing")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    let (status, _) = post_pagerduty(
        &app,
        "",
        &pagerduty_event("e1", "incident.triggered", "2026-11-24T14:12:03Z"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(count(&app, "SELECT count(*) FROM incidents").await, 0);
}
