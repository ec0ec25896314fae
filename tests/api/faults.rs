//! Faults, each against a real `debrief serve` process on loopback: slow and
//! idle clients are cut within their configured limits, and SIGTERM stops
//! the process within its deadline while a client holds a request open.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{ServerProcess, TestApp};

/// Limits small enough for a test: 1 s for headers (and between requests),
/// 2 s for a body, 2 s to finish at shutdown.
const LIMITS: &[(&str, &str)] = &[
    ("DEBRIEF_CLIENT_HEADER_SECONDS", "1"),
    ("DEBRIEF_CLIENT_BODY_SECONDS", "2"),
    ("DEBRIEF_SHUTDOWN_SECONDS", "2"),
];

async fn connect(server: &ServerProcess) -> TcpStream {
    let address = server.address.trim_start_matches("http://");
    TcpStream::connect(address).await.expect("a connection")
}

/// Reads until the server closes the connection (or `limit` passes);
/// gives what was read and how long the connection stayed open.
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(
            limit.saturating_sub(started.elapsed()),
            stream.read(&mut buffer),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&seen).into_owned(),
                    Some(started.elapsed()),
                );
            }
            Ok(Ok(n)) => seen.extend_from_slice(&buffer[..n]),
            Err(_) => return (String::from_utf8_lossy(&seen).into_owned(), None),
        }
    }
}

#[tokio::test]
async fn slow_and_idle_clients_are_cut_within_their_limits() {
    let app = TestApp::spawn().await;
    let server = ServerProcess::start(&app, LIMITS).await;
    let host = server.address.trim_start_matches("http://").to_owned();

    // Fifty half-sent requests (slowloris): each is closed after about a
    // second, none lasts five.
    let mut half_sent = Vec::new();
    for _ in 0..50 {
        let mut stream = connect(&server).await;
        stream
            .write_all(format!("GET /login HTTP/1.1\r\nHost: {host}\r\nX-Slow: ").as_bytes())
            .await
            .expect("a partial request");
        half_sent.push(stream);
    }
    let started = Instant::now();
    let mut longest = Duration::ZERO;
    for mut stream in half_sent {
        let (_, open) = until_closed(&mut stream, Duration::from_secs(5)).await;
        let open = open.expect("a half-sent request is cut");
        longest = longest.max(open);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "all cut in {:?}",
        started.elapsed()
    );

    // An idle kept-alive connection: one answered request, then silence.
    let mut idle = connect(&server).await;
    idle.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .expect("a request");
    let (answered, open) = until_closed(&mut idle, Duration::from_secs(5)).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    let idle_for = open.expect("an idle connection is closed");
    assert!(idle_for < Duration::from_secs(4), "idle for {idle_for:?}");

    // A body sent a byte at a time: cut at the body limit with 408.
    let mut trickle = connect(&server).await;
    trickle
        .write_all(
            format!(
                "POST /login HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
                server.address
            )
            .as_bytes(),
        )
        .await
        .expect("headers");
    let body_started = Instant::now();
    let mut answer = String::new();
    for _ in 0..40 {
        if trickle.write_all(b"a").await.is_err() {
            break;
        }
        let mut buffer = [0u8; 4096];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(200), trickle.read(&mut buffer)).await
        {
            answer.push_str(&String::from_utf8_lossy(&buffer[..n]));
            if n == 0 || answer.contains("\r\n\r\n") {
                break;
            }
        }
    }
    let cut_after = body_started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        cut_after < Duration::from_secs(4),
        "a trickled body was cut after {cut_after:?}"
    );
    eprintln!(
        "limits 1 s / 2 s: 50 half-sent requests cut within {longest:?}, an idle connection after {idle_for:?}, a trickled body after {cut_after:?}"
    );
}

