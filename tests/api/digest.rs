//! Email digests delivered to a real SMTP server started by the test: who
//! gets what, both parts, the links and unsubscribe headers; an SMTP outage;
//! two composers and two senders at once; a sender killed mid-send; the
//! unsubscribe link; the preview, the outbox page and the metrics.

use chrono::{DateTime, Duration, NaiveDate, Utc, Weekday};
use debrief::{
    config::MailConfig,
    domain::{
        digest::{Frequency, Schedule},
        role::Role,
    },
    jobs::digest::{self, Composed, Settings},
    mail::Mailer,
    store,
};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    helpers::{TestApp, TestClient, team},
    incidents::create_incident,
    smtp::SmtpSink,
};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

/// Monday 23 November 2026, 09:00 UTC: week 48's digests are due.
const MONDAY: &str = "2026-11-23T09:00:00Z";

fn settings(app: &TestApp) -> Settings {
    Settings {
        schedule: Schedule {
            day: Weekday::Mon,
            hour: 8,
            zone: chrono_tz::UTC,
        },
        base_url: app.address.clone(),
    }
}

fn mailer(url: &str) -> Mailer {
    Mailer::new(&MailConfig {
        smtp_url: Some(url.to_owned()),
        mail_from: "Debrief <debrief@example.com>".to_owned(),
        ..MailConfig::default()
    })
    .expect("a mailer")
}

/// `debrief digest send --now` as its own process, delivering to `smtp_url`
/// with the sender address the in-test senders use (as replicas share one).
fn spawn_sender(app: &TestApp, smtp_url: &str) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args(["digest", "send", "--now"])
        .env("DATABASE_URL", app.database_url())
        .env("DEBRIEF_SMTP_URL", smtp_url)
        .env("DEBRIEF_MAIL_FROM", "Debrief <debrief@example.com>")
        .env("DEBRIEF_BASE_URL", &app.address)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the debrief binary")
}

fn set_clock(app: &TestApp, to: DateTime<Utc>) {
    app.advance(to - app.clock.now());
}

/// A published postmortem to hang items on.
async fn postmortem(app: &TestApp, client: &TestClient) -> Uuid {
    let number = create_incident(client, "Queue backlog").await;
    sqlx::query_scalar(
        "UPDATE postmortems p SET status = 'published', published_at = now()
         FROM incidents i WHERE i.id = p.incident_id AND i.number = $1 RETURNING p.id",
    )
    .bind(number)
    .fetch_one(&app.db)
    .await
    .expect("publish")
}

async fn item(
    db: &PgPool,
    postmortem: Uuid,
    title: &str,
    owner: Uuid,
    team: Option<Uuid>,
    due: &str,
    created: &str,
) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO action_items (id, postmortem_id, title, kind, priority, owner_id, team_id, due_on, created_at, updated_at)
         VALUES ($1, $2, $3, 'prevent', 'p1', $4, $5, $6, $7, $7)",
    )
    .bind(id)
    .bind(postmortem)
    .bind(title)
    .bind(owner)
    .bind(team)
    .bind(due.parse::<NaiveDate>().expect("date"))
    .bind(at(created))
    .execute(db)
    .await
    .expect("item");
    id
}

/// Owners Olga (one overdue, one due soon) and Idle (nothing to report),
/// and Lena, who leads Payments (Olga's overdue item and a stale one).
pub struct World {
    pub olga: Uuid,
    pub lena: Uuid,
    pub overdue: Uuid,
    pub soon: Uuid,
    pub stale: Uuid,
}

pub async fn world(app: &TestApp) -> World {
    set_clock(app, at(MONDAY));
    let (admin, _) = app.signed_in(Role::Admin).await;
    let olga = app
        .create_user("olga@example.com", "Olga Owner", Role::Member)
        .await;
    let lena = app
        .create_user("lena@example.com", "Lena Lead", Role::Member)
        .await;
    app.create_user("idle@example.com", "Idle Person", Role::Member)
        .await;
    let payments = team(&app.db, "Payments", &[(lena, true)]).await;
    let pm = postmortem(app, &admin).await;
    let overdue = item(
        &app.db,
        pm,
        "Alert on queue depth",
        olga,
        Some(payments),
        "2026-11-16",
        "2026-11-01T00:00:00Z",
    )
    .await;
    let soon = item(
        &app.db,
        pm,
        "Runbook for replays",
        olga,
        None,
        "2026-11-27",
        "2026-11-01T00:00:00Z",
    )
    .await;
    let stale = item(
        &app.db,
        pm,
        "Shard the events table",
        lena,
        Some(payments),
        "2027-03-01",
        "2026-03-01T00:00:00Z",
    )
    .await;
    item(
        &app.db,
        pm,
        "Far in the future",
        olga,
        None,
        "2027-06-01",
        "2026-11-01T00:00:00Z",
    )
    .await;
    World {
        olga,
        lena,
        overdue,
        soon,
        stale,
    }
}

