//! CSRF, security headers, escaping and error pages.

use debrief::domain::role::Role;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, ServerProcess, TestApp, extract_csrf};

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    for path in [
        "/",
        "/login",
        "/account",
        "/no-such-page",
        "/static/app.css",
        "/healthz",
    ] {
        let page = client.get(path).await;
        let header = |name: &str| {
            page.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let csp = header("content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing from {csp}"
            );
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: no inline script");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert!(!header("x-request-id").is_empty(), "{path}: request id");
    }
}

#[tokio::test]
async fn private_pages_are_not_cached_but_assets_are() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let page = client.get("/account").await;
    assert_eq!(
        page.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let css = client.get("/static/app.css").await;
    assert!(
        css.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .contains("immutable")
    );
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Admin).await;
    let token = client.csrf_token().await;

    let by_fetch_metadata = client
        .http
        .post(client.url("/admin/teams"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("_csrf", token.as_str()), ("name", "Evil")])
        .send()
        .await
        .expect("POST");
    assert_eq!(by_fetch_metadata.status(), StatusCode::FORBIDDEN);

    let by_origin = client
        .http
        .post(client.url("/admin/teams"))
        .header("origin", "https://evil.example")
        .form(&[("_csrf", token.as_str()), ("name", "Evil")])
        .send()
        .await
        .expect("POST");
    assert_eq!(by_origin.status(), StatusCode::FORBIDDEN);

    let teams: i64 = sqlx::query_scalar("SELECT count(*) FROM teams")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(teams, 0);
}

#[tokio::test]
async fn a_post_without_the_session_token_is_refused() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Admin).await;
    for token in [None, Some("0".repeat(64))] {
        let mut form = vec![("name", "No token".to_owned())];
        if let Some(token) = token {
            form.push(("_csrf", token));
        }
        let response = client
            .http
            .post(client.url("/admin/teams"))
            .header("sec-fetch-site", "same-origin")
            .form(&form)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body = response.text().await.expect("body");
        assert!(body.contains("This form has expired"));
    }
}

#[tokio::test]
async fn every_form_on_a_page_carries_the_token() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Admin).await;
    for path in ["/", "/account", "/admin/users", "/admin/teams"] {
        let page = client.get(path).await;
        let forms = page.body.matches("method=\"post\"").count();
        let tokens = page.body.matches("name=\"_csrf\"").count();
        assert!(forms > 0, "{path} has forms");
        assert_eq!(forms, tokens, "{path}: every form has a token");
        assert!(extract_csrf(&page.body).is_some_and(|token| token.len() == 64));
    }
}

#[tokio::test]
async fn error_pages_show_nothing_internal() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let missing = client.get("/admin/users/not-a-uuid").await;
    assert_eq!(
        missing.status,
        StatusCode::SEE_OTHER,
        "anonymous visitors sign in first"
    );

    let (client, _) = app.signed_in(Role::Admin).await;
    for path in [
        "/admin/users/not-a-uuid",
        "/admin/teams/00000000-0000-0000-0000-000000000000",
        "/nowhere",
    ] {
        let page = client.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.body.contains("Page not found"));
        for leak in ["sqlx", "panicked", "src/", "Error {"] {
            assert!(!page.body.contains(leak), "{path} leaks {leak}");
        }
    }
}

#[tokio::test]
async fn user_text_is_escaped_in_pages() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Admin).await;
    let page = client
        .post_form("/admin/teams", &[("name", "<script>alert(1)</script>")])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let list = client.get("/admin/teams").await;
    assert!(!list.body.contains("<script>alert(1)</script>"));
    assert!(
        list.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || list.body.contains("&lt;script&gt;")
    );
}

