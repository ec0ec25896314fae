//! Action items kept in step with GitHub and Jira, against a loopback
//! tracker that speaks their REST and webhook shapes: an issue is made once
//! even when the first reply is lost; a closed issue closes its item within
//! one webhook or one reconcile; an outage loses and duplicates nothing.

use chrono::Duration;
use debrief::{
    config::IntegrationsConfig,
    domain::{role::Role, signature},
    trackers::{
        Trackers,
        sync::{Delivered, deliver_due, reconcile},
    },
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    fake_tracker::{FakeTracker, GITHUB_TOKEN, JIRA_EMAIL, JIRA_TOKEN, JiraIssue, jira_json},
    helpers::{TestApp, TestClient},
    incidents::create_incident,
};

const GITHUB_HOOK_SECRET: &str = "github-hook-secret";
const JIRA_HOOK_SECRET: &str = "jira-hook-secret";

fn connected_to(fake: &FakeTracker) -> IntegrationsConfig {
    IntegrationsConfig {
        github_token: Some(GITHUB_TOKEN.to_owned()),
        github_api_url: fake.address.clone(),
        github_webhook_secret: Some(GITHUB_HOOK_SECRET.to_owned()),
        jira_url: Some(fake.address.clone()),
        jira_email: Some(JIRA_EMAIL.to_owned()),
        jira_api_token: Some(JIRA_TOKEN.to_owned()),
        jira_webhook_secret: Some(JIRA_HOOK_SECRET.to_owned()),
        ..IntegrationsConfig::default()
    }
}

struct Setup {
    app: TestApp,
    fake: FakeTracker,
    trackers: Trackers,
    author: TestClient,
    number: i32,
}

async fn setup() -> Setup {
    let fake = FakeTracker::start().await;
    let integrations = connected_to(&fake);
    let trackers = Trackers::from_config(&integrations);
    let app = TestApp::spawn_integrated(integrations).await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout returned 502s").await;
    Setup {
        app,
        fake,
        trackers,
        author,
        number,
    }
}

impl Setup {
    async fn item(&self, title: &str) -> Uuid {
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO action_items (id, postmortem_id, title, kind, priority, created_at, updated_at)
             SELECT $1, p.id, $3, 'prevent', 'p1', now(), now()
             FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $2",
        )
        .bind(id)
        .bind(self.number)
        .bind(title)
        .execute(&self.app.db)
        .await
        .expect("an item");
        id
    }

    async fn deliver(&self) -> Delivered {
        deliver_due(
            &self.app.db,
            &self.app.clock,
            &self.trackers,
            &self.app.address,
            5,
        )
        .await
        .expect("an outbox pass")
    }

    async fn status(&self, item: Uuid) -> (String, Option<String>, Option<String>) {
        sqlx::query_as(
            "SELECT status::text, closing_reason, tracker_url FROM action_items WHERE id = $1",
        )
        .bind(item)
        .fetch_one(&self.app.db)
        .await
        .expect("the item")
    }

    async fn link(&self, item: Uuid, fields: &[(&str, &str)]) -> crate::helpers::Page {
        self.author
            .post_form(&format!("/action-items/{item}/tracker"), fields)
            .await
    }

    async fn post_hook(
        &self,
        path: &str,
        header: &str,
        secret: &str,
        event: Option<&str>,
        body: &Value,
    ) -> StatusCode {
        let bytes = serde_json::to_vec(body).expect("json");
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.app.address))
            .header("content-type", "application/json")
            .header(
                header,
                format!("sha256={}", signature::sign(secret, &bytes)),
            );
        if let Some(event) = event {
            request = request.header("x-github-event", event);
        }
        request.body(bytes).send().await.expect("webhook").status()
    }
}

fn github_issue_event(action: &str, number: u64, state: &str, reason: Option<&str>) -> Value {
    json!({
        "action": action,
        "issue": {
            "url": format!("https://api.github.com/repos/acme/payments/issues/{number}"),
            "repository_url": "https://api.github.com/repos/acme/payments",
            "html_url": format!("https://github.com/acme/payments/issues/{number}"),
            "id": 1_000_000 + number,
            "node_id": "I_kwDOABCD",
            "number": number,
            "title": "Alert on pool saturation",
            "user": {"login": "debrief-bot", "id": 1, "type": "Bot"},
            "labels": [],
            "state": state,
            "locked": false,
            "assignee": null,
            "assignees": [],
            "comments": 1,
            "created_at": "2026-11-24T14:12:00Z",
            "updated_at": "2026-11-25T09:00:00Z",
            "closed_at": if state == "closed" { json!("2026-11-25T09:00:00Z") } else { Value::Null },
            "author_association": "NONE",
            "body": "Made by Debrief",
            "state_reason": reason,
        },
        "repository": {"id": 42, "node_id": "R_kgDO", "name": "payments", "full_name": "acme/payments",
                       "private": true, "owner": {"login": "acme", "id": 7, "type": "Organization"}},
        "sender": {"login": "sam", "id": 9, "type": "User"},
    })
}