/// Composes and sends week 48's digests to `sink`; gives Olga's.
async fn olgas_digest(app: &TestApp, sink: &SmtpSink) -> crate::smtp::Received {
    compose_week(app).await;
    digest::send_due(&app.db, &app.clock, &mailer(&sink.url()))
        .await
        .expect("send");
    sink.messages()
        .into_iter()
        .find(|m| m.to == ["olga@example.com"])
        .expect("Olga's digest")
}

async fn compose_week(app: &TestApp) -> Composed {
    digest::compose(
        &app.db,
        &app.clock,
        &settings(app),
        Frequency::Weekly,
        "2026-W48",
    )
    .await
    .expect("compose")
}

#[tokio::test]
async fn digests_reach_owners_and_leads_with_both_parts_links_and_unsubscribe_headers() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    // An item of a draft Olga and Lena may not read stays out of their mail.
    let (author, _) = app.signed_in(Role::Admin).await;
    let draft_number = create_incident(&author, "Still a draft").await;
    let draft: Uuid = sqlx::query_scalar(
        "SELECT p.id FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1",
    )
    .bind(draft_number)
    .fetch_one(&app.db)
    .await
    .expect("draft");
    let payments: Uuid = sqlx::query_scalar("SELECT id FROM teams WHERE name = 'Payments'")
        .fetch_one(&app.db)
        .await
        .expect("team");
    item(
        &app.db,
        draft,
        "Draft-only item",
        w.olga,
        Some(payments),
        "2026-11-10",
        "2026-11-01T00:00:00Z",
    )
    .await;
    let sink = SmtpSink::start().await;
    assert!(
        matches!(compose_week(&app).await, Composed::Done { messages: 2, .. }),
        "Olga's digest and Lena's rollup"
    );
    let sent = digest::send_due(&app.db, &app.clock, &mailer(&sink.url()))
        .await
        .expect("send");
    assert_eq!((sent.sent, sent.failed), (2, 0));

    let messages = sink.messages();
    assert!(
        messages.iter().all(|m| !m.data.contains("Draft-only item")),
        "drafts stay out"
    );
    let recipients: Vec<&str> = messages
        .iter()
        .flat_map(|m| m.to.iter().map(String::as_str))
        .collect();
    assert!(
        !recipients.contains(&"idle@example.com"),
        "nothing to report, no mail"
    );
    let to_olga: Vec<_> = messages
        .iter()
        .filter(|m| m.to == ["olga@example.com"])
        .collect();
    assert_eq!(to_olga.len(), 1);
    let mail = to_olga[0].parsed();
    assert_eq!(
        mail.subject(),
        Some("Debrief: 1 overdue action item, 1 item due this week")
    );
    let text = mail.body_text(0).expect("a text part").to_string();
    let html = mail.body_html(0).expect("an HTML part").to_string();
    for part in [&text, &html] {
        assert!(part.contains("Alert on queue depth") && part.contains("Runbook for replays"));
        assert!(
            !part.contains("Far in the future"),
            "not due within the week"
        );
        assert!(part.contains(&format!("{}/action-items/{}", app.address, w.overdue)));
        assert!(part.contains(&format!("{}/action-items/{}", app.address, w.soon)));
        assert!(part.contains(&format!("{}/review/2026-Q4", app.address)));
    }
    assert!(text.contains("7 days overdue"));
    assert!(
        html.contains("style=") && !html.contains("<link") && !html.contains("<script"),
        "inline styles, nothing external"
    );
    let unsubscribe = mail
        .header_raw("List-Unsubscribe")
        .expect("List-Unsubscribe")
        .trim();
    assert!(
        unsubscribe.starts_with(&format!("<{}/unsubscribe/{}/", app.address, w.olga)),
        "{unsubscribe}"
    );
    assert_eq!(
        mail.header_raw("List-Unsubscribe-Post").map(str::trim),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(
        mail.from()
            .and_then(|from| from.first())
            .and_then(|a| a.address()),
        Some("debrief@example.com")
    );
    assert!(
        to_olga[0].from.contains("debrief@example.com"),
        "the envelope sender"
    );

    // Lena's rollup groups her team's overdue and stale items by owner.
    let rollup = messages
        .iter()
        .map(|m| m.parsed())
        .find(|m| {
            m.subject()
                .is_some_and(|s| s.starts_with("Debrief: Payments:"))
        })
        .expect("the lead's rollup");
    assert_eq!(
        rollup.subject(),
        Some("Debrief: Payments: 1 overdue action item, 1 stale")
    );
    let text = rollup.body_text(0).expect("text").to_string();
    assert!(text.contains("Payments · Olga Owner") && text.contains("Payments · Lena Lead"));
    assert!(text.contains(&w.stale.to_string()) && text.contains("stale"));
    let _ = w.lena;
}

