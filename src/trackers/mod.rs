//! Issue trackers that action items are kept in step with: GitHub Issues and
//! Jira Cloud, each behind [`Tracker`]. A tracker makes issues, finds one it
//! made when the reply was lost, and reads an issue's state; its webhooks
//! are read by the same module. Adding a tracker is one more module and one
//! more [`TrackerKind`].

pub mod github;
pub mod jira;
pub mod sync;

use std::{future::Future, time::Duration};

use uuid::Uuid;

use crate::config::IntegrationsConfig;

crate::closed_set! {
    TrackerKind as "tracker_kind" {
        GitHub = "github", "GitHub";
        Jira = "jira", "Jira";
    }
}

/// Where an issue stands, as far as its item cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteState {
    Open,
    /// Closed as done.
    Done,
    /// Closed without doing it; the tracker's words for why.
    WontDo(String),
}

impl RemoteState {
    /// The name kept in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            RemoteState::Open => "open",
            RemoteState::Done => "done",
            RemoteState::WontDo(_) => "wont_do",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            RemoteState::WontDo(reason) => Some(reason),
            _ => None,
        }
    }
}

/// An issue as the tracker reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// `owner/repo#123` or `OPS-42`.
    pub key: String,
    pub url: String,
    pub state: RemoteState,
}

/// What an item's new issue says.
#[derive(Clone, Debug)]
pub struct NewIssue {
    pub item_id: Uuid,
    pub title: String,
    /// Plain text: what the item is, and a link back.
    pub body: String,
}

impl NewIssue {
    /// The mark an issue carries so that the one made for an item can be
    /// found again (its idempotency key).
    pub fn marker(item_id: Uuid) -> String {
        format!("debrief-{}", item_id.simple())
    }
}

/// A failed call; every failure is retried later, so it only says why.
#[derive(Debug)]
pub struct TrackerError(pub String);

impl std::fmt::Display for TrackerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<reqwest::Error> for TrackerError {
    fn from(error: reqwest::Error) -> TrackerError {
        // Without the URL: it may carry the instance name, never a secret,
        // but the message is shown on the item page.
        TrackerError(error.without_url().to_string())
    }
}

/// One issue tracker.
pub trait Tracker: Send + Sync {
    fn kind(&self) -> TrackerKind;

    /// Makes an issue in `project` (`owner/repo`, or a Jira project key).
    fn create(
        &self,
        project: &str,
        issue: &NewIssue,
    ) -> impl Future<Output = Result<Issue, TrackerError>> + Send;

    /// The issue made earlier for `item_id` in `project`, if there is one
    /// (its creation may have succeeded with the reply lost).
    fn find_made(
        &self,
        project: &str,
        item_id: Uuid,
    ) -> impl Future<Output = Result<Option<Issue>, TrackerError>> + Send;

    /// The issue `key` as it stands now.
    fn fetch(&self, key: &str) -> impl Future<Output = Result<Issue, TrackerError>> + Send;
}

/// The trackers this installation is connected to.
#[derive(Clone, Default)]
pub struct Trackers {
    pub github: Option<github::GitHub>,
    pub jira: Option<jira::Jira>,
}

/// The longest a tracker call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

impl Trackers {
    pub fn from_config(config: &IntegrationsConfig) -> Trackers {
        let http = outbound().build().unwrap_or_default();
        Trackers {
            github: config
                .github_token
                .as_ref()
                .map(|token| github::GitHub::new(http.clone(), &config.github_api_url, token)),
            jira: match (&config.jira_url, &config.jira_email, &config.jira_api_token) {
                (Some(url), Some(email), Some(token)) => Some(jira::Jira::new(
                    http,
                    url,
                    email,
                    token,
                    &config.jira_issue_type,
                )),
                _ => None,
            },
        }
    }
}

/// The HTTP client Debrief calls other services with (trackers, the
/// OpenID provider): a timeout on every call, Debrief's user agent.
pub fn outbound() -> reqwest::ClientBuilder {
    // reqwest's TLS uses the process's rustls provider: ring, as the
    // database and mail connections do. Already installed is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(CALL_TIMEOUT)
        .user_agent(concat!("debrief/", env!("CARGO_PKG_VERSION")))
}

/// The trackers the configuration connects, for the item page's choice.
pub fn connected(config: &IntegrationsConfig) -> Vec<TrackerKind> {
    let mut kinds = Vec::new();
    if config.github_token.is_some() {
        kinds.push(TrackerKind::GitHub);
    }
    if config.jira_url.is_some() && config.jira_email.is_some() && config.jira_api_token.is_some() {
        kinds.push(TrackerKind::Jira);
    }
    kinds
}

/// Reads what someone typed to link an existing issue: `owner/repo#123`,
/// a GitHub issue URL, `OPS-42` or a Jira browse URL. Returns the tracker,
/// the project and the issue's key.
pub fn parse_reference(text: &str) -> Option<(TrackerKind, String, String)> {
    let text = text.trim();
    if let Some(found) = github::parse_reference(text) {
        return Some(found);
    }
    jira::parse_reference(text)
}

/// Reads a project as typed for a new issue: `owner/repo` for GitHub, a
/// project key for Jira.
pub fn parse_project(kind: TrackerKind, text: &str) -> Option<String> {
    let text = text.trim();
    match kind {
        TrackerKind::GitHub => github::parse_repository(text),
        TrackerKind::Jira => jira::parse_project(text),
    }
}

/// The start of an error body, for the message kept with a failed call.
async fn refusal(tracker: TrackerKind, response: reqwest::Response) -> TrackerError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let body: String = body.chars().take(200).collect();
    TrackerError(format!("{} answered {status}: {body}", tracker.label()))
}

/// The response when it is a success, else its refusal.
async fn success(
    tracker: TrackerKind,
    response: reqwest::Response,
) -> Result<reqwest::Response, TrackerError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(refusal(tracker, response).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_tracker() {
        assert_eq!(
            parse_reference("acme/payments#123"),
            Some((
                TrackerKind::GitHub,
                "acme/payments".into(),
                "acme/payments#123".into()
            ))
        );
        assert_eq!(
            parse_reference("https://github.com/acme/payments/issues/7"),
            Some((
                TrackerKind::GitHub,
                "acme/payments".into(),
                "acme/payments#7".into()
            ))
        );
        assert_eq!(
            parse_reference("OPS-42"),
            Some((TrackerKind::Jira, "OPS".into(), "OPS-42".into()))
        );
        assert_eq!(
            parse_reference("https://acme.atlassian.net/browse/OPS-42"),
            Some((TrackerKind::Jira, "OPS".into(), "OPS-42".into()))
        );
        assert_eq!(parse_reference("fix it"), None);
        assert_eq!(parse_reference("acme/payments#0"), None);
        assert_eq!(parse_reference("ops-42"), None);
    }

    #[test]
    fn projects_are_checked_for_their_tracker() {
        assert_eq!(
            parse_project(TrackerKind::GitHub, " acme/payments "),
            Some("acme/payments".into())
        );
        assert_eq!(parse_project(TrackerKind::GitHub, "acme"), None);
        assert_eq!(parse_project(TrackerKind::GitHub, "acme/pay ments"), None);
        assert_eq!(parse_project(TrackerKind::Jira, "OPS"), Some("OPS".into()));
        assert_eq!(parse_project(TrackerKind::Jira, "ops"), Some("OPS".into()));
        assert_eq!(parse_project(TrackerKind::Jira, "OPS-1"), None);
    }
}
