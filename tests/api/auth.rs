//! Signing in and out, throttling, and session expiry.

use chrono::Duration;
use debrief::domain::role::Role;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn signing_in_starts_a_new_session_with_a_safe_cookie() {
    let app = TestApp::spawn().await;
    app.create_user("lin@example.com", "Lin Wei", Role::Member)
        .await;
    let client = app.client();

    let anonymous = client.get("/login").await;
    let anonymous_cookie = session_cookie(&anonymous.headers).expect("an anonymous session");
    let signed_in = client.sign_in("LIN@example.com ", PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(signed_in.location(), Some("/"));
    let cookie = session_cookie(&signed_in.headers).expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    assert!(!cookie.contains("Secure"), "plain http in tests");
    assert_ne!(
        cookie_value(&cookie),
        cookie_value(&anonymous_cookie),
        "a new id at sign-in"
    );

    let home = client.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Lin Wei"));
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.create_user("lin@example.com", "Lin Wei", Role::Member)
        .await;

    let wrong = app
        .client()
        .sign_in("lin@example.com", "not the password")
        .await;
    let unknown = app
        .client()
        .sign_in("nobody@example.com", "not the password")
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.status, wrong.status);
    let message = "That email and password do not match an account.";
    assert!(wrong.body.contains(message) && unknown.body.contains(message));
    assert!(
        wrong.body.contains(r#"value="lin@example.com""#),
        "the email is kept"
    );
    assert!(
        !wrong.body.contains("not the password"),
        "the password is not"
    );
}

#[tokio::test]
async fn an_empty_sign_in_form_names_both_fields() {
    let app = TestApp::spawn().await;
    let page = app.client().sign_in("", "").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(r#"id="email-error""#));
    assert!(page.body.contains(r#"id="password-error""#));
}

#[tokio::test]
async fn a_deactivated_user_cannot_sign_in() {
    let app = TestApp::spawn().await;
    let id = app
        .create_user("gone@example.com", "Gone Away", Role::Member)
        .await;
    debrief::store::users::set_active(&app.db, id, false, app.clock.now())
        .await
        .expect("deactivate");

    let page = app.client().sign_in("gone@example.com", PASSWORD).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("deactivated"));
}

#[tokio::test]
async fn sign_out_is_a_post_that_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let cookie_before = client.get("/").await;
    assert_eq!(cookie_before.status, StatusCode::OK);

    let get = client.get("/logout").await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);

    let sessions_before: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .expect("count");
    let out = client.post_form("/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), Some("/login?signed_out=1"));
    let sessions_after: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL")
            .fetch_one(&app.db)
            .await
            .expect("count");
    assert_eq!((sessions_before, sessions_after), (1, 0));
    assert_eq!(client.get("/").await.location(), Some("/login"));
}

#[tokio::test]
async fn twenty_failures_lock_the_account_even_for_the_right_password_until_the_window_passes() {
    let app = TestApp::spawn().await;
    app.create_user("target@example.com", "Target", Role::Member)
        .await;
    let client = app.client();

    for attempt in 1..=20 {
        let page = client
            .sign_in("target@example.com", "wrong guess number x")
            .await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {attempt}"
        );
    }
    let locked = client.sign_in("target@example.com", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("Too many failed attempts"));
    assert_eq!(
        locked
            .headers
            .get("retry-after")
            .map(|v| v.to_str().unwrap_or_default()),
        Some("900")
    );
    assert_eq!(
        app.client()
            .sign_in("target@example.com", PASSWORD)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "a fresh browser is locked out too"
    );

    app.advance(Duration::minutes(16));
    let after = client.sign_in("target@example.com", PASSWORD).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn many_failures_from_one_address_are_throttled_across_accounts() {
    let app = TestApp::spawn().await;
    app.create_user("real@example.com", "Real", Role::Member)
        .await;
    let client = app.client();
    for attempt in 0..100 {
        let email = format!("guess{attempt}@example.com");
        let page = client.sign_in(&email, "wrong guess number x").await;
        assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let page = client.sign_in("real@example.com", PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    app.advance(Duration::hours(11));
    assert_eq!(
        client.get("/").await.status,
        StatusCode::OK,
        "still within the idle limit"
    );
    app.advance(Duration::hours(12) + Duration::minutes(1));
    let page = client.get("/account").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/login?next=%2Faccount"));
}

#[tokio::test]
async fn an_active_session_still_ends_at_its_absolute_lifetime() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    for _ in 0..15 {
        app.advance(Duration::hours(11));
        assert_eq!(client.get("/").await.status, StatusCode::OK);
    }
    app.advance(Duration::hours(11));
    assert_eq!(client.get("/").await.location(), Some("/login"));
}

#[tokio::test]
async fn after_sign_in_only_local_paths_are_followed() {
    let app = TestApp::spawn().await;
    app.create_user("lin@example.com", "Lin Wei", Role::Member)
        .await;
    let client = app.client();
    let page = client
        .post_form(
            "/login",
            &[
                ("email", "lin@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(page.location(), Some("/"));

    let client = app.client();
    let page = client
        .post_form(
            "/login",
            &[
                ("email", "lin@example.com"),
                ("password", PASSWORD),
                ("next", "/account"),
            ],
        )
        .await;
    assert_eq!(page.location(), Some("/account"));
}

fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("debrief_session="))
        .map(str::to_owned)
}

fn cookie_value(cookie: &str) -> &str {
    cookie.split(';').next().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_cannot_race_past_the_limit() {
    let app = TestApp::spawn().await;
    app.create_user("target@example.com", "Target", Role::Member)
        .await;
    let client = app.client();
    let token = client.csrf_token().await;
    let mut guesses = tokio::task::JoinSet::new();
    for attempt in 0..40 {
        let (http, url, token) = (client.http.clone(), client.url("/login"), token.clone());
        guesses.spawn(async move {
            let password = format!("wrong guess number {attempt}");
            let form = [
                ("_csrf", token.as_str()),
                ("email", "target@example.com"),
                ("password", &password),
            ];
            let response = http
                .post(url)
                .header("sec-fetch-site", "same-origin")
                .form(&form)
                .send()
                .await;
            response.expect("POST").status()
        });
    }
    let statuses = guesses.join_all().await;
    let checked = statuses
        .iter()
        .filter(|status| **status == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let refused = statuses
        .iter()
        .filter(|status| **status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(checked <= 20, "{checked} passwords were checked");
    assert_eq!(checked + refused, 40);
    assert_eq!(
        client.sign_in("target@example.com", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_thousand_cookieless_sign_in_pages_store_no_session_and_a_forged_anonymous_cookie_is_refused()
 {
    let app = TestApp::spawn().await;
    app.create_user("lin@example.com", "Lin Wei", Role::Member)
        .await;
    let count = async || -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM sessions")
            .fetch_one(&app.db)
            .await
            .expect("count")
    };
    let before = count().await;
    // One client without a cookie jar: every request arrives cookieless.
    let bare = reqwest::Client::new();
    let url = format!("{}/login", app.address);
    let mut cookies = std::collections::HashSet::new();
    for _ in 0..1000 {
        let response = bare.get(&url).send().await.expect("GET /login");
        assert_eq!(response.status(), StatusCode::OK);
        cookies.insert(session_cookie(response.headers()).expect("a session cookie"));
    }
    let after = count().await;
    eprintln!(
        "sessions stored by 1,000 cookieless GETs of /login: {}",
        after - before
    );
    assert_eq!(after, before, "anonymous sessions are not stored");
    assert_eq!(
        cookies.len(),
        1000,
        "each visitor still gets its own session"
    );

    // Such a session still signs in, with its own token.
    let client = app.client();
    assert_eq!(
        client.sign_in("lin@example.com", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(count().await, before + 1, "the signed-in session is stored");

    // A cookie made up by hand, with a token made up to match, is refused:
    // the token is signed with the installation's key.
    let made = app.clock.now().timestamp();
    let forged = bare
        .post(&url)
        .header(
            "cookie",
            format!("debrief_session=a.{made}.{}", "ab".repeat(32)),
        )
        .header("origin", &app.address)
        .form(&[
            ("_csrf", "ab".repeat(32).as_str()),
            ("email", "lin@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(
        forged
            .text()
            .await
            .expect("body")
            .contains("This form has expired")
    );
    // An anonymous session older than its two hours is over.
    let page = bare.get(&url).send().await.expect("GET");
    let cookie = cookie_value(&session_cookie(page.headers()).expect("cookie")).to_owned();
    let token = crate::helpers::extract_csrf(&page.text().await.expect("body")).expect("a token");
    app.advance(Duration::minutes(121));
    let late = bare
        .post(&url)
        .header("cookie", &cookie)
        .header("origin", &app.address)
        .form(&[
            ("_csrf", token.as_str()),
            ("email", "lin@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(late.status(), StatusCode::FORBIDDEN, "an expired form");
}
