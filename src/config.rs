//! Runtime configuration, read from environment variables (or the matching
//! command-line flags). Every setting has a default that works on a
//! developer's machine with a local Postgres.

use std::net::SocketAddr;

use chrono_tz::Tz;
use clap::{Args, ValueEnum};

/// Settings shared by every command that touches the database.
#[derive(Args, Clone)]
pub struct DatabaseConfig {
    /// Postgres connection URL. Default: the local server through its Unix
    /// socket, database `debrief` (created on first start if missing).
    #[arg(long, env = "DATABASE_URL", default_value_t = default_database_url(), hide_env_values = true)]
    pub database_url: String,

    /// Largest number of pooled connections this process opens. Default:
    /// twice the CPU cores, which measured fastest (more connections than
    /// the cores can serve only add context switches).
    #[arg(long, env = "DEBRIEF_DB_POOL_SIZE", default_value_t = default_pool_size())]
    pub db_pool_size: u32,

    /// Seconds a request waits for a pooled connection before it is
    /// answered 503 (the database is away or every connection is busy).
    #[arg(long, env = "DEBRIEF_DB_ACQUIRE_SECONDS", default_value_t = 3)]
    pub db_acquire_seconds: u64,

    /// Seconds one statement of the server may run before Postgres cancels
    /// it (0: no limit). Command-line work (imports, seeding, exports) has
    /// no limit.
    #[arg(long, env = "DEBRIEF_DB_STATEMENT_SECONDS", default_value_t = 10)]
    pub db_statement_seconds: u64,
}

// The URL may carry a password: Debug output shows it redacted.
impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("database_url", &redact_password(&self.database_url))
            .field("db_pool_size", &self.db_pool_size)
            .field("db_acquire_seconds", &self.db_acquire_seconds)
            .field("db_statement_seconds", &self.db_statement_seconds)
            .finish()
    }
}

/// The URL with any password replaced by `***`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Settings of the web server.
#[derive(Args, Clone, Debug)]
pub struct ServerConfig {
    /// Address and port to listen on.
    #[arg(long, env = "DEBRIEF_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// The address users reach Debrief at, used in links that leave the
    /// browser (setup and invite links, later emails). Default: http://LISTEN.
    #[arg(long, env = "DEBRIEF_BASE_URL")]
    pub base_url: Option<String>,

    /// Mark cookies `Secure` (sent over https only). Default: true when the
    /// base URL starts with https://.
    #[arg(long, env = "DEBRIEF_SECURE_COOKIES")]
    pub secure_cookies: Option<bool>,

    /// Take the client address from the last `X-Forwarded-For` entry. Turn on
    /// only behind a load balancer that sets that header.
    #[arg(long, env = "DEBRIEF_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,

    /// Seconds a client has to send a request's headers, and to start its
    /// next request on a kept-alive connection; then the connection closes.
    #[arg(long, env = "DEBRIEF_CLIENT_HEADER_SECONDS", default_value_t = 10)]
    pub client_header_seconds: u64,

    /// Seconds a client has to send a request's body (an upload included).
    #[arg(long, env = "DEBRIEF_CLIENT_BODY_SECONDS", default_value_t = 60)]
    pub client_body_seconds: u64,

    /// Seconds a request may take in all; then it is answered 503 (a
    /// database that holds its packets cannot keep a page waiting longer).
    #[arg(long, env = "DEBRIEF_REQUEST_TIMEOUT_SECONDS", default_value_t = 15)]
    pub request_timeout_seconds: u64,

    /// Seconds requests in flight get to finish after SIGTERM; what is
    /// still open then is cut and the process exits.
    #[arg(long, env = "DEBRIEF_SHUTDOWN_SECONDS", default_value_t = 20)]
    pub shutdown_seconds: u64,

    /// The bearer token `/metrics` asks for (`Authorization: Bearer …`).
    /// Unset: `/metrics` is off (404).
    #[arg(long, env = "DEBRIEF_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Requests one API token may make per minute (on each replica), in
    /// bursts of up to a tenth of that; more get 429 with `Retry-After`.
    #[arg(long, env = "DEBRIEF_API_RATE_PER_MINUTE", default_value_t = 600)]
    pub api_rate_per_minute: u32,

