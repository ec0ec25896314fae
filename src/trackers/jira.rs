//! Jira Cloud, through its REST API v3 (basic auth with an account's email
//! and API token) and its issue webhooks, signed with `X-Hub-Signature`.

use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{Issue, NewIssue, RemoteState, Tracker, TrackerError, TrackerKind, success};

#[derive(Clone)]
pub struct Jira {
    http: reqwest::Client,
    base_url: String,
    email: String,
    token: String,
    issue_type: String,
}

impl Jira {
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        email: &str,
        token: &str,
        issue_type: &str,
    ) -> Jira {
        Jira {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            email: email.to_owned(),
            token: token.to_owned(),
            issue_type: issue_type.to_owned(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .basic_auth(&self.email, Some(&self.token))
            .header("accept", "application/json")
    }

    fn issue(&self, rest: RestIssue) -> Issue {
        rest.into_issue(&self.base_url)
    }
}

/// An issue's page on the site at `base_url`.
fn browse_url(base_url: &str, key: &str) -> String {
    format!("{}/browse/{key}", base_url.trim_end_matches('/'))
}

#[derive(Deserialize)]
struct RestIssue {
    key: String,
    fields: Fields,
}

impl RestIssue {
    fn into_issue(self, base_url: &str) -> Issue {
        Issue {
            url: browse_url(base_url, &self.key),
            state: self.fields.state(),
            key: self.key,
        }
    }
}

#[derive(Deserialize)]
struct Fields {
    status: Status,
    #[serde(default)]
    resolution: Option<Named>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(rename = "statusCategory")]
    category: Category,
}

#[derive(Deserialize)]
struct Category {
    /// `new`, `indeterminate` or `done`.
    key: String,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

/// Resolutions that mean the work was not done.
const NOT_DONE: &[&str] = &[
    "won't do",
    "won't fix",
    "wont do",
    "wont fix",
    "duplicate",
    "cannot reproduce",
    "declined",
    "not a bug",
    "obsolete",
    "rejected",
];

impl Fields {
    fn state(&self) -> RemoteState {
        if self.status.category.key != "done" {
            return RemoteState::Open;
        }
        match &self.resolution {
            Some(resolution)
                if NOT_DONE
                    .contains(&resolution.name.to_lowercase().replace('’', "'").as_str()) =>
            {
                RemoteState::WontDo(format!("Resolved in Jira as {}", resolution.name))
            }
            _ => RemoteState::Done,
        }
    }
}

/// The label that ties an issue to its item.
fn label(item_id: Uuid) -> String {
    NewIssue::marker(item_id)
}

/// Plain text as an Atlassian document, a paragraph per line.
fn document(text: &str) -> serde_json::Value {
    let paragraphs: Vec<_> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| json!({"type": "paragraph", "content": [{"type": "text", "text": line}]}))
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

impl Tracker for Jira {
    fn kind(&self) -> TrackerKind {
        TrackerKind::Jira
    }

    async fn create(&self, project: &str, issue: &NewIssue) -> Result<Issue, TrackerError> {
        #[derive(Deserialize)]
        struct Created {
            key: String,
        }
        let response = self
            .request(reqwest::Method::POST, "/rest/api/3/issue")
            .json(&json!({"fields": {
                "project": {"key": project},
                "summary": issue.title,
                "issuetype": {"name": self.issue_type},
                "labels": ["debrief", label(issue.item_id)],
                "description": document(&issue.body),
            }}))
            .send()
            .await?;
        let made: Created = success(self.kind(), response).await?.json().await?;
        Ok(Issue {
            url: browse_url(&self.base_url, &made.key),
            key: made.key,
            state: RemoteState::Open,
        })
    }

    async fn find_made(&self, project: &str, item_id: Uuid) -> Result<Option<Issue>, TrackerError> {
        #[derive(Deserialize)]
        struct Found {
            #[serde(default)]
            issues: Vec<RestIssue>,
        }
        let jql = format!(
            "project = \"{project}\" AND labels = \"{}\"",
            label(item_id)
        );
        let response = self
            .request(reqwest::Method::POST, "/rest/api/3/search/jql")
            .json(&json!({"jql": jql, "fields": ["status", "resolution"], "maxResults": 1}))
            .send()
            .await?;
        let found: Found = success(self.kind(), response).await?.json().await?;
        Ok(found.issues.into_iter().next().map(|rest| self.issue(rest)))
    }

    async fn fetch(&self, key: &str) -> Result<Issue, TrackerError> {
        let response = self
            .request(reqwest::Method::GET, &format!("/rest/api/3/issue/{key}"))
            .query(&[("fields", "status,resolution")])
            .send()
            .await?;
        let rest: RestIssue = success(self.kind(), response).await?.json().await?;
        Ok(self.issue(rest))
    }
}

/// A project key: capital letters and digits, starting with a letter.
pub fn parse_project(text: &str) -> Option<String> {
    let key = text.to_ascii_uppercase();
    let ok = key.len() <= 20
        && key.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    ok.then_some(key)
}

/// `OPS-42` or `https://{site}/browse/OPS-42`.
pub fn parse_reference(text: &str) -> Option<(TrackerKind, String, String)> {
    let key = match text.split_once("/browse/") {
        Some((site, key)) if site.starts_with("https://") => key.trim_end_matches('/'),
        Some(_) => return None,
        None => text,
    };
    let (project, number) = key.rsplit_once('-')?;
    if project != project.to_ascii_uppercase() {
        return None;
    }
    let project = parse_project(project)?;
    let number: u64 = number.parse().ok().filter(|n| *n > 0)?;
    Some((
        TrackerKind::Jira,
        project.clone(),
        format!("{project}-{number}"),
    ))
}

/// An issue webhook's issue (`jira:issue_created`, `jira:issue_updated`);
/// none for other events.
pub fn read_webhook(base_url: &str, body: &[u8]) -> Result<Option<Issue>, String> {
    #[derive(Deserialize)]
    struct Payload {
        #[serde(rename = "webhookEvent", default)]
        event: String,
        #[serde(default)]
        issue: Option<RestIssue>,
    }
    let payload: Payload = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    if !payload.event.starts_with("jira:issue_") {
        return Ok(None);
    }
    Ok(payload.issue.map(|rest| rest.into_issue(base_url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(category: &str, resolution: Option<&str>) -> Fields {
        Fields {
            status: Status {
                category: Category {
                    key: category.into(),
                },
            },
            resolution: resolution.map(|name| Named { name: name.into() }),
        }
    }

    #[test]
    fn a_resolution_says_whether_it_was_done() {
        assert_eq!(fields("indeterminate", None).state(), RemoteState::Open);
        assert_eq!(fields("done", Some("Done")).state(), RemoteState::Done);
        assert_eq!(fields("done", None).state(), RemoteState::Done);
        assert_eq!(
            fields("done", Some("Won't Do")).state(),
            RemoteState::WontDo("Resolved in Jira as Won't Do".into())
        );
        assert_eq!(
            fields("done", Some("Duplicate")).state(),
            RemoteState::WontDo("Resolved in Jira as Duplicate".into())
        );
    }
}