#[tokio::test]
async fn sigterm_stops_the_server_within_its_deadline_while_a_request_is_half_sent() {
    let app = TestApp::spawn().await;
    // Long client limits, so only the shutdown deadline can end the request.
    let mut server = ServerProcess::start(
        &app,
        &[
            ("DEBRIEF_CLIENT_HEADER_SECONDS", "60"),
            ("DEBRIEF_CLIENT_BODY_SECONDS", "60"),
            ("DEBRIEF_SHUTDOWN_SECONDS", "2"),
        ],
    )
    .await;
    let host = server.address.trim_start_matches("http://").to_owned();
    // A sign-in form whose body never finishes arriving: the request is in
    // its handler, waiting for the rest (the token rides in a header).
    let visitor = server.client();
    let token = visitor.csrf_token().await;
    let page = reqwest::Client::new()
        .get(format!("{}/login", server.address))
        .send()
        .await
        .expect("the sign-in page");
    let cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let token_of_cookie =
        crate::helpers::extract_csrf(&page.text().await.expect("the page")).expect("a token");
    drop(token);
    let mut open = connect(&server).await;
    open.write_all(
        format!(
            "POST /login HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\nCookie: {cookie}\r\nX-CSRF-Token: {token_of_cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=",
            server.address
        )
        .as_bytes(),
    )
    .await
    .expect("half a request");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = server
        .terminate(Duration::from_secs(10))
        .await
        .expect("the process exits");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(5),
        "the request in flight had its deadline, then the process exited: {took:?}"
    );
    let lines = server.lines().join("\n");
    assert!(lines.contains("Debrief stopped"), "{lines}");
    // New connections are refused once it has gone.
    assert!(TcpStream::connect(&host).await.is_err());
    eprintln!("SIGTERM with a half-sent request open: exited after {took:?} (deadline 2 s)");
    drop(open);
}

#[tokio::test]
async fn three_processes_started_at_once_on_an_empty_server_all_come_up_and_seed_the_demo_once() {
    let app = TestApp::spawn().await;
    let database = app.unused_database();
    let servers: Vec<ServerProcess> = (0..3)
        .map(|_| ServerProcess::spawn(&database.url, &["serve", "--demo"], &[]))
        .collect();
    for (n, server) in servers.iter().enumerate() {
        assert!(
            server.wait_ready(Duration::from_secs(90)).await,
            "process {n} did not come up: {:#?}",
            server.lines()
        );
    }
    let pool = sqlx::PgPool::connect(&database.url)
        .await
        .expect("the new database");
    let (incidents, users): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM users)")
            .fetch_one(&pool)
            .await
            .expect("counts");
    assert_eq!(incidents, 12, "the demo archive, once");
    let mut skipped = 0;
    for server in &servers {
        assert_eq!(server.status("/login").await, Some(reqwest::StatusCode::OK));
        skipped += usize::from(
            server
                .lines()
                .iter()
                .any(|line| line.contains("the demo was not added")),
        );
    }
    assert_eq!(skipped, 2, "two of the three found the archive filled");
    eprintln!(
        "three processes on an empty server: all ready, {incidents} incidents and {users} users seeded once"
    );
    pool.close().await;
}

#[tokio::test]
async fn a_process_started_before_its_database_waits_and_is_not_ready_until_it_answers() {
    let app = TestApp::spawn().await;
    let proxy = crate::proxy::Proxy::start("127.0.0.1:5432").await;
    proxy.cut();
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/{}",
        proxy.port(),
        app.database_url()
            .split('/')
            .nth(3)
            .and_then(|rest| rest.split('?').next())
            .expect("the database name")
    );
    let server = ServerProcess::spawn(&url, &["serve"], &[]);
    // Up, alive, not ready, for as long as the database is away.
    let mut alive = false;
    for _ in 0..100 {
        if server.status("/healthz").await == Some(reqwest::StatusCode::OK) {
            alive = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(alive, "{:#?}", server.lines());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        server.status("/readyz").await,
        Some(reqwest::StatusCode::SERVICE_UNAVAILABLE),
        "{:#?}",
        server.lines()
    );
    assert_eq!(
        server.status("/login").await,
        Some(reqwest::StatusCode::SERVICE_UNAVAILABLE)
    );
    assert!(
        server
            .lines()
            .iter()
            .any(|line| line.contains("waiting for the database"))
    );
    proxy.restore();
    let started = Instant::now();
    assert!(
        server.wait_ready(Duration::from_secs(20)).await,
        "{:#?}",
        server.lines()
    );
    assert_eq!(server.status("/login").await, Some(reqwest::StatusCode::OK));
    eprintln!("database back: ready {:?} later", started.elapsed());
}

