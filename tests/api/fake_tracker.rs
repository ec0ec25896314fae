//! A tracker on loopback that speaks the parts of the GitHub REST API
//! (`/repos/{owner}/{repo}/issues`) and of the Jira Cloud REST API v3
//! (`/rest/api/3/issue`, `/rest/api/3/search/jql`) that Debrief calls, with
//! the response shapes their documentation gives. The test controls it: it
//! can be down, lose the reply to a create it carried out, and change an
//! issue's state as a person in the tracker would.

use std::sync::{Arc, Mutex};

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub const GITHUB_TOKEN: &str = "github-test-token";
pub const JIRA_EMAIL: &str = "debrief@acme.example";
pub const JIRA_TOKEN: &str = "jira-test-token";

#[derive(Clone, Debug)]
pub struct GitHubIssue {
    pub repository: String,
    pub number: u64,
    pub title: String,
    pub body: String,
    pub state: String,
    pub state_reason: Option<String>,
}

#[derive(Clone, Debug)]
pub struct JiraIssue {
    pub key: String,
    pub summary: String,
    pub labels: Vec<String>,
    /// `new`, `indeterminate` or `done`.
    pub category: String,
    pub resolution: Option<String>,
}

#[derive(Default)]
pub struct World {
    pub github: Vec<GitHubIssue>,
    pub jira: Vec<JiraIssue>,
    /// Every request answered 503.
    pub down: bool,
    /// The next create is carried out, then answered 504 as if the reply
    /// were lost on the way.
    pub lose_next_create_reply: bool,
    pub requests: usize,
}

#[derive(Clone)]
pub struct FakeTracker {
    pub address: String,
    pub world: Arc<Mutex<World>>,
}

type Shared = Arc<Mutex<World>>;

impl FakeTracker {
    pub async fn start() -> FakeTracker {
        let world: Shared = Arc::default();
        let app = Router::new()
            .route(
                "/repos/{owner}/{repo}/issues",
                post(github_create).get(github_list),
            )
            .route("/repos/{owner}/{repo}/issues/{number}", get(github_get))
            .route("/rest/api/3/issue", post(jira_create))
            .route("/rest/api/3/issue/{key}", get(jira_get))
            .route("/rest/api/3/search/jql", post(jira_search))
            .with_state(world.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeTracker { address, world }
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().expect("the fake tracker's state")
    }

    pub fn set_down(&self, down: bool) {
        self.world().down = down;
    }
}

fn github_json(issue: &GitHubIssue, base: &str) -> Value {
    json!({
        "url": format!("{base}/repos/{}/issues/{}", issue.repository, issue.number),
        "repository_url": format!("{base}/repos/{}", issue.repository),
        "html_url": format!("https://github.com/{}/issues/{}", issue.repository, issue.number),
        "id": 1_000_000 + issue.number,
        "node_id": format!("I_kwDO{}", issue.number),
        "number": issue.number,
        "title": issue.title,
        "user": {"login": "debrief-bot", "id": 1, "type": "Bot"},
        "labels": [],
        "state": issue.state,
        "state_reason": issue.state_reason,
        "locked": false,
        "assignee": null,
        "assignees": [],
        "comments": 0,
        "created_at": "2026-11-24T14:12:00Z",
        "updated_at": "2026-11-24T14:12:00Z",
        "closed_at": null,
        "author_association": "NONE",
        "body": issue.body,
    })
}

/// The refusal when the request may not go on.
fn gate(world: &mut World, headers: &HeaderMap, expected_auth: &str) -> Option<Response> {
    world.requests += 1;
    if world.down {
        return Some((StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response());
    }
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != expected_auth {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"message": "Bad credentials"})),
            )
                .into_response(),
        );
    }
    None
}

fn github_auth() -> String {
    format!("Bearer {GITHUB_TOKEN}")
}

