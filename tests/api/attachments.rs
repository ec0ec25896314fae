//! Screenshots on postmortems: only real images are accepted, and they are
//! served safely to those who may read the postmortem.

use debrief::domain::role::Role;
use reqwest::{
    StatusCode,
    multipart::{Form, Part},
};

use crate::{
    helpers::{Page, TestApp, TestClient},
    incidents::create_incident,
};

/// The smallest valid PNG: one transparent pixel.
pub const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

pub async fn upload(client: &TestClient, number: i32, name: &str, bytes: Vec<u8>) -> Page {
    let token = client.csrf_token().await;
    let form = Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("image/png")
            .expect("mime"),
    );
    let response = client
        .http
        .post(client.url(&format!("/incidents/{number}/attachments?_csrf={token}")))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    Page {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

async fn stored(app: &TestApp) -> i64 {
    sqlx::query_scalar!("SELECT count(*) AS \"n!\" FROM attachments")
        .fetch_one(&app.db)
        .await
        .expect("count")
}

#[tokio::test]
async fn html_or_svg_renamed_to_png_is_refused_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;

    let html = upload(
        &author,
        number,
        "graph.png",
        b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec(),
    )
    .await;
    assert_eq!(html.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        html.body.contains("This file is HTML, not an image"),
        "{}",
        html.body
    );
    assert!(html.body.contains("graph.png"), "the refused file is named");

    let svg = upload(
        &author,
        number,
        "chart.png",
        br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#.to_vec(),
    )
    .await;
    assert_eq!(svg.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        svg.body.contains("SVG images are not accepted"),
        "{}",
        svg.body
    );
    assert_eq!(stored(&app).await, 0);
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_and_names_the_limit() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let mut big = PIXEL_PNG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);

    let page = upload(&author, number, "huge.png", big).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        page.body.contains("larger than the 10 MB limit"),
        "{}",
        page.body
    );
    assert_eq!(stored(&app).await, 0);
}

#[tokio::test]
async fn a_png_is_stored_and_served_with_its_type_and_a_safe_name_to_readers_only() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (stranger, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;

    let page = upload(
        &author,
        number,
        "../p99 \"latency\".png",
        PIXEL_PNG.to_vec(),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let reading = author.get(&format!("/incidents/{number}")).await;
    let start = reading
        .body
        .find("/attachments/")
        .expect("a thumbnail on the page");
    let path = reading.body[start..]
        .split('"')
        .next()
        .expect("a link")
        .to_owned();
    assert!(path.ends_with("/p99-latency.png"), "{path}");

    let image = author.get(&format!("/incidents/{number}{path}")).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.headers["content-type"], "image/png");
    assert_eq!(image.headers["x-content-type-options"], "nosniff");
    assert_eq!(
        image.headers["content-disposition"],
        "inline; filename=\"p99-latency.png\""
    );

    let hidden = stranger.get(&format!("/incidents/{number}{path}")).await;
    assert_eq!(
        hidden.status,
        StatusCode::NOT_FOUND,
        "a draft's images are as private as the draft"
    );
}

#[tokio::test]
async fn a_stored_row_that_claims_html_is_served_as_a_download_not_a_page() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let postmortem = app.postmortem(number).await;
    // As a hand-edited JSON archive could bring it in.
    let row = debrief::store::attachments::NewAttachment {
        postmortem_id: postmortem.id,
        timeline_entry_id: None,
        file_name: "x\"; evil.html",
        content_type: "text/html",
        content: b"<script>alert(1)</script>",
        created_by: Some(author_id),
    };
    let id = debrief::store::attachments::insert_attachment(&app.db, &row, app.clock.now())
        .await
        .expect("row");

    let page = author
        .get(&format!("/incidents/{number}/attachments/{id}/x.html"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers["content-type"], "application/octet-stream");
    assert_eq!(
        page.headers["content-disposition"],
        "attachment; filename=\"xevil.html\""
    );
}