#[tokio::test]
async fn an_issue_is_made_once_even_when_the_first_reply_is_lost() {
    let s = setup().await;
    let item = s.item("Alert on pool saturation").await;
    let page = s
        .link(
            item,
            &[
                ("tracker", "github"),
                ("project", "acme/payments"),
                ("reference", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let page = s.author.get(&format!("/action-items/{item}")).await;
    assert!(
        page.body.contains("Being created in GitHub acme/payments"),
        "{}",
        page.body
    );

    // GitHub makes the issue, but the reply never arrives.
    s.fake.world().lose_next_create_reply = true;
    assert_eq!(s.deliver().await, Delivered { done: 0, failed: 1 });
    let page = s.author.get(&format!("/action-items/{item}")).await;
    assert!(
        page.body.contains("it is retried automatically"),
        "{}",
        page.body
    );

    // The retry finds the issue by its mark instead of making another.
    s.app.advance(Duration::minutes(1));
    assert_eq!(s.deliver().await, Delivered { done: 1, failed: 0 });
    assert_eq!(s.deliver().await, Delivered::default());
    {
        let world = s.fake.world();
        assert_eq!(world.github.len(), 1, "{:?}", world.github);
        assert!(
            world.github[0]
                .body
                .contains(&format!("/action-items/{item}"))
        );
    }
    let page = s.author.get(&format!("/action-items/{item}")).await;
    assert!(page.body.contains("acme/payments#1"), "{}", page.body);
    assert!(
        page.body
            .contains("https://github.com/acme/payments/issues/1")
    );

    // Jira the same way: the label is the mark.
    let other = s.item("Load-test the checkout pool").await;
    s.link(
        other,
        &[("tracker", "jira"), ("project", "ops"), ("reference", "")],
    )
    .await;
    s.fake.world().lose_next_create_reply = true;
    assert_eq!(s.deliver().await.failed, 1);
    s.app.advance(Duration::minutes(1));
    assert_eq!(s.deliver().await.done, 1);
    assert_eq!(s.fake.world().jira.len(), 1);
    let page = s.author.get(&format!("/action-items/{other}")).await;
    assert!(page.body.contains("OPS-1"), "{}", page.body);
}

#[tokio::test]
async fn a_closed_issue_closes_its_item_within_one_webhook_or_one_reconcile() {
    let s = setup().await;
    // GitHub, by webhook.
    let item = s.item("Alert on pool saturation").await;
    s.link(
        item,
        &[
            ("tracker", "github"),
            ("project", "acme/payments"),
            ("reference", ""),
        ],
    )
    .await;
    s.deliver().await;
    let closed = github_issue_event("closed", 1, "closed", Some("completed"));
    let wrong = s
        .post_hook(
            "/api/v1/trackers/github",
            "x-hub-signature-256",
            "not-the-secret",
            Some("issues"),
            &closed,
        )
        .await;
    assert_eq!(wrong, StatusCode::UNAUTHORIZED);
    assert_eq!(
        s.status(item).await.0,
        "open",
        "a forged webhook changes nothing"
    );
    let status = s
        .post_hook(
            "/api/v1/trackers/github",
            "x-hub-signature-256",
            GITHUB_HOOK_SECRET,
            Some("issues"),
            &closed,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (state, reason, evidence) = s.status(item).await;
    assert_eq!(state, "done");
    assert_eq!(reason.as_deref(), Some("Closed as done in acme/payments#1"));
    assert_eq!(
        evidence.as_deref(),
        Some("https://github.com/acme/payments/issues/1")
    );

    // Reopened in GitHub: reopened here.
    let reopened = github_issue_event("reopened", 1, "open", Some("reopened"));
    s.post_hook(
        "/api/v1/trackers/github",
        "x-hub-signature-256",
        GITHUB_HOOK_SECRET,
        Some("issues"),
        &reopened,
    )
    .await;
    assert_eq!(s.status(item).await.0, "open");
    // Closed as not planned: won't do, with the reason.
    let dropped = github_issue_event("closed", 1, "closed", Some("not_planned"));
    s.post_hook(
        "/api/v1/trackers/github",
        "x-hub-signature-256",
        GITHUB_HOOK_SECRET,
        Some("issues"),
        &dropped,
    )
    .await;
    let (state, reason, _) = s.status(item).await;
    assert_eq!(state, "wont_do");
    assert_eq!(
        reason.as_deref(),
        Some("Closed as not planned in GitHub (acme/payments#1)")
    );
    {
        // What the webhooks told, the tracker holds too.
        let mut world = s.fake.world();
        world.github[0].state = "closed".to_owned();
        world.github[0].state_reason = Some("not_planned".to_owned());
    }

    // Jira: an existing issue linked, then closed with no webhook at all;
    // the reconcile pass notices.
    s.fake.world().jira.push(JiraIssue {
        key: "OPS-7".to_owned(),
        summary: "Load-test the checkout pool".to_owned(),
        labels: vec![],
        category: "indeterminate".to_owned(),
        resolution: None,
    });
    let jira_item = s.item("Load-test the checkout pool").await;
    let page = s
        .link(
            jira_item,
            &[
                ("tracker", ""),
                ("project", ""),
                ("reference", "https://acme.atlassian.net/browse/OPS-7"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    s.deliver().await;
    let page = s.author.get(&format!("/action-items/{jira_item}")).await;
    assert!(page.body.contains("OPS-7"), "{}", page.body);
    assert!(page.body.contains("<strong>Open</strong>"), "{}", page.body);
    {
        let mut world = s.fake.world();
        world.jira[0].category = "done".to_owned();
        world.jira[0].resolution = Some("Won't Do".to_owned());
    }
    s.app.advance(Duration::minutes(15));
    let pass = reconcile(&s.app.db, &s.app.clock, &s.trackers, 5)
        .await
        .expect("reconcile");
    assert_eq!(pass.failed, 0);
    assert_eq!(pass.changed, 1);
    let (state, reason, _) = s.status(jira_item).await;
    assert_eq!(state, "wont_do");
    assert_eq!(reason.as_deref(), Some("Resolved in Jira as Won't Do"));

    // And a Jira webhook reopens it.
    let mut issue = s.fake.world().jira[0].clone();
    issue.category = "new".to_owned();
    issue.resolution = None;
    let event = json!({
        "timestamp": 1_764_000_000_000_i64,
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_generic",
        "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Sam"},
        "issue": jira_json(&issue),
        "changelog": {"id": "10100", "items": [{"field": "status", "fieldtype": "jira", "from": "10002", "fromString": "Done", "to": "10000", "toString": "To Do"}]},
    });
    let status = s
        .post_hook(
            "/api/v1/trackers/jira",
            "x-hub-signature",
            JIRA_HOOK_SECRET,
            None,
            &event,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.status(jira_item).await.0, "open");

    // The history says the tracker did it.
    let page = s.author.get(&format!("/action-items/{jira_item}")).await;
    assert!(page.body.contains("from OPS-7"), "{}", page.body);
}

#[tokio::test]
async fn a_tracker_outage_loses_and_duplicates_nothing() {
    let s = setup().await;
    let mut items = Vec::new();
    for title in [
        "Alert on pool saturation",
        "Cap retries",
        "Runbook for failover",
    ] {
        let item = s.item(title).await;
        s.link(
            item,
            &[
                ("tracker", "github"),
                ("project", "acme/payments"),
                ("reference", ""),
            ],
        )
        .await;
        items.push(item);
    }
    s.fake.set_down(true);
    for _ in 0..4 {
        let pass = s.deliver().await;
        assert_eq!(pass.done, 0);
        s.app.advance(Duration::minutes(10));
    }
    let pass = reconcile(&s.app.db, &s.app.clock, &s.trackers, 5)
        .await
        .expect("reconcile");
    assert_eq!(pass.read, 0);
    assert!(s.fake.world().github.is_empty());

    // Back, and the first reply lost once more for good measure.
    s.fake.set_down(false);
    s.fake.world().lose_next_create_reply = true;
    s.app.advance(Duration::hours(1));
    let first = s.deliver().await;
    assert_eq!(first, Delivered { done: 2, failed: 1 });
    s.app.advance(Duration::hours(1));
    assert_eq!(s.deliver().await, Delivered { done: 1, failed: 0 });
    assert_eq!(s.deliver().await, Delivered::default());
    let issues = s.fake.world().github.clone();
    assert_eq!(issues.len(), 3, "one issue per item: {issues:?}");
    let mut titles: Vec<_> = issues.iter().map(|issue| issue.title.clone()).collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "Alert on pool saturation",
            "Cap retries",
            "Runbook for failover"
        ]
    );
    let keys: Vec<Option<String>> =
        sqlx::query_scalar("SELECT issue_key FROM tracker_issues ORDER BY issue_key")
            .fetch_all(&s.app.db)
            .await
            .expect("keys");
    assert_eq!(
        keys,
        [
            Some("acme/payments#1".to_owned()),
            Some("acme/payments#2".to_owned()),
            Some("acme/payments#3".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_typed_link_that_cannot_be_read_is_named_and_kept() {
    let s = setup().await;
    let item = s.item("Alert on pool saturation").await;
    let page = s
        .link(
            item,
            &[
                ("tracker", "github"),
                ("project", "payments"),
                ("reference", ""),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("Name a repository as owner/repo"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("value=\"payments\""),
        "the typed text is kept"
    );
    let page = s
        .link(
            item,
            &[
                ("tracker", "github"),
                ("project", ""),
                ("reference", "fix it soon"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("owner/repo#123, OPS-42"),
        "{}",
        page.body
    );
    assert!(s.fake.world().github.is_empty());

    // A viewer cannot link anything.
    let (viewer, _) = s.app.signed_in(Role::Viewer).await;
    let page = viewer
        .post_form(
            &format!("/action-items/{item}/tracker"),
            &[("tracker", "github"), ("project", "acme/payments")],
        )
        .await;
    assert!(
        page.status == StatusCode::FORBIDDEN || page.status == StatusCode::NOT_FOUND,
        "{}",
        page.status
    );
}
