//! The authoring page as one document: one save, one revision; refusals
//! that keep every word; per-part merging; autosaved drafts; and a live
//! checklist that agrees with the save.

use debrief::domain::role::Role;
use reqwest::StatusCode;

use crate::{
    helpers::{PASSWORD, TestApp, TestClient},
    incidents::{add_entries, add_item, create_incident, editor_hidden},
};

async fn revisions(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM postmortem_revisions")
        .fetch_one(&app.db)
        .await
        .expect("count")
}

fn owned(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn post(
    client: &TestClient,
    path: &str,
    fields: &[(String, String)],
) -> crate::helpers::Page {
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    client.post_form(path, &borrowed).await
}

/// The whole document in one form: sections, figures, two factors, two
/// timeline rows and an action item.
fn whole_document(owner: &str) -> Vec<(String, String)> {
    owned(&[
        ("summary", "Checkout failed for 55 minutes."),
        ("impact", "About 1,200 customers could not pay."),
        ("users_affected", "1,200"),
        ("revenue_lost", "$12,500"),
        ("trigger", "A config change lowered the pool from 50 to 5."),
        ("factor_id", ""),
        ("factor_category", "technical"),
        (
            "factor_description",
            "Pool size is not validated against load",
        ),
        ("factor_id", ""),
        ("factor_category", "detection"),
        ("factor_description", "No alert on pool saturation"),
        ("entry_key", "new"),
        ("entry_base", ""),
        ("entry_at", "2026-03-01 14:05"),
        ("entry_kind", "trigger"),
        ("entry_text", "Config change deployed"),
        ("entry_source", "deploy log"),
        ("entry_link", ""),
        ("entry_key", "new"),
        ("entry_base", ""),
        ("entry_at", "2026-03-01 14:18"),
        ("entry_kind", "detection"),
        ("entry_text", "Error rate alert fired"),
        ("entry_source", "alert"),
        ("entry_link", ""),
        ("item_key", "new"),
        ("item_base", ""),
        ("item_title", "Alert when the pool is 80% used"),
        ("item_owner", owner),
        ("item_team", ""),
        ("item_due", "2026-04-01"),
        ("item_priority", "p1"),
        ("item_kind", "detect"),
        ("item_status", "open"),
        ("item_factor", ""),
        ("item_tracker", ""),
        ("item_description", ""),
        ("item_reason", ""),
    ])
}

#[tokio::test]
async fn one_save_stores_the_whole_document_with_one_revision() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let before = revisions(&app).await;
    let path = format!("/incidents/{number}/postmortem/edit");
    let saved = post(&author, &path, &whole_document(&author_id.to_string())).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(revisions(&app).await, before + 1, "one save, one revision");
    let summary: String = sqlx::query_scalar(
        "SELECT summary FROM postmortem_revisions ORDER BY at DESC, number DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .expect("summary");
    assert!(summary.contains("Timeline (2 added)"), "{summary}");
    assert!(summary.contains("Action items (1 added)"), "{summary}");
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM timeline_entries), (SELECT count(*) FROM action_items), (SELECT count(*) FROM contributing_factors)",
    )
    .fetch_one(&app.db)
    .await
    .expect("counts");
    assert_eq!(counts, (2, 1, 2));
    let cents: Option<i64> = sqlx::query_scalar("SELECT revenue_lost_cents FROM postmortems")
        .fetch_one(&app.db)
        .await
        .expect("cents");
    assert_eq!(cents, Some(1_250_000), "$12,500 is a number");
    let page = author.get(&path).await;
    assert!(page.body.contains("Saved as revision"));
    assert!(page.body.contains("Error rate alert fired"));
}

