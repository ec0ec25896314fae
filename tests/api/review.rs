//! The quarterly review, on a clock the test sets: its figures, quarter
//! boundaries in the organization's zone, decisions (who may take them,
//! what they change, their history), closing a quarter into a snapshot,
//! the CSV exports, and the demo archive's review page.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use debrief::{
    domain::{quarter::Quarter, role::Role},
    jobs::sweeper::{self, Settings},
    store::review::{self, Span},
};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    helpers::{TestApp, TestClient, team},
    incidents::create_incident,
};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

/// Moves the app's clock to `to`.
fn set_clock(app: &TestApp, to: DateTime<Utc>) {
    app.advance(to - app.clock.now());
}

async fn sweep(app: &TestApp) {
    let settings = Settings {
        every: std::time::Duration::from_secs(60),
        zone: chrono_tz::UTC,
        review_due_days: 5,
    };
    sweeper::run_once(&app.db, &app.clock, &settings)
        .await
        .expect("sweep");
}

/// A published postmortem (its incident resolved 2026-03-01 15:10 UTC),
/// published at `published_at`, for `team`.
async fn published(
    app: &TestApp,
    client: &TestClient,
    published_at: &str,
    team: Option<Uuid>,
) -> Uuid {
    let number = create_incident(client, "Queue backlog").await;
    let id: Uuid = sqlx::query_scalar(
        "UPDATE postmortems p SET status = 'published', published_at = $2
         FROM incidents i WHERE i.id = p.incident_id AND i.number = $1 RETURNING p.id",
    )
    .bind(number)
    .bind(at(published_at))
    .fetch_one(&app.db)
    .await
    .expect("publish");
    if let Some(team) = team {
        sqlx::query("INSERT INTO incident_teams (incident_id, team_id) SELECT incident_id, $2 FROM postmortems WHERE id = $1")
            .bind(id)
            .bind(team)
            .execute(&app.db)
            .await
            .expect("team");
    }
    id
}

/// An item of `postmortem`: its title, team, due date, creation time,
/// status and (for closed items) when it was closed.
struct Item<'a> {
    title: &'a str,
    team: Option<Uuid>,
    due: &'a str,
    created: &'a str,
    status: &'a str,
    closed: Option<&'a str>,
}

async fn add_item(db: &PgPool, postmortem: Uuid, item: Item<'_>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO action_items (id, postmortem_id, title, kind, priority, team_id, due_on, status,
                                   closing_reason, closed_at, created_at, updated_at)
         VALUES ($1, $2, $3, 'prevent', 'p1', $4, $5, $6::action_status,
                 CASE WHEN $6 IN ('wont_do', 'deprioritized') THEN 'Generated.' END, $7, $8, $8)",
    )
    .bind(id)
    .bind(postmortem)
    .bind(item.title)
    .bind(item.team)
    .bind(day(item.due))
    .bind(item.status)
    .bind(item.closed.map(at))
    .bind(at(item.created))
    .execute(db)
    .await
    .expect("item");
    id
}

fn open_item<'a>(title: &'a str, team: Option<Uuid>, due: &'a str, created: &'a str) -> Item<'a> {
    Item {
        title,
        team,
        due,
        created,
        status: "open",
        closed: None,
    }
}

