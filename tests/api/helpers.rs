//! The test harness: every test gets its own database and its own server on
//! a free port, with a clock the test moves by hand.

use std::{str::FromStr, sync::Arc};

use chrono::{Duration, Utc};
use debrief::{
    clock::Clock,
    config::{IntegrationsConfig, ServerConfig, default_database_url},
    db,
    domain::{email::Email, password, role::Role},
    server,
    store::{self, users::NewUser},
    web::AppState,
};
use reqwest::{StatusCode, header::HeaderMap};
use sqlx::{
    AssertSqlSafe, ConnectOptions, PgPool,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::proxy::Proxy;

/// A password that passes the policy, shared by the fixtures.
pub const PASSWORD: &str = "maple copper lantern river";

/// The secrets the test servers take alerts with.
pub const ALERTMANAGER_TOKEN: &str = "test-alertmanager-token";
pub const PAGERDUTY_SECRET: &str = "test-pagerduty-secret";

/// What every test server is connected to, unless a test says otherwise.
pub fn test_integrations() -> IntegrationsConfig {
    IntegrationsConfig {
        alertmanager_token: Some(ALERTMANAGER_TOKEN.to_owned()),
        pagerduty_secret: Some(PAGERDUTY_SECRET.to_owned()),
        ..IntegrationsConfig::default()
    }
}

pub struct TestApp {
    pub address: String,
    pub db: PgPool,
    pub clock: Clock,
    /// The setup link the server would log on first start.
    pub setup_link: Option<String>,
    db_name: String,
    server_options: PgConnectOptions,
    pool_options: PgConnectOptions,
    base_url: Option<String>,
    integrations: IntegrationsConfig,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Serves the application on a free port until told to stop; returns its address.
async fn start_server(
    pool: PgPool,
    clock: Clock,
    base_url: Option<String>,
    integrations: IntegrationsConfig,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let listen = listener.local_addr().expect("bound address");
    let config = ServerConfig {
        listen,
        base_url,
        secure_cookies: None,
        trust_proxy: false,
        metrics_token: Some(METRICS_TOKEN.to_owned()),
        client_header_seconds: 10,
        client_body_seconds: 60,
        request_timeout_seconds: 30,
        shutdown_seconds: 5,
        session_idle_minutes: 12 * 60,
        api_rate_per_minute: 600,
        session_lifetime_hours: 7 * 24,
        max_upload_mb: 10,
        review_due_days: 5,
        required_approvals: 1,
        time_zone: chrono_tz::Tz::UTC,
        sweep_minutes: 15,
        mail: debrief::config::MailConfig::default(),
        integrations,
    };
    let address = format!("http://{listen}");
    let state = AppState {
        db: pool,
        config: Arc::new(config),
        clock,
        caches: Default::default(),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let limits = server::ClientLimits::from_config(&state.config);
    tokio::spawn(server::serve(listener, state, limits, shutdown));
    (address, stop)
}

/// Where the test databases live: `DEBRIEF_TEST_DATABASE_URL`, or the same
/// local server the application uses by default.
fn server_options() -> PgConnectOptions {
    let url = std::env::var("DEBRIEF_TEST_DATABASE_URL").unwrap_or_else(|_| default_database_url());
    PgConnectOptions::from_str(&url).expect("a valid test database URL")
}

impl TestApp {
    /// A server on an empty archive.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|options| options, None, test_integrations()).await
    }

    /// A server connected to other tools as `integrations` says.
    pub async fn spawn_integrated(integrations: IntegrationsConfig) -> TestApp {
        Self::spawn_with(|options| options, None, integrations).await
    }

    /// A server that believes users reach it at `base_url` (say, https).
    pub async fn spawn_at(base_url: &str) -> TestApp {
        Self::spawn_with(
            |options| options,
            Some(base_url.to_owned()),
            test_integrations(),
        )
        .await
    }

    /// A server whose database connection passes through a TCP proxy the
    /// test can cut, to play a database outage without stopping Postgres.
    pub async fn spawn_behind_proxy() -> (TestApp, Proxy) {
        let proxy = Proxy::start("127.0.0.1:5432").await;
        let port = proxy.port();
        let app = Self::spawn_with(
            move |options| {
                PgConnectOptions::new()
                    .host("127.0.0.1")
                    .port(port)
                    .username(options.get_username())
                    .database(options.get_database().unwrap_or("postgres"))
            },
            None,
            test_integrations(),
        )
        .await;
        (app, proxy)
    }

    async fn spawn_with(
        route: impl FnOnce(PgConnectOptions) -> PgConnectOptions,
        base_url: Option<String>,
        integrations: IntegrationsConfig,
    ) -> TestApp {
        // reqwest here uses rustls with ring, as the server does; its clients
        // need the process's provider installed before they are built.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server_options = server_options();
        let db_name = format!("debrief_test_{}", Uuid::new_v4().simple());
        let mut admin = server_options
            .clone()
            .database("postgres")
            .connect()
            .await
            .expect("Postgres is running for the tests (see README)");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {db_name}")))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        let options = route(server_options.clone().database(&db_name));
        let options_for_restart = options.clone();
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_with(options)
            .await
            .expect("connect to the test database");
        db::migrate(&pool).await.expect("migrations apply");

        let clock = Clock::fixed(Utc::now());
        let (address, stop) = start_server(
            pool.clone(),
            clock.clone(),
            base_url.clone(),
            integrations.clone(),
        )
        .await;
        let setup_link = debrief::setup::issue_setup_link(&pool, &clock, &address)
            .await
            .expect("setup link");
        TestApp {
            address,
            db: pool,
            clock,
            setup_link,
            db_name,
            server_options,
            pool_options: options_for_restart,
            base_url,
            integrations,
            stop: Some(stop),
        }
    }

    /// Stops the server (gracefully) and starts a new one, with new database
    /// connections, on the same database: what survives was really stored.
    pub async fn restart(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect_with(self.pool_options.clone())
            .await
            .expect("reconnect");
        let (address, stop) = start_server(
            pool.clone(),
            self.clock.clone(),
            self.base_url.clone(),
            self.integrations.clone(),
        )
        .await;
        self.address = address;
        self.db = pool;
        self.stop = Some(stop);
    }

    /// A browser-like client with its own cookie jar, not following redirects.
    pub fn client(&self) -> TestClient {
        TestClient {
            address: self.address.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
        }
    }

    /// Imports Markdown sources as `debrief import` does, one transaction
    /// each, times that name no zone read in `zone`, owners matched to the
    /// accounts that exist now.
    pub async fn import_markdown(
        &self,
        sources: &[debrief::archive::markdown::Source],
        zone: chrono_tz::Tz,
    ) {
        let owners = store::imports::load_owner_names(&self.db)
            .await
            .expect("owners");
        let words = debrief::domain::import::Vocabulary::default();
        for source in sources {
            debrief::archive::markdown::import_one(
                &self.db,
                source,
                &owners,
                None,
                zone,
                &words,
                self.clock.now(),
            )
            .await
            .unwrap_or_else(|error| panic!("{}: {error:#}", source.name));
        }
    }

    /// Creates an active user with [`PASSWORD`] directly in the database.
    pub async fn create_user(&self, email: &str, name: &str, role: Role) -> Uuid {
        let email = Email::parse(email).expect("valid email");
        let hash = password::hash(PASSWORD).expect("hash");
        let user = NewUser {
            email: &email,
            display_name: name,
            role,
            password_hash: Some(&hash),
        };
        store::users::insert_user(&self.db, user, self.clock.now())
            .await
            .expect("insert user")
    }

    /// A client signed in as a new user of `role`.
    pub async fn signed_in(&self, role: Role) -> (TestClient, Uuid) {
        let email = format!("{}-{}@example.com", role.as_str(), Uuid::new_v4().simple());
        let id = self
            .create_user(&email, &format!("Test {}", role.label()), role)
            .await;
        let client = self.client();
        let response = client.sign_in(&email, PASSWORD).await;
        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "sign-in of the fixture user"
        );
        (client, id)
    }

    /// A database on the test's server that does not exist yet (for a
    /// process that is to create it), dropped when the guard goes.
    pub fn unused_database(&self) -> UnusedDatabase {
        let name = format!("debrief_test_{}", Uuid::new_v4().simple());
        UnusedDatabase {
            url: self.database_url().replace(&self.db_name, &name),
            name,
            options: self.server_options.clone().database("postgres"),
        }
    }

    /// A URL for this test's database, for running the `debrief` binary on it.
    pub fn database_url(&self) -> String {
        let options = &self.server_options;
        let user = options.get_username();
        match options.get_socket() {
            Some(socket) => format!(
                "postgres://{user}@localhost/{}?host={}",
                self.db_name,
                socket.display()
            ),
            None => format!(
                "postgres://{user}@{}:{}/{}",
                options.get_host(),
                options.get_port(),
                self.db_name
            ),
        }
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The postmortem of incident `number`, as stored now.
    pub async fn postmortem(&self, number: i32) -> debrief::store::postmortems::Postmortem {
        debrief::store::postmortems::find_by_number(&self.db, number, None, None, None)
            .await
            .expect("query")
            .expect("the incident exists")
            .postmortem
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        drop_database(
            self.server_options.clone().database("postgres"),
            &self.db_name,
        );
    }
}

/// The bearer token of `/metrics` in tests.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// One browser: a cookie jar and helpers that send forms with their CSRF token.
#[derive(Clone)]
pub struct TestClient {
    pub address: String,
    pub http: reqwest::Client,
}

pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get("location")
            .and_then(|value| value.to_str().ok())
    }
}

