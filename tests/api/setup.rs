//! First run: the setup link and the first admin.

use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, link_token};

#[tokio::test]
async fn a_new_archive_sends_the_first_visitor_to_setup() {
    let app = TestApp::spawn().await;
    let client = app.client();

    let home = client.get("/").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location(), Some("/setup"));

    let setup = client.get("/setup").await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(setup.body.contains("Create the first admin account"));
    assert!(
        setup.body.contains("Setup code"),
        "without the link the code is asked for"
    );
}

#[tokio::test]
async fn setup_creates_the_first_admin_signs_them_in_and_then_is_gone() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let token = link_token(app.setup_link.as_deref().expect("a setup link"));

    let form = client.get(&format!("/setup?token={token}")).await;
    assert!(
        !form.body.contains("Setup code"),
        "the link carries the code"
    );
    let done = client
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("display_name", "Ada Lovelace"),
                ("email", "Ada@Example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location(), Some("/"));

    let home = client.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Good to see you, Ada"));
    assert!(home.body.contains("Your admin account is ready"));

    assert_eq!(client.get("/setup").await.status, StatusCode::NOT_FOUND);
    let again = app.client().post_form("/setup", &[("token", &token)]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(app.client().get("/").await.location(), Some("/login"));
}

#[tokio::test]
async fn setup_with_bad_input_keeps_what_was_typed_and_names_each_problem() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let token = link_token(app.setup_link.as_deref().expect("a setup link"));

    let page = client
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("display_name", "Grace Hopper"),
                ("email", "grace-at-example"),
                ("password", "tooshort"),
                ("password_confirm", "tooshort"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(r#"value="Grace Hopper""#));
    assert!(page.body.contains(r#"value="grace-at-example""#));
    assert!(page.body.contains(r#"id="email-error""#));
    assert!(page.body.contains(r#"id="password-error""#));
    assert!(
        !page.body.contains("tooshort"),
        "passwords are never echoed back"
    );

    let mismatch = client
        .post_form(
            "/setup",
            &[
                ("token", &token),
                ("display_name", "Grace Hopper"),
                ("email", "grace@example.com"),
                ("password", PASSWORD),
                ("password_confirm", "maple copper lantern rivers"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.body.contains(r#"id="password_confirm-error""#));
}

#[tokio::test]
async fn setup_refuses_a_wrong_code() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let page = client
        .post_form(
            "/setup",
            &[
                ("token", "not-the-code"),
                ("display_name", "Mallory"),
                ("email", "mallory@example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(r#"id="token-error""#));
    assert!(page.body.contains(r#"value="not-the-code""#));
    assert_eq!(app.client().get("/").await.location(), Some("/setup"));
}

#[tokio::test]
async fn a_newer_setup_link_replaces_the_older_and_setup_links_expire() {
    let app = TestApp::spawn().await;
    let old = link_token(app.setup_link.as_deref().expect("a setup link"));
    let newer = debrief::setup::issue_setup_link(&app.db, &app.clock, &app.address)
        .await
        .expect("issue")
        .expect("no account yet");
    let newer = link_token(&newer);
    let client = app.client();

    let page = client.get(&format!("/setup?token={old}")).await;
    assert!(
        page.body.contains(r#"id="token-error""#),
        "the older link is dead"
    );
    let page = client.get(&format!("/setup?token={newer}")).await;
    assert!(
        !page.body.contains(r#"id="token-error""#),
        "the newer link works"
    );

    app.advance(chrono::Duration::hours(25));
    let page = client.get(&format!("/setup?token={newer}")).await;
    assert!(
        page.body.contains(r#"id="token-error""#),
        "setup links last 24 hours"
    );
}
