//! Importing an existing archive of Markdown postmortems: nothing is lost,
//! timelines land at the right UTC times, and a second import updates.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use debrief::{
    archive::markdown::{self, Source},
    domain::role::Role,
    store,
};
use reqwest::StatusCode;

use crate::helpers::TestApp;

fn corpus(part: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(part)
}

async fn import_all(app: &TestApp, sources: &[Source]) {
    app.import_markdown(sources, Tz::UTC).await;
}

async fn number_of(app: &TestApp, source: &str) -> i32 {
    sqlx::query_scalar!(
        "SELECT number FROM incidents WHERE imported_from = $1",
        source
    )
    .fetch_one(&app.db)
    .await
    .expect("test data")
}

/// HTML entities (`&amp;`) are markup for one character, not words.
fn decode(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Lowercased runs of letters and digits.
fn words(text: &str) -> Vec<String> {
    decode(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The lines of the section under `heading` (any level).
fn section<'a>(text: &'a str, heading: &str) -> Vec<&'a str> {
    let mut inside = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            inside = line
                .trim_start_matches('#')
                .trim()
                .eq_ignore_ascii_case(heading);
            continue;
        }
        if inside {
            lines.push(line);
        }
    }
    lines
}

/// Data rows of the first table in a section: `(time cell, event cell)`.
fn table_rows(lines: &[&str]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter(|line| line.trim_start().starts_with('|'))
        .map(|line| {
            let cells: Vec<String> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_owned())
                .collect();
            (
                cells[0].clone(),
                decode(&cells.get(1).cloned().unwrap_or_default()),
            )
        })
        .filter(|(time, _)| {
            !time.starts_with(':')
                && !time.starts_with('-')
                && !time.to_lowercase().contains("time")
        })
        .collect()
}

#[tokio::test]
async fn every_dfds_postmortem_imports_whole_and_a_second_import_changes_nothing() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Admin).await;
    let (sources, skipped) = markdown::collect(&[corpus("dfds")]).expect("test data");
    assert_eq!(sources.len(), 40, "every postmortem, the template included");
    assert_eq!(
        skipped.len(),
        1,
        "only the license is left out: {skipped:?}"
    );

    import_all(&app, &sources).await;

    for source in &sources {
        let number = number_of(&app, &source.name).await;
        let export = client.get(&format!("/incidents/{number}/export.md")).await;
        assert_eq!(export.status, StatusCode::OK);
        let kept: HashSet<String> = words(&export.body).into_iter().collect();
        for line in source.text.lines().filter(|line| !line.trim().is_empty()) {
            let missing: Vec<String> = words(line)
                .into_iter()
                .filter(|word| !kept.contains(word))
                .collect();
            assert!(
                missing.is_empty(),
                "{}: {missing:?} of the line {line:?} are missing",
                source.name
            );
        }
        check_timeline(&app, source).await;
        check_action_items(&app, source).await;
    }

    let before: i64 = sqlx::query_scalar!("SELECT count(*) AS \"n!\" FROM postmortems")
        .fetch_one(&app.db)
        .await
        .expect("test data");
    import_all(&app, &sources).await;
    let after: i64 = sqlx::query_scalar!("SELECT count(*) AS \"n!\" FROM postmortems")
        .fetch_one(&app.db)
        .await
        .expect("test data");
    assert_eq!((before, after), (40, 40));
}

