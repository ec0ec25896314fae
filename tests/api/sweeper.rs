//! The sweeper, on a clock the test sets: overdue at the end of the due
//! date in the organization's zone, stale at 180 days, review overdue until
//! published, each flag raised once however many sweepers run, and a
//! sweeper that outlives a database outage.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use debrief::{
    clock::Clock,
    domain::role::Role,
    jobs::sweeper::{self, Outcome, Settings},
};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    helpers::{TestApp, TestClient},
    incidents::create_incident,
};

fn settings(zone: &str) -> Settings {
    Settings {
        every: StdDuration::from_millis(100),
        zone: zone.parse().expect("a zone"),
        review_due_days: 5,
    }
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

/// A new incident's postmortem (the incident resolved 2026-03-01 15:10 UTC).
async fn new_postmortem(app: &TestApp, client: &TestClient) -> Uuid {
    let number = create_incident(client, "Queue backlog").await;
    sqlx::query_scalar(
        "SELECT p.id FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1",
    )
    .bind(number)
    .fetch_one(&app.db)
    .await
    .expect("postmortem")
}

/// An open action item due on `due`, created at `created`.
async fn add_item(db: &PgPool, postmortem: Uuid, due: NaiveDate, created: DateTime<Utc>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO action_items (id, postmortem_id, title, kind, priority, due_on, created_at, updated_at)
         VALUES ($1, $2, 'Alert on queue depth', 'detect', 'p1', $3, $4, $4)",
    )
    .bind(id)
    .bind(postmortem)
    .bind(due)
    .bind(created)
    .execute(db)
    .await
    .expect("item");
    id
}

/// The open flags of an item or postmortem, by kind.
async fn open_flags(db: &PgPool, subject: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT flag::text FROM item_flags WHERE action_item_id = $1 AND cleared_at IS NULL
         UNION ALL SELECT 'review_overdue' FROM review_flags WHERE postmortem_id = $1 AND cleared_at IS NULL
         ORDER BY 1",
    )
    .bind(subject)
    .fetch_all(db)
    .await
    .expect("flags")
}

async fn sweep(app: &TestApp, clock: &Clock, zone: &str) -> Outcome {
    sweeper::run_once(&app.db, clock, &settings(zone))
        .await
        .expect("sweep")
}

#[tokio::test]
async fn an_item_becomes_overdue_just_after_its_due_date_ends_in_the_organization_zone() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let postmortem = new_postmortem(&app, &client).await;
    let due = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
    let item = add_item(&app.db, postmortem, due, at("2026-03-02T09:00:00Z")).await;

    // 23:59:59 on the due date in Berlin (UTC+1 in March): not yet overdue.
    let clock = Clock::fixed(at("2026-03-10T22:59:59Z"));
    sweep(&app, &clock, "Europe/Berlin").await;
    assert!(open_flags(&app.db, item).await.is_empty());
    // Midnight in Berlin: overdue, while it is still the due date in UTC.
    clock.advance(Duration::seconds(1));
    sweep(&app, &clock, "Europe/Berlin").await;
    assert_eq!(open_flags(&app.db, item).await, ["overdue"]);
    let raised: DateTime<Utc> =
        sqlx::query_scalar("SELECT raised_at FROM item_flags WHERE action_item_id = $1")
            .bind(item)
            .fetch_one(&app.db)
            .await
            .expect("raised");
    assert_eq!(raised, at("2026-03-10T23:00:00Z"));

    // In UTC the same item is not overdue until midnight UTC.
    let other = add_item(&app.db, postmortem, due, at("2026-03-02T09:00:00Z")).await;
    let utc = Clock::fixed(at("2026-03-10T23:59:59Z"));
    sqlx::query("DELETE FROM item_flags")
        .execute(&app.db)
        .await
        .expect("reset");
    sweep(&app, &utc, "UTC").await;
    assert!(open_flags(&app.db, other).await.is_empty());
    utc.advance(Duration::seconds(1));
    sweep(&app, &utc, "UTC").await;
    assert_eq!(open_flags(&app.db, other).await, ["overdue"]);
}