#[tokio::test]
async fn with_the_smtp_server_down_messages_stay_pending_and_go_out_when_it_is_back() {
    let app = TestApp::spawn().await;
    world(&app).await;
    let mut sink = SmtpSink::start().await;
    let mailer = mailer(&sink.url());
    sink.stop();
    compose_week(&app).await;
    let sent = digest::send_due(&app.db, &app.clock, &mailer)
        .await
        .expect("send");
    assert_eq!((sent.sent, sent.failed), (0, 2));
    let counts = store::outbox::counts(&app.db).await.expect("counts");
    assert_eq!((counts.pending, counts.failing, counts.sent), (2, 2, 0));
    // Nothing is retried before its backoff.
    assert_eq!(
        digest::send_due(&app.db, &app.clock, &mailer)
            .await
            .expect("send")
            .failed,
        0
    );

    sink.restart().await;
    app.advance(Duration::minutes(2));
    let sent = digest::send_due(&app.db, &app.clock, &mailer)
        .await
        .expect("send");
    assert_eq!((sent.sent, sent.failed), (2, 0));
    assert_eq!(sink.messages().len(), 2);
    let attempts: Vec<i32> = sqlx::query_scalar("SELECT attempts FROM outbox ORDER BY id")
        .fetch_all(&app.db)
        .await
        .expect("attempts");
    assert_eq!(attempts, [2, 2]);
}

#[tokio::test]
async fn two_composers_and_two_senders_at_once_deliver_each_digest_once() {
    let app = TestApp::spawn().await;
    world(&app).await;
    let sink = SmtpSink::start().await;
    let (a, b) = tokio::join!(compose_week(&app), compose_week(&app));
    let stored: i64 = [a, b]
        .iter()
        .map(|outcome| match outcome {
            Composed::Done { messages, .. } => *messages,
            _ => 0,
        })
        .sum();
    assert_eq!(stored, 2);
    let (one, two) = (mailer(&sink.url()), mailer(&sink.url()));
    let (x, y) = tokio::join!(
        digest::send_due(&app.db, &app.clock, &one),
        digest::send_due(&app.db, &app.clock, &two)
    );
    assert_eq!(x.expect("send").sent + y.expect("send").sent, 2);
    assert_eq!(sink.messages().len(), 2);

    // The same period again: nothing new is composed or sent.
    assert_eq!(compose_week(&app).await, Composed::AlreadyDone);
    app.advance(Duration::hours(1));
    let again = digest::send_due(&app.db, &app.clock, &one)
        .await
        .expect("send");
    assert_eq!(again.sent, 0);
    assert_eq!(sink.messages().len(), 2);
}

#[tokio::test]
async fn a_sender_killed_after_taking_messages_loses_none() {
    let app = TestApp::spawn().await;
    world(&app).await;
    let sink = SmtpSink::start().await;
    compose_week(&app).await;
    // A sender takes the batch, then dies (kill -9) before sending it.
    let now = app.clock.now();
    let taken = store::outbox::claim(&app.db, now, now + Duration::minutes(5), 20)
        .await
        .expect("claim");
    assert_eq!(taken.len(), 2);
    // An admin's "retry" leaves a message a sender holds alone, and only
    // the holder of the claim can mark it.
    assert!(
        !store::outbox::retry_now(&app.db, taken[0].id, now)
            .await
            .expect("retry")
    );
    store::outbox::mark_sent(&app.db, taken[0].id, taken[0].attempts + 1, now)
        .await
        .expect("mark");
    assert_eq!(
        store::outbox::counts(&app.db).await.expect("counts").sent,
        0,
        "not its claim"
    );
    // Another sender leaves them alone while the lease holds...
    let mailer = mailer(&sink.url());
    assert_eq!(
        digest::send_due(&app.db, &app.clock, &mailer)
            .await
            .expect("send")
            .sent,
        0
    );
    // ...and delivers them once it has run out.
    app.advance(Duration::minutes(6));
    assert_eq!(
        digest::send_due(&app.db, &app.clock, &mailer)
            .await
            .expect("send")
            .sent,
        2
    );
    assert_eq!(sink.messages().len(), 2);
}

