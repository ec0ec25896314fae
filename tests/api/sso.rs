//! Single sign-on against a real OpenID provider (the certified
//! `oidc-provider` package, on loopback with the machine's Node.js): roles
//! from groups, the domain rule, deactivated accounts, and refusals of a
//! wrong `state`, a forged ID token and an expired one.

use std::{process::Stdio, time::Duration};

use debrief::{config::IntegrationsConfig, domain::role::Role};
use reqwest::{StatusCode, redirect::Policy};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::helpers::TestApp;

pub const CLIENT_ID: &str = "debrief";
pub const CLIENT_SECRET: &str = "debrief-test-client-secret";

/// The provider's process; stopped on drop.
pub struct OidcProvider {
    pub issuer: String,
    _process: Child,
}

/// A free loopback port, for the provider (whose address the server must
/// know before the provider knows the server's).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// What a server taking sign-ins from the provider on `port` is set to.
pub fn sso_settings(port: u16) -> IntegrationsConfig {
    IntegrationsConfig {
        oidc_issuer: Some(format!("http://127.0.0.1:{port}")),
        oidc_client_id: Some(CLIENT_ID.to_owned()),
        oidc_client_secret: Some(CLIENT_SECRET.to_owned()),
        oidc_allowed_domains: "acme.test".to_owned(),
        oidc_scopes: "openid email profile groups".to_owned(),
        oidc_admin_groups: "debrief-admins".to_owned(),
        oidc_member_groups: "engineering".to_owned(),
        ..crate::helpers::test_integrations()
    }
}

impl OidcProvider {
    pub async fn start(port: u16, app: &TestApp) -> OidcProvider {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        crate::helpers::npm_packages(&folder, "oidc-provider");
        let mut process = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&folder)
            .env("PORT", port.to_string())
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env(
                "REDIRECT_URI",
                format!("{}/auth/oidc/callback", app.address),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs the test provider");
        let stdout = process.stdout.take().expect("the provider's output");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("ready") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(ready, Ok(true), "the OpenID provider did not start");
        // Keep reading what it prints: a closed pipe would end it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        OidcProvider {
            issuer: format!("http://127.0.0.1:{port}"),
            _process: process,
        }
    }

    /// Makes the provider spoil the next ID token it issues.
    pub async fn spoil_next(&self, kind: &str) {
        reqwest::Client::new()
            .post(format!("{}/test/spoil?kind={kind}", self.issuer))
            .send()
            .await
            .expect("the provider takes the instruction");
    }
}

/// A browser-like client that keeps cookies and follows nothing by itself.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client")
}

fn location(response: &reqwest::Response, base: &str) -> Option<String> {
    let target = response.headers().get("location")?.to_str().ok()?;
    Some(if target.starts_with("http") {
        target.to_owned()
    } else {
        format!("{base}{target}")
    })
}

/// The provider's development form on a page: where it posts and which
/// prompt it answers (`login` or `consent`).
fn provider_form(html: &str) -> Option<(String, String)> {
    let value_after = |marker: &str| {
        let start = html.find(marker)? + marker.len();
        Some(
            html[start..]
                .chars()
                .take_while(|c| *c != '"')
                .collect::<String>(),
        )
    };
    let action = value_after("action=\"")?;
    let prompt = value_after("name=\"prompt\" value=\"")?;
    Some((action, prompt))
}

/// Signs in as `login` through the provider's login and consent pages;
/// `tamper` may change the callback URL. Returns the server's answer to the
/// callback and its body.
async fn sign_in_through_provider(
    app: &TestApp,
    provider: &OidcProvider,
    client: &reqwest::Client,
    login: &str,
    tamper: impl Fn(String) -> String,
) -> (StatusCode, String) {
    let mut url = format!("{}/auth/oidc?next=/action-items", app.address);
    for _ in 0..20 {
        if url.starts_with(&format!("{}/auth/oidc/callback", app.address)) {
            let response = client.get(tamper(url)).send().await.expect("callback");
            let status = response.status();
            let next = location(&response, &app.address).unwrap_or_default();
            let body = response.text().await.unwrap_or_default();
            return (status, if status.is_redirection() { next } else { body });
        }
        let response = client
            .get(&url)
            .send()
            .await
            .expect("a step of the sign-in");
        if let Some(next) = location(&response, &provider.issuer) {
            url = next;
            continue;
        }
        let html = response.text().await.expect("page");
        let Some((action, prompt)) = provider_form(&html) else {
            panic!("an unexpected page at {url}: {html}");
        };
        let form: Vec<(&str, &str)> = if prompt == "login" {
            vec![
                ("prompt", "login"),
                ("login", login),
                ("password", "any password"),
            ]
        } else {
            vec![("prompt", prompt.as_str())]
        };
        let response = client
            .post(&action)
            .form(&form)
            .send()
            .await
            .expect("the provider's form");
        url = location(&response, &provider.issuer).expect("the form redirects");
    }
    panic!("the sign-in did not come back");
}