/// One entry per table row; rows with a whole time are at that time in UTC.
async fn check_timeline(app: &TestApp, source: &Source) {
    let lines = section(&source.text, "Timeline");
    let rows = table_rows(&lines);
    if rows.is_empty() {
        return;
    }
    let zone = if lines.iter().any(|line| line.contains("CET")) {
        Tz::CET
    } else {
        Tz::UTC
    };
    let entries = sqlx::query!(
        "SELECT e.occurred_at, e.text FROM timeline_entries e JOIN postmortems p ON p.id = e.postmortem_id
         JOIN incidents i ON i.id = p.incident_id WHERE i.imported_from = $1",
        source.name
    )
    .fetch_all(&app.db)
    .await
    .expect("test data");
    assert_eq!(
        entries.len(),
        rows.len(),
        "{}: one entry per row",
        source.name
    );
    let found: HashMap<String, Vec<DateTime<Utc>>> =
        entries.iter().fold(HashMap::new(), |mut map, entry| {
            map.entry(entry.text.clone())
                .or_default()
                .push(entry.occurred_at);
            map
        });
    for (time, event) in rows {
        let Ok(local) = NaiveDateTime::parse_from_str(&time, "%Y-%m-%d %H:%M") else {
            continue;
        };
        let expected = zone
            .from_local_datetime(&local)
            .earliest()
            .expect("test data")
            .with_timezone(&Utc);
        let times = found
            .get(&event)
            .unwrap_or_else(|| panic!("{}: no entry for {event:?}", source.name));
        assert!(
            times.contains(&expected),
            "{}: {event:?} should be at {expected}, is at {times:?}",
            source.name
        );
    }
}

/// Every top-level item of the "Action Items" list is an action item.
async fn check_action_items(app: &TestApp, source: &Source) {
    let listed = section(&source.text, "Action Items")
        .iter()
        .filter(|line| line.starts_with("- ") && line.trim().len() > 2)
        .count();
    let stored: i64 = sqlx::query_scalar!(
        "SELECT count(*) AS \"n!\" FROM action_items a JOIN postmortems p ON p.id = a.postmortem_id
         JOIN incidents i ON i.id = p.incident_id WHERE i.imported_from = $1",
        source.name
    )
    .fetch_one(&app.db)
    .await
    .expect("test data");
    assert_eq!(stored as usize, listed, "{}: action items", source.name);
}

#[tokio::test]
async fn the_blameless_example_imports_with_its_timeline_factors_and_owned_dated_items() {
    let app = TestApp::spawn().await;
    let (sources, _) = markdown::collect(&[corpus("examples/blameless.md")]).expect("test data");
    import_all(&app, &sources).await;

    let number = number_of(&app, "blameless.md").await;
    let postmortem = app.postmortem(number).await;
    let entries = store::timeline::list_entries(&app.db, postmortem.id)
        .await
        .expect("test data");
    assert_eq!(entries.len(), 8);
    assert_eq!(
        entries[0].occurred_at,
        Utc.with_ymd_and_hms(2026, 3, 10, 13, 55, 0).unwrap()
    );
    assert_eq!(
        store::postmortems::list_factors(&app.db, postmortem.id)
            .await
            .expect("test data")
            .len(),
        4
    );
    let items = store::action_items::list_for_postmortem(&app.db, postmortem.id)
        .await
        .expect("test data");
    let mut owned: Vec<(String, String)> = items
        .iter()
        .map(|item| {
            (
                item.owner_name.clone().unwrap_or_default(),
                item.due_on.map(|d| d.to_string()).unwrap_or_default(),
            )
        })
        .collect();
    owned.sort();
    assert_eq!(
        owned,
        vec![
            ("A".to_owned(), "2026-03-24".to_owned()),
            ("B".to_owned(), "2026-03-17".to_owned()),
            ("C".to_owned(), "2026-03-31".to_owned()),
            ("D".to_owned(), "2026-04-10".to_owned()),
        ]
    );
    assert_eq!(
        postmortem.status,
        debrief::domain::postmortem::PostmortemStatus::Published
    );
}