#[tokio::test]
async fn a_user_who_unsubscribed_through_the_link_gets_no_further_digest() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let sink = SmtpSink::start().await;
    let mail = olgas_digest(&app, &sink).await;
    let link = mail
        .parsed()
        .header_raw("List-Unsubscribe")
        .expect("header")
        .trim()
        .trim_matches(['<', '>'])
        .to_owned();
    let path = link
        .strip_prefix(&app.address)
        .expect("a link to this server")
        .to_owned();

    // A tampered link is refused; the page asks first; the one-click POST
    // (no session, no form token, as a mail client sends it) unsubscribes.
    let stranger = app.client();
    let flipped = if path.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{flipped}", &path[..path.len() - 1]);
    assert_eq!(
        stranger
            .http
            .post(stranger.url(&tampered))
            .send()
            .await
            .expect("post")
            .status(),
        StatusCode::NOT_FOUND
    );
    let page = stranger.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Stop the digest emails?"));
    let clicked = stranger
        .http
        .post(stranger.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("one-click");
    assert_eq!(clicked.status(), StatusCode::OK);
    assert!(
        clicked
            .text()
            .await
            .expect("body")
            .contains("You are unsubscribed")
    );
    let frequency = store::outbox::get_frequency(&app.db, w.olga)
        .await
        .expect("frequency");
    assert_eq!(frequency, Some(Frequency::Off));

    // Next week: Lena gets hers, Olga nothing.
    set_clock(&app, at(MONDAY) + Duration::weeks(1));
    let next = digest::compose(
        &app.db,
        &app.clock,
        &settings(&app),
        Frequency::Weekly,
        "2026-W49",
    )
    .await
    .expect("compose");
    assert!(
        matches!(next, Composed::Done { messages: 1, .. }),
        "only Lena's rollup: {next:?}"
    );
    digest::send_due(&app.db, &app.clock, &mailer(&sink.url()))
        .await
        .expect("send");
    let to_olga = sink
        .messages()
        .iter()
        .filter(|m| m.to == ["olga@example.com"])
        .count();
    assert_eq!(to_olga, 1, "only the digest from before unsubscribing");
}

#[tokio::test]
async fn the_preview_the_account_choice_the_outbox_page_and_the_metrics() {
    let app = TestApp::spawn().await;
    world(&app).await;
    let (client, me) = app.signed_in(Role::Member).await;
    // Give the signed-in member an overdue item.
    let (admin, _) = app.signed_in(Role::Admin).await;
    let pm = postmortem(&app, &admin).await;
    let mine = item(
        &app.db,
        pm,
        "Rotate the webhook secret",
        me,
        None,
        "2026-11-20",
        "2026-11-01T00:00:00Z",
    )
    .await;

    let preview = client.get("/digest/preview").await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(preview.body.contains("Rotate the webhook secret"));
    assert!(preview.body.contains(&format!("/action-items/{mine}")));
    let html = client.get("/digest/preview/html?kind=owner").await;
    assert_eq!(html.status, StatusCode::OK);
    let policy = html.headers["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        policy.contains("style-src 'unsafe-inline'")
            && policy.contains("default-src 'none'")
            && !policy.contains("script")
    );

    let saved = client
        .post_form("/account/digest", &[("frequency", "daily")])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        store::outbox::get_frequency(&app.db, me).await.expect("f"),
        Some(Frequency::Daily)
    );
    let refused = client
        .post_form("/account/digest", &[("frequency", "hourly")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Pick weekly, daily or off."));

    // The outbox: admins only; a pending message can be retried.
    compose_week(&app).await;
    assert_eq!(
        client.get("/admin/outbox").await.status,
        StatusCode::FORBIDDEN
    );
    let outbox = admin.get("/admin/outbox").await;
    assert_eq!(outbox.status, StatusCode::OK);
    assert!(outbox.body.contains("olga@example.com") && outbox.body.contains("Mail is off"));
    let id: i64 = sqlx::query_scalar("SELECT id FROM outbox ORDER BY id LIMIT 1")
        .fetch_one(&app.db)
        .await
        .expect("id");
    let retried = admin
        .post_form(&format!("/admin/outbox/{id}/retry"), &[])
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);

    let scraper = app.client();
    let metrics = scraper
        .http
        .get(scraper.url("/metrics"))
        .bearer_auth(crate::helpers::METRICS_TOKEN)
        .send()
        .await
        .expect("a scrape");
    assert_eq!(metrics.status(), StatusCode::OK);
    let body = metrics.text().await.expect("the body");
    assert!(
        body.contains("debrief_outbox_messages{state=\"pending\"} 2"),
        "{body}"
    );
    assert!(body.contains("debrief_mail_sent_total"));
}