#[tokio::test]
async fn every_write_route_adds_exactly_one_revision() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (reviewer, reviewer_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Counted").await;
    let base = format!("/incidents/{number}");
    let mut count = revisions(&app).await;
    assert_eq!(count, 1, "creating keeps the first revision");
    let mut expect_one_more = async |what: &str, page: crate::helpers::Page| {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{what}: {}", page.body);
        let now = revisions(&app).await;
        assert_eq!(now, count + 1, "{what} keeps exactly one revision");
        count = now;
    };
    let page = add_entries(
        &author,
        number,
        &[("2026-03-01 14:05", "trigger", "Deploy")],
    )
    .await;
    expect_one_more("a timeline row", page).await;
    let page = add_item(&author, number, &[("title", "Alert on saturation")]).await;
    expect_one_more("an action item", page).await;
    let page = author
        .post_form(
            &format!("{base}/postmortem/edit"),
            &[("summary", "It broke.")],
        )
        .await;
    expect_one_more("a section", page).await;
    let page = author
        .post_form(
            &format!("{base}/edit"),
            &[
                ("title", "Counted again"),
                ("kind", "incident"),
                ("severity", "sev3"),
                ("time_zone", "UTC"),
                ("version", "1"),
            ],
        )
        .await;
    expect_one_more("the incident details", page).await;
    let version = editor_hidden(&author, number, "version").await;
    let page = author
        .post_form(
            &format!("{base}/history/1/restore"),
            &[("version", version.as_str())],
        )
        .await;
    expect_one_more("a restore", page).await;
    let page = author
        .post_form(
            &format!("{base}/status"),
            &[
                ("status", "in_review"),
                ("reviewers", &reviewer_id.to_string()),
            ],
        )
        .await;
    expect_one_more("sending to review", page).await;
    let page = reviewer
        .post_form(
            &format!("{base}/status"),
            &[("status", "published"), ("acknowledge", "yes")],
        )
        .await;
    expect_one_more("publishing", page).await;
    // A draft is not a revision.
    let kept = author
        .post_form(
            &format!("{base}/postmortem/draft"),
            &[("summary", "Half a thought")],
        )
        .await;
    assert_eq!(kept.status, StatusCode::NO_CONTENT);
    assert_eq!(revisions(&app).await, count);
}