#[tokio::test]
async fn a_json_export_imported_into_an_empty_database_exports_the_same() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let (sources, _) =
        markdown::collect(&[corpus("dfds"), corpus("examples/blameless.md")]).expect("corpus");
    import_all(&app, &sources).await;
    let number = crate::incidents::create_incident(&author, "A draft with a picture").await;
    let now = app.clock.now();
    let team = store::teams::insert_team(&app.db, "Platform", now)
        .await
        .expect("team");
    store::teams::upsert_member(&app.db, team, author_id, true)
        .await
        .expect("member");
    let postmortem = app.postmortem(number).await;
    let picture = store::attachments::NewAttachment {
        postmortem_id: postmortem.id,
        timeline_entry_id: None,
        file_name: "graph.png",
        content_type: "image/png",
        content: b"\x89PNG\r\n\x1a\nnot really",
        created_by: Some(author_id),
    };
    store::attachments::insert_attachment(&app.db, &picture, now)
        .await
        .expect("attachment");
    let item = sqlx::query_scalar!("SELECT id FROM action_items LIMIT 1")
        .fetch_one(&app.db)
        .await
        .expect("an item");
    let change = store::action_items::NewChange {
        field: "status",
        old_value: Some("open".to_owned()),
        new_value: Some("done".to_owned()),
        note: None,
    };
    store::action_items::record_change(&app.db, item, Some(author_id), change, now)
        .await
        .expect("change");

    let first = debrief::archive::json::export(&app.db, true, |_, _| {})
        .await
        .expect("export");
    let empty = TestApp::spawn().await;
    debrief::archive::json::import(&empty.db, &first, |_, _| {})
        .await
        .expect("import");
    let second = debrief::archive::json::export(&empty.db, true, |_, _| {})
        .await
        .expect("export again");

    assert!(
        first.contains("\"action_item_changes\":[\n{"),
        "the history is in it"
    );
    assert!(
        first.contains("\"attachments\":[\n{"),
        "the images are in it"
    );
    assert_eq!(first.len(), second.len());
    assert!(first == second, "the second export differs from the first");
    let again = debrief::archive::json::import(&empty.db, &first, |_, _| {}).await;
    assert!(
        again.is_err(),
        "a second import into a full database is refused"
    );

    // An archive from before restricted postmortems (no `restricted` column,
    // no access lists) imports, every postmortem open to all.
    let mut older: serde_json::Value = serde_json::from_str(&first).expect("json");
    let tables = older["tables"].as_object_mut().expect("tables");
    tables.remove("postmortem_access");
    for row in tables["postmortems"].as_array_mut().expect("rows") {
        row.as_object_mut().expect("row").remove("restricted");
    }
    let third = TestApp::spawn().await;
    debrief::archive::json::import(&third.db, &older.to_string(), |_, _| {})
        .await
        .expect("an older archive imports");
    let (all, open): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(*) FILTER (WHERE NOT restricted) FROM postmortems")
            .fetch_one(&third.db)
            .await
            .expect("counts");
    assert!(all > 40);
    assert_eq!(open, all);
}

#[tokio::test]
async fn an_export_without_password_hashes_leaves_them_out() {
    let app = TestApp::spawn().await;
    app.signed_in(Role::Admin).await;
    let text = debrief::archive::json::export(&app.db, false, |_, _| {})
        .await
        .expect("export");
    assert!(!text.contains("password_hash"));
    assert!(text.contains("\"email\""));
}

async fn upload_markdown(
    client: &crate::helpers::TestClient,
    dry_run: bool,
) -> crate::helpers::Page {
    let text = std::fs::read(corpus("examples/blameless.md")).expect("example");
    upload(client, "blameless.md", text, dry_run).await
}