/// The "Needs a decision" section of a review page.
fn decision_list(body: &str) -> &str {
    let start = body.find(r#"id="decide""#).expect("the decision section");
    let end = start + body[start..].find("</section>").expect("its end");
    &body[start..end]
}

#[tokio::test]
async fn figures_count_outcomes_overdue_ages_and_publications_by_quarter_and_team() {
    let app = TestApp::spawn().await;
    set_clock(&app, at("2026-11-20T12:00:00Z"));
    let (admin, _) = app.signed_in(Role::Admin).await;
    let payments = team(&app.db, "Payments", &[]).await;
    let platform = team(&app.db, "Platform", &[]).await;
    let pm = published(&app, &admin, "2026-10-05T10:00:00Z", Some(payments)).await;
    let items = [
        // Due in 2026-Q4: done on time, done late, open and overdue, open
        // and not yet due, dropped.
        Item {
            closed: Some("2026-10-09T08:00:00Z"),
            status: "done",
            ..open_item(
                "on time",
                Some(payments),
                "2026-10-10",
                "2026-07-01T00:00:00Z",
            )
        },
        Item {
            closed: Some("2026-10-15T08:00:00Z"),
            status: "done",
            ..open_item("late", Some(payments), "2026-10-10", "2026-07-01T00:00:00Z")
        },
        open_item(
            "overdue",
            Some(platform),
            "2026-11-01",
            "2026-10-01T00:00:00Z",
        ),
        open_item(
            "not yet due",
            Some(payments),
            "2026-12-15",
            "2026-11-10T00:00:00Z",
        ),
        Item {
            closed: Some("2026-10-20T08:00:00Z"),
            status: "wont_do",
            ..open_item(
                "dropped",
                Some(platform),
                "2026-12-01",
                "2026-07-01T00:00:00Z",
            )
        },
        // Due in 2026-Q3, done on time: only in the history.
        Item {
            closed: Some("2026-08-01T08:00:00Z"),
            status: "done",
            ..open_item(
                "last quarter",
                Some(payments),
                "2026-09-30",
                "2026-07-01T00:00:00Z",
            )
        },
    ];
    for item in items {
        add_item(&app.db, pm, item).await;
    }
    // A draft's items count in the figures, but its text is not listed.
    let draft_number = create_incident(&admin, "Still a draft").await;
    let draft: Uuid = sqlx::query_scalar("SELECT p.id FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1")
        .bind(draft_number)
        .fetch_one(&app.db)
        .await
        .expect("draft");
    add_item(
        &app.db,
        draft,
        open_item(
            "draft item",
            Some(platform),
            "2026-10-02",
            "2026-09-01T00:00:00Z",
        ),
    )
    .await;

    let quarter = Quarter::new(2026, 4).expect("quarter");
    let now = app.clock.now();
    let span = |team| Span::of(quarter, chrono_tz::UTC, now, team, 5, None);
    let figures = review::figures(&app.db, &span(None), None)
        .await
        .expect("figures");
    let outcomes = figures.outcomes(quarter.first_day());
    assert_eq!(
        (
            outcomes.total,
            outcomes.on_time,
            outcomes.late,
            outcomes.open,
            outcomes.open_not_due,
            outcomes.dropped
        ),
        (6, 1, 1, 3, 1, 1)
    );
    // Two done of the five not dropped.
    assert_eq!(outcomes.completion_percent(), Some(40.0));
    let q3 = figures.outcomes(quarter.previous().first_day());
    assert_eq!((q3.total, q3.on_time), (1, 1));
    assert_eq!(figures.overdue(), 2);
    assert_eq!(
        (
            figures.overdue_by_team[0].name.as_str(),
            figures.overdue_by_team[0].count
        ),
        ("Platform", 2)
    );
    // Open items: created 2026-09-01 (80.5 days before now), 2026-10-01
    // (50.5) and 2026-11-10 (10.5).
    assert_eq!(figures.age.open, 3);
    assert_eq!(figures.age.buckets, vec![1, 2, 0, 0, 0]);
    assert_eq!(figures.age.median_days, Some(50.5));
    assert_eq!(figures.age.p90_days, Some(80.5));
    // Published 2026-10-05 10:00, resolved 2026-03-01 15:10: late.
    assert_eq!(
        (figures.publications.count, figures.publications.met_due),
        (1, 0)
    );

    let payments_only = review::figures(&app.db, &span(Some(payments)), None)
        .await
        .expect("figures");
    let outcomes = payments_only.outcomes(quarter.first_day());
    assert_eq!((outcomes.total, outcomes.open, outcomes.dropped), (3, 1, 0));
    assert_eq!(payments_only.overdue(), 0);
    assert_eq!(payments_only.publications.count, 1);
    let platform_only = review::figures(&app.db, &span(Some(platform)), None)
        .await
        .expect("figures");
    assert_eq!(
        platform_only.publications.count, 0,
        "the postmortem is Payments'"
    );

    let page = admin.get("/review/2026-Q4").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("40 %"), "the completion rate is shown");
    assert!(page.body.matches("<svg").count() >= 3, "three charts");
    assert!(!page.body.contains("draft item"));
    let team_page = admin.get(&format!("/review/2026-Q4?team={platform}")).await;
    assert!(team_page.body.contains("· Platform"));
}