#[tokio::test]
async fn a_sender_process_killed_with_sigkill_mid_delivery_loses_no_digest() {
    let app = TestApp::spawn().await;
    world(&app).await;
    // An SMTP server that accepts connections and never answers: the sender
    // has taken its messages and is waiting in the middle of delivery.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let port = silent.local_addr().expect("address").port();
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            open.push(stream);
        }
    });
    let mut sender = spawn_sender(&app, &format!("smtp://127.0.0.1:{port}"));
    let mut taken = 0;
    for _ in 0..200 {
        taken = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM outbox WHERE attempts = 1")
            .fetch_one(&app.db)
            .await
            .expect("count");
        if taken > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(taken > 0, "the sender took its messages");
    sender.kill().await.expect("kill -9");
    held.abort();
    let counts = store::outbox::counts(&app.db).await.expect("counts");
    assert_eq!(counts.sent, 0);
    let stored = counts.pending;
    assert!(stored >= 1);

    // When the dead sender's lease (five minutes of real time) has run
    // out, another delivers every message.
    set_clock(&app, Utc::now() + Duration::minutes(6));
    let sink = SmtpSink::start().await;
    let sent = digest::send_due(&app.db, &app.clock, &mailer(&sink.url()))
        .await
        .expect("send");
    assert_eq!(i64::try_from(sent.sent).expect("count"), stored);
    assert_eq!(i64::try_from(sink.messages().len()).expect("count"), stored);
    assert_eq!(
        store::outbox::counts(&app.db)
            .await
            .expect("counts")
            .pending,
        0
    );
}

#[tokio::test]
async fn an_expired_unsubscribe_link_is_refused_while_the_header_link_of_its_message_works() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let sink = SmtpSink::start().await;
    let mail = olgas_digest(&app, &sink).await;
    let parsed = mail.parsed();
    let text = parsed.body_text(0).expect("a text part").to_string();
    let prefix = format!("{}/unsubscribe/{}/", app.address, w.olga);
    let start = text.find(&prefix).expect("the link in the text");
    let in_text = text[start..]
        .split_whitespace()
        .next()
        .expect("a link")
        .trim_end_matches(['.', ')', '>'])
        .strip_prefix(&app.address)
        .expect("a path")
        .to_owned();
    let in_header = parsed
        .header_raw("List-Unsubscribe")
        .expect("header")
        .trim()
        .trim_matches(['<', '>'])
        .strip_prefix(&app.address)
        .expect("a path")
        .to_owned();
    assert_ne!(in_text, in_header, "two links with two lifetimes");
    let stranger = app.client();
    assert_eq!(stranger.get(&in_text).await.status, StatusCode::OK, "fresh");

    // 31 days on, the link in the text is refused and says what to do; the
    // header's one-click link of the same message still works.
    set_clock(&app, at(MONDAY) + Duration::days(31));
    let expired = stranger.get(&in_text).await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(
        expired.body.contains("This unsubscribe link has expired"),
        "{}",
        expired.body
    );
    assert!(expired.body.contains("/account#digest"));
    let posted = stranger
        .http
        .post(stranger.url(&in_text))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("post");
    assert_eq!(posted.status(), StatusCode::GONE);
    assert_eq!(
        store::outbox::get_frequency(&app.db, w.olga)
            .await
            .expect("frequency"),
        Some(Frequency::Weekly),
        "an expired link changed nothing"
    );
    let clicked = stranger
        .http
        .post(stranger.url(&in_header))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("one-click");
    assert_eq!(clicked.status(), StatusCode::OK);
    assert_eq!(
        store::outbox::get_frequency(&app.db, w.olga)
            .await
            .expect("frequency"),
        Some(Frequency::Off)
    );
    // A year and a day after sending, the header link has expired too.
    set_clock(&app, at(MONDAY) + Duration::days(366));
    assert_eq!(stranger.get(&in_header).await.status, StatusCode::GONE);
}

