//! GitHub Issues, through its REST API (`/repos/{owner}/{repo}/issues`) and
//! its `issues` webhook, signed with `X-Hub-Signature-256`.

use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{Issue, NewIssue, RemoteState, Tracker, TrackerError, TrackerKind, success};

#[derive(Clone)]
pub struct GitHub {
    http: reqwest::Client,
    api_url: String,
    token: String,
}

impl GitHub {
    pub fn new(http: reqwest::Client, api_url: &str, token: &str) -> GitHub {
        GitHub {
            http,
            api_url: api_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.api_url))
            .bearer_auth(&self.token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
    }
}

/// An issue as the REST API and the webhook describe it.
#[derive(Deserialize)]
struct RestIssue {
    number: u64,
    html_url: String,
    state: String,
    #[serde(default)]
    state_reason: Option<String>,
    #[serde(default)]
    body: Option<String>,
    /// Present when the "issue" is a pull request.
    #[serde(default)]
    pull_request: Option<serde_json::Value>,
}

impl RestIssue {
    fn into_issue(self, repository: &str) -> Issue {
        let state = match (self.state.as_str(), self.state_reason.as_deref()) {
            ("closed", Some("not_planned")) => RemoteState::WontDo(format!(
                "Closed as not planned in GitHub ({repository}#{})",
                self.number
            )),
            ("closed", Some("duplicate")) => RemoteState::WontDo(format!(
                "Closed as a duplicate in GitHub ({repository}#{})",
                self.number
            )),
            ("closed", _) => RemoteState::Done,
            _ => RemoteState::Open,
        };
        Issue {
            key: format!("{repository}#{}", self.number),
            url: self.html_url,
            state,
        }
    }
}

/// The mark in an issue's body that ties it to its item.
fn body_marker(item_id: Uuid) -> String {
    format!("<!-- {} -->", NewIssue::marker(item_id))
}

impl Tracker for GitHub {
    fn kind(&self) -> TrackerKind {
        TrackerKind::GitHub
    }

    async fn create(&self, project: &str, issue: &NewIssue) -> Result<Issue, TrackerError> {
        let body = format!("{}\n\n{}", issue.body, body_marker(issue.item_id));
        let response = self
            .request(reqwest::Method::POST, &format!("/repos/{project}/issues"))
            .json(&json!({ "title": issue.title, "body": body }))
            .send()
            .await?;
        let made: RestIssue = success(self.kind(), response).await?.json().await?;
        Ok(made.into_issue(project))
    }

    async fn find_made(&self, project: &str, item_id: Uuid) -> Result<Option<Issue>, TrackerError> {
        let marker = body_marker(item_id);
        // The newest issues first: one made for a retried call is among
        // the most recent.
        let response = self
            .request(reqwest::Method::GET, &format!("/repos/{project}/issues"))
            .query(&[
                ("state", "all"),
                ("sort", "created"),
                ("direction", "desc"),
                ("per_page", "100"),
            ])
            .send()
            .await?;
        let issues: Vec<RestIssue> = success(self.kind(), response).await?.json().await?;
        Ok(issues
            .into_iter()
            .filter(|issue| issue.pull_request.is_none())
            .find(|issue| {
                issue
                    .body
                    .as_deref()
                    .is_some_and(|body| body.contains(&marker))
            })
            .map(|issue| issue.into_issue(project)))
    }

    async fn fetch(&self, key: &str) -> Result<Issue, TrackerError> {
        let (repository, number) = key
            .split_once('#')
            .ok_or_else(|| TrackerError(format!("{key} is not a GitHub issue")))?;
        let response = self
            .request(
                reqwest::Method::GET,
                &format!("/repos/{repository}/issues/{number}"),
            )
            .send()
            .await?;
        let issue: RestIssue = success(self.kind(), response).await?.json().await?;
        Ok(issue.into_issue(repository))
    }
}

/// `owner/repo` when `text` is one.
pub fn parse_repository(text: &str) -> Option<String> {
    let (owner, repo) = text.split_once('/')?;
    let name_ok = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    (name_ok(owner) && name_ok(repo)).then(|| format!("{owner}/{repo}"))
}

/// `owner/repo#123` or `https://github.com/owner/repo/issues/123`.
pub fn parse_reference(text: &str) -> Option<(TrackerKind, String, String)> {
    let (repository, number) = if let Some(path) = text
        .strip_prefix("https://github.com/")
        .or_else(|| text.strip_prefix("http://github.com/"))
    {
        let mut parts = path.trim_end_matches('/').split('/');
        let (owner, repo, kind, number) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if kind != "issues" || parts.next().is_some() {
            return None;
        }
        (format!("{owner}/{repo}"), number)
    } else {
        let (repository, number) = text.split_once('#')?;
        (repository.to_owned(), number)
    };
    let repository = parse_repository(&repository)?;
    let number: u64 = number.parse().ok().filter(|n| *n > 0)?;
    Some((
        TrackerKind::GitHub,
        repository.clone(),
        format!("{repository}#{number}"),
    ))
}

/// An `issues` webhook's issue; none for other events and for pull requests.
pub fn read_webhook(event: &str, body: &[u8]) -> Result<Option<Issue>, String> {
    if event != "issues" {
        return Ok(None);
    }
    #[derive(Deserialize)]
    struct Repository {
        full_name: String,
    }
    #[derive(Deserialize)]
    struct Payload {
        issue: RestIssue,
        repository: Repository,
    }
    let payload: Payload = serde_json::from_slice(body).map_err(|error| error.to_string())?;
    if payload.issue.pull_request.is_some() {
        return Ok(None);
    }
    Ok(Some(
        payload.issue.into_issue(&payload.repository.full_name),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_issues_say_how_they_closed() {
        let issue = |state: &str, reason: Option<&str>| {
            RestIssue {
                number: 7,
                html_url: "https://github.com/acme/api/issues/7".into(),
                state: state.into(),
                state_reason: reason.map(str::to_owned),
                body: None,
                pull_request: None,
            }
            .into_issue("acme/api")
        };
        assert_eq!(issue("open", None).state, RemoteState::Open);
        assert_eq!(issue("open", Some("reopened")).state, RemoteState::Open);
        assert_eq!(issue("closed", Some("completed")).state, RemoteState::Done);
        assert_eq!(issue("closed", None).state, RemoteState::Done);
        assert_eq!(
            issue("closed", Some("not_planned")).state,
            RemoteState::WontDo("Closed as not planned in GitHub (acme/api#7)".into())
        );
        assert_eq!(issue("closed", None).key, "acme/api#7");
    }

    #[test]
    fn only_issue_events_are_read() {
        assert_eq!(read_webhook("ping", b"{}"), Ok(None));
        assert!(read_webhook("issues", b"{}").is_err());
    }
}