    /// Minutes without a request after which a session ends.
    #[arg(long, env = "DEBRIEF_SESSION_IDLE_MINUTES", default_value_t = 12 * 60)]
    pub session_idle_minutes: i64,

    /// Days after an incident's resolution by which its review is due.
    #[arg(long, env = "DEBRIEF_REVIEW_DUE_DAYS", default_value_t = crate::domain::postmortem::DEFAULT_REVIEW_DUE_DAYS)]
    pub review_due_days: i64,

    /// Reviewer approvals a postmortem needs before it can be published.
    #[arg(long, env = "DEBRIEF_REQUIRED_APPROVALS", default_value_t = 1)]
    pub required_approvals: i64,

    /// Hours after sign-in after which a session ends, however active.
    #[arg(long, env = "DEBRIEF_SESSION_LIFETIME_HOURS", default_value_t = 7 * 24)]
    pub session_lifetime_hours: i64,

    /// Largest attachment accepted, in megabytes.
    #[arg(long, env = "DEBRIEF_MAX_UPLOAD_MB", default_value_t = 10)]
    pub max_upload_mb: usize,

    /// The organization's time zone (an IANA name such as Europe/Berlin): an
    /// action item is overdue once its due date has ended there.
    #[arg(long, env = "DEBRIEF_TIME_ZONE", default_value = "UTC", value_parser = parse_zone_arg)]
    pub time_zone: Tz,

    /// Minutes between two sweeps for overdue and stale items.
    #[arg(long, env = "DEBRIEF_SWEEP_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub sweep_minutes: u64,

    #[command(flatten)]
    pub mail: MailConfig,

    #[command(flatten)]
    pub integrations: IntegrationsConfig,
}

/// The organization's other tools: who may send alerts, and how.
#[derive(Args, Clone)]
pub struct IntegrationsConfig {
    /// The bearer token Alertmanager sends to
    /// /api/v1/alerts/alertmanager (its `http_config.authorization`).
    /// Unset: that endpoint accepts nothing.
    #[arg(long, env = "DEBRIEF_ALERTMANAGER_TOKEN", hide_env_values = true)]
    pub alertmanager_token: Option<String>,

    /// The signing secret of a PagerDuty v3 webhook subscription sending to
    /// /api/v1/alerts/pagerduty. Unset: that endpoint accepts nothing.
    #[arg(long, env = "DEBRIEF_PAGERDUTY_SECRET", hide_env_values = true)]
    pub pagerduty_secret: Option<String>,

    /// A GitHub token that may create and read issues (a fine-grained token
    /// with Issues read and write). Unset: GitHub is not offered.
    #[arg(long, env = "DEBRIEF_GITHUB_TOKEN", hide_env_values = true)]
    pub github_token: Option<String>,

    /// GitHub's REST API (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(
        long,
        env = "DEBRIEF_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,

    /// The secret of the repository or organization webhook that posts
    /// `issues` events to /api/v1/trackers/github.
    #[arg(long, env = "DEBRIEF_GITHUB_WEBHOOK_SECRET", hide_env_values = true)]
    pub github_webhook_secret: Option<String>,

    /// The Jira Cloud site, https://ORG.atlassian.net. Jira is offered when
    /// this, the email and the API token are set.
    #[arg(long, env = "DEBRIEF_JIRA_URL")]
    pub jira_url: Option<String>,

    /// The Atlassian account Debrief acts as.
    #[arg(long, env = "DEBRIEF_JIRA_EMAIL")]
    pub jira_email: Option<String>,

    /// That account's API token.
    #[arg(long, env = "DEBRIEF_JIRA_API_TOKEN", hide_env_values = true)]
    pub jira_api_token: Option<String>,

