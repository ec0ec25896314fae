//! Building a timeline from a chat log: preview, unparsed lines named,
//! picked entries added with their source.

use debrief::domain::role::Role;
use reqwest::StatusCode;

use crate::{helpers::TestApp, incidents::create_incident};

const LOG: &str = "[2026-03-01 14:05] sam: checkout p99 is climbing\n\
                   [2026-03-01 14:07] alex: rolling back v2.14\n\
                   this line carries on alex's message\n\
                   [2026-03-01 14:20] sam: latency back to normal";

#[tokio::test]
async fn a_pasted_chat_log_is_previewed_and_the_picked_lines_are_added_with_their_source() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let path = format!("/incidents/{number}/timeline/import");
    let input = format!("garbage before any time\n{LOG}");

    let preview = author
        .post_form(
            &path,
            &[
                ("input", &input),
                ("format", "text"),
                ("time_zone", "Europe/Berlin"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("3 entries read"), "{}", preview.body);
    assert!(preview.body.contains("1 line could not be read"));
    assert!(
        preview.body.contains("garbage before any time"),
        "the unreadable line is shown"
    );
    assert!(preview.body.contains("2026-03-01 14:07 CET"));
    let digest = preview
        .body
        .split("name=\"digest\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("digest");

    let added = author
        .post_form(
            &path,
            &[
                ("input", &input),
                ("format", "text"),
                ("time_zone", "Europe/Berlin"),
                ("action", "add"),
                ("digest", digest),
                ("pick", "0"),
                ("pick", "1"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let rows =
        sqlx::query!("SELECT occurred_at, text, source FROM timeline_entries ORDER BY occurred_at")
            .fetch_all(&app.db)
            .await
            .expect("entries");
    assert_eq!(rows.len(), 2, "only the ticked lines");
    assert_eq!(
        rows[0].occurred_at.to_rfc3339(),
        "2026-03-01T13:05:00+00:00"
    );
    assert_eq!(
        rows[1].text,
        "alex: rolling back v2.14\nthis line carries on alex's message"
    );
    assert_eq!(rows[1].source, "chat log");
}

#[tokio::test]
async fn edited_text_is_previewed_again_before_anything_is_added() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let page = author
        .post_form(
            &format!("/incidents/{number}/timeline/import"),
            &[
                ("input", LOG),
                ("format", "auto"),
                ("time_zone", "UTC"),
                ("action", "add"),
                ("digest", "stale"),
                ("pick", "0"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("3 entries read"));
    let count: i64 = sqlx::query_scalar!("SELECT count(*) AS \"n!\" FROM timeline_entries")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(count, 0);
}