async fn setup() -> (TestApp, OidcProvider) {
    let port = free_port();
    let app = TestApp::spawn_integrated(sso_settings(port)).await;
    let provider = OidcProvider::start(port, &app).await;
    (app, provider)
}

async fn role_of(app: &TestApp, email: &str) -> Option<(String, bool)> {
    sqlx::query_as("SELECT role::text, active FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(&app.db)
        .await
        .expect("user")
}

#[tokio::test]
async fn the_first_sign_in_makes_the_account_with_the_role_its_groups_map_to() {
    let (app, provider) = setup().await;
    let payments: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO teams (id, name, created_at) VALUES (gen_random_uuid(), 'Payments', now()) RETURNING id",
    )
    .fetch_one(&app.db)
    .await
    .expect("a team");

    let ada = browser();
    let (status, next) =
        sign_in_through_provider(&app, &provider, &ada, "ada@acme.test", |u| u).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{next}");
    assert_eq!(next, format!("{}/action-items", app.address));
    assert_eq!(
        role_of(&app, "ada@acme.test").await,
        Some(("admin".to_owned(), true))
    );
    let in_team: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 AND u.email = 'ada@acme.test')",
    )
    .bind(payments)
    .fetch_one(&app.db)
    .await
    .expect("membership");
    assert!(in_team, "the Payments group joins the Payments team");
    let home = ada
        .get(format!("{}/action-items", app.address))
        .send()
        .await
        .expect("page");
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.text().await.unwrap_or_default().contains("Ada Admin"));

    let max = browser();
    sign_in_through_provider(&app, &provider, &max, "max@acme.test", |u| u).await;
    assert_eq!(
        role_of(&app, "max@acme.test").await,
        Some(("member".to_owned(), true))
    );
    let vic = browser();
    sign_in_through_provider(&app, &provider, &vic, "vic@acme.test", |u| u).await;
    assert_eq!(
        role_of(&app, "vic@acme.test").await,
        Some(("viewer".to_owned(), true))
    );
}

#[tokio::test]
async fn another_domain_and_a_deactivated_account_are_refused() {
    let (app, provider) = setup().await;
    let (status, body) =
        sign_in_through_provider(&app, &provider, &browser(), "eve@elsewhere.test", |u| u).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("is not at a domain allowed"), "{body}");
    assert_eq!(role_of(&app, "eve@elsewhere.test").await, None);

    app.create_user("gone@acme.test", "Gone Person", Role::Member)
        .await;
    sqlx::query("UPDATE users SET active = false WHERE email = 'gone@acme.test'")
        .execute(&app.db)
        .await
        .expect("deactivate");
    let gone = browser();
    let (status, body) =
        sign_in_through_provider(&app, &provider, &gone, "gone@acme.test", |u| u).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("deactivated"), "{body}");
    let page = gone
        .get(format!("{}/action-items", app.address))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "not signed in");
}

#[tokio::test]
async fn a_wrong_state_a_forged_and_an_expired_id_token_are_refused() {
    let (app, provider) = setup().await;
    let client = browser();
    let (status, body) =
        sign_in_through_provider(&app, &provider, &client, "max@acme.test", |url| {
            let start = url.find("state=").expect("a state") + "state=".len();
            let end = url[start..].find('&').map_or(url.len(), |i| start + i);
            format!("{}forged-state{}", &url[..start], &url[end..])
        })
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("state does not match"), "{body}");

    provider.spoil_next("forged").await;
    let (status, body) =
        sign_in_through_provider(&app, &provider, &browser(), "max@acme.test", |u| u).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("ID token was refused"), "{body}");

    provider.spoil_next("expired").await;
    let (status, body) =
        sign_in_through_provider(&app, &provider, &browser(), "max@acme.test", |u| u).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("ID token was refused"), "{body}");
    assert!(body.to_lowercase().contains("expire"), "{body}");

    assert_eq!(
        role_of(&app, "max@acme.test").await,
        None,
        "nobody was signed in or made"
    );
    let signed_in: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .unwrap_or(0);
    assert_eq!(signed_in, 0);
}
