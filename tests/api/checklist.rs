//! The blameless review checklist end to end: the two example postmortems
//! imported, the authoring panel and its live check, the summary on the
//! reading page, the acknowledgement when publishing, and the rules as data.

use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use debrief::{archive::markdown, domain::role::Role, store};
use reqwest::StatusCode;

use crate::{
    helpers::{TestApp, TestClient},
    incidents::{create_incident, editor_version},
};

fn corpus(part: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(part)
}

/// Imports one example; its incident number.
async fn import_example(app: &TestApp, file: &str) -> i32 {
    let (sources, _) = markdown::collect(&[corpus(&format!("examples/{file}"))]).expect("example");
    app.import_markdown(&sources[..1], Tz::UTC).await;
    sqlx::query_scalar("SELECT number FROM incidents WHERE imported_from = $1")
        .bind(file)
        .fetch_one(&app.db)
        .await
        .expect("number")
}

/// The stored failing checks of a postmortem.
async fn failing(app: &TestApp, number: i32) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT p.checklist_failing FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1",
    )
    .bind(number)
    .fetch_one(&app.db)
    .await
    .expect("checklist")
}

/// The checklist panel of the authoring page.
fn panel(body: &str) -> &str {
    let start = body.find(r#"id="checklist""#).expect("the panel");
    let end = start + body[start..].find("</section>").expect("its end");
    &body[start..end]
}

#[tokio::test]
async fn the_blamed_example_fails_blame_factors_sections_and_vague_items_with_passages_highlighted()
{
    let app = TestApp::spawn().await;
    let number = import_example(&app, "blamed.md").await;
    let failing = failing(&app, number).await;
    for rule in ["blame", "causes", "sections", "actions"] {
        assert!(failing.contains(&rule.to_owned()), "{rule} in {failing:?}");
    }
    let (admin, _) = app.signed_in(Role::Admin).await;
    let page = admin
        .get(&format!("/incidents/{number}/postmortem/edit"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let panel = panel(&page.body);
    for passage in [
        "<mark>Engineer X</mark>",
        "<mark>Human error</mark>",
        "<mark>failed to</mark>",
        "<mark>be more careful</mark>",
    ] {
        assert!(panel.contains(passage), "{passage} highlighted in {panel}");
    }
    assert!(panel.contains("What went poorly:") && panel.contains("This section is empty."));
    assert!(panel.contains("0 contributing factors are listed"));
    assert!(panel.contains("Too vague to ship"));
    assert!(panel.contains("Describe the condition instead of the person"));
    // The reading page sums it up.
    let reading = admin.get(&format!("/incidents/{number}")).await;
    assert!(reading.body.contains("Review checklist") && reading.body.contains("No blame"));
}

#[tokio::test]
async fn the_blameless_example_passes_them() {
    let app = TestApp::spawn().await;
    let number = import_example(&app, "blameless.md").await;
    let failing = failing(&app, number).await;
    for rule in ["blame", "causes", "sections", "actions"] {
        assert!(!failing.contains(&rule.to_owned()), "{rule} in {failing:?}");
    }
    assert_eq!(failing, Vec::<String>::new(), "and every other check");
}

#[tokio::test]
async fn the_live_panel_checks_the_sections_as_typed_without_saving() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Queue backlog").await;
    let version = editor_version(&author, number).await;
    let live = author
        .post_form(
            &format!("/incidents/{number}/checklist"),
            &[
                ("version", version.as_str()),
                ("summary", "The queue backed up."),
                (
                    "trigger",
                    "The deploy was careless: the on-call engineer failed to check the dashboard.",
                ),
            ],
        )
        .await;
    assert_eq!(live.status, StatusCode::OK);
    assert!(live.body.contains("<mark>careless</mark>"), "{}", live.body);
    assert!(live.body.contains("<mark>failed to</mark>"));
    let clean = author
        .post_form(
            &format!("/incidents/{number}/checklist"),
            &[
                ("version", version.as_str()),
                ("trigger", "The alert failed to fire."),
            ],
        )
        .await;
    assert!(
        !clean.body.contains("<mark>"),
        "no false alarm: {}",
        clean.body
    );
    // Nothing was saved.
    let postmortem = app.postmortem(number).await;
    assert!(postmortem.sections.trigger.is_empty());
    // Someone who may not edit it gets nothing.
    let (other, _) = app.signed_in(Role::Member).await;
    let refused = other
        .post_form(
            &format!("/incidents/{number}/checklist"),
            &[("trigger", "x")],
        )
        .await;
    assert!(refused.status == StatusCode::NOT_FOUND || refused.status == StatusCode::FORBIDDEN);
}

/// Sends `number` to review with `reviewer`; the reviewer's client.
async fn to_review(app: &TestApp, author: &TestClient, number: i32) -> TestClient {
    let (reviewer, reviewer_id) = app.signed_in(Role::Member).await;
    let sent = author
        .post_form(
            &format!("/incidents/{number}/status"),
            &[
                ("status", "in_review"),
                ("reviewers", &reviewer_id.to_string()),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    reviewer
}

async fn status(app: &TestApp, number: i32) -> String {
    sqlx::query_scalar("SELECT p.status::text FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1")
        .bind(number)
        .fetch_one(&app.db)
        .await
        .expect("status")
}

#[tokio::test]
async fn publishing_with_failing_checks_needs_an_acknowledgement_kept_with_the_revision() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Queue backlog").await;
    let reviewer = to_review(&app, &author, number).await;
    let path = format!("/incidents/{number}/status");

    let page = reviewer.get(&format!("/incidents/{number}")).await;
    assert!(
        page.body.contains(r#"name="acknowledge""#),
        "the publish form asks"
    );
    let refused = reviewer.post_form(&path, &[("status", "published")]).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&app, number).await, "in_review");
    assert!(
        reviewer
            .get(&format!("/incidents/{number}"))
            .await
            .body
            .contains("To publish anyway, tick the acknowledgement")
    );

    let published = reviewer
        .post_form(&path, &[("status", "published"), ("acknowledge", "yes")])
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER);
    assert_eq!(status(&app, number).await, "published");
    let acknowledged: Vec<String> = sqlx::query_scalar(
        "SELECT r.acknowledged_checks FROM postmortem_revisions r JOIN postmortems p ON p.id = r.postmortem_id
         JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1 AND r.summary LIKE '%published'",
    )
    .bind(number)
    .fetch_one(&app.db)
    .await
    .expect("revision");
    assert!(
        acknowledged.contains(&"sections".to_owned()),
        "{acknowledged:?}"
    );
}

#[tokio::test]
async fn admins_switch_rules_make_them_block_and_edit_phrases_and_everyone_reads_the_list() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (member, _) = app.signed_in(Role::Member).await;
    let rules = member.get("/checklist").await;
    assert_eq!(rules.status, StatusCode::OK);
    assert!(rules.body.contains("No blame") && rules.body.contains("human error"));
    assert_eq!(
        member.get("/admin/checklist").await.status,
        StatusCode::FORBIDDEN
    );

    // Sections block publishing; the impact rule is off; "oversight" blames.
    let on = [
        "sections",
        "timeline",
        "causes",
        "blame",
        "actions",
        "review-due",
    ];
    let mut fields: Vec<(&str, &str)> = on.iter().map(|id| ("on", *id)).collect();
    fields.push(("blocking", "sections"));
    fields.push(("blocking", "review-due"));
    fields.push(("blame_phrases", "human error\noversight\n"));
    fields.push(("vague_phrases", "improve monitoring"));
    fields.push(("items_when_users_affected", "yes"));
    let saved = admin.post_form("/admin/checklist", &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let settings = store::checklist::settings(&app.db).await.expect("settings");
    assert_eq!(settings.disabled, ["impact"]);
    assert_eq!(
        settings.blocking,
        ["sections"],
        "a late review never blocks"
    );
    assert_eq!(settings.blame_phrases, ["human error", "oversight"]);

    let number = create_incident(&member, "Queue backlog").await;
    let version = editor_version(&member, number).await;
    let live = member
        .post_form(
            &format!("/incidents/{number}/checklist"),
            &[
                ("version", version.as_str()),
                ("trigger", "An oversight in review."),
            ],
        )
        .await;
    assert!(live.body.contains("<mark>oversight</mark>"));
    assert!(
        !live.body.contains("The impact has a number"),
        "a rule switched off is not shown"
    );

    let reviewer = to_review(&app, &member, number).await;
    let refused = reviewer
        .post_form(
            &format!("/incidents/{number}/status"),
            &[("status", "published"), ("acknowledge", "yes")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert_eq!(
        status(&app, number).await,
        "in_review",
        "a blocking check fails"
    );
    let page = reviewer.get(&format!("/incidents/{number}")).await;
    assert!(
        page.body
            .contains("These checks must pass before publishing: Every section is filled.")
    );
}

#[tokio::test]
async fn the_dfds_archive_has_exactly_its_one_real_blame_finding() {
    let app = TestApp::spawn().await;
    let (sources, _) = markdown::collect(&[corpus("dfds")]).expect("corpus");
    app.import_markdown(&sources, Tz::UTC).await;
    let blamed: Vec<String> = sqlx::query_scalar(
        "SELECT i.imported_from FROM postmortems p JOIN incidents i ON i.id = p.incident_id
         WHERE 'blame' = ANY (p.checklist_failing) ORDER BY 1",
    )
    .fetch_all(&app.db)
    .await
    .expect("blamed");
    assert_eq!(blamed.len(), 1, "{blamed:?}");
    assert!(blamed[0].starts_with("PM2022-002"), "{blamed:?}");
}