#[tokio::test]
async fn a_database_that_holds_its_packets_gets_pages_answered_503_within_the_configured_time() {
    let app = TestApp::spawn().await;
    app.create_user(
        "lin@example.com",
        "Lin Wei",
        debrief::domain::role::Role::Member,
    )
    .await;
    let proxy = crate::proxy::Proxy::start("127.0.0.1:5432").await;
    let name = app
        .database_url()
        .split('/')
        .nth(3)
        .and_then(|rest| rest.split('?').next())
        .expect("the database name")
        .to_owned();
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", proxy.port());
    let server = ServerProcess::spawn(
        &url,
        &["serve"],
        &[
            ("DEBRIEF_REQUEST_TIMEOUT_SECONDS", "3"),
            ("DEBRIEF_DB_ACQUIRE_SECONDS", "2"),
            ("DEBRIEF_DB_POOL_SIZE", "4"),
            ("DEBRIEF_METRICS_TOKEN", "scrape-me"),
        ],
    );
    assert!(
        server.wait_ready(Duration::from_secs(20)).await,
        "{:#?}",
        server.lines()
    );
    let reader = server.client();
    assert_eq!(
        reader
            .sign_in("lin@example.com", crate::helpers::PASSWORD)
            .await
            .status,
        reqwest::StatusCode::SEE_OTHER
    );
    assert_eq!(
        reader.get("/incidents").await.status,
        reqwest::StatusCode::OK
    );

    proxy.hold();
    let started = Instant::now();
    let mut pages = tokio::task::JoinSet::new();
    for path in [
        "/",
        "/incidents",
        "/action-items",
        "/search?q=pool",
        "/review",
        "/account",
    ] {
        let reader = reader.clone();
        pages.spawn(async move {
            let page = reader.get(path).await;
            (path, page.status, page.body, started.elapsed())
        });
    }
    let mut slowest = Duration::ZERO;
    while let Some(done) = pages.join_next().await {
        let (path, status, body, took) = done.expect("a page");
        assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert!(
            body.contains("briefly unavailable") || body.contains("took too long"),
            "{path}: {body}"
        );
        slowest = slowest.max(took);
    }
    assert!(
        slowest < Duration::from_millis(4500),
        "the slowest 503 took {slowest:?}"
    );
    assert_eq!(
        server.status("/readyz").await,
        Some(reqwest::StatusCode::SERVICE_UNAVAILABLE)
    );

    proxy.restore();
    let mut back = None;
    for _ in 0..100 {
        if reader.get("/incidents").await.status == reqwest::StatusCode::OK {
            back = Some(started.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back.is_some(), "pages answer again once the database does");
    // Six pages and four connections: at least two waited for a connection
    // until the acquire limit, and the metrics count them.
    let scrape = scrape_metrics(&reqwest::Client::new(), &server.address).await;
    let timeouts: u64 = scrape
        .lines()
        .find_map(|line| line.strip_prefix("debrief_db_pool_timeouts_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("the pool timeouts in:\n{scrape}"));
    assert!(timeouts >= 2, "{timeouts} pool timeouts");
    eprintln!(
        "packets held: six pages answered 503 within {slowest:?} (request limit 3 s, acquire 2 s); {timeouts} waited for a connection until the acquire limit"
    );
}

#[tokio::test]
async fn two_imports_of_one_folder_at_once_both_succeed_without_a_duplicate() {
    let app = TestApp::spawn().await;
    let folder = std::env::temp_dir().join(format!("debrief-twice-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&folder).expect("a folder");
    let files = 60;
    for n in 0..files {
        let text = format!(
            "# Queue backlog number {n}\n\n## Summary\n\nThe queue backed up for {n} minutes.\n\n\
             ## Timeline\n\n- 14:0{} Alert fired\n- 14:2{} Rolled back\n\n\
             ## Action items\n\n- [ ] Alert on queue depth {n}\n",
            n % 10,
            n % 10
        );
        std::fs::write(folder.join(format!("pm-{n:03}.md")), text).expect("a file");
    }
    let import = || {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_debrief"))
            .arg("import")
            .arg(&folder)
            .env("DATABASE_URL", app.database_url())
            .env("RUST_LOG", "warn")
            .output()
    };
    let (first, second) = tokio::join!(import(), import());
    for output in [first.expect("ran"), second.expect("ran")] {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(said.contains("0 failed"), "{said}");
    }
    let (incidents, distinct, items): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT imported_from), (SELECT count(*) FROM action_items) FROM incidents",
    )
    .fetch_one(&app.db)
    .await
    .expect("counts");
    assert_eq!(
        (incidents, distinct, items),
        (files, files, files),
        "each file once"
    );
    std::fs::remove_dir_all(&folder).ok();
    eprintln!(
        "two imports of {files} files at once: both exit 0, {incidents} incidents, no duplicate"
    );
}

#[tokio::test]
async fn metrics_need_their_token_and_carry_every_series_after_requests_a_sweep_and_a_digest_run() {
    let app = TestApp::spawn().await;
    app.create_user(
        "lin@example.com",
        "Lin Wei",
        debrief::domain::role::Role::Member,
    )
    .await;
    let server = ServerProcess::start(&app, &[("DEBRIEF_METRICS_TOKEN", "scrape-me")]).await;
    let reader = server.client();
    assert_eq!(
        reader
            .sign_in("lin@example.com", "a wrong password")
            .await
            .status,
        reqwest::StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        reader
            .sign_in("lin@example.com", crate::helpers::PASSWORD)
            .await
            .status,
        reqwest::StatusCode::SEE_OTHER
    );
    for path in ["/", "/incidents", "/action-items", "/no-such-page"] {
        reader.get(path).await;
    }
    let http = reqwest::Client::new();
    let url = format!("{}/metrics", server.address);
    let anonymous = http.get(&url).send().await.expect("a scrape");
    assert_eq!(anonymous.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(anonymous.headers().contains_key("www-authenticate"));
    let wrong = http
        .get(&url)
        .bearer_auth("guess")
        .send()
        .await
        .expect("a scrape");
    assert_eq!(wrong.status(), reqwest::StatusCode::UNAUTHORIZED);

    // The first sweep and digest passes run as the process starts.
    let mut body = String::new();
    for _ in 0..100 {
        body = scrape_metrics(&http, &server.address).await;
        if body.contains("job=\"sweeper\"") && body.contains("job=\"sender\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for series in [
        "debrief_http_requests_total{route=\"/incidents\",method=\"GET\",status=\"200\"} 1",
        "debrief_http_requests_total{route=\"/login\",method=\"POST\",status=\"422\"} 1",
        "debrief_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
        "debrief_http_request_duration_seconds_bucket{le=",
        "debrief_http_request_duration_seconds_count{route=\"/incidents\",method=\"GET\"} 1",
        "debrief_job_passes_total{job=\"sweeper\",outcome=\"ok\"}",
        "debrief_job_passes_total{job=\"janitor\",outcome=\"ok\"}",
        "debrief_job_passes_total{job=\"composer\",outcome=\"ok\"}",
        "debrief_job_passes_total{job=\"sender\",outcome=\"ok\"}",
        "debrief_job_pass_duration_seconds_count{job=\"sweeper\"}",
        "debrief_flags_raised_total",
        "debrief_sign_in_failures_total 1",
        "debrief_sign_in_throttled_total 0",
        "debrief_mail_sent_total",
        "debrief_mail_failed_total",
        "debrief_db_pool_timeouts_total 0",
        "debrief_db_pool_in_use",
        "debrief_db_pool_idle",
        "debrief_db_pool_max",
        "debrief_outbox_messages{state=\"pending\"} 0",
        "debrief_outbox_messages{state=\"failing\"} 0",
    ] {
        let found = if series.contains("{le=") {
            body.contains("debrief_http_request_duration_seconds_bucket{") && body.contains("le=\"")
        } else {
            body.contains(series)
        };
        assert!(found, "{series} in:\n{body}");
    }
    // Every request line of the JSON log names its request id, and the
    // signed-in ones the user.
    let lines = server.lines();
    let user: uuid::Uuid = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(&app.db)
        .await
        .expect("the user");
    assert!(
        lines
            .iter()
            .any(|line| line.contains("\"path\":\"/incidents\"")
                && line.contains(&format!("\"user\":\"{user}\""))),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .filter(|line| line.contains("\"path\""))
            .all(|line| line.contains("\"id\":\""))
    );
}

#[tokio::test]
async fn three_processes_on_one_database_share_sessions_and_flag_and_send_each_thing_once() {
    use chrono::Datelike;
    let app = TestApp::spawn().await;
    let world = crate::digest::world(&app).await;
    let sink = crate::smtp::SmtpSink::start().await;
    let today = chrono::Utc::now().weekday().to_string().to_lowercase();
    let smtp = sink.url();
    let env = [
        ("DEBRIEF_SMTP_URL", smtp.as_str()),
        ("DEBRIEF_MAIL_FROM", "Debrief <debrief@example.com>"),
        ("DEBRIEF_DIGEST_DAY", today.as_str()),
        ("DEBRIEF_DIGEST_HOUR", "0"),
    ];
    let servers: Vec<ServerProcess> = (0..3)
        .map(|_| ServerProcess::spawn(&app.database_url(), &["serve"], &env))
        .collect();
    for server in &servers {
        assert!(
            server.wait_ready(Duration::from_secs(20)).await,
            "{:#?}",
            server.lines()
        );
    }

    // A session made on one process works on the others, and so does the
    // token of a sign-in form one of them served.
    let olga = servers[0].client();
    assert_eq!(
        olga.sign_in("olga@example.com", crate::helpers::PASSWORD)
            .await
            .status,
        reqwest::StatusCode::SEE_OTHER
    );
    for server in &servers[1..] {
        let elsewhere = crate::helpers::TestClient {
            address: server.address.clone(),
            http: olga.http.clone(),
        };
        let account = elsewhere.get("/account").await;
        assert_eq!(account.status, reqwest::StatusCode::OK);
        assert!(account.body.contains("Olga Owner"));
    }
    let visitor = servers[1].client();
    let token = visitor.csrf_token().await;
    let signed = visitor
        .http
        .post(format!("{}/login", servers[2].address))
        .header("origin", &servers[2].address)
        .form(&[
            ("_csrf", token.as_str()),
            ("email", "lena@example.com"),
            ("password", crate::helpers::PASSWORD),
        ])
        .send()
        .await
        .expect("a sign-in");
    assert_eq!(
        signed.status(),
        reqwest::StatusCode::SEE_OTHER,
        "a form from one, posted to another"
    );

    // With all three up, each flag is raised once and each digest sent once.
    let flags = async || -> Vec<(uuid::Uuid, String)> {
        sqlx::query_as("SELECT action_item_id, flag::text FROM item_flags ORDER BY 1, 2")
            .fetch_all(&app.db)
            .await
            .expect("flags")
    };
    for _ in 0..200 {
        if sink.messages().len() >= 2 && !flags().await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Time for any duplicate to show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let raised = flags().await;
    let mut distinct = raised.clone();
    distinct.dedup();
    assert_eq!(raised, distinct, "each flag once");
    for item in [world.overdue, world.soon, world.stale] {
        assert!(
            raised.iter().any(|(id, _)| *id == item),
            "{item} flagged: {raised:?}"
        );
    }
    let raised_in_logs: u64 = servers
        .iter()
        .flat_map(|server| server.lines())
        .filter(|line| line.contains("\"sweep done\""))
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
        .filter_map(|line| line["raised"].as_u64())
        .sum();
    assert_eq!(
        raised_in_logs as usize,
        raised.len(),
        "the three sweepers raised each flag once between them"
    );
    let mut recipients: Vec<String> = sink.messages().into_iter().flat_map(|m| m.to).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        ["lena@example.com", "olga@example.com"],
        "one digest each"
    );
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE status = 'sent'")
        .fetch_one(&app.db)
        .await
        .expect("outbox");
    assert_eq!(outbox, 2);
    eprintln!(
        "three processes: sessions shared, {} flags raised once, {} digests sent once",
        raised.len(),
        recipients.len()
    );
}

/// How many of the database's connections sit idle inside a transaction.
async fn idle_in_transaction(db: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity
         WHERE datname = current_database() AND state = 'idle in transaction'",
    )
    .fetch_one(db)
    .await
    .expect("the count")
}

/// A request dropped while its `BEGIN` is in flight (a browser that went
/// away mid-search) gives its connection back with no transaction open:
/// the next request on that connection is not run inside it.
#[tokio::test]
async fn a_request_dropped_during_begin_leaves_its_connection_outside_any_transaction() {
    use debrief::store::{self, Plans};

    let app = TestApp::spawn().await;
    // One connection, so every attempt below lands on the same one.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&app.database_url())
        .await
        .expect("a pool");
    for plans in [None, Some(Plans::Generic), Some(Plans::Custom)] {
        for _ in 0..20 {
            // Polled once: the `BEGIN` goes out, then its caller is gone.
            let begun = async {
                match plans {
                    None => store::begin(&pool).await,
                    Some(plans) => store::planned(&pool, plans).await,
                }
            };
            let _ = tokio::time::timeout(Duration::ZERO, begun).await;
            // The connection is back once its release has pinged.
            let mut conn = tokio::time::timeout(Duration::from_secs(5), pool.acquire())
                .await
                .expect("the connection back in the pool")
                .expect("a connection");
            // A savepoint is refused outside a transaction block.
            let in_transaction = sqlx::raw_sql("SAVEPOINT probe")
                .execute(&mut *conn)
                .await
                .is_ok();
            assert!(
                !in_transaction,
                "{plans:?}: the next request ran inside a dropped BEGIN"
            );
        }
    }
    assert_eq!(idle_in_transaction(&app.db).await, 0);
}

/// The metrics text of a server started with the token `scrape-me`.
async fn scrape_metrics(http: &reqwest::Client, address: &str) -> String {
    http.get(format!("{address}/metrics"))
        .bearer_auth("scrape-me")
        .send()
        .await
        .expect("a scrape")
        .text()
        .await
        .expect("the body")
}
