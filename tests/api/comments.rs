//! Review as a conversation: comments on a section or a passage, replies,
//! edits, resolving, outdated quotes, the blame check on comments, and
//! publishing that waits for open threads.

use debrief::domain::role::Role;
use reqwest::StatusCode;

use crate::{helpers::TestApp, incidents::create_incident};

/// The id of the newest comment of the only postmortem.
async fn newest_comment(app: &TestApp) -> String {
    let id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM comments ORDER BY created_at DESC, id DESC LIMIT 1")
            .fetch_one(&app.db)
            .await
            .expect("a comment");
    id.to_string()
}

#[tokio::test]
async fn a_passage_comment_goes_outdated_is_answered_resolved_and_then_publishing_proceeds() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (reviewer, reviewer_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    sqlx::query(
        "UPDATE postmortems SET summary = 'The pool was lowered from 50 to 5 by a config change.'",
    )
    .execute(&app.db)
    .await
    .expect("summary");
    let status = format!("/incidents/{number}/status");
    let sent = author
        .post_form(
            &status,
            &[
                ("status", "in_review"),
                ("reviewers", &reviewer_id.to_string()),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);

    let path = format!("/incidents/{number}/comments");
    let asked = reviewer
        .post_form(
            &path,
            &[
                ("section", "summary"),
                ("quote", "from 50 to 5"),
                ("body", "Why **5**? Was that a typo?"),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);
    let thread = newest_comment(&app).await;
    let page = author.get(&format!("/incidents/{number}")).await;
    assert!(page.body.contains("1 unresolved"), "{}", page.body);
    assert!(
        page.body
            .contains("Why <strong>5</strong>? Was that a typo?"),
        "Markdown rendered"
    );
    assert!(page.body.contains("“from 50 to 5”"));
    assert!(!page.body.contains("Outdated"));
    let editor = author
        .get(&format!("/incidents/{number}/postmortem/edit"))
        .await;
    assert!(
        editor.body.contains("1 review comment to answer"),
        "{}",
        editor.body
    );

    // Publishing waits for the open thread, as a refusal.
    let refused = reviewer
        .post_form(&status, &[("status", "published"), ("acknowledge", "yes")])
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let after = reviewer.get(&format!("/incidents/{number}")).await;
    assert!(
        after.body.contains("flash-refused"),
        "a refusal looks like one"
    );
    assert!(
        after.body.contains("1 review comment is unresolved"),
        "{}",
        after.body
    );

    // The author changes the passage: the comment stays, outdated, with its quote.
    sqlx::query(
        "UPDATE postmortems SET summary = 'The pool was lowered from 50 to 10 by a config change.'",
    )
    .execute(&app.db)
    .await
    .expect("summary");
    let page = author.get(&format!("/incidents/{number}")).await;
    assert!(page.body.contains("Outdated"), "{}", page.body);
    assert!(
        page.body.contains("“from 50 to 5”"),
        "the original quote is kept"
    );

    let replied = author
        .post_form(
            &format!("/incidents/{number}/comments/{thread}/reply"),
            &[("body", "It was: the limit is now 10, and validated.")],
        )
        .await;
    assert_eq!(replied.status, StatusCode::SEE_OTHER);
    let reply = newest_comment(&app).await;
    let edited = author
        .post_form(
            &format!("/incidents/{number}/comments/{reply}/edit"),
            &[
                ("body", "It was a typo: the limit is now 10, and validated."),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER);
    let stale = author
        .post_form(
            &format!("/incidents/{number}/comments/{reply}/edit"),
            &[("body", "An edit from an old tab"), ("version", "1")],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a concurrent edit is detected"
    );
    assert!(
        stale
            .body
            .contains("This comment changed since you opened it")
    );
    assert!(
        stale.body.contains("An edit from an old tab</textarea>"),
        "and the text kept"
    );
    let not_theirs = reviewer
        .post_form(
            &format!("/incidents/{number}/comments/{reply}/edit"),
            &[("body", "changed"), ("version", "2")],
        )
        .await;
    assert_eq!(
        not_theirs.status,
        StatusCode::FORBIDDEN,
        "only the author edits a comment"
    );
    let resolved = author
        .post_form(
            &format!("/incidents/{number}/comments/{thread}/resolve"),
            &[],
        )
        .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER);
    let page = reviewer.get(&format!("/incidents/{number}")).await;
    assert!(page.body.contains("Resolved by"), "{}", page.body);
    assert!(
        page.body.contains("It was a typo: the limit is now 10"),
        "edited text shown"
    );
    assert!(!page.body.contains("1 unresolved"));

    let published = reviewer
        .post_form(&status, &[("status", "published"), ("acknowledge", "yes")])
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER);
    let state: String = sqlx::query_scalar("SELECT status::text FROM postmortems")
        .fetch_one(&app.db)
        .await
        .expect("status");
    assert_eq!(state, "published");
}

#[tokio::test]
async fn a_blaming_comment_comes_back_with_the_finding_and_the_text_kept() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (viewer, _) = app.signed_in(Role::Viewer).await;
    let number = create_incident(&author, "Checkout 502s").await;
    sqlx::query("UPDATE postmortems SET status = 'published', published_at = now()")
        .execute(&app.db)
        .await
        .expect("publish");
    let path = format!("/incidents/{number}/comments");
    let blamed = author
        .post_form(
            &path,
            &[
                ("section", "trigger"),
                ("body", "Honestly the on-call dropped the ball here."),
            ],
        )
        .await;
    assert_eq!(blamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        blamed
            .body
            .contains("This comment may put the cause on a person")
    );
    assert!(blamed.body.contains("dropped the ball"));
    assert!(
        blamed
            .body
            .contains("Honestly the on-call dropped the ball here.</textarea>"),
        "kept"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM comments")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(count, 0);
    let anyway = author
        .post_form(
            &path,
            &[
                ("section", "trigger"),
                ("body", "Honestly the on-call dropped the ball here."),
                ("post_anyway", "yes"),
            ],
        )
        .await;
    assert_eq!(anyway.status, StatusCode::SEE_OTHER);

    let empty = author
        .post_form(&path, &[("section", "summary"), ("body", "   ")])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("Write the comment first."));

    let refused = viewer
        .post_form(&path, &[("section", "summary"), ("body", "A question")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let page = viewer.get(&format!("/incidents/{number}")).await;
    assert!(
        page.body.contains("dropped the ball here"),
        "viewers read comments"
    );
    assert!(
        !page.body.contains("Comment on this section"),
        "but have no form"
    );
}

#[tokio::test]
async fn each_reviewer_decides_and_a_request_for_changes_holds_publishing_until_approved() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (first, first_id) = app.signed_in(Role::Member).await;
    let (second, second_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let status = format!("/incidents/{number}/status");
    let (first_id, second_id) = (first_id.to_string(), second_id.to_string());
    let sent = author
        .post_form(
            &status,
            &[
                ("status", "in_review"),
                ("reviewers", &first_id),
                ("reviewers", &second_id),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let review = format!("/incidents/{number}/review");

    let bare = first
        .post_form(&review, &[("decision", "request_changes")])
        .await;
    assert_eq!(bare.status, StatusCode::SEE_OTHER);
    assert!(
        first
            .get(&format!("/incidents/{number}"))
            .await
            .body
            .contains("Say which changes you ask for")
    );
    let asked = first
        .post_form(
            &review,
            &[
                ("decision", "request_changes"),
                ("note", "Add the detection gap to the factors."),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    let page = author.get(&format!("/incidents/{number}")).await;
    assert!(page.body.contains("asked for changes"), "{}", page.body);
    assert!(page.body.contains("Add the detection gap to the factors."));
    assert!(page.body.contains("not decided yet"));
    assert_eq!(
        author
            .post_form(&review, &[("decision", "approve")])
            .await
            .status,
        StatusCode::FORBIDDEN,
        "authors do not approve their own postmortem"
    );

    let held = second
        .post_form(&status, &[("status", "published"), ("acknowledge", "yes")])
        .await;
    assert_eq!(held.status, StatusCode::SEE_OTHER);
    let page = second.get(&format!("/incidents/{number}")).await;
    assert!(
        page.body
            .contains("asked for changes: publishing waits until they approve"),
        "{}",
        page.body
    );
    assert!(page.body.contains("flash-refused"));

    let approved = first
        .post_form(
            &review,
            &[
                ("decision", "approve"),
                ("note", "Thanks, looks right now."),
            ],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    let published = second
        .post_form(&status, &[("status", "published"), ("acknowledge", "yes")])
        .await;
    assert_eq!(published.status, StatusCode::SEE_OTHER);
    let state: String = sqlx::query_scalar("SELECT status::text FROM postmortems")
        .fetch_one(&app.db)
        .await
        .expect("status");
    assert_eq!(state, "published");
    let history = author.get(&format!("/incidents/{number}/history")).await;
    for said in [
        "Changes requested by",
        "Add the detection gap",
        "Approved by",
        "and published",
    ] {
        assert!(history.body.contains(said), "{said}: {}", history.body);
    }
    // Each decision is in the audit trail too, with who made it.
    let audited: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT actor_id::text, detail FROM audit_events WHERE action = 'review_decision' ORDER BY id",
    )
    .fetch_all(&app.db)
    .await
    .expect("the decisions");
    let decisions: Vec<(&str, &str)> = audited
        .iter()
        .map(|(actor, detail)| (actor.as_str(), detail["decision"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        decisions,
        vec![
            (first_id.as_str(), "changes_requested"),
            (first_id.as_str(), "approved")
        ]
    );
}

#[tokio::test]
async fn participants_are_listed_filter_the_list_and_search_and_are_known_to_the_blame_check() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (_, responder_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let other = create_incident(&author, "Queue stall").await;
    sqlx::query("UPDATE postmortems SET status = 'published', published_at = now()")
        .execute(&app.db)
        .await
        .expect("publish");
    let path = format!("/incidents/{number}/participants");
    let added = author
        .post_form(
            &path,
            &[
                ("user", ""),
                ("name", "Priya Raman"),
                ("role", "Incident commander"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let added = author
        .post_form(
            &path,
            &[
                ("user", &responder_id.to_string()),
                ("role", "other"),
                ("other_role", "Vendor liaison"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let refused = author
        .post_form(
            &path,
            &[
                ("user", ""),
                ("name", ""),
                ("role", "other"),
                ("other_role", "Scribe for the vendor"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("Pick a person, or type the name"),
        "the problem beside the form"
    );
    assert!(
        refused.body.contains(r#"value="Scribe for the vendor""#),
        "what was typed is kept"
    );
    let page = author.get(&format!("/incidents/{number}")).await;
    assert!(page.body.contains("Priya Raman") && page.body.contains("Incident commander"));
    assert!(page.body.contains("Vendor liaison"));
    let revisions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM postmortem_revisions WHERE summary LIKE '%added as%'",
    )
    .fetch_one(&app.db)
    .await
    .expect("revisions");
    assert_eq!(revisions, 2, "each change is a revision");

    let list = author.get("/incidents?participant=priya%20raman").await;
    assert!(list.body.contains("Checkout 502s"), "{}", list.body);
    assert!(
        !list.body.contains("Queue stall"),
        "only the incidents Priya took part in"
    );
    let search = author.get("/search?q=&participant=Priya%20Raman").await;
    assert!(
        search.body.contains(&format!("/incidents/{number}\"")),
        "{}",
        search.body
    );
    assert!(!search.body.contains(&format!("/incidents/{other}\"")));

    // A participant without an account is a person to the blame check.
    let comment = author
        .post_form(
            &format!("/incidents/{number}/comments"),
            &[
                ("section", "trigger"),
                ("body", "It went wrong because of Priya."),
            ],
        )
        .await;
    assert_eq!(comment.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        comment.body.contains("because of Priya"),
        "{}",
        comment.body
    );
}