#[tokio::test]
async fn a_refused_save_keeps_every_typed_value_and_lists_each_problem_at_the_top() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Refused").await;
    let before = revisions(&app).await;
    let mut form = whole_document(&author_id.to_string());
    for (name, value) in form.iter_mut() {
        match name.as_str() {
            "revenue_lost" => *value = "12.345".to_owned(),
            "entry_at" if value.ends_with("14:18") => *value = "yesterday-ish".to_owned(),
            "item_due" => *value = "next week".to_owned(),
            _ => {}
        }
    }
    form.push(("factor_id".to_owned(), String::new()));
    form.push(("factor_category".to_owned(), String::new()));
    form.push((
        "factor_description".to_owned(),
        "A factor without a category".to_owned(),
    ));
    let refused = post(
        &author,
        &format!("/incidents/{number}/postmortem/edit"),
        &form,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("4 problems stopped this save"),
        "{}",
        refused.body
    );
    for anchor in ["#revenue_lost", "#entry-1-at", "#item-0-due_on", "#factors"] {
        assert!(
            refused.body.contains(&format!(r##"href="{anchor}""##)),
            "{anchor} is linked"
        );
    }
    for (name, value) in &form {
        if value.is_empty() || name.ends_with("_key") || name.ends_with("_base") {
            continue;
        }
        let shown = value.replace('&', "&amp;").replace('$', "&#36;");
        assert!(
            refused.body.contains(value.as_str()) || refused.body.contains(&shown),
            "{name} = {value} is kept"
        );
    }
    assert!(
        !refused.body.contains("class=\"flash\""),
        "a refusal is not shown as a success"
    );
    assert_eq!(revisions(&app).await, before, "nothing was saved");
}

#[tokio::test]
async fn an_untouched_section_keeps_the_other_authors_text_and_only_a_shared_change_conflicts() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let number = create_incident(&author, "Two writers").await;
    let path = format!("/incidents/{number}/postmortem/edit");
    author
        .post_form(
            &path,
            &[("summary", "First summary."), ("trigger", "First trigger.")],
        )
        .await;
    // Both open the page now.
    let base = editor_hidden(&author, number, "base").await;
    let save = |client: &TestClient, summary: &'static str, trigger: &'static str| {
        let (client, path, base) = (client.clone(), path.clone(), base.clone());
        async move {
            client
                .post_form(
                    &path,
                    &[
                        ("base", base.as_str()),
                        ("summary", summary),
                        ("trigger", trigger),
                    ],
                )
                .await
        }
    };
    let saved = save(&admin, "Admin's summary.", "First trigger.").await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    // The author changed only the trigger: it applies, the summary stays the admin's.
    let merged = save(&author, "First summary.", "Author's trigger.").await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    let (summary, trigger): (String, String) =
        sqlx::query_as("SELECT summary, trigger FROM postmortems")
            .fetch_one(&app.db)
            .await
            .expect("sections");
    assert_eq!(
        (summary.as_str(), trigger.as_str()),
        ("Admin's summary.", "Author's trigger.")
    );
    // Changing the summary from the old page is a conflict, and only there.
    let clash = save(&author, "Author's summary.", "First trigger.").await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    assert!(clash.body.contains(r##"href="#summary">Summary</a>"##));
    assert!(
        !clash.body.contains(r##"href="#trigger""##),
        "the untouched trigger is no conflict"
    );
    assert!(
        clash.body.contains("Author&#39;s summary.") || clash.body.contains("Author's summary.")
    );
    assert!(
        clash.body.contains("Author&#39;s trigger.") || clash.body.contains("Author's trigger."),
        "the trigger shows the newest text"
    );
}

#[tokio::test]
async fn an_autosaved_draft_is_restored_in_another_session_and_can_be_discarded() {
    let app = TestApp::spawn().await;
    app.create_user("sam@example.com", "Sam Okafor", Role::Member)
        .await;
    let laptop = app.client();
    laptop.sign_in("sam@example.com", PASSWORD).await;
    let number = create_incident(&laptop, "Drafted").await;
    let base = format!("/incidents/{number}/postmortem");
    let kept = laptop
        .post_form(
            &format!("{base}/draft"),
            &[
                ("summary", "Half-written on the laptop"),
                ("entry_key", "new"),
                ("entry_text", "Pager went off"),
            ],
        )
        .await;
    assert_eq!(kept.status, StatusCode::NO_CONTENT);
    let phone = app.client();
    phone.sign_in("sam@example.com", PASSWORD).await;
    let page = phone.get(&format!("{base}/edit")).await;
    assert!(
        page.body.contains("Restored unsaved changes from"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Half-written on the laptop"));
    assert!(page.body.contains("Pager went off"));
    let token: Option<String> = sqlx::query_scalar("SELECT form FROM editor_drafts")
        .fetch_optional(&app.db)
        .await
        .expect("draft");
    assert!(
        !token.expect("a draft").contains("_csrf"),
        "the CSRF token is not kept"
    );
    let discarded = phone.post_form(&format!("{base}/draft/discard"), &[]).await;
    assert_eq!(discarded.status, StatusCode::SEE_OTHER);
    let page = phone.get(&format!("{base}/edit")).await;
    assert!(!page.body.contains("Half-written on the laptop"));
    assert!(!page.body.contains("Restored unsaved changes"));
}

#[tokio::test]
async fn an_oversized_section_gets_a_field_error_that_states_the_limit() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Long").await;
    let long = "word ".repeat(30_000);
    let refused = author
        .post_form(
            &format!("/incidents/{number}/postmortem/edit"),
            &[("summary", long.as_str())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("the limit is 100000"),
        "the limit is named"
    );
    assert!(refused.body.contains(r#"id="summary-error""#));
}

/// The failing rules of a checklist panel.
fn failing_rules(html: &str) -> Vec<String> {
    let mut rules: Vec<String> = html
        .split(r#"<li class="rule-fail" data-rule=""#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect();
    rules.sort();
    rules
}

#[tokio::test]
async fn the_live_panel_and_the_saved_postmortem_report_the_same_checks() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let cases: Vec<(&str, Vec<(String, String)>)> = vec![
        ("money with a sign", whole_document(&author_id.to_string())),
        (
            "sections only",
            owned(&[
                ("summary", "The queue backed up."),
                ("impact", "Orders were late by 12.345 minutes."),
            ]),
        ),
    ];
    for (what, form) in cases {
        let number = create_incident(&author, what).await;
        let live = post(&author, &format!("/incidents/{number}/checklist"), &form).await;
        assert_eq!(live.status, StatusCode::OK);
        let saved = post(
            &author,
            &format!("/incidents/{number}/postmortem/edit"),
            &form,
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{what}");
        let page = author
            .get(&format!("/incidents/{number}/postmortem/edit"))
            .await;
        assert_eq!(
            failing_rules(&live.body),
            failing_rules(&page.body),
            "{what}"
        );
    }
    // What a save refuses, the live panel names, and neither counts it.
    let number = create_incident(&author, "Refused figures").await;
    let form = owned(&[
        ("revenue_lost", "12.345"),
        ("factor_id", ""),
        ("factor_category", ""),
        ("factor_description", "A factor without a category"),
    ]);
    let live = post(&author, &format!("/incidents/{number}/checklist"), &form).await;
    let refused = post(
        &author,
        &format!("/incidents/{number}/postmortem/edit"),
        &form,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    for problem in ["Use an amount such as 12500", "Give factor 1 a category."] {
        assert!(
            live.body.contains(problem),
            "the live panel names: {problem}"
        );
        assert!(refused.body.contains(problem), "the save names: {problem}");
    }
    assert_eq!(failing_rules(&live.body), failing_rules(&refused.body));
}

#[tokio::test]
async fn the_reading_page_shows_edit_controls_only_to_those_who_may_edit() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (reviewer, reviewer_id) = app.signed_in(Role::Member).await;
    let (reader, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let base = format!("/incidents/{number}");
    add_entries(
        &author,
        number,
        &[("2026-03-01 14:05", "trigger", "Deploy of **v2.14**")],
    )
    .await;
    let sent = author
        .post_form(
            &format!("{base}/status"),
            &[
                ("status", "in_review"),
                ("reviewers", &reviewer_id.to_string()),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let published = reviewer
        .post_form(
            &format!("{base}/status"),
            &[("status", "published"), ("acknowledge", "yes")],
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );

    let controls = [
        "Edit postmortem",
        "Edit incident",
        "Attach an image",
        "Add an author",
        "/links\"",
    ];
    let as_author = author.get(&base).await;
    for control in controls {
        assert!(
            as_author.body.contains(control),
            "the author sees {control}"
        );
    }
    let as_reader = reader.get(&base).await;
    assert_eq!(as_reader.status, StatusCode::OK);
    for control in controls {
        assert!(
            !as_reader.body.contains(control),
            "a reader does not see {control}"
        );
    }
    assert!(
        as_reader.body.contains("Deploy of <strong>v2.14</strong>"),
        "Markdown in timeline entries is rendered"
    );
}

#[tokio::test]
async fn a_row_left_without_a_time_is_kept_as_time_unknown_and_never_counted() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let path = format!("/incidents/{number}/postmortem/edit");
    let mut fields = whole_document(&author_id.to_string());
    let second_time = fields
        .iter()
        .rposition(|(k, _)| k == "entry_at")
        .expect("two rows");
    fields[second_time].1 = String::new();
    let saved = post(&author, &path, &fields).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let rows: Vec<(String, bool)> = sqlx::query_as(
        "SELECT text, time_unknown FROM timeline_entries ORDER BY occurred_at, created_at",
    )
    .fetch_all(&app.db)
    .await
    .expect("rows");
    assert_eq!(
        rows,
        vec![
            ("Config change deployed".to_owned(), false),
            ("Error rate alert fired".to_owned(), true)
        ],
        "kept in its place, after the row above it"
    );
    // Without a typed detection time, only a timed detection row could give one.
    sqlx::query("UPDATE incidents SET detected_at = NULL")
        .execute(&app.db)
        .await
        .expect("clear");
    let reading = author.get(&format!("/incidents/{number}")).await;
    assert!(reading.body.contains("time unknown"), "{}", reading.body);
    assert!(
        !reading.body.contains("<dt>Detected</dt>"),
        "the only detection row has no time, so there is no detection time"
    );
    let editor = author.get(&path).await;
    assert!(editor.body.contains(r#"placeholder="time unknown""#));

    // With no row that has a time, a blank time is a problem to fix.
    let other = create_incident(&author, "Queue stall").await;
    let mut alone = whole_document(&author_id.to_string());
    for (key, value) in alone.iter_mut() {
        if key == "entry_at" {
            value.clear();
        }
    }
    let refused = post(
        &author,
        &format!("/incidents/{other}/postmortem/edit"),
        &alone,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("Use the form 2026-03-01 14:05."),
        "{}",
        refused.body
    );
}