async fn upload(
    client: &crate::helpers::TestClient,
    name: &str,
    text: Vec<u8>,
    dry_run: bool,
) -> crate::helpers::Page {
    let token = client.csrf_token().await;
    let mut form = reqwest::multipart::Form::new()
        .part(
            "files",
            reqwest::multipart::Part::bytes(text).file_name(name.to_owned()),
        )
        .text("time_zone", "UTC");
    if dry_run {
        form = form.text("dry_run", "1");
    }
    let response = client
        .http
        .post(client.url(&format!("/admin/import?_csrf={token}")))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    crate::helpers::Page {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

#[tokio::test]
async fn admins_import_through_the_browser_after_a_dry_run_and_members_cannot() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (member, _) = app.signed_in(Role::Member).await;

    let dry = upload_markdown(&admin, true).await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert!(dry.body.contains("Dry run: nothing was saved"));
    assert!(
        dry.body
            .contains("8 timeline entries, 4 contributing factors, 4 action items"),
        "{}",
        dry.body
    );
    let none: i64 = sqlx::query_scalar!("SELECT count(*) AS \"n!\" FROM incidents")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(none, 0);

    let real = upload_markdown(&admin, false).await;
    assert!(
        real.body.contains("INC-1</a> blameless.md"),
        "{}",
        real.body
    );
    let again = upload_markdown(&admin, false).await;
    assert!(again.body.contains("updated"));
    let one: i64 = sqlx::query_scalar!("SELECT count(*) AS \"n!\" FROM incidents")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(one, 1);

    assert_eq!(
        upload_markdown(&member, true).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn images_beside_an_imported_file_become_attachments_and_missing_ones_are_reported() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Admin).await;
    let folder =
        std::env::temp_dir().join(format!("debrief-import-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(folder.join("img")).expect("folder");
    std::fs::write(
        folder.join("img/p99.png"),
        b"\x89PNG\r\n\x1a\nnot a real picture",
    )
    .expect("image");
    let text = "# Slow checkout\n\n## Summary\n\nLatency rose. ![p99 graph](img/p99.png) ![gone](img/missing.png)\n";
    std::fs::write(folder.join("slow.md"), text).expect("markdown");

    let (sources, _) = markdown::collect(std::slice::from_ref(&folder)).expect("collect");
    let owners = store::imports::load_owner_names(&app.db)
        .await
        .expect("owners");
    let outcome = markdown::import_one(
        &app.db,
        &sources[0],
        &owners,
        None,
        Tz::UTC,
        &debrief::domain::import::Vocabulary::default(),
        app.clock.now(),
    )
    .await
    .expect("import");
    std::fs::remove_dir_all(&folder).ok();

    assert_eq!(outcome.images, 1);
    assert!(
        outcome
            .document
            .report
            .iter()
            .any(|line| line.contains("img/missing.png") && line.contains("not found"))
    );
    let number = number_of(&app, "slow.md").await;
    let page = client.get(&format!("/incidents/{number}")).await;
    let link = format!("/incidents/{number}/attachments/");
    assert!(
        page.body.contains(&format!("src=\"{link}")),
        "the summary shows the stored image"
    );
    let start = page.body.find(&link).expect("an attachment link");
    let path = page.body[start..]
        .split('"')
        .next()
        .expect("link")
        .to_owned();
    let image = client.get(&path).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.headers["content-type"], "image/png");
}

#[tokio::test]
async fn an_admins_heading_synonyms_and_severity_words_change_the_next_import() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (member, _) = app.signed_in(Role::Member).await;
    let text = b"# Queue stall\n\nSeverity: Red\n\n## Reflections\n\nSmaller batches.\n\n## Timeline\n\n- 29-11-2024 13:00 Alert fired\n- 29-11-2024 13:20 Rolled back\n".to_vec();

    let before = upload(&admin, "stall.md", text.clone(), true).await;
    assert!(
        before.body.contains("Headings that mapped nowhere"),
        "{}",
        before.body
    );
    assert!(
        before.body.contains("severity: not given (SEV3)"),
        "{}",
        before.body
    );
    assert!(
        before.body.contains("2024-11-29 13:00  detection"),
        "each entry with the time it was read as: {}",
        before.body
    );

    let refused = admin
        .post_form(
            "/admin/import/headings",
            &[("heading", "  "), ("target", "lessons")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Type the heading as the documents write it")
    );
    assert!(
        refused
            .body
            .contains(r#"<option value="lessons" selected>"#),
        "the choice is kept"
    );

    let saved = admin
        .post_form(
            "/admin/import/headings",
            &[("heading", "Reflections:"), ("target", "lessons")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = admin.get("/admin/import").await;
    assert!(
        page.body
            .contains("Headings “reflections” now go to Lessons learned."),
        "{}",
        page.body
    );
    let saved = admin
        .post_form(
            "/admin/import/severity-words",
            &[("word", "Red"), ("severity", "sev1")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert!(
        admin
            .get("/admin/import")
            .await
            .body
            .contains("“red” now means SEV1.")
    );

    let after = upload(&admin, "stall.md", text, true).await;
    assert!(
        after.body.contains("“Reflections” → Lessons learned"),
        "{}",
        after.body
    );
    assert!(!after.body.contains("Headings that mapped nowhere"));
    assert!(after.body.contains("severity: SEV1"), "{}", after.body);

    let audit: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM audit_events WHERE action LIKE 'import_%_saved'"#
    )
    .fetch_one(&app.db)
    .await
    .expect("audit");
    assert_eq!(audit, 2);

    let forbidden = member
        .post_form(
            "/admin/import/severity-words",
            &[("word", "blue"), ("severity", "sev1")],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let removed = admin
        .post_form("/admin/import/severity-words/remove", &[("word", "red")])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let page = admin.get("/admin/import").await;
    assert!(
        page.body.contains("“red” is no longer a severity word."),
        "{}",
        page.body
    );
}

/// The smallest PNG there is: one transparent pixel.
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

#[tokio::test]
async fn images_outside_the_folder_links_out_and_pipes_are_reported_and_never_attached() {
    let app = TestApp::spawn().await;
    let base = std::env::temp_dir().join(format!("debrief-import-{}", uuid::Uuid::now_v7()));
    let folder = base.join("archive");
    std::fs::create_dir_all(&folder).expect("a folder");
    // A file outside the folder, a link to it, a pipe, and one good image.
    std::fs::write(base.join("secret.png"), PIXEL_PNG).expect("outside");
    std::os::unix::fs::symlink(base.join("secret.png"), folder.join("link.png")).expect("a link");
    let made = std::process::Command::new("mkfifo")
        .arg(folder.join("pipe.png"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    std::fs::write(folder.join("graph.png"), PIXEL_PNG).expect("an image");
    std::fs::write(
        folder.join("2026-11-01-outage.md"),
        "# Queue outage\n\n## Summary\n\nThe queue stalled.\n\n\
         ![up](../secret.png) ![link](link.png) ![pipe](pipe.png) ![graph](graph.png)\n",
    )
    .expect("the postmortem");
    // A pipe named like Markdown is skipped, not read.
    let made = std::process::Command::new("mkfifo")
        .arg(folder.join("stuck.md"))
        .status()
        .expect("mkfifo");
    assert!(made.success());

    let finished = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let (sources, skipped) =
            markdown::collect(std::slice::from_ref(&folder)).expect("collected");
        app.import_markdown(&sources, Tz::UTC).await;
        (sources.len(), skipped)
    })
    .await
    .expect("the import finishes");
    let (imported, skipped) = finished;
    assert_eq!(imported, 1);
    assert!(
        skipped
            .iter()
            .any(|(name, why)| name == "stuck.md" && why.contains("not a regular file")),
        "{skipped:?}"
    );
    let (report, attachments): (Option<String>, i64) = sqlx::query_as(
        "SELECT i.import_report, (SELECT count(*) FROM attachments a WHERE a.postmortem_id = p.id)
         FROM incidents i JOIN postmortems p ON p.incident_id = i.id",
    )
    .fetch_one(&app.db)
    .await
    .expect("the import");
    let report = report.unwrap_or_default();
    assert_eq!(attachments, 1, "only graph.png: {report}");
    assert!(
        report.contains("image “../secret.png”: outside the folder being imported"),
        "{report}"
    );
    assert!(
        report.contains("image “link.png”: outside the folder being imported"),
        "{report}"
    );
    assert!(
        report.contains("image “pipe.png”: not a regular file"),
        "{report}"
    );
    std::fs::remove_dir_all(&base).expect("cleaned up");
}