#[tokio::test]
async fn an_item_open_for_180_days_becomes_stale() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let postmortem = new_postmortem(&app, &client).await;
    let created = at("2026-01-05T10:00:00Z");
    let far = NaiveDate::from_ymd_opt(2030, 1, 1).expect("date");
    let item = add_item(&app.db, postmortem, far, created).await;

    let clock = Clock::fixed(created + Duration::days(180) - Duration::minutes(1));
    sweep(&app, &clock, "UTC").await;
    assert!(open_flags(&app.db, item).await.is_empty());
    clock.advance(Duration::minutes(2));
    sweep(&app, &clock, "UTC").await;
    assert_eq!(open_flags(&app.db, item).await, ["stale"]);
}

#[tokio::test]
async fn sweeping_again_changes_nothing_and_a_flag_that_no_longer_holds_is_cleared() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let postmortem = new_postmortem(&app, &client).await;
    let due = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
    let item = add_item(&app.db, postmortem, due, at("2026-03-02T09:00:00Z")).await;
    let clock = Clock::fixed(at("2026-03-20T08:00:00Z"));

    let first = sweep(&app, &clock, "UTC").await;
    let Outcome::Swept { changes, .. } = first else {
        panic!("no other sweeper runs: {first:?}")
    };
    // The item is overdue, and the draft's review is overdue too.
    assert_eq!((changes.raised, changes.cleared), (2, 0));
    let again = sweep(&app, &clock, "UTC").await;
    assert!(
        matches!(again, Outcome::Swept { changes, .. } if changes.raised == 0 && changes.cleared == 0)
    );

    sqlx::query("UPDATE action_items SET status = 'done', closed_at = $2 WHERE id = $1")
        .bind(item)
        .bind(clock.now())
        .execute(&app.db)
        .await
        .expect("done");
    clock.advance(Duration::hours(1));
    let after = sweep(&app, &clock, "UTC").await;
    assert!(
        matches!(after, Outcome::Swept { changes, .. } if changes.raised == 0 && changes.cleared == 1)
    );
    let (raised, cleared): (DateTime<Utc>, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT raised_at, cleared_at FROM item_flags WHERE action_item_id = $1")
            .bind(item)
            .fetch_one(&app.db)
            .await
            .expect("one flag, kept with its history");
    assert_eq!(raised, at("2026-03-20T08:00:00Z"));
    assert_eq!(cleared, Some(at("2026-03-20T09:00:00Z")));
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM sweep_runs")
        .fetch_one(&app.db)
        .await
        .expect("runs");
    assert_eq!(runs, 3);
}

#[tokio::test]
async fn a_review_is_overdue_until_the_postmortem_is_published() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let postmortem = new_postmortem(&app, &client).await;
    // Resolved 2026-03-01 15:10 UTC; the review is due five days later.
    let clock = Clock::fixed(at("2026-03-06T15:09:00Z"));
    sweep(&app, &clock, "UTC").await;
    assert!(open_flags(&app.db, postmortem).await.is_empty());
    clock.advance(Duration::minutes(2));
    sweep(&app, &clock, "UTC").await;
    assert_eq!(open_flags(&app.db, postmortem).await, ["review_overdue"]);

    sqlx::query("UPDATE postmortems SET status = 'published', published_at = $2 WHERE id = $1")
        .bind(postmortem)
        .bind(clock.now())
        .execute(&app.db)
        .await
        .expect("publish");
    sweep(&app, &clock, "UTC").await;
    assert!(open_flags(&app.db, postmortem).await.is_empty());
}

#[tokio::test]
async fn two_sweepers_at_the_same_moment_flag_each_item_once() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let postmortem = new_postmortem(&app, &client).await;
    let due = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
    for _ in 0..40 {
        add_item(&app.db, postmortem, due, at("2026-03-02T09:00:00Z")).await;
    }
    let clock = Clock::fixed(at("2026-04-01T00:00:00Z"));
    let zone = settings("UTC");
    // Two replicas: separate pools, started together.
    let other_pool = PgPool::connect(&app.database_url()).await.expect("pool");
    let (first, second) = tokio::join!(
        sweeper::run_once(&app.db, &clock, &zone),
        sweeper::run_once(&other_pool, &clock, &zone),
    );
    let outcomes = [first.expect("first"), second.expect("second")];
    let raised: i64 = outcomes
        .iter()
        .map(|outcome| match outcome {
            Outcome::Swept { changes, .. } => changes.raised,
            Outcome::Busy => 0,
        })
        .sum();
    // 40 overdue items and one overdue review, raised once between them.
    assert_eq!(raised, 41, "{outcomes:?}");
    let flags: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM item_flags) + (SELECT count(*) FROM review_flags)",
    )
    .fetch_one(&app.db)
    .await
    .expect("flags");
    assert_eq!(flags, 41);
}

