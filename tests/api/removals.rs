//! Nothing is hard-deleted: a removed timeline entry or attachment keeps its
//! row with who removed it and when, restoring a revision brings back that
//! revision's timeline, attachments and item wording, and the audit trail
//! records each removal and restore.

use chrono::SubsecRound;
use debrief::domain::role::Role;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::{
    attachments::{PIXEL_PNG, upload},
    helpers::{TestApp, TestClient},
    incidents::{add_entries, add_item, create_incident, editor_hidden},
};

async fn latest_revision(app: &TestApp) -> i32 {
    sqlx::query_scalar("SELECT max(number) FROM postmortem_revisions")
        .fetch_one(&app.db)
        .await
        .expect("a revision")
}

/// Removes the entry whose text is `text` through the authoring form, as
/// its Remove box does.
async fn remove_entry(client: &TestClient, number: i32, text: &str) -> crate::helpers::Page {
    let page = client
        .get(&format!("/incidents/{number}/postmortem/edit"))
        .await;
    let row = regex::Regex::new(
        r#"name="entry_key" value="([0-9a-f-]{36})"><input type="hidden" name="entry_base" value="([^"]*)""#,
    )
    .expect("a pattern");
    let rows: Vec<(String, String)> = row
        .captures_iter(&page.body)
        .map(|found| (found[1].to_owned(), found[2].to_owned()))
        .collect();
    let at = |i: usize| page.body.match_indices(r#"name="entry_key""#).nth(i);
    let index = (0..rows.len())
        .find(|&i| {
            let start = at(i).expect("a row").0;
            let end = at(i + 1).map_or(page.body.len(), |(end, _)| end);
            page.body[start..end].contains(text)
        })
        .expect("the entry is on the page");
    let (key, base) = &rows[index];
    client
        .post_form(
            &format!("/incidents/{number}/postmortem/edit"),
            &[
                ("entry_key", key),
                ("entry_base", base),
                ("entry_remove", key),
            ],
        )
        .await
}

async fn restore(client: &TestClient, number: i32, revision: i32) -> crate::helpers::Page {
    let version = editor_hidden(client, number, "version").await;
    client
        .post_form(
            &format!("/incidents/{number}/history/{revision}/restore"),
            &[("version", version.as_str())],
        )
        .await
}

async fn fetch(client: &TestClient, path: &str) -> (StatusCode, Vec<u8>) {
    let response = client
        .http
        .get(client.url(path))
        .send()
        .await
        .expect("a response");
    let status = response.status();
    (status, response.bytes().await.expect("the body").to_vec())
}

#[tokio::test]
async fn a_removed_entry_and_attachment_come_back_byte_for_byte_when_their_revision_is_restored() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let added = add_entries(
        &author,
        number,
        &[
            ("2026-03-01 14:05", "trigger", "Pool size lowered to 5"),
            ("2026-03-01 14:18", "detection", "Error-rate alert fired"),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let item = add_item(&author, number, &[("title", "Alert on pool saturation")]).await;
    assert_eq!(item.status, StatusCode::SEE_OTHER, "{}", item.body);
    let uploaded = upload(&author, number, "pool.png", PIXEL_PNG.to_vec()).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let (attachment_id, entry_id): (Uuid, Uuid) = sqlx::query_as(
        "SELECT (SELECT id FROM attachments), (SELECT id FROM timeline_entries WHERE text = 'Pool size lowered to 5')",
    )
    .fetch_one(&app.db)
    .await
    .expect("the rows");
    let image = format!("/incidents/{number}/attachments/{attachment_id}/pool.png");
    let whole = latest_revision(&app).await;

    // Remove the entry and the attachment, an hour apart.
    app.advance(chrono::Duration::hours(1));
    let removed = remove_entry(&author, number, "Pool size lowered to 5").await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    let entry_removed_at = app.clock.now().trunc_subsecs(6);
    app.advance(chrono::Duration::hours(1));
    let gone = author
        .post_form(
            &format!("/incidents/{number}/attachments/{attachment_id}/delete"),
            &[],
        )
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.body);
    let attachment_removed_at = app.clock.now().trunc_subsecs(6);

    let reading = author.get(&format!("/incidents/{number}")).await;
    assert!(
        !reading.body.contains("Pool size lowered to 5"),
        "the entry is off the page"
    );
    assert!(reading.body.contains("Error-rate alert fired"));
    assert!(
        !reading.body.contains("pool.png"),
        "the attachment is off the page"
    );
    assert_eq!(fetch(&author, &image).await.0, StatusCode::NOT_FOUND);
    // Kept, with who and when.
    let kept: Vec<(Option<Uuid>, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
        "SELECT removed_by, removed_at FROM timeline_entries WHERE id = $1
         UNION ALL SELECT removed_by, removed_at FROM attachments WHERE id = $2",
    )
    .bind(entry_id)
    .bind(attachment_id)
    .fetch_all(&app.db)
    .await
    .expect("the kept rows");
    assert_eq!(
        kept,
        vec![
            (Some(author_id), Some(entry_removed_at)),
            (Some(author_id), Some(attachment_removed_at))
        ]
    );
    let history = author.get(&format!("/incidents/{number}/history")).await;
    assert!(
        history.body.contains("Removed the attachment pool.png"),
        "{}",
        history.body
    );

    // Restore the revision from before both removals.
    let restored = restore(&author, number, whole).await;
    assert_eq!(restored.status, StatusCode::SEE_OTHER, "{}", restored.body);
    let page = author.get(&format!("/incidents/{number}")).await;
    assert!(
        page.body.contains(&format!(
            "Revision {whole} is back (1 timeline entry back, 1 attachment back)"
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("Pool size lowered to 5"));
    assert!(page.body.contains("pool.png"));
    let (status, bytes) = fetch(&author, &image).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PIXEL_PNG, "the very bytes, under the same address");
    let entry: (Uuid, String, Option<Uuid>) = sqlx::query_as(
        "SELECT id, text, removed_by FROM timeline_entries WHERE text = 'Pool size lowered to 5'",
    )
    .fetch_one(&app.db)
    .await
    .expect("one entry of that text");
    assert_eq!(
        entry,
        (entry_id, "Pool size lowered to 5".to_owned(), None),
        "the same row, live"
    );

    // Restoring a revision from before the upload removes the attachment
    // again (kept), and restoring the later one brings it back again.
    let before_upload = whole - 1;
    let back = restore(&author, number, before_upload).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(fetch(&author, &image).await.0, StatusCode::NOT_FOUND);
    let again = restore(&author, number, whole).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(fetch(&author, &image).await.1, PIXEL_PNG);
    let rows: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM timeline_entries), (SELECT count(*) FROM attachments)",
    )
    .fetch_one(&app.db)
    .await
    .expect("counts");
    assert_eq!(rows, (2, 1), "no row was written twice");

    // The audit trail has each removal and each restore, with who and when.
    let events: Vec<(String, Option<Uuid>, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT action, actor_id, at FROM audit_events
         WHERE action IN ('timeline_entry_removed', 'attachment_removed', 'revision_restored')
         ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .expect("events");
    let restored_at = app.clock.now().trunc_subsecs(6);
    assert_eq!(
        events,
        vec![
            (
                "timeline_entry_removed".to_owned(),
                Some(author_id),
                entry_removed_at
            ),
            (
                "attachment_removed".to_owned(),
                Some(author_id),
                attachment_removed_at
            ),
            ("revision_restored".to_owned(), Some(author_id), restored_at),
            ("revision_restored".to_owned(), Some(author_id), restored_at),
            ("revision_restored".to_owned(), Some(author_id), restored_at),
        ]
    );
    let (admin, _) = app.signed_in(Role::Admin).await;
    let trail = admin.get("/admin/audit").await;
    assert_eq!(trail.status, StatusCode::OK);
    for shown in [
        "timeline_entry_removed",
        "text: Pool size lowered to 5",
        "attachment_removed",
        "file: pool.png",
        "revision_restored",
        &format!("revision: {whole}"),
        &format!("INC-{number}"),
        &entry_removed_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        "Test Member",
    ] {
        assert!(trail.body.contains(shown), "the trail shows {shown}");
    }
}

#[tokio::test]
async fn review_decisions_quarter_closes_checklist_settings_and_imports_are_audited() {
    let app = TestApp::spawn().await;
    let (admin, admin_id) = app.signed_in(Role::Admin).await;
    let saved = admin
        .post_form(
            "/admin/checklist",
            &[
                ("on", "summary"),
                ("blame_phrases", "human error\ncareless"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let closed = admin.post_form("/review/2025-Q4/close", &[]).await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let source = debrief::archive::markdown::Source {
        name: "ledger.md".to_owned(),
        text: "# Ledger stalled\n\n## Summary\n\nIt stalled.\n".to_owned(),
        folder: None,
        root: None,
        files: Default::default(),
    };
    app.import_markdown(&[source], chrono_tz::Tz::UTC).await;
    let events: Vec<(String, Option<Uuid>)> = sqlx::query_as(
        "SELECT action, actor_id FROM audit_events
         WHERE action IN ('checklist_settings_saved', 'quarter_closed', 'postmortem_imported') ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .expect("events");
    assert_eq!(
        events,
        vec![
            ("checklist_settings_saved".to_owned(), Some(admin_id)),
            ("quarter_closed".to_owned(), Some(admin_id)),
            // The command-line import acts for nobody in particular.
            ("postmortem_imported".to_owned(), None),
        ]
    );
}
