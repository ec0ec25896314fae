//! Incidents and postmortems through HTTP: writing, reading, workflow,
//! permissions, lost-update protection, history and exports.

use debrief::domain::role::Role;
use reqwest::StatusCode;

use crate::helpers::{TestApp, TestClient};

/// Creates an incident as `client` and returns its number.
pub async fn create_incident(client: &TestClient, title: &str) -> i32 {
    let page = client
        .post_form(
            "/incidents/new",
            &[
                ("title", title),
                ("kind", "incident"),
                ("severity", "sev2"),
                ("services", "checkout-api, Postgres Main"),
                ("tags", "database"),
                ("time_zone", "Europe/Berlin"),
                ("started_at", "2026-03-01T14:05"),
                ("detected_at", "2026-03-01T14:18"),
                ("mitigated_at", "2026-03-01T15:00"),
                ("resolved_at", "2026-03-01T16:10"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location().expect("a redirect");
    location
        .trim_start_matches("/incidents/")
        .trim_end_matches("/postmortem/edit")
        .parse()
        .expect("an incident number")
}

/// Sends a postmortem to review with `reviewer`, who then publishes it.
pub async fn publish(author: &TestClient, reviewer: &TestClient, number: i32, reviewer_id: &str) {
    let path = format!("/incidents/{number}/status");
    let sent = author
        .post_form(
            &path,
            &[("status", "in_review"), ("reviewers", reviewer_id)],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let published = reviewer
        .post_form(&path, &[("status", "published"), ("acknowledge", "yes")])
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER);
}

/// The hidden `version` of the editing page.
pub async fn editor_version(client: &TestClient, number: i32) -> String {
    let page = client
        .get(&format!("/incidents/{number}/postmortem/edit"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let marker = r#"name="version" value=""#;
    let start = page.body.find(marker).expect("a version field") + marker.len();
    page.body[start..start + page.body[start..].find('"').expect("end")].to_owned()
}

/// Saves the summary (and nothing else) from `version`.
pub async fn save_summary(
    client: &TestClient,
    number: i32,
    version: &str,
    summary: &str,
) -> crate::helpers::Page {
    client
        .post_form(
            &format!("/incidents/{number}/postmortem/edit"),
            &[
                ("version", version),
                ("summary", summary),
                ("trigger", "A pool size change."),
            ],
        )
        .await
}
/// Adds timeline rows `(time, kind, text)` through the authoring form, the
/// way its empty rows send them.
pub async fn add_entries(
    client: &TestClient,
    number: i32,
    rows: &[(&str, &str, &str)],
) -> crate::helpers::Page {
    let mut fields = Vec::new();
    for (at, kind, text) in rows {
        fields.extend([
            ("entry_key", "new"),
            ("entry_base", ""),
            ("entry_at", *at),
            ("entry_kind", *kind),
            ("entry_text", *text),
            ("entry_source", "chat"),
            ("entry_link", ""),
        ]);
    }
    client
        .post_form(&format!("/incidents/{number}/postmortem/edit"), &fields)
        .await
}

/// Adds one action item through the authoring form; `fields` name the
/// item's inputs without their `item_` prefix (title, owner, due, …).
pub async fn add_item(
    client: &TestClient,
    number: i32,
    fields: &[(&str, &str)],
) -> crate::helpers::Page {
    let value = |name: &str, default: &'static str| {
        fields
            .iter()
            .find(|(field, _)| *field == name)
            .map_or(default.to_owned(), |(_, value)| (*value).to_owned())
    };
    let names = [
        ("title", ""),
        ("owner", ""),
        ("team", ""),
        ("due", ""),
        ("priority", "p2"),
        ("kind", "prevent"),
        ("status", "open"),
        ("factor", ""),
        ("tracker", ""),
        ("description", ""),
        ("reason", ""),
    ];
    let mut form = vec![
        ("item_key".to_owned(), "new".to_owned()),
        ("item_base".to_owned(), String::new()),
    ];
    for (name, default) in names {
        form.push((format!("item_{name}"), value(name, default)));
    }
    let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    client
        .post_form(&format!("/incidents/{number}/postmortem/edit"), &borrowed)
        .await
}

/// The value of the first hidden input `name` on the authoring page.
pub async fn editor_hidden(client: &TestClient, number: i32, name: &str) -> String {
    let page = client
        .get(&format!("/incidents/{number}/postmortem/edit"))
        .await;
    let marker = format!(r#"name="{name}" value=""#);
    let start = page.body.find(&marker).expect("the field") + marker.len();
    page.body[start..start + page.body[start..].find('"').expect("end")].to_owned()
}

#[tokio::test]
async fn a_member_records_an_incident_and_reads_its_times_in_their_zone() {
    let app = TestApp::spawn().await;
    let (member, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&member, "Checkout returned 502s").await;

    let page = member.get(&format!("/incidents/{number}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("INC-{number}")));
    assert!(
        page.body.contains("2026-03-01 13:05 UTC"),
        "typed in Berlin, read in UTC"
    );
    assert!(page.body.contains("13 min"), "time to detect is derived");
    assert!(
        page.body.contains("2 h 5 min"),
        "time to resolve is derived"
    );
    assert!(
        page.body.contains("postgres-main"),
        "services are normalized"
    );
    assert!(page.body.contains("<svg"), "the phases are drawn");

    member
        .post_form(
            "/account/profile",
            &[
                ("display_name", "Test Member"),
                ("time_zone", "America/New_York"),
            ],
        )
        .await;
    let page = member.get(&format!("/incidents/{number}")).await;
    assert!(page.body.contains("2026-03-01 08:05 EST"));
}

#[tokio::test]
async fn bad_incident_input_keeps_the_text_and_names_each_problem() {
    let app = TestApp::spawn().await;
    let (member, _) = app.signed_in(Role::Member).await;
    let page = member
        .post_form(
            "/incidents/new",
            &[
                ("title", ""),
                ("kind", "incident"),
                ("severity", "sev9"),
                ("services", "checkout-api"),
                ("time_zone", "Europe/Berlin"),
                ("started_at", "2026-03-01T14:05"),
                ("detected_at", "2026-03-01T13:00"),
                ("resolved_at", "soon"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["title", "severity", "detected_at", "resolved_at"] {
        assert!(
            page.body.contains(&format!(r#"id="{field}-error""#)),
            "{field}"
        );
    }
    assert!(page.body.contains(r#"value="checkout-api""#) && page.body.contains(r#"value="soon""#));
}

#[tokio::test]
async fn the_second_of_two_saves_from_the_same_version_is_refused_and_nothing_is_lost() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let number = create_incident(&author, "Checkout returned 502s").await;
    let version = editor_version(&author, number).await;
    assert_eq!(editor_version(&admin, number).await, version);

    let first = save_summary(&admin, number, &version, "Summary from the admin.").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let second = save_summary(&author, number, &version, "Summary from the author.").await;
    assert_eq!(second.status, StatusCode::CONFLICT);
    assert!(
        second.body.contains("Summary from the author."),
        "the user's text comes back"
    );
    assert!(
        second.body.contains("Summary from the admin."),
        "the other save is shown beside it"
    );
    assert!(second.body.contains("Someone else saved this postmortem"));
    let read = author.get(&format!("/incidents/{number}")).await;
    assert!(
        read.body.contains("Summary from the admin.")
            && !read.body.contains("Summary from the author.")
    );

    let marker = r#"name="version" value=""#;
    let start = second.body.find(marker).expect("version") + marker.len();
    let merged_version = &second.body[start..start + second.body[start..].find('"').expect("end")];
    let merged = save_summary(&author, number, merged_version, "Both summaries, merged.").await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER);
    assert!(
        author
            .get(&format!("/incidents/{number}"))
            .await
            .body
            .contains("Both summaries, merged.")
    );
}

#[tokio::test]
async fn markdown_with_scripts_handlers_and_javascript_links_renders_inert() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Markdown").await;
    let version = editor_version(&author, number).await;
    let hostile = "**bold** <script>alert('x')</script> <img src=x onerror=alert(1)> [link](javascript:alert(2))\n\n| a | b |\n|---|---|\n| 1 | 2 |";
    save_summary(&author, number, &version, hostile).await;
    let page = author.get(&format!("/incidents/{number}")).await;
    assert!(page.body.contains("<strong>bold</strong>") && page.body.contains("<td>1</td>"));
    for inert in ["<script>alert", "onerror", "javascript:alert"] {
        assert!(!page.body.contains(inert), "{inert} survived");
    }
}

#[tokio::test]
async fn viewers_cannot_reach_any_write_route() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (reviewer, reviewer_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Published incident").await;
    let reviewer_id = reviewer_id.to_string();
    add_entries(
        &author,
        number,
        &[("2026-03-01 14:05", "trigger", "Deploy")],
    )
    .await;
    add_item(
        &author,
        number,
        &[("title", "Alert on saturation"), ("kind", "detect")],
    )
    .await;
    let other = create_incident(&author, "Another incident").await;
    author
        .post_form(
            &format!("/incidents/{number}/links"),
            &[("other", &other.to_string())],
        )
        .await;
    publish(&author, &reviewer, number, &reviewer_id).await;
    let item_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM action_items LIMIT 1")
        .fetch_one(&app.db)
        .await
        .expect("item");
    let (viewer, _) = app.signed_in(Role::Viewer).await;
    assert_eq!(
        viewer.get(&format!("/incidents/{number}")).await.status,
        StatusCode::OK,
        "viewers read"
    );

    let gets = [
        "/incidents/new".to_owned(),
        format!("/incidents/{number}/edit"),
        format!("/incidents/{number}/postmortem/edit"),
    ];
    for path in &gets {
        assert_eq!(
            viewer.get(path).await.status,
            StatusCode::FORBIDDEN,
            "GET {path}"
        );
    }
    let posts = [
        (
            "/incidents/new".to_owned(),
            vec![
                ("title", "x"),
                ("kind", "incident"),
                ("severity", "sev1"),
                ("time_zone", "UTC"),
            ],
        ),
        (format!("/incidents/{number}/edit"), vec![("title", "x")]),
        (
            format!("/incidents/{number}/postmortem/edit"),
            vec![("summary", "x"), ("version", "99")],
        ),
        (
            format!("/incidents/{number}/postmortem/draft"),
            vec![("summary", "x")],
        ),
        (
            format!("/incidents/{number}/postmortem/draft/discard"),
            vec![],
        ),
        (
            format!("/incidents/{number}/checklist"),
            vec![("summary", "x")],
        ),
        (
            format!("/incidents/{number}/status"),
            vec![("status", "in_review")],
        ),
        (
            format!("/incidents/{number}/people"),
            vec![("add_author", "x")],
        ),
        (format!("/incidents/{number}/links"), vec![("other", "1")]),
        (format!("/incidents/{number}/history/1/restore"), vec![]),
        (format!("/incidents/{number}/links/{other}/delete"), vec![]),
        (format!("/action-items/{item_id}"), vec![("title", "x")]),
    ];
    for (path, form) in &posts {
        assert_eq!(
            viewer.post_form(path, form).await.status,
            StatusCode::FORBIDDEN,
            "POST {path}"
        );
    }
}

#[tokio::test]
async fn a_member_cannot_read_another_members_draft_until_it_is_published() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (other, other_id) = app.signed_in(Role::Member).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let number = create_incident(&author, "A private draft").await;
    let path = format!("/incidents/{number}");

    for hidden in [
        path.clone(),
        format!("{path}/export.md"),
        format!("{path}/export.json"),
        format!("{path}/history"),
    ] {
        assert_eq!(
            other.get(&hidden).await.status,
            StatusCode::NOT_FOUND,
            "{hidden}"
        );
    }
    assert!(
        !other
            .get("/incidents")
            .await
            .body
            .contains("A private draft")
    );
    assert_eq!(
        admin.get(&path).await.status,
        StatusCode::OK,
        "admins read drafts"
    );

    add_item(
        &author,
        number,
        &[("title", "A private item"), ("kind", "detect")],
    )
    .await;
    assert!(
        !other
            .get("/action-items?scope=all")
            .await
            .body
            .contains("A private item")
    );
    let edit = other
        .post_form(
            &format!("{path}/postmortem/edit"),
            &[("summary", "Mine now"), ("version", "1")],
        )
        .await;
    assert_eq!(
        edit.status,
        StatusCode::NOT_FOUND,
        "what one cannot read one cannot write"
    );

    let direct = author
        .post_form(&format!("{path}/status"), &[("status", "published")])
        .await;
    assert_eq!(
        direct.status,
        StatusCode::FORBIDDEN,
        "drafts go through review"
    );
    let other_id = other_id.to_string();
    author
        .post_form(
            &format!("{path}/status"),
            &[("status", "in_review"), ("reviewers", &other_id)],
        )
        .await;
    assert_eq!(
        other.get(&path).await.status,
        StatusCode::OK,
        "reviewers read the draft"
    );
    assert_eq!(
        other.get(&format!("{path}/postmortem/edit")).await.status,
        StatusCode::FORBIDDEN
    );
    let by_author = author
        .post_form(&format!("{path}/status"), &[("status", "published")])
        .await;
    assert_eq!(
        by_author.status,
        StatusCode::FORBIDDEN,
        "publishing needs a reviewer"
    );

    other
        .post_form(
            &format!("{path}/status"),
            &[("status", "published"), ("acknowledge", "yes")],
        )
        .await;
    let (viewer, _) = app.signed_in(Role::Viewer).await;
    assert!(
        viewer
            .get("/incidents")
            .await
            .body
            .contains("A private draft")
    );
}

#[tokio::test]
async fn timeline_entries_are_kept_in_time_order_and_their_kinds_give_durations() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let page = author
        .post_form(
            "/incidents/new",
            &[
                ("title", "No key times"),
                ("kind", "near_miss"),
                ("severity", "sev4"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    let number: i32 = page
        .location()
        .expect("redirect")
        .split('/')
        .nth(2)
        .expect("number")
        .parse()
        .expect("int");
    add_entries(
        &author,
        number,
        &[("2026-04-02 10:40", "detection", "Alert fired")],
    )
    .await;
    add_entries(
        &author,
        number,
        &[("2026-04-02T10:00", "trigger", "Config pushed")],
    )
    .await;
    let bad = add_entries(&author, number, &[("not a time", "note", "")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("2 problems stopped this save"),
        "{}",
        bad.body
    );
    assert!(
        bad.body.contains(r##"href="#entry-0-at""##)
            && bad.body.contains(r##"href="#entry-0-text""##)
    );
    assert!(
        bad.body.contains(r#"value="not a time""#),
        "the typed time is kept"
    );

    let page = author.get(&format!("/incidents/{number}")).await;
    let trigger = page.body.find("Config pushed").expect("trigger shown");
    let detection = page.body.find("Alert fired").expect("detection shown");
    assert!(trigger < detection, "entries in time order");
    assert!(
        page.body.contains("40 min"),
        "time to detect from the entry kinds"
    );
}

#[tokio::test]
async fn action_items_are_owned_dated_and_keep_their_history() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Items").await;
    let author_id = author_id.to_string();
    let missing = add_item(
        &author,
        number,
        &[("title", ""), ("kind", "detect"), ("due", "2026-13-45")],
    )
    .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing.body.contains(r##"href="#item-0-title""##),
        "{}",
        missing.body
    );
    let added = add_item(
        &author,
        number,
        &[
            ("title", "Alert on pool saturation"),
            ("kind", "detect"),
            ("priority", "p1"),
            ("owner", &author_id),
            ("due", "2020-01-31"),
            ("tracker", "https://tracker.example.com/PAY-1"),
        ],
    )
    .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);

    let mine = author.get("/action-items").await;
    assert!(mine.body.contains("Alert on pool saturation") && mine.body.contains("Overdue"));
    let home = author.get("/").await;
    assert!(home.body.contains("1 overdue") && home.body.contains("Alert on pool saturation"));
    let overdue = author.get("/action-items?scope=all&due=overdue").await;
    assert!(overdue.body.contains("Alert on pool saturation"));
    let marker = "/action-items/";
    let start = mine
        .body
        .find(&format!(r#"href="{marker}"#))
        .expect("item link")
        + r#"href=""#.len();
    let item_path = mine.body[start..start + mine.body[start..].find('"').expect("end")].to_owned();

    let form = |status: &'static str, due: &'static str, reason: &'static str, version: String| {
        vec![
            ("title", "Alert on pool saturation".to_owned()),
            ("kind", "detect".to_owned()),
            ("priority", "p1".to_owned()),
            ("status", status.to_owned()),
            ("owner_id", author_id.clone()),
            ("due_on", due.to_owned()),
            ("closing_reason", reason.to_owned()),
            ("version", version),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let item_path = item_path.clone();
        let author = &author;
        async move {
            let borrowed: Vec<(&str, &str)> =
                fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            author.post_form(&item_path, &borrowed).await
        }
    };
    let moved = post(form("open", "2030-06-30", "", "1".to_owned())).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    let no_reason = post(form("wont_do", "2030-06-30", "", "2".to_owned())).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains(r#"id="closing_reason-error""#));
    let stale = post(form(
        "deprioritized",
        "2030-06-30",
        "Replaced by the new pooler.",
        "1".to_owned(),
    ))
    .await;
    assert_eq!(
        stale.status,
        StatusCode::CONFLICT,
        "an edit from an old version is refused"
    );
    let dropped = post(form(
        "deprioritized",
        "2030-06-30",
        "Replaced by the new pooler.",
        "2".to_owned(),
    ))
    .await;
    assert_eq!(dropped.status, StatusCode::SEE_OTHER);

    let item = author.get(&item_path).await;
    assert!(
        item.body
            .contains("moved the due date from 2020-01-31 to 2030-06-30")
    );
    assert!(
        item.body
            .contains("changed the status from Open to Deprioritized")
    );
    assert!(item.body.contains("Replaced by the new pooler."));
}

#[tokio::test]
async fn the_history_shows_what_changed_and_restores_an_old_text() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "History").await;
    let version = editor_version(&author, number).await;
    save_summary(&author, number, &version, "First wording.").await;
    let version = editor_version(&author, number).await;
    save_summary(&author, number, &version, "Second wording.").await;

    let history = author.get(&format!("/incidents/{number}/history")).await;
    assert_eq!(history.status, StatusCode::OK);
    assert!(
        history.body.contains("- First wording.") && history.body.contains("+ Second wording.")
    );
    assert!(history.body.contains("Edited Summary"));

    let version = editor_version(&author, number).await;
    let stale = author
        .post_form(
            &format!("/incidents/{number}/history/2/restore"),
            &[("version", "1")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::SEE_OTHER);
    let unchanged = author.get(&format!("/incidents/{number}")).await;
    assert!(
        unchanged.body.contains("Second wording."),
        "a stale restore changes nothing"
    );
    let restore = author
        .post_form(
            &format!("/incidents/{number}/history/2/restore"),
            &[("version", &version)],
        )
        .await;
    assert_eq!(restore.status, StatusCode::SEE_OTHER);
    let page = author.get(&format!("/incidents/{number}")).await;
    assert!(page.body.contains("First wording.") && !page.body.contains("Second wording."));
}

#[tokio::test]
async fn related_and_repeated_incidents_show_on_both_sides() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let first = create_incident(&author, "The first time").await;
    let second = create_incident(&author, "The second time").await;
    author
        .post_form(
            &format!("/incidents/{second}/links"),
            &[("other", &format!("INC-{first}")), ("kind", "repeat_of")],
        )
        .await;
    let later = author.get(&format!("/incidents/{second}")).await;
    assert!(later.body.contains("Repeat of") && later.body.contains("The first time"));
    let earlier = author.get(&format!("/incidents/{first}")).await;
    assert!(earlier.body.contains("Repeated by") && earlier.body.contains("The second time"));
}

#[tokio::test]
async fn the_markdown_export_of_a_demo_postmortem_has_every_section_the_timeline_and_the_items() {
    let app = TestApp::spawn().await;
    debrief::seed::demo::seed(&app.db, &app.clock, |_, _, _| {})
        .await
        .expect("demo seeds");
    let (reader, _) = app.signed_in(Role::Viewer).await;
    let export = reader.get("/incidents/1/export.md").await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .starts_with("text/markdown")
    );
    for heading in [
        "## Summary",
        "## Impact",
        "## Trigger and root cause",
        "## Contributing factors",
        "## What went well",
        "## What went poorly",
        "## Where we got lucky",
        "## Lessons learned",
        "## Timeline",
        "## Action items",
    ] {
        assert!(export.body.contains(heading), "{heading}");
    }
    assert!(
        export
            .body
            .contains("| Time (UTC) | Kind | Event | Source |")
    );
    assert!(
        export
            .body
            .contains("| Action | Kind | Priority | Owner | Due | Status |")
    );
    assert!(
        export
            .body
            .contains("[Alert on expiry of every certificate in the payments namespace"),
        "an item row"
    );
    assert!(
        export.body.contains("acquirer-a-client-tls"),
        "a timeline row"
    );
    assert!(export.body.contains("### Details"), "item descriptions");
    let json = reader.get("/incidents/1/export.json").await;
    let document: serde_json::Value = serde_json::from_str(&json.body).expect("json");
    assert!(
        document["timeline"]
            .as_array()
            .is_some_and(|entries| !entries.is_empty())
    );
    assert!(
        document["action_items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
    );
}

#[tokio::test]
async fn the_incident_list_filters_and_pages() {
    let app = TestApp::spawn().await;
    debrief::seed::demo::seed(&app.db, &app.clock, |_, _, _| {})
        .await
        .expect("demo seeds");
    let (admin, _) = app.signed_in(Role::Admin).await;
    let all = admin.get("/incidents").await;
    assert_eq!(
        all.body.matches("<tr>").count() - 1,
        12,
        "a header row and twelve incidents"
    );
    let sev1 = admin.get("/incidents?severity=sev1").await;
    assert_eq!(
        sev1.body.matches(r#"class="badge sev sev-sev1""#).count(),
        2
    );
    let drafts = admin.get("/incidents?status=draft").await;
    assert_eq!(drafts.body.matches("<tr>").count() - 1, 1);
    let (viewer, _) = app.signed_in(Role::Viewer).await;
    assert_eq!(
        viewer.get("/incidents").await.body.matches("<tr>").count() - 1,
        8,
        "viewers see the published nine but the one restricted to Identity and Platform"
    );
}

#[tokio::test]
async fn an_owner_who_is_not_an_author_may_only_report_progress() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (owner, owner_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Owned elsewhere").await;
    let owner_id = owner_id.to_string();
    add_item(
        &author,
        number,
        &[
            ("title", "Alert on saturation"),
            ("kind", "detect"),
            ("priority", "p1"),
            ("owner", owner_id.as_str()),
            ("due", "2030-01-31"),
        ],
    )
    .await;
    let item_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM action_items")
        .fetch_one(&app.db)
        .await
        .expect("item");
    assert_eq!(
        owner.get(&format!("/incidents/{number}")).await.status,
        StatusCode::NOT_FOUND,
        "still a draft"
    );
    let (reviewer, reviewer_id) = app.signed_in(Role::Member).await;
    publish(&author, &reviewer, number, &reviewer_id.to_string()).await;

    let update = [
        ("title", "Something else entirely"),
        ("kind", "process"),
        ("priority", "p3"),
        ("status", "in_progress"),
        ("owner_id", ""),
        ("due_on", "2099-01-01"),
        ("version", "1"),
    ];
    let saved = owner
        .post_form(&format!("/action-items/{item_id}"), &update)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = owner.get(&format!("/action-items/{item_id}")).await;
    assert!(page.body.contains("Alert on saturation") && page.body.contains("In progress"));
    assert!(page.body.contains("2030-01-31") && !page.body.contains("2099-01-01"));
}

#[tokio::test]
async fn the_search_box_finds_incidents_by_title() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    create_incident(&author, "Certificate expiry broke checkout").await;
    create_incident(&author, "Slow search results").await;
    let search = author.get("/search?q=certificate%20expiry").await;
    assert_eq!(search.status, StatusCode::OK);
    assert!(search.body.contains("Certificate expiry broke checkout"));
    assert!(!search.body.contains("Slow search results"));
}

#[tokio::test]
async fn an_edit_of_a_timeline_entry_from_an_old_page_is_refused_and_kept() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let number = create_incident(&author, "Timeline races").await;
    add_entries(
        &author,
        number,
        &[("2026-03-01 14:05", "trigger", "Deploy")],
    )
    .await;
    let key = editor_hidden(&author, number, "entry_key").await;
    let base = editor_hidden(&author, number, "entry_base").await;
    let path = format!("/incidents/{number}/postmortem/edit");
    let row = |text: &'static str, base: String| {
        vec![
            ("entry_key", key.clone()),
            ("entry_base", base),
            ("entry_at", "2026-03-01 14:05".to_owned()),
            ("entry_kind", "trigger".to_owned()),
            ("entry_text", text.to_owned()),
            ("entry_source", "chat".to_owned()),
            ("entry_link", String::new()),
        ]
    };
    let post = |client: &TestClient, fields: Vec<(&'static str, String)>| {
        let path = path.clone();
        let client = client.clone();
        async move {
            let borrowed: Vec<(&str, &str)> =
                fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client.post_form(&path, &borrowed).await
        }
    };

    let first = post(&admin, row("Deploy of v2.14", base.clone())).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let stale = post(
        &author,
        row("Deploy of v2.14 by the pipeline", base.clone()),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.body.contains("Deploy of v2.14 by the pipeline"),
        "the typed text is kept"
    );
    assert!(
        stale
            .body
            .contains("Changed by someone else while you wrote")
    );
    assert!(
        stale.body.contains("Deploy of v2.14"),
        "theirs is shown beside"
    );
    let stored: String = sqlx::query_scalar("SELECT text FROM timeline_entries")
        .fetch_one(&app.db)
        .await
        .expect("text");
    assert_eq!(stored, "Deploy of v2.14");

    // The refused page carries the current base: saving it again applies.
    let current = editor_hidden(&author, number, "entry_base").await;
    let again = post(
        &author,
        row("Deploy of v2.14 by the pipeline", current.clone()),
    )
    .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    let newest = editor_hidden(&author, number, "entry_base").await;
    let bad = post(&author, row("", newest)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("row-problem"),
        "the problem shows in the row"
    );
}