#[tokio::test]
async fn a_sender_killed_while_the_smtp_server_holds_its_reply_to_data_resends_with_the_same_message_id()
 {
    let app = TestApp::spawn().await;
    world(&app).await;
    compose_week(&app).await;
    // The server keeps each message at the end of DATA and answers a minute
    // later: the sender is killed in between, the duplicate window.
    let slow = SmtpSink::answering_data_after(std::time::Duration::from_secs(60)).await;
    let mut sender = spawn_sender(&app, &slow.url());
    let mut first = Vec::new();
    for _ in 0..200 {
        first = slow.messages();
        if !first.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!first.is_empty(), "the server got a whole message");
    sender.kill().await.expect("kill -9");
    let killed_at = Utc::now();
    let held = first[0].parsed();
    let message_id = held.message_id().expect("a Message-ID").to_owned();
    let outbox_id: i64 = sqlx::query_scalar("SELECT id FROM outbox WHERE email = $1")
        .bind(&first[0].to[0])
        .fetch_one(&app.db)
        .await
        .expect("its outbox row");
    assert!(
        message_id.starts_with(&format!("outbox-{outbox_id}@")),
        "stable, from the outbox row: {message_id}"
    );
    let status: String = sqlx::query_scalar("SELECT status::text FROM outbox WHERE id = $1")
        .bind(outbox_id)
        .fetch_one(&app.db)
        .await
        .expect("status");
    assert_eq!(status, "pending", "never marked sent");

    // While the dead sender's lease runs, nobody else takes its messages;
    // a minute after it died, another sender does and sends them again.
    let sink = SmtpSink::start().await;
    set_clock(&app, killed_at + Duration::seconds(30));
    let early = digest::send_due(&app.db, &app.clock, &mailer(&sink.url()))
        .await
        .expect("send");
    assert_eq!(early.sent, 0, "still leased");
    set_clock(&app, killed_at + Duration::seconds(61));
    let later = digest::send_due(&app.db, &app.clock, &mailer(&sink.url()))
        .await
        .expect("send");
    assert!(later.sent >= 1, "taken over within a minute");
    let resent = sink
        .messages()
        .into_iter()
        .find(|m| m.to == first[0].to)
        .expect("the message again");
    assert_eq!(
        resent.parsed().message_id(),
        Some(message_id.as_str()),
        "the resend is recognisably the same message"
    );
}

#[tokio::test]
async fn a_live_sender_renews_only_the_leases_it_still_holds() {
    let app = TestApp::spawn().await;
    world(&app).await;
    compose_week(&app).await;
    let now = app.clock.now();
    let claimed = store::outbox::claim(&app.db, now, now + Duration::minutes(1), 10)
        .await
        .expect("claim");
    assert!(claimed.len() >= 2);
    let (done, failed) = (&claimed[0], &claimed[1]);
    store::outbox::mark_sent(&app.db, done.id, done.attempts, now)
        .await
        .expect("sent");
    store::outbox::mark_failed(
        &app.db,
        failed.id,
        failed.attempts,
        "SMTP: 451",
        now + Duration::minutes(2),
    )
    .await
    .expect("failed");
    let claims: Vec<(i64, i32)> = claimed.iter().map(|m| (m.id, m.attempts)).collect();
    let renewed = store::outbox::extend_lease(&app.db, &claims, now + Duration::minutes(5))
        .await
        .expect("renew");
    assert_eq!(
        renewed as usize,
        claimed.len() - 2,
        "not the sent one, not the failed one"
    );
    let retry: DateTime<Utc> =
        sqlx::query_scalar("SELECT next_attempt_at FROM outbox WHERE id = $1")
            .bind(failed.id)
            .fetch_one(&app.db)
            .await
            .expect("retry time");
    assert_eq!(
        retry.timestamp(),
        (now + Duration::minutes(2)).timestamp(),
        "its retry time stands"
    );
}