#[tokio::test]
async fn quarter_boundaries_follow_the_organizations_zone() {
    let app = TestApp::spawn().await;
    set_clock(&app, at("2027-01-15T12:00:00Z"));
    let (admin, _) = app.signed_in(Role::Admin).await;
    // 23:30 UTC on 30 September is already 1 October in Berlin.
    let pm = published(&app, &admin, "2026-09-30T23:30:00Z", None).await;
    add_item(
        &app.db,
        pm,
        open_item("last day of Q3", None, "2026-09-30", "2026-09-01T00:00:00Z"),
    )
    .await;
    add_item(
        &app.db,
        pm,
        open_item(
            "first day of Q4",
            None,
            "2026-10-01",
            "2026-09-01T00:00:00Z",
        ),
    )
    .await;
    let now = app.clock.now();
    let berlin: chrono_tz::Tz = "Europe/Berlin".parse().expect("zone");
    let q4 = Quarter::new(2026, 4).expect("quarter");
    let in_berlin = review::figures(&app.db, &Span::of(q4, berlin, now, None, 5, None), None)
        .await
        .expect("figures");
    assert_eq!(in_berlin.outcomes(q4.first_day()).total, 1);
    assert_eq!(in_berlin.outcomes(q4.previous().first_day()).total, 1);
    assert_eq!(
        in_berlin.publications.count, 1,
        "published on 1 October, Berlin time"
    );
    let in_utc = review::figures(
        &app.db,
        &Span::of(q4, chrono_tz::UTC, now, None, 5, None),
        None,
    )
    .await
    .expect("figures");
    assert_eq!(in_utc.publications.count, 0, "still 30 September in UTC");
    let q3 = review::figures(
        &app.db,
        &Span::of(q4.previous(), chrono_tz::UTC, now, None, 5, None),
        None,
    )
    .await
    .expect("figures");
    assert_eq!(q3.publications.count, 1);
    // For a past quarter, overdue means due by its end and still open.
    assert_eq!(q3.overdue(), 1);
    assert_eq!(in_utc.overdue(), 2);
}