    /// The issue type of issues Debrief makes in Jira.
    #[arg(long, env = "DEBRIEF_JIRA_ISSUE_TYPE", default_value = "Task")]
    pub jira_issue_type: String,

    /// The secret of the Jira webhook that posts issue events to
    /// /api/v1/trackers/jira.
    #[arg(long, env = "DEBRIEF_JIRA_WEBHOOK_SECRET", hide_env_values = true)]
    pub jira_webhook_secret: Option<String>,

    /// Minutes between two passes that read every linked issue again, for
    /// changes whose webhook was missed.
    #[arg(long, env = "DEBRIEF_TRACKER_RECONCILE_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub tracker_reconcile_minutes: u64,

    /// The OpenID provider's issuer URL (Okta, Google, Entra ID, Keycloak,
    /// ...). Sign-in through it is offered when this, the client id and the
    /// client secret are set.
    #[arg(long, env = "DEBRIEF_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,

    #[arg(long, env = "DEBRIEF_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,

    #[arg(long, env = "DEBRIEF_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,

    /// Email domains that may sign in through the provider, separated by
    /// commas (`acme.com,acme.co.uk`). Empty: any the provider vouches for.
    #[arg(long, env = "DEBRIEF_OIDC_ALLOWED_DOMAINS", default_value = "")]
    pub oidc_allowed_domains: String,

    /// The scopes asked for, separated by spaces.
    #[arg(
        long,
        env = "DEBRIEF_OIDC_SCOPES",
        default_value = "openid email profile"
    )]
    pub oidc_scopes: String,

    /// The ID token claim that lists a person's groups.
    #[arg(long, env = "DEBRIEF_OIDC_GROUPS_CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,

    /// Groups whose people start as admins (comma-separated).
    #[arg(long, env = "DEBRIEF_OIDC_ADMIN_GROUPS", default_value = "")]
    pub oidc_admin_groups: String,

    /// Groups whose people start as members (comma-separated); with none
    /// set, everyone not an admin starts as DEBRIEF_OIDC_DEFAULT_ROLE.
    #[arg(long, env = "DEBRIEF_OIDC_MEMBER_GROUPS", default_value = "")]
    pub oidc_member_groups: String,

    /// The role of someone in none of the groups above: member or viewer.
    #[arg(long, env = "DEBRIEF_OIDC_DEFAULT_ROLE", default_value = "viewer")]
    pub oidc_default_role: String,

    /// Whether signing in with a password stays possible beside the provider.
    #[arg(long, env = "DEBRIEF_PASSWORD_SIGN_IN", default_value_t = true, action = clap::ArgAction::Set)]
    pub password_sign_in: bool,
}

impl Default for IntegrationsConfig {
    fn default() -> Self {
        IntegrationsConfig {
            alertmanager_token: None,
            pagerduty_secret: None,
            github_token: None,
            github_api_url: "https://api.github.com".to_owned(),
            github_webhook_secret: None,
            jira_url: None,
            jira_email: None,
            jira_api_token: None,
            jira_issue_type: "Task".to_owned(),
            jira_webhook_secret: None,
            tracker_reconcile_minutes: 15,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_allowed_domains: String::new(),
            oidc_scopes: "openid email profile".to_owned(),
            oidc_groups_claim: "groups".to_owned(),
            oidc_admin_groups: String::new(),
            oidc_member_groups: String::new(),
            oidc_default_role: "viewer".to_owned(),
            password_sign_in: true,
        }
    }
}

// Secrets never reach logs: Debug says only which are set.
impl std::fmt::Debug for IntegrationsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |secret: &Option<String>| if secret.is_some() { "set" } else { "unset" };
        f.debug_struct("IntegrationsConfig")
            .field("alertmanager_token", &set(&self.alertmanager_token))
            .field("pagerduty_secret", &set(&self.pagerduty_secret))
            .field("github_token", &set(&self.github_token))
            .field("github_api_url", &self.github_api_url)
            .field("github_webhook_secret", &set(&self.github_webhook_secret))
            .field("jira_url", &self.jira_url)
            .field("jira_email", &self.jira_email)
            .field("jira_api_token", &set(&self.jira_api_token))
            .field("jira_issue_type", &self.jira_issue_type)
            .field("jira_webhook_secret", &set(&self.jira_webhook_secret))
            .field("tracker_reconcile_minutes", &self.tracker_reconcile_minutes)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_client_id", &self.oidc_client_id)
            .field("oidc_client_secret", &set(&self.oidc_client_secret))
            .field("oidc_allowed_domains", &self.oidc_allowed_domains)
            .field("password_sign_in", &self.password_sign_in)
            .finish()
    }
}

