//! Health and readiness, including a database outage.

use reqwest::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_readiness_answer_when_all_is_well() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let health = client.get("/healthz").await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok\n")
    );
    let ready = client.get("/readyz").await;
    assert_eq!(
        (ready.status, ready.body.as_str()),
        (StatusCode::OK, "ready\n")
    );
}

#[tokio::test]
async fn readiness_fails_while_the_database_is_unreachable_and_recovers_after() {
    let (app, proxy) = TestApp::spawn_behind_proxy().await;
    let client = app.client();
    assert_eq!(client.get("/readyz").await.status, StatusCode::OK);

    proxy.cut();
    assert_eq!(
        client.get("/readyz").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        client.get("/healthz").await.status,
        StatusCode::OK,
        "the process itself is up"
    );
    let page = client.get("/login").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.body.contains("briefly unavailable"));

    proxy.restore();
    assert_eq!(client.get("/readyz").await.status, StatusCode::OK);
    assert_eq!(client.get("/login").await.status, StatusCode::OK);
}