fn jira_auth() -> String {
    use base64::Engine;
    let pair = format!("{JIRA_EMAIL}:{JIRA_TOKEN}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

async fn github_create(
    State(world): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut world = world.lock().expect("state");
    if let Some(refusal) = gate(&mut world, &headers, &github_auth()) {
        return refusal;
    }
    let repository = format!("{owner}/{repo}");
    let number = world
        .github
        .iter()
        .filter(|issue| issue.repository == repository)
        .count() as u64
        + 1;
    let issue = GitHubIssue {
        repository,
        number,
        title: body["title"].as_str().unwrap_or_default().to_owned(),
        body: body["body"].as_str().unwrap_or_default().to_owned(),
        state: "open".to_owned(),
        state_reason: None,
    };
    world.github.push(issue.clone());
    if std::mem::take(&mut world.lose_next_create_reply) {
        return (StatusCode::GATEWAY_TIMEOUT, "upstream timed out").into_response();
    }
    (StatusCode::CREATED, Json(github_json(&issue, ""))).into_response()
}

async fn github_list(
    State(world): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut world = world.lock().expect("state");
    if let Some(refusal) = gate(&mut world, &headers, &github_auth()) {
        return refusal;
    }
    let repository = format!("{owner}/{repo}");
    let issues: Vec<Value> = world
        .github
        .iter()
        .rev()
        .filter(|issue| issue.repository == repository)
        .map(|issue| github_json(issue, ""))
        .collect();
    Json(issues).into_response()
}

async fn github_get(
    State(world): State<Shared>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    let mut world = world.lock().expect("state");
    if let Some(refusal) = gate(&mut world, &headers, &github_auth()) {
        return refusal;
    }
    let repository = format!("{owner}/{repo}");
    match world
        .github
        .iter()
        .find(|issue| issue.repository == repository && issue.number == number)
    {
        Some(issue) => Json(github_json(issue, "")).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({"message": "Not Found"}))).into_response(),
    }
}

pub fn jira_json(issue: &JiraIssue) -> Value {
    let (status, id) = match issue.category.as_str() {
        "done" => ("Done", 3),
        "indeterminate" => ("In Progress", 4),
        _ => ("To Do", 2),
    };
    json!({
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": format!("100{}", issue.key.rsplit('-').next().unwrap_or("0")),
        "self": format!("https://acme.atlassian.net/rest/api/3/issue/{}", issue.key),
        "key": issue.key,
        "fields": {
            "summary": issue.summary,
            "labels": issue.labels,
            "status": {
                "self": "https://acme.atlassian.net/rest/api/3/status/10001",
                "name": status,
                "id": "10001",
                "statusCategory": {"self": "https://acme.atlassian.net/rest/api/3/statuscategory/3", "id": id, "key": issue.category, "colorName": "green", "name": status}
            },
            "resolution": issue.resolution.as_ref().map(|name| json!({"self": "https://acme.atlassian.net/rest/api/3/resolution/10000", "id": "10000", "name": name})),
        }
    })
}

async fn jira_create(
    State(world): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut world = world.lock().expect("state");
    if let Some(refusal) = gate(&mut world, &headers, &jira_auth()) {
        return refusal;
    }
    let fields = &body["fields"];
    let project = fields["project"]["key"].as_str().unwrap_or_default();
    if fields["issuetype"]["name"].as_str().is_none() || fields["summary"].as_str().is_none() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"errorMessages": [], "errors": {"issuetype": "Specify an issue type"}})),
        )
            .into_response();
    }
    let key = format!("{project}-{}", world.jira.len() + 1);
    world.jira.push(JiraIssue {
        key: key.clone(),
        summary: fields["summary"].as_str().unwrap_or_default().to_owned(),
        labels: fields["labels"]
            .as_array()
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|l| l.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        category: "new".to_owned(),
        resolution: None,
    });
    if std::mem::take(&mut world.lose_next_create_reply) {
        return (StatusCode::GATEWAY_TIMEOUT, "upstream timed out").into_response();
    }
    (
        StatusCode::CREATED,
        Json(json!({
            "id": format!("100{}", world.jira.len()),
            "key": key,
            "self": format!("https://acme.atlassian.net/rest/api/3/issue/{key}"),
        })),
    )
        .into_response()
}

async fn jira_get(
    State(world): State<Shared>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut world = world.lock().expect("state");
    if let Some(refusal) = gate(&mut world, &headers, &jira_auth()) {
        return refusal;
    }
    match world.jira.iter().find(|issue| issue.key == key) {
        Some(issue) => Json(jira_json(issue)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}})),
        )
            .into_response(),
    }
}

async fn jira_search(
    State(world): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut world = world.lock().expect("state");
    if let Some(refusal) = gate(&mut world, &headers, &jira_auth()) {
        return refusal;
    }
    // Reads the one form of JQL Debrief sends: project = "X" AND labels = "Y".
    let jql = body["jql"].as_str().unwrap_or_default();
    let quoted: Vec<&str> = jql.split('"').skip(1).step_by(2).collect();
    let (project, label) = (quoted.first().copied(), quoted.get(1).copied());
    let issues: Vec<Value> = world
        .jira
        .iter()
        .filter(|issue| {
            project.is_some_and(|p| issue.key.starts_with(&format!("{p}-")))
                && label.is_some_and(|l| issue.labels.iter().any(|own| own == l))
        })
        .map(jira_json)
        .collect();
    Json(json!({"issues": issues, "isLast": true})).into_response()
}