/// Polls `check` every 50 ms for up to 10 s.
async fn eventually(mut check: impl AsyncFnMut() -> bool, what: &str) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn the_sweeper_carries_on_after_the_database_comes_back() {
    let (app, proxy) = TestApp::spawn_behind_proxy().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let postmortem = new_postmortem(&app, &client).await;
    let direct = PgPool::connect(&app.database_url())
        .await
        .expect("direct pool");
    let due = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
    let item = add_item(&direct, postmortem, due, at("2026-03-02T09:00:00Z")).await;
    let clock = Clock::fixed(at("2026-04-01T00:00:00Z"));

    // The running sweeper's connections pass through the proxy.
    let stop = debrief::jobs::supervisor::Stop::new();
    let running = tokio::spawn(sweeper::run(
        app.db.clone(),
        clock.clone(),
        settings("UTC"),
        stop.clone(),
    ));
    eventually(
        async || open_flags(&direct, item).await == ["overdue"],
        "the item is flagged",
    )
    .await;

    proxy.cut();
    sqlx::query("UPDATE action_items SET status = 'done' WHERE id = $1")
        .bind(item)
        .execute(&direct)
        .await
        .expect("done");
    let runs_before: i64 = sqlx::query_scalar("SELECT count(*) FROM sweep_runs")
        .fetch_one(&direct)
        .await
        .expect("runs");
    // Several ticks fail while the database is away; none is recorded.
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    assert!(!running.is_finished(), "the sweeper survives the outage");
    assert_eq!(open_flags(&direct, item).await, ["overdue"]);

    proxy.restore();
    eventually(
        async || open_flags(&direct, item).await.is_empty(),
        "the flag is cleared",
    )
    .await;
    let runs_after: i64 = sqlx::query_scalar("SELECT count(*) FROM sweep_runs")
        .fetch_one(&direct)
        .await
        .expect("runs");
    assert!(runs_after > runs_before);
    stop.cancel();
    tokio::time::timeout(StdDuration::from_secs(10), running)
        .await
        .expect("the sweeper stops when told to")
        .expect("without a panic");
}

#[tokio::test]
async fn admins_see_the_last_sweeps_and_members_cannot() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (member, _) = app.signed_in(Role::Member).await;
    let postmortem = new_postmortem(&app, &admin).await;
    let due = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
    add_item(&app.db, postmortem, due, at("2026-03-02T09:00:00Z")).await;
    sweep(&app, &Clock::fixed(at("2026-04-01T00:00:00Z")), "UTC").await;

    let page = admin.get("/admin/sweeps").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Last runs"));
    assert!(
        page.body
            .contains("<strong>1</strong> overdue action items"),
        "{}",
        page.body
    );
    assert!(page.body.contains("2026-04-01"));
    assert_eq!(
        member.get("/admin/sweeps").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn deleting_an_item_deletes_its_flags_and_a_stray_flag_is_cleared_by_the_next_sweep() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let postmortem = new_postmortem(&app, &client).await;
    let due = NaiveDate::from_ymd_opt(2026, 3, 10).expect("date");
    let item = add_item(&app.db, postmortem, due, at("2026-03-02T09:00:00Z")).await;
    let clock = Clock::fixed(at("2026-04-01T12:00:00Z"));
    sweep(&app, &clock, "UTC").await;
    assert_eq!(open_flags(&app.db, item).await, ["overdue"]);
    sqlx::query("DELETE FROM action_items WHERE id = $1")
        .bind(item)
        .execute(&app.db)
        .await
        .expect("delete");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM item_flags")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(left, 0, "the item's flags went with it");

    // A flag raised for an item deleted while a sweep ran is cleared next time.
    let gone = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO item_flags (action_item_id, flag, raised_at) VALUES ($1, 'overdue', $2)",
    )
    .bind(gone)
    .bind(clock.now())
    .execute(&app.db)
    .await
    .expect("stray flag");
    sweep(&app, &clock, "UTC").await;
    assert!(open_flags(&app.db, gone).await.is_empty());
}