impl TestClient {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        into_page(response).await
    }

    /// The CSRF token of this client's session (starting one if needed).
    pub async fn csrf_token(&self) -> String {
        let mut page = self.get("/login").await;
        if page.status == StatusCode::SEE_OTHER {
            page = self.get("/account").await;
        }
        extract_csrf(&page.body).expect("a page with a form")
    }

    /// Posts a form the way the browser would: same origin, with the token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.csrf_token().await;
        let mut form: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .http
            .post(self.url(path))
            .header("origin", &self.address)
            .header("sec-fetch-site", "same-origin")
            .form(&form)
            .send()
            .await
            .expect("POST");
        into_page(response).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Page {
        self.post_form("/login", &[("email", email), ("password", password)])
            .await
    }
}

async fn into_page(response: reqwest::Response) -> Page {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.expect("body");
    Page {
        status,
        headers,
        body,
    }
}

/// The value of the first `_csrf` hidden field in a page.
pub fn extract_csrf(html: &str) -> Option<String> {
    let marker = r#"name="_csrf" value=""#;
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The token of a setup or welcome link.
pub fn link_token(link: &str) -> String {
    link.rsplit(['=', '/']).next().expect("a token").to_owned()
}

/// A team named `name` with these members, each `(user, is lead)`.
pub async fn team(db: &PgPool, name: &str, members: &[(Uuid, bool)]) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, now())")
        .bind(id)
        .bind(name)
        .execute(db)
        .await
        .expect("team");
    for (user, lead) in members {
        sqlx::query("INSERT INTO team_members (team_id, user_id, is_lead) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(user)
            .bind(lead)
            .execute(db)
            .await
            .expect("member");
    }
    id
}

