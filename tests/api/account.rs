//! Every user's own account page.

use debrief::domain::role::Role;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn a_viewer_changes_their_display_name() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Viewer).await;
    let saved = client
        .post_form(
            "/account/profile",
            &[
                ("display_name", "  Ada King  "),
                ("time_zone", "Europe/Berlin"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = client.get("/account").await;
    assert!(page.body.contains(r#"value="Ada King""#));
    assert!(page.body.contains("Your profile is saved."));
    assert!(
        page.body
            .contains(r#"<option value="Europe/Berlin" selected>"#)
    );

    let long = "x".repeat(101);
    let refused = client
        .post_form(
            "/account/profile",
            &[("display_name", &long), ("time_zone", "UTC")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(&format!(r#"value="{long}""#)));
    assert!(refused.body.contains(r#"id="display_name-error""#));
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_signs_out_other_browsers() {
    let app = TestApp::spawn().await;
    app.create_user("lin@example.com", "Lin Wei", Role::Member)
        .await;
    let laptop = app.client();
    laptop.sign_in("lin@example.com", PASSWORD).await;
    let phone = app.client();
    phone.sign_in("lin@example.com", PASSWORD).await;
    let new_password = "quiet harbor lamp seventeen";

    let wrong = laptop
        .post_form(
            "/account/password",
            &[
                ("current_password", "not it at all"),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains(r#"id="current_password-error""#));
    assert!(!wrong.body.contains(new_password));

    let changed = laptop
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("password", new_password),
                ("password_confirm", new_password),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        laptop.get("/account").await.status,
        StatusCode::OK,
        "this browser stays signed in"
    );
    assert_eq!(
        phone.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "the other one is signed out"
    );
    assert_eq!(
        app.client()
            .sign_in("lin@example.com", PASSWORD)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.client()
            .sign_in("lin@example.com", new_password)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}