#[tokio::test]
async fn a_post_without_any_session_is_refused() {
    let app = TestApp::spawn().await;
    let response = app
        .client()
        .http
        .post(format!("{}/login", app.address))
        .form(&[("email", "a@example.com"), ("password", "whatever it is")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn behind_https_the_cookie_is_secure_and_hsts_is_sent() {
    let app = TestApp::spawn_at("https://debrief.example.com").await;
    let page = app.client().get("/login").await;
    let cookie = page
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let hsts = page
        .headers
        .get("strict-transport-security")
        .and_then(|v| v.to_str().ok());
    assert!(hsts.is_some_and(|value| value.starts_with("max-age=")));
}

#[tokio::test]
async fn an_oversized_form_gets_413_with_the_error_page_and_headers() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let token = client.csrf_token().await;
    let huge = "x".repeat(3 * 1024 * 1024);
    let response = client
        .http
        .post(client.url("/account/profile"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("_csrf", token.as_str()), ("display_name", huge.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.headers().contains_key("content-security-policy"));
    assert!(
        response
            .text()
            .await
            .expect("body")
            .contains("too much to send")
    );
}

#[tokio::test]
async fn a_wrong_method_gets_the_error_page() {
    let app = TestApp::spawn().await;
    let page = app.client().get("/logout").await;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(page.body.contains("Not available this way"));
    assert!(page.headers.contains_key("content-security-policy"));
}

#[tokio::test]
async fn error_pages_keep_the_signed_in_navigation() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let page = client.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body
            .contains("Only admins can manage users and teams.")
    );
    assert!(page.body.contains("Sign out") && page.body.contains("Test Member"));
}

#[tokio::test]
async fn refusals_of_the_framework_and_of_forms_keep_the_signed_in_navigation() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let signed_in = |body: &str| body.contains("Sign out") && body.contains("Test Member");

    // A query value an extractor cannot read is the site's page, not
    // axum's plain-text rejection.
    for path in ["/search?page=x", "/search?q=pool&page=-"] {
        let page = client.get(path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(
            page.body.contains("That request could not be read"),
            "{path}: {}",
            page.body
        );
        assert!(signed_in(&page.body), "{path}");
    }

    // A form without the session's token, and one from another site.
    let stale = client
        .http
        .post(client.url("/account"))
        .header("sec-fetch-site", "same-origin")
        .form(&[("_csrf", "0".repeat(64).as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    let body = stale.text().await.expect("body");
    assert!(
        body.contains("This form has expired") && signed_in(&body),
        "{body}"
    );

    let token = client.csrf_token().await;
    let forged = client
        .http
        .post(client.url("/account"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let body = forged.text().await.expect("body");
    assert!(
        body.contains("Request refused") && signed_in(&body),
        "{body}"
    );
}

#[tokio::test]
async fn every_stored_address_is_linked_only_when_it_is_a_web_address() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = crate::incidents::create_incident(&author, "Imported elsewhere").await;
    crate::incidents::add_entries(
        &author,
        number,
        &[("2026-03-01 14:05", "trigger", "Deploy")],
    )
    .await;
    crate::incidents::add_item(&author, number, &[("title", "Alert on saturation")]).await;
    let item: uuid::Uuid = sqlx::query_scalar("SELECT id FROM action_items")
        .fetch_one(&app.db)
        .await
        .expect("the item");
    // As a JSON archive written elsewhere could hold them, in every URL
    // field: the source, a timeline entry's link, an item's tracker link.
    for (url, linked) in [
        ("javascript:alert(document.cookie)", false),
        ("JaVaScRiPt:alert(1)", false),
        ("data:text/html,<script>alert(1)</script>", false),
        ("https://wiki.example.com/postmortems/42", true),
    ] {
        for statement in [
            "UPDATE incidents SET imported_from = 'pm-42.md', source_url = $1",
            "UPDATE timeline_entries SET link = $1",
            "UPDATE action_items SET tracker_url = $1",
        ] {
            sqlx::query(statement)
                .bind(url)
                .execute(&app.db)
                .await
                .expect("an address");
        }
        let link = format!("href=\"{url}\"");
        let page = author.get(&format!("/incidents/{number}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("pm-42.md"), "the source file is named");
        assert_eq!(
            page.body.matches(&link).count(),
            if linked { 2 } else { 0 },
            "{url}"
        );
        let item_page = author.get(&format!("/action-items/{item}")).await;
        assert_eq!(item_page.status, StatusCode::OK);
        assert_eq!(item_page.body.contains(&link), linked, "{url} on the item");
        let markdown = author.get(&format!("/incidents/{number}/export.md")).await;
        assert_eq!(
            markdown.body.matches(url).count(),
            if linked { 3 } else { 0 },
            "{url} in the export"
        );
        if !linked {
            // (The item's own edit form shows the address as typed text.)
            for body in [&page.body, &markdown.body] {
                assert!(!body.to_lowercase().contains("javascript:alert"), "{url}");
            }
        }
    }
}

#[tokio::test]
async fn a_nul_byte_anywhere_in_a_request_is_refused_with_400_and_never_reaches_the_database() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = crate::incidents::create_incident(&author, "Queue backlog").await;
    // Query strings: search, filters, paging.
    for path in [
        "/search?q=queue%00backlog",
        "/search?service=a%00b",
        "/incidents?tag=x%00",
        "/action-items?status=open%00",
        "/review?team=%00",
        "/incidents/1%00",
    ] {
        let page = author.get(path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(page.body.contains("NUL character"), "{path} says why");
    }
    // Forms: sign-in, the editor, a comment; signed in or not.
    let stranger = app.client();
    let refused = stranger
        .post_form(
            "/login",
            &[("email", "a\0b@example.com"), ("password", "x")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let version = crate::incidents::editor_version(&author, number).await;
    let saved = crate::incidents::save_summary(&author, number, &version, "Before\0after").await;
    assert_eq!(saved.status, StatusCode::BAD_REQUEST);
    assert!(saved.body.contains("NUL character"));
    let summary: String = sqlx::query_scalar(
        "SELECT p.summary FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1",
    )
    .bind(number)
    .fetch_one(&app.db)
    .await
    .expect("summary");
    assert!(!summary.contains("after"), "nothing was saved");
    // A JSON body, escaped; and text that only looks like the escape.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/incidents", app.address))
        .header("authorization", "Bearer not-a-token")
        .header("content-type", "application/json")
        .body(r#"{"title":"a\u0000b"}"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(
        response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or("").contains("problem+json"))
    );
    // Look-alikes pass: a percent sign, and "\u0000" typed as text.
    let fine = author.get("/search?q=100%25+cpu").await;
    assert_eq!(fine.status, StatusCode::OK);
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/incidents", app.address))
        .header("authorization", "Bearer not-a-token")
        .header("content-type", "application/json")
        .body(r#"{"title":"a\\u0000b"}"#)
        .send()
        .await
        .expect("POST");
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "reaches the API"
    );
}

/// A path with its numbers and ids replaced, so that the crawl below tries
/// each kind of page and form once.
fn shape(path: &str) -> String {
    let ids = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+").expect("a pattern");
    ids.replace_all(path.split('?').next().unwrap_or(path), "N")
        .into_owned()
}

fn unescape(text: &str) -> String {
    text.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[tokio::test]
async fn every_field_and_query_parameter_found_by_crawling_the_demo_refuses_a_nul_byte_without_a_5xx()
 {
    use std::collections::{BTreeSet, VecDeque};
    let app = TestApp::spawn().await;
    debrief::seed::demo::seed(&app.db, &app.clock, |_, _, _| {})
        .await
        .expect("the demo archive");
    let admin = app.client();
    let signed = admin
        .sign_in(
            debrief::seed::demo::DEMO_ADMIN,
            debrief::seed::demo::DEMO_PASSWORD,
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);

    let link = regex::Regex::new(r##"href="(/[^"#]*)""##).expect("a pattern");
    let form = regex::Regex::new(r#"(?s)<form([^>]*)>(.*?)</form>"#).expect("a pattern");
    let attr =
        |name: &str| regex::Regex::new(&format!(r#"\b{name}="([^"]*)""#)).expect("a pattern");
    let (action_of, method_of, name_of, value_of) =
        (attr("action"), attr("method"), attr("name"), attr("value"));
    let field = regex::Regex::new(r#"<(input|textarea|select)\b([^>]*)>"#).expect("a pattern");

    let mut queue = VecDeque::from(["/".to_owned()]);
    let mut seen_pages = BTreeSet::new();
    let mut tried = BTreeSet::new();
    let (mut requests, mut failures) = (0usize, Vec::new());
    while let Some(path) = queue.pop_front() {
        if seen_pages.len() >= 120 || !seen_pages.insert(shape(&path)) {
            continue;
        }
        let page = admin.get(&path).await;
        if !page.status.is_success() || !page.body.contains("<html") {
            continue;
        }
        for found in link.captures_iter(&page.body) {
            let href = unescape(&found[1]);
            if href.starts_with("/static") || href.starts_with("/assets") || href.contains("logout")
            {
                continue;
            }
            // Each query parameter of the link, one at a time, with a NUL.
            if let Some((base, query)) = href.split_once('?') {
                for (n, pair) in query.split('&').enumerate() {
                    let key = pair.split('=').next().unwrap_or("");
                    if !tried.insert(format!("GET {} {key}", shape(base))) {
                        continue;
                    }
                    let mut pairs: Vec<String> = query.split('&').map(str::to_owned).collect();
                    pairs[n] = format!("{key}=a%00b");
                    let target = format!("{base}?{}", pairs.join("&"));
                    let got = admin.get(&target).await;
                    requests += 1;
                    if got.status.is_server_error() {
                        failures.push(format!("GET {target}: {}", got.status));
                    }
                }
            }
            queue.push_back(href);
        }
        for found in form.captures_iter(&page.body) {
            let (head, body) = (&found[1], &found[2]);
            let action = action_of
                .captures(head)
                .map(|c| unescape(&c[1]))
                .unwrap_or_else(|| path.clone());
            let post = method_of
                .captures(head)
                .is_some_and(|c| c[1].eq_ignore_ascii_case("post"));
            let fields: Vec<(String, String)> = field
                .captures_iter(body)
                .filter_map(|c| {
                    let name = name_of.captures(&c[2])?[1].to_owned();
                    let value = value_of
                        .captures(&c[2])
                        .map(|v| unescape(&v[1]))
                        .unwrap_or_else(|| "x".to_owned());
                    Some((name, value))
                })
                .collect();
            for (n, (name, _)) in fields.iter().enumerate() {
                if name == "_csrf"
                    || !tried.insert(format!(
                        "{} {} {name}",
                        if post { "POST" } else { "GET" },
                        shape(&action)
                    ))
                {
                    continue;
                }
                let mut sent = fields.clone();
                sent[n].1 = "a\0b".to_owned();
                let request = if post {
                    admin
                        .http
                        .post(admin.url(&action))
                        .header("origin", &admin.address)
                        .header("sec-fetch-site", "same-origin")
                        .form(&sent)
                } else {
                    admin.http.get(admin.url(&action)).query(&sent)
                };
                let status = request.send().await.expect("a response").status();
                requests += 1;
                if status.is_server_error() {
                    failures.push(format!("{action} {name}: {status}"));
                } else {
                    assert_eq!(status, StatusCode::BAD_REQUEST, "{action} {name}");
                }
            }
        }
    }
    assert!(
        seen_pages.len() >= 30 && requests >= 150,
        "the crawl reached {} kinds of page and sent {requests} requests",
        seen_pages.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    eprintln!(
        "NUL crawl: {} kinds of page, {requests} requests, no 5xx",
        seen_pages.len()
    );
}

#[tokio::test]
async fn no_request_log_line_holds_the_token_of_a_setup_invite_reset_unsubscribe_or_feed_link() {
    let app = TestApp::spawn().await;
    let mut server = ServerProcess::start(&app, &[]).await;
    let admin = server.client();
    let after = |text: &str, marker: &str| -> String {
        let start = text
            .find(marker)
            .unwrap_or_else(|| panic!("{marker} in {text}"))
            + marker.len();
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
            .collect()
    };

    // The first admin, through the setup link printed at start.
    let started = server.lines().join("\n");
    let setup_token = after(&started, "/setup?token=");
    assert_eq!(setup_token.len(), 64, "{started}");
    let setup = admin.get(&format!("/setup?token={setup_token}")).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    let made = admin
        .post_form(
            "/setup",
            &[
                ("token", &setup_token),
                ("email", "root@example.com"),
                ("display_name", "Root Admin"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    assert_eq!(
        admin.sign_in("root@example.com", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    // An invitation, then a password reset for the same person.
    let invited = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "nia@example.com"),
                ("display_name", "Nia"),
                ("role", "member"),
            ],
        )
        .await;
    assert!(invited.status.is_success(), "{}", invited.body);
    let invite_token = after(&invited.body, "/welcome/");
    let newcomer = server.client();
    assert_eq!(
        newcomer
            .get(&format!("/welcome/{invite_token}"))
            .await
            .status,
        StatusCode::OK
    );
    let nia: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM users WHERE email = 'nia@example.com'")
            .fetch_one(&app.db)
            .await
            .expect("Nia");
    let reset = admin
        .post_form(&format!("/admin/users/{nia}/link"), &[])
        .await;
    assert!(reset.status.is_success(), "{}", reset.body);
    let reset_token = after(&reset.body, "/welcome/");
    assert_eq!(
        newcomer
            .get(&format!("/welcome/{reset_token}"))
            .await
            .status,
        StatusCode::OK
    );

    // Feed links, opened as a feed reader would.
    let feeds = admin.post_form("/account/feeds", &[]).await;
    assert_eq!(feeds.status, StatusCode::OK);
    let feed_secret = after(&feeds.body, "/feeds/");
    let reader = reqwest::Client::new();
    for feed in ["postmortems.atom", "action-items.ics"] {
        let url = format!("{}/feeds/{feed_secret}/{feed}", server.address);
        let got = reader.get(url).send().await.expect("a feed");
        assert_eq!(got.status(), StatusCode::OK);
    }

    // Both unsubscribe links of a message, opened and one-clicked.
    let mut tokens = vec![setup_token.clone(), invite_token, reset_token, feed_secret];
    for (key_name, prefix) in [
        (debrief::jobs::digest::UNSUBSCRIBE_KEY, "/unsubscribe"),
        (
            debrief::jobs::notices::UNSUBSCRIBE_KEY,
            "/unsubscribe/notices",
        ),
    ] {
        let key = debrief::store::outbox::app_secret(&app.db, key_name)
            .await
            .expect("the key");
        let links =
            debrief::domain::digest::UnsubscribeLinks::new(&key, prefix, nia, chrono::Utc::now());
        for path in [&links.page, &links.header] {
            let page = reader
                .get(format!("{}{path}", server.address))
                .send()
                .await
                .expect("the page");
            assert_eq!(page.status(), StatusCode::OK, "{path}");
            tokens.push(path.rsplit('/').next().expect("the token").to_owned());
        }
        let clicked = reader
            .post(format!("{}{}", server.address, links.header))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .expect("one-click");
        assert_eq!(clicked.status(), StatusCode::OK);
    }

    server.process.kill().await.expect("stopped");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let lines = server.lines();
    let requests: Vec<&String> = lines
        .iter()
        .filter(|line| line.contains("\"path\""))
        .collect();
    assert!(requests.len() >= 15, "the requests were logged: {lines:#?}");
    for token in &tokens {
        let holding: Vec<&String> = lines
            .iter()
            .filter(|line| line.contains(token.as_str()))
            .filter(|line| !line.contains("No account exists yet"))
            .collect();
        assert!(holding.is_empty(), "a log line holds a token: {holding:#?}");
    }
    for logged in [
        "/welcome/{token}",
        "/feeds/{token}/postmortems.atom",
        &format!("/unsubscribe/{nia}/{{token}}"),
        &format!("/unsubscribe/notices/{nia}/{{token}}"),
        "\"path\":\"/setup\"",
    ] {
        assert!(
            requests.iter().any(|line| line.contains(logged)),
            "{logged} is logged: {requests:#?}"
        );
    }
    eprintln!(
        "{} log lines, {} of them about requests; none holds any of the {} tokens",
        lines.len(),
        requests.len(),
        tokens.len()
    );
}