/// `debrief serve` run as its own process on the test's database, with JSON
/// logs kept line by line; `env` adds or overrides settings.
pub struct ServerProcess {
    pub process: tokio::process::Child,
    pub address: String,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    pub async fn start(app: &TestApp, env: &[(&str, &str)]) -> ServerProcess {
        let server = ServerProcess::spawn(&app.database_url(), &["serve"], env);
        assert!(
            server.wait_ready(std::time::Duration::from_secs(10)).await,
            "debrief serve did not come up: {:#?}",
            server.lines()
        );
        server
    }

    /// Starts `debrief ARGS` on `database_url` without waiting for it.
    pub fn spawn(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        use tokio::io::AsyncBufReadExt;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let address = format!("http://127.0.0.1:{port}");
        let mut process = tokio::process::Command::new(env!("CARGO_BIN_EXE_debrief"))
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("DEBRIEF_LISTEN", format!("127.0.0.1:{port}"))
            .env("DEBRIEF_BASE_URL", &address)
            .env("DEBRIEF_LOG_FORMAT", "json")
            .env(
                "RUST_LOG",
                "debug,sqlx=warn,hyper=info,h2=info,reqwest=info",
            )
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the debrief binary");
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stdout = process.stdout.take().expect("stdout");
        let stderr = process.stderr.take().expect("stderr");
        for stream in [
            Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(stderr),
        ] {
            let lines = lines.clone();
            tokio::spawn(async move {
                let mut reader = tokio::io::BufReader::new(stream).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    lines.lock().expect("the lines").push(line);
                }
            });
        }
        ServerProcess {
            process,
            address,
            lines,
        }
    }

    /// The status `path` answers now, if the process answers at all.
    pub async fn status(&self, path: &str) -> Option<StatusCode> {
        reqwest::Client::new()
            .get(format!("{}{path}", self.address))
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .ok()
            .map(|response| response.status())
    }

    /// Waits up to `within` for `/readyz` to answer 200.
    pub async fn wait_ready(&self, within: std::time::Duration) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < within {
            if self.status("/readyz").await == Some(StatusCode::OK) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    }

    pub fn client(&self) -> TestClient {
        TestClient {
            address: self.address.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("the lines").clone()
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit;
    /// gives how long it took, or `None` if it was still running.
    pub async fn terminate(&mut self, within: std::time::Duration) -> Option<std::time::Duration> {
        let pid = self.process.id().expect("a running process").to_string();
        let started = std::time::Instant::now();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        match tokio::time::timeout(within, self.process.wait()).await {
            Ok(_) => Some(started.elapsed()),
            Err(_) => None,
        }
    }
}

/// A database name a test hands to a process to create; dropped afterwards.
pub struct UnusedDatabase {
    pub url: String,
    pub name: String,
    options: PgConnectOptions,
}

impl Drop for UnusedDatabase {
    fn drop(&mut self) {
        drop_database(self.options.clone(), &self.name);
    }
}

/// Drops database `name` through `options` (the server's `postgres`
/// database). The test's runtime may be shutting down, so this runs on a
/// thread with a runtime of its own.
fn drop_database(options: PgConnectOptions, name: &str) {
    let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let dropper = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            if let Ok(mut connection) = options.connect().await {
                let _ = sqlx::raw_sql(AssertSqlSafe(statement))
                    .execute(&mut connection)
                    .await;
            }
        });
    });
    let _ = dropper.join();
}

/// Installs the pinned npm packages (its `package-lock.json`) of a folder
/// under `tests/` the first time a test needs them on this machine;
/// `marker` is a package whose presence means they are installed.
pub fn npm_packages(folder: &std::path::Path, marker: &str) {
    static INSTALLED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());
    let mut installed = INSTALLED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if installed.iter().any(|done| done == folder)
        || folder.join("node_modules").join(marker).exists()
    {
        return;
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(folder)
        .stdout(std::process::Stdio::null())
        .status();
    match status {
        Ok(status) if status.success() => installed.push(folder.to_owned()),
        outcome => panic!(
            "the npm packages of {} could not be installed (Node.js and npm are needed): {outcome:?}",
            folder.display()
        ),
    }
}
