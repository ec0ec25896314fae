//! The JSON API and its personal tokens: made on the account page and shown
//! once, stored hashed, read-only or read-write, revocable at once; a token
//! never reads or writes more than its owner may.

use debrief::domain::role::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    helpers::{TestApp, TestClient},
    incidents::create_incident,
};

/// Makes a token on the account page; returns it as shown (once).
async fn make_token(client: &TestClient, name: &str, scope: &str) -> String {
    let page = client
        .post_form(
            "/account/tokens",
            &[("token_name", name), ("scope", scope), ("days", "30")],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(
        page.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let start = page.body.find("dbr_").expect("the new token on the page");
    let token: String = page.body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(token.len(), 4 + 64, "{token}");
    token
}

struct Api {
    http: reqwest::Client,
    address: String,
    token: String,
}

impl Api {
    fn new(app: &TestApp, token: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            address: app.address.clone(),
            token: token.to_owned(),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, String, Value) {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await.expect("body");
        let value = serde_json::from_str(&body).unwrap_or(Value::Null);
        (status, content_type, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, String, Value) {
        self.send(self.http.get(format!("{}{path}", self.address)))
            .await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, String, Value) {
        self.send(
            self.http
                .post(format!("{}{path}", self.address))
                .json(&body),
        )
        .await
    }

    async fn patch(&self, path: &str, body: Value) -> (StatusCode, String, Value) {
        self.send(
            self.http
                .patch(format!("{}{path}", self.address))
                .json(&body),
        )
        .await
    }
}

async fn publish(app: &TestApp, number: i32) {
    sqlx::query(
        "UPDATE postmortems p SET status = 'published', published_at = now()
         FROM incidents i WHERE i.id = p.incident_id AND i.number = $1",
    )
    .bind(number)
    .execute(&app.db)
    .await
    .expect("publish");
}

#[tokio::test]
async fn tokens_act_within_their_scope_and_their_owners_rights() {
    let app = TestApp::spawn().await;
    let (member, member_id) = app.signed_in(Role::Member).await;
    let (viewer, _) = app.signed_in(Role::Viewer).await;

    let writer = Api::new(&app, &make_token(&member, "sync", "write").await);
    let reader = Api::new(&app, &make_token(&member, "report", "read").await);
    let viewer_token = make_token(&viewer, "viewer", "read").await;
    let viewers = Api::new(&app, &viewer_token);

    // Tokens are not stored in clear: only their SHA-256 is, and the
    // page shows the token once.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_all(&app.db)
        .await
        .expect("hashes");
    assert_eq!(stored.len(), 3);
    let as_text: Vec<String> = sqlx::query_scalar("SELECT t::text FROM api_tokens t")
        .fetch_all(&app.db)
        .await
        .expect("rows");
    for row in &as_text {
        assert!(!row.contains(&viewer_token[4..]), "a token in clear: {row}");
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(viewer_token.as_bytes()).to_vec();
    assert!(stored.contains(&digest));
    let account = member.get("/account").await.body;
    assert!(
        !account.contains(&writer.token),
        "a token is shown only once"
    );
    assert!(
        account.contains("sync") && account.contains("never"),
        "listed, never used yet"
    );

    // A read-write token of a member creates an incident.
    let (status, content_type, created) = writer
        .post(
            "/api/v1/incidents",
            json!({ "title": "Queue backlog after a deploy", "severity": "sev2",
                    "services": ["orders-api"], "started_at": "2026-11-24 14:12",
                    "time_zone": "Europe/Berlin" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(content_type.starts_with("application/json"));
    let number = created["number"].as_i64().expect("a number") as i32;
    assert_eq!(created["key"], format!("INC-{number}"));
    assert_eq!(created["postmortem"]["status"], "draft");
    assert_eq!(created["started_at"], "2026-11-24T13:12:00Z");

    // Refused fields are named, as problem+json; nothing is created.
    let (status, content_type, problem) = writer
        .post(
            "/api/v1/incidents",
            json!({ "title": "", "time_zone": "Mars/Olympus" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(content_type, "application/problem+json");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|error| error["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"title") && fields.contains(&"time_zone"),
        "{problem}"
    );

    // A read-only token cannot write, whatever its owner may do.
    let (status, content_type, problem) = reader
        .post("/api/v1/incidents", json!({ "title": "Should not exist" }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert_eq!(content_type, "application/problem+json");
    // A viewer's token cannot write either (its scope cannot be write).
    let refused = viewer
        .post_form(
            "/account/tokens",
            &[("token_name", "sneaky"), ("scope", "write"), ("days", "30")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("only read"),
        "named: {}",
        refused.body
    );
    sqlx::query("UPDATE api_tokens SET scope = 'write' WHERE token_hash = $1")
        .bind(&digest)
        .execute(&app.db)
        .await
        .expect("scope forced");
    let (status, _, _) = viewers
        .post("/api/v1/incidents", json!({ "title": "Should not exist" }))
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a viewer's token never writes"
    );

    // The draft is the member's: their token reads it, the viewer's does not.
    let (status, _, read) = reader.get(&format!("/api/v1/incidents/{number}")).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["title"], "Queue backlog after a deploy");
    let (status, content_type, _) = viewers.get(&format!("/api/v1/incidents/{number}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(content_type, "application/problem+json");
    let (_, _, list) = viewers.get("/api/v1/incidents").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
    publish(&app, number).await;
    let (_, _, list) = viewers.get("/api/v1/incidents?per_page=10").await;
    assert_eq!(list["items"][0]["number"], number, "{list}");
    assert_eq!(list["has_more"], false);

    // Comments: posted through the blame check, listed.
    let (status, _, problem) = writer
        .post(
            &format!("/api/v1/incidents/{number}/comments"),
            json!({ "body": "" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, _, comment) = writer
        .post(
            &format!("/api/v1/incidents/{number}/comments"),
            json!({ "body": "Was the queue alert paging?", "section": "detection" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    let (_, _, comments) = viewers
        .get(&format!("/api/v1/incidents/{number}/comments"))
        .await;
    assert_eq!(
        comments[0]["body"], "Was the queue alert paging?",
        "{comments}"
    );

    // An action item changed through the API keeps the version check.
    let item_id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO action_items (id, postmortem_id, title, kind, priority, owner_id, created_at, updated_at)
         SELECT $1, p.id, 'Alert on queue depth', 'detect', 'p1', $3, now(), now()
         FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $2",
    )
    .bind(item_id)
    .bind(number)
    .bind(member_id)
    .execute(&app.db)
    .await
    .expect("item");
    let path = format!("/api/v1/action-items/{item_id}");
    let (_, _, item) = reader.get(&path).await;
    let version = item["version"].as_i64().expect("version");
    let (status, _, done) = writer
        .patch(&path, json!({ "version": version, "status": "done" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "done");
    let (status, _, stale) = writer
        .patch(&path, json!({ "version": version, "status": "open" }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{stale}");
    let (status, _, _) = reader
        .patch(&path, json!({ "version": version + 1, "status": "open" }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, _, mine) = reader.get("/api/v1/action-items?scope=mine").await;
    assert_eq!(mine["items"][0]["id"], item_id.to_string(), "{mine}");

    // Search finds it, for a reader of it.
    let (status, _, found) = viewers.get("/api/v1/search?q=backlog").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["hits"][0]["number"], number, "{found}");

    // Bad input is a clear 400, never a 500: a NUL byte, a bad page.
    let (status, content_type, _) = reader.get("/api/v1/search?q=a%00b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type, "application/problem+json");
    let (status, _, _) = reader.get("/api/v1/incidents?page=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = reader.get("/api/v1/incidents?severity=sev9").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = writer
        .post("/api/v1/incidents", json!({ "title": "nul \u{0}" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The last use is shown on the account page.
    let account = member.get("/account").await.body;
    assert!(account.contains("Revoke"), "{account}");
    let used: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_tokens WHERE last_used_at IS NOT NULL AND user_id = $1",
    )
    .bind(member_id)
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(used, 2);
}

#[tokio::test]
async fn a_revoked_expired_or_missing_token_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let (member, _) = app.signed_in(Role::Member).await;
    let token = make_token(&member, "ci", "read").await;
    let api = Api::new(&app, &token);
    let (status, _, _) = api.get("/api/v1/incidents").await;
    assert_eq!(status, StatusCode::OK);

    // No token, a malformed one, a session cookie: 401 with the scheme.
    let response = reqwest::get(format!("{}/api/v1/incidents", app.address))
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    let response = member
        .http
        .get(member.url("/api/v1/incidents"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "a session cookie is not a token"
    );
    let (status, _, _) = Api::new(&app, "dbr_0000").get("/api/v1/incidents").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Revoked on the account page: refused on the very next request.
    let id: Uuid = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(&app.db)
        .await
        .expect("id");
    let revoked = member
        .post_form(&format!("/account/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let (status, _, problem) = api.get("/api/v1/incidents").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    assert!(member.get("/account").await.body.contains("revoked"));
    let audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_events WHERE action IN ('api_token_created', 'api_token_revoked')",
    )
    .fetch_one(&app.db)
    .await
    .expect("audit");
    assert_eq!(audit, 2);

    // Expired, and an owner deactivated: refused too.
    let second = make_token(&member, "ci", "read").await;
    let api = Api::new(&app, &second);
    app.advance(chrono::Duration::days(31));
    let (status, _, _) = api.get("/api/v1/incidents").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "expired");
}

#[tokio::test]
async fn a_token_cannot_read_a_restricted_postmortem_its_owner_cannot() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (outsider, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Signing key qwzzt exposure").await;
    publish(&app, number).await;
    let restricted = author
        .post_form(
            &format!("/incidents/{number}/access"),
            &[("restricted", "yes")],
        )
        .await;
    assert_eq!(
        restricted.status,
        StatusCode::SEE_OTHER,
        "{}",
        restricted.body
    );

    let outsiders = Api::new(&app, &make_token(&outsider, "read", "read").await);
    let authors = Api::new(&app, &make_token(&author, "read", "read").await);
    for path in [
        format!("/api/v1/incidents/{number}"),
        format!("/api/v1/incidents/{number}/comments"),
    ] {
        let (status, _, _) = outsiders.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let (status, _, _) = authors.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (_, _, list) = outsiders.get("/api/v1/incidents").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
    let (_, _, found) = outsiders.get("/api/v1/search?q=qwzzt").await;
    assert_eq!(found["total"], 0, "{found}");
    let (_, _, found) = authors.get("/api/v1/search?q=qwzzt").await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["hits"][0]["restricted"], true);
}

#[tokio::test]
async fn the_openapi_document_describes_every_operation() {
    let app = TestApp::spawn().await;
    let document: Value = reqwest::get(format!("{}/api/openapi.json", app.address))
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3."))
    );
    let paths = document["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/incidents",
        "/api/v1/incidents/{number}",
        "/api/v1/incidents/{number}/comments",
        "/api/v1/action-items",
        "/api/v1/action-items/{id}",
        "/api/v1/search",
    ] {
        assert!(paths.contains_key(path), "{path} is described");
    }
    assert_eq!(
        document["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
}