#[tokio::test]
async fn a_decision_takes_the_item_off_the_list_and_shows_in_its_history() {
    let app = TestApp::spawn().await;
    set_clock(&app, at("2026-11-20T12:00:00Z"));
    let (admin, admin_id) = app.signed_in(Role::Admin).await;
    let pm = published(&app, &admin, "2026-03-05T10:00:00Z", None).await;
    let overdue = add_item(
        &app.db,
        pm,
        open_item(
            "Alert on queue depth",
            None,
            "2026-11-01",
            "2026-10-01T00:00:00Z",
        ),
    )
    .await;
    let stale = add_item(
        &app.db,
        pm,
        open_item(
            "Shard the events table",
            None,
            "2027-06-01",
            "2026-03-06T00:00:00Z",
        ),
    )
    .await;
    sweep(&app).await;
    let page = admin.get("/review/2026-Q4").await;
    let list = decision_list(&page.body);
    assert!(list.contains("Alert on queue depth") && list.contains("Shard the events table"));
    assert!(list.contains(&format!("/review/2026-Q4/items/{overdue}")));

    // A rejected decision comes back with what was typed and the problem named.
    let path = format!("/review/2026-Q4/items/{overdue}");
    let form = admin.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    let rejected = admin
        .post_form(
            &path,
            &[
                ("decision", "wont_do"),
                ("reason", "  "),
                ("evidence_url", "https://kept.example/typed"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(rejected.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(rejected.body.contains("dropping an item needs a reason"));
    assert!(rejected.body.contains("https://kept.example/typed"));

    // Keep, with a new date: the item leaves the list and the history says so.
    let kept = admin
        .post_form(
            &path,
            &[
                ("decision", "keep"),
                ("new_due_on", "2027-01-31"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER, "{}", kept.body);
    let page = admin.get("/review/2026-Q4").await;
    assert!(!decision_list(&page.body).contains("Alert on queue depth"));
    assert!(page.body.contains("Decision recorded"));
    let history = admin.get(&format!("/action-items/{overdue}")).await;
    assert!(
        history
            .body
            .contains("recorded a review decision: keep, now due 2027-01-31 (2026-Q4 review)")
    );
    assert!(
        history
            .body
            .contains("moved the due date from 2026-11-01 to 2027-01-31")
    );
    let (quarter, decided_by): (String, Uuid) = sqlx::query_as(
        "SELECT quarter, decided_by FROM review_decisions WHERE action_item_id = $1",
    )
    .bind(overdue)
    .fetch_one(&app.db)
    .await
    .expect("decision");
    assert_eq!((quarter.as_str(), decided_by), ("2026-Q4", admin_id));
    let audited: (Option<Uuid>, serde_json::Value) = sqlx::query_as(
        "SELECT actor_id, detail FROM audit_events WHERE action = 'quarterly_decision'",
    )
    .fetch_one(&app.db)
    .await
    .expect("the decision is audited");
    assert_eq!(audited.0, Some(admin_id));
    assert_eq!(audited.1["decision"], "keep, now due 2027-01-31");
    // The keep moved the due date later: the review lists it as pushed back.
    assert!(page.body.contains("1 item had a due date moved later"));

    // A second submit of the same form is stale now.
    let again = admin
        .post_form(
            &path,
            &[
                ("decision", "keep"),
                ("new_due_on", "2027-02-28"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("2027-02-28"), "the typed date is kept");

    // Keeping a stale item restarts its 180 days: the sweeper leaves it be
    // until 180 days after the decision.
    let stale_path = format!("/review/2026-Q4/items/{stale}");
    let kept = admin
        .post_form(
            &stale_path,
            &[
                ("decision", "keep"),
                ("new_due_on", "2027-07-01"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(kept.status, StatusCode::SEE_OTHER);
    sweep(&app).await;
    let flags = |id| {
        sqlx::query_scalar::<_, String>(
            "SELECT flag::text FROM item_flags WHERE action_item_id = $1 AND cleared_at IS NULL",
        )
        .bind(id)
        .fetch_all(&app.db)
    };
    assert!(flags(stale).await.expect("flags").is_empty());
    app.advance(Duration::days(179));
    sweep(&app).await;
    assert!(flags(stale).await.expect("flags").is_empty());
    app.advance(Duration::days(2));
    sweep(&app).await;
    assert_eq!(flags(stale).await.expect("flags"), vec!["stale".to_owned()]);

    // Done and dropped close the item. (Moving the clock ended the session.)
    set_clock(&app, at("2026-11-21T12:00:00Z"));
    let (admin, _) = app.signed_in(Role::Admin).await;
    let other = add_item(
        &app.db,
        pm,
        open_item(
            "Runbook for replays",
            None,
            "2026-11-02",
            "2026-10-01T00:00:00Z",
        ),
    )
    .await;
    let done = admin
        .post_form(
            &format!("/review/2026-Q4/items/{other}"),
            &[
                ("decision", "done"),
                ("evidence_url", "https://git.example/pr/7"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let status: String = sqlx::query_scalar("SELECT status::text FROM action_items WHERE id = $1")
        .bind(other)
        .fetch_one(&app.db)
        .await
        .expect("status");
    assert_eq!(status, "done");
    let closed = admin.get(&format!("/review/2026-Q4/items/{other}")).await;
    assert_eq!(
        closed.status,
        StatusCode::CONFLICT,
        "a closed item needs no decision"
    );
}

/// Records a "deprioritized" decision; the response status.
async fn deprioritize(client: &TestClient, item: Uuid) -> StatusCode {
    let path = format!("/review/2026-Q4/items/{item}");
    client
        .post_form(
            &path,
            &[
                ("decision", "deprioritized"),
                ("reason", "Superseded by the new gateway."),
                ("version", "1"),
            ],
        )
        .await
        .status
}

#[tokio::test]
async fn team_leads_decide_for_their_teams_items_and_admins_for_all() {
    let app = TestApp::spawn().await;
    set_clock(&app, at("2026-11-20T12:00:00Z"));
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (lead, lead_id) = app.signed_in(Role::Member).await;
    let (member, _) = app.signed_in(Role::Member).await;
    let (viewer, _) = app.signed_in(Role::Viewer).await;
    let mine = team(&app.db, "Payments", &[(lead_id, true)]).await;
    let theirs = team(&app.db, "Platform", &[]).await;
    let pm = published(&app, &admin, "2026-03-05T10:00:00Z", None).await;
    let my_item = add_item(
        &app.db,
        pm,
        open_item(
            "Payments item",
            Some(mine),
            "2026-11-01",
            "2026-10-01T00:00:00Z",
        ),
    )
    .await;
    let their_item = add_item(
        &app.db,
        pm,
        open_item(
            "Platform item",
            Some(theirs),
            "2026-11-01",
            "2026-10-01T00:00:00Z",
        ),
    )
    .await;
    sweep(&app).await;

    let page = lead.get("/review/2026-Q4").await;
    let list = decision_list(&page.body);
    assert!(list.contains(&format!("/review/2026-Q4/items/{my_item}")));
    assert!(
        !list.contains(&format!("/review/2026-Q4/items/{their_item}")),
        "no control for another team's item"
    );
    assert_eq!(deprioritize(&lead, their_item).await, StatusCode::FORBIDDEN);
    assert_eq!(deprioritize(&member, my_item).await, StatusCode::FORBIDDEN);
    assert_eq!(deprioritize(&viewer, my_item).await, StatusCode::FORBIDDEN);
    assert_eq!(deprioritize(&lead, my_item).await, StatusCode::SEE_OTHER);
    assert_eq!(
        deprioritize(&admin, their_item).await,
        StatusCode::SEE_OTHER
    );
    let member_page = member.get("/review/2026-Q4").await;
    assert_eq!(
        member_page.status,
        StatusCode::OK,
        "everyone reads the review"
    );
}

#[tokio::test]
async fn closing_a_quarter_freezes_its_figures_and_shows_what_changed_since() {
    let app = TestApp::spawn().await;
    set_clock(&app, at("2026-12-20T12:00:00Z"));
    let (admin, _) = app.signed_in(Role::Admin).await;
    let pm = published(&app, &admin, "2026-10-05T10:00:00Z", None).await;
    let item = add_item(
        &app.db,
        pm,
        open_item(
            "Alert on queue depth",
            None,
            "2026-11-01",
            "2026-10-01T00:00:00Z",
        ),
    )
    .await;
    sweep(&app).await;

    // Not before the quarter has ended, and only by an admin.
    let early = admin.post_form("/review/2026-Q4/close", &[]).await;
    assert_eq!(early.status, StatusCode::SEE_OTHER);
    assert!(
        admin
            .get("/review/2026-Q4")
            .await
            .body
            .contains("once it has ended")
    );
    // Moving the clock ends the sessions: sign in again.
    set_clock(&app, at("2027-01-05T09:00:00Z"));
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (member, _) = app.signed_in(Role::Member).await;
    assert_eq!(
        member.post_form("/review/2026-Q4/close", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let page = admin.get("/review/2026-Q4").await;
    assert!(page.body.contains("Close 2026-Q4"));
    assert!(page.body.contains(">0 %<"), "nothing done yet");
    assert_eq!(
        admin.post_form("/review/2026-Q4/close", &[]).await.status,
        StatusCode::SEE_OTHER
    );

    // The item is done afterwards: the snapshot keeps 0 %, and says what moved.
    sqlx::query("UPDATE action_items SET status = 'done', closed_at = $2 WHERE id = $1")
        .bind(item)
        .bind(app.clock.now())
        .execute(&app.db)
        .await
        .expect("done");
    let page = admin.get("/review/2026-Q4").await;
    assert!(page.body.contains("is closed: its figures are frozen"));
    assert!(page.body.contains("Closed</strong> on"));
    assert!(page.body.contains(">0 %<"), "the frozen completion rate");
    assert!(page.body.contains("What changed since"));
    assert!(
        page.body
            .contains("<td>Completion rate</td><td>0 %</td><td><strong>100 %</strong></td>")
    );
    // Decisions go into an open quarter.
    let refused = admin
        .post_form(
            &format!("/review/2026-Q4/items/{item}"),
            &[
                ("decision", "keep"),
                ("new_due_on", "2027-03-01"),
                ("version", "2"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let snapshots: i64 =
        sqlx::query_scalar("SELECT count(*) FROM review_snapshots WHERE quarter = '2026-Q4'")
            .fetch_one(&app.db)
            .await
            .expect("count");
    assert_eq!(snapshots, 1, "the organization (no teams exist)");

    // Taken back to review after the quarter closed: the snapshot no longer
    // names it to everyone.
    assert!(
        admin
            .get("/review/2026-Q4")
            .await
            .body
            .contains(">Queue backlog</a>")
    );
    sqlx::query("UPDATE postmortems SET status = 'in_review' WHERE id = $1")
        .bind(pm)
        .execute(&app.db)
        .await
        .expect("unpublish");
    let (reader, _) = app.signed_in(Role::Viewer).await;
    assert!(
        !reader
            .get("/review/2026-Q4")
            .await
            .body
            .contains("Queue backlog")
    );
}

#[tokio::test]
async fn every_table_downloads_as_csv_with_formulas_defused() {
    let app = TestApp::spawn().await;
    set_clock(&app, at("2026-11-20T12:00:00Z"));
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (viewer, _) = app.signed_in(Role::Viewer).await;
    let pm = published(&app, &admin, "2026-10-05T10:00:00Z", None).await;
    add_item(
        &app.db,
        pm,
        open_item(
            "=HYPERLINK(\"http://evil.example\")",
            None,
            "2026-11-01",
            "2026-10-01T00:00:00Z",
        ),
    )
    .await;
    sweep(&app).await;
    let page = viewer.get("/review/2026-Q4").await;
    for table in [
        "completion",
        "overdue-by-team",
        "overdue-by-owner",
        "open-item-age",
        "awaiting-decision",
        "pushed-back",
        "published",
        "repeats",
    ] {
        let path = format!("/review/2026-Q4/csv/{table}");
        assert!(page.body.contains(&path), "the page links {table}");
        let response = viewer
            .http
            .get(viewer.url(&path))
            .send()
            .await
            .expect("csv");
        assert_eq!(response.status(), StatusCode::OK, "{table}");
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        let body = response.text().await.expect("body");
        assert!(body.lines().count() >= 1, "{table} has a header");
        if table == "awaiting-decision" {
            assert!(
                body.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""),
                "{body}"
            );
        }
        if table == "completion" {
            assert_eq!(body.lines().count(), 9, "eight quarters and a header");
        }
    }
    assert_eq!(
        viewer.get("/review/2026-Q4/csv/secrets").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        viewer.get("/review/2026-Q9").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.client().get("/review/2026-Q4").await.status,
        StatusCode::SEE_OTHER,
        "sign-in first"
    );
}

#[tokio::test]
async fn the_demo_archive_fills_every_section_and_chart_of_the_review() {
    let app = TestApp::spawn().await;
    set_clock(&app, at("2026-11-28T12:00:00Z"));
    debrief::seed::demo::seed(&app.db, &app.clock, |_, _, _| {})
        .await
        .expect("demo seeds");
    sweep(&app).await;
    // The demo shows the review conversation too: participants, a resolved
    // thread, open ones on a postmortem in review, and reviewers' approvals.
    let (participants, threads, open, approvals): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM participants),
                (SELECT count(*) FROM comments WHERE parent_id IS NULL),
                (SELECT count(*) FROM comments WHERE parent_id IS NULL AND resolved_at IS NULL),
                (SELECT count(*) FROM reviewer_decisions WHERE decision = 'approved')",
    )
    .fetch_one(&app.db)
    .await
    .expect("counts");
    assert_eq!((participants, threads, open), (6, 3, 2));
    assert!(approvals > 0);
    let (viewer, _) = app.signed_in(Role::Viewer).await;
    let current = viewer.get("/review").await;
    assert_eq!(current.location(), Some("/review/2026-Q4"));
    let page = viewer.get("/review/2026-Q4").await;
    assert_eq!(page.status, StatusCode::OK);
    for empty in [
        "Nothing is overdue",
        "Nothing waits for a decision",
        "No due date moved later",
        "No postmortem was published",
        "No incident this quarter was marked",
    ] {
        assert!(!page.body.contains(empty), "the demo fills: {empty}");
    }
    // Three charts for the quarter, three for the trends across quarters.
    assert_eq!(page.body.matches("<svg").count(), 6);
    assert!(page.body.matches(r#"<rect class="bar""#).count() >= 8 + 5 + 5);
    assert!(
        page.body.contains(r#"badge-pending">Stale<"#),
        "stale items wait for a decision"
    );
    assert!(page.body.contains("repeat of"));
    // The share of the quarter's postmortems passing each review check.
    assert!(
        page.body
            .contains("Share of the quarter&#39;s 3 published postmortems")
            || page
                .body
                .contains("Share of the quarter's 3 published postmortems"),
        "checklist shares"
    );
    assert!(!page.body.contains("has been checked yet"));
}