/// Email: where to send it from and through, and when digests go out.
#[derive(Args, Clone, Debug)]
pub struct MailConfig {
    /// The SMTP server: `smtp://host:25` (no TLS), `smtp://host:587?tls=required`
    /// (STARTTLS), `smtps://host:465` (TLS), with `user:password@` before the
    /// host if it wants them. Unset: digests are composed but not sent.
    #[arg(long, env = "DEBRIEF_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of Debrief's email.
    #[arg(
        long,
        env = "DEBRIEF_MAIL_FROM",
        default_value = "Debrief <debrief@localhost>"
    )]
    pub mail_from: String,

    /// The weekday weekly digests go out, in DEBRIEF_TIME_ZONE.
    #[arg(long, env = "DEBRIEF_DIGEST_DAY", default_value = "monday",
          value_parser = crate::domain::digest::parse_weekday)]
    pub digest_day: chrono::Weekday,

    /// The hour (0 to 23) weekly and daily digests go out, in DEBRIEF_TIME_ZONE.
    #[arg(long, env = "DEBRIEF_DIGEST_HOUR", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(0..24))]
    pub digest_hour: u32,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: None,
            mail_from: "Debrief <debrief@localhost>".to_owned(),
            digest_day: chrono::Weekday::Mon,
            digest_hour: 8,
        }
    }
}

fn parse_zone_arg(name: &str) -> Result<Tz, String> {
    crate::domain::time::parse_zone(name).ok_or_else(|| {
        format!("unknown time zone {name:?}: use an IANA name such as Europe/Berlin")
    })
}

impl ServerConfig {
    /// What the sweeper needs from the configuration.
    pub fn sweeper(&self) -> crate::jobs::sweeper::Settings {
        crate::jobs::sweeper::Settings {
            every: std::time::Duration::from_secs(self.sweep_minutes * 60),
            zone: self.time_zone,
            review_due_days: self.review_due_days,
        }
    }

    /// What the digest composer needs from the configuration.
    pub fn digest(&self) -> crate::jobs::digest::Settings {
        crate::jobs::digest::Settings {
            schedule: crate::domain::digest::Schedule {
                day: self.mail.digest_day,
                hour: self.mail.digest_hour,
                zone: self.time_zone,
            },
            base_url: self.public_base_url(),
        }
    }

    /// Largest attachment accepted, in bytes.
    pub fn max_upload_bytes(&self) -> usize {
        self.max_upload_mb.max(1) * 1024 * 1024
    }

    /// The public base URL without a trailing slash.
    pub fn public_base_url(&self) -> String {
        match &self.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies
            .unwrap_or_else(|| self.public_base_url().starts_with("https://"))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get());
    (cores * 2).clamp(4, 32) as u32
}

/// The default database URL: the local Postgres socket, as the operating
/// system user (or `postgres` when no user is named in the environment, as in
/// a bare CI shell, where sqlx would otherwise connect as `anonymous`).
pub fn default_database_url() -> String {
    let user = ["PGUSER", "USER", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .unwrap_or_else(|| "postgres".to_owned());
    format!("postgres://{user}@localhost/debrief?host=/var/run/postgresql")
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_password("postgres://debrief:s3cret@db:5432/debrief"),
            "postgres://debrief:***@db:5432/debrief"
        );
        let no_password = "postgres://postgres@localhost/debrief?host=/var/run/postgresql";
        assert_eq!(redact_password(no_password), no_password);
    }
}
