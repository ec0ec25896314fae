//! Notifications by email, through the outbox to a real SMTP server started
//! by the test: exactly one message per event and person for each kind, one
//! combined message for a burst, nothing for a kind switched off, nothing
//! about a postmortem the person may not read, and the stop-all link.

use chrono::Duration;
use debrief::{
    config::MailConfig,
    domain::role::Role,
    jobs::{digest, notices},
    mail::Mailer,
};
use reqwest::StatusCode;
use uuid::Uuid;

use crate::{
    helpers::{PASSWORD, TestApp, TestClient},
    incidents::{add_item, create_incident, editor_version, save_summary},
    smtp::SmtpSink,
};

struct Person {
    client: TestClient,
    id: Uuid,
    email: String,
}

async fn person(app: &TestApp, handle: &str, name: &str) -> Person {
    let email = format!("{handle}@example.com");
    let id = app.create_user(&email, name, Role::Member).await;
    let client = app.client();
    assert_eq!(
        client.sign_in(&email, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    Person { client, id, email }
}

/// Lets the quiet time pass, gathers and sends; returns the messages that
/// arrived in this round as (recipient, subject, text).
pub async fn deliver(
    app: &TestApp,
    sink: &SmtpSink,
    seen: &mut usize,
) -> Vec<(String, String, String)> {
    app.advance(notices::QUIET + Duration::seconds(5));
    let mailer = Mailer::new(&MailConfig {
        smtp_url: Some(sink.url()),
        mail_from: "Debrief <debrief@example.com>".to_owned(),
        ..MailConfig::default()
    })
    .expect("mailer");
    // Twice over: gathering and sending again finds nothing more to do.
    for _ in 0..2 {
        notices::gather_due(&app.db, &app.clock, &app.address)
            .await
            .expect("gather");
        digest::send_due(&app.db, &app.clock, &mailer)
            .await
            .expect("send");
    }
    let all = sink.messages();
    let new = all[*seen..]
        .iter()
        .map(|m| {
            let parsed = m.parsed();
            (
                m.to.join(","),
                parsed.subject().unwrap_or_default().to_owned(),
                parsed.body_text(0).unwrap_or_default().into_owned(),
            )
        })
        .collect();
    *seen = all.len();
    new
}

fn to<'a>(
    round: &'a [(String, String, String)],
    who: &Person,
) -> Vec<&'a (String, String, String)> {
    round
        .iter()
        .filter(|(r, _, _)| r.contains(&who.email))
        .collect()
}

#[tokio::test]
async fn each_kind_sends_one_message_per_event_and_person_and_a_burst_sends_one() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn().await;
    let mut seen = 0;
    let ana = person(&app, "ana", "Ana Author").await;
    let rita = person(&app, "rita", "Rita Reviewer").await;
    let mo = person(&app, "mo", "Mo Mentioned").await;
    let omar = person(&app, "omar", "Omar Owner").await;
    let fay = person(&app, "fay", "Fay Follower").await;
    let number = create_incident(&ana.client, "Checkout 502s").await;
    let path = format!("/incidents/{number}");

    // Fay follows the service; a follow of nothing is refused in the form.
    let refused = fay.client.post_form("/account/follows", &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Pick a team, or type a service or a tag")
    );
    let followed = fay
        .client
        .post_form("/account/follows", &[("follow_service", "checkout-api")])
        .await;
    assert_eq!(followed.status, StatusCode::SEE_OTHER);

    // Asked to review.
    let sent = ana
        .client
        .post_form(
            &format!("{path}/status"),
            &[("status", "in_review"), ("reviewers", &rita.id.to_string())],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let round = deliver(&app, &sink, &mut seen).await;
    assert_eq!(round.len(), 1, "{round:?}");
    assert!(round[0].0.contains(&rita.email));
    assert_eq!(
        round[0].1,
        "Debrief: Ana Author asked you to review INC-1 Checkout 502s"
    );
    assert!(round[0].2.contains(&format!("{}{path}", app.address)));

    // Changes requested, to the author.
    let asked = rita
        .client
        .post_form(
            &format!("{path}/review"),
            &[
                ("decision", "request_changes"),
                ("note", "Name the pool size in the summary."),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    let round = deliver(&app, &sink, &mut seen).await;
    assert_eq!(round.len(), 1, "{round:?}");
    assert_eq!(to(&round, &ana).len(), 1);
    assert!(round[0].1.contains("Rita Reviewer requested changes"));
    assert!(round[0].2.contains("Name the pool size"));

    // An item given to Omar while he cannot read the draft: he hears of it
    // when it is published.
    let omar_id = omar.id.to_string();
    add_item(
        &ana.client,
        number,
        &[
            ("title", "Alert on pool saturation"),
            ("owner", &omar_id),
            ("due", "2030-01-31"),
        ],
    )
    .await;
    assert!(deliver(&app, &sink, &mut seen).await.is_empty());
    // Published, to the follower (and to nobody else).
    let approved = rita
        .client
        .post_form(
            &format!("{path}/status"),
            &[
                ("status", "published"),
                ("acknowledge", "yes"),
                ("acknowledge_comments", "yes"),
            ],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    assert_eq!(app.postmortem(number).await.status.as_str(), "published");
    let round = deliver(&app, &sink, &mut seen).await;
    assert_eq!(round.len(), 2, "{round:?}");
    let fays = to(&round, &fay);
    assert_eq!(fays.len(), 1);
    assert!(fays[0].1.contains("Published: INC-1 Checkout 502s"));
    assert!(fays[0].2.contains("You follow the service checkout-api"));
    let omars = to(&round, &omar);
    assert_eq!(omars.len(), 1);
    assert!(
        omars[0]
            .1
            .contains("An action item is yours: Alert on pool saturation")
    );

    // Its due date moved on its page, to the owner.
    let item: Uuid = sqlx::query_scalar("SELECT id FROM action_items")
        .fetch_one(&app.db)
        .await
        .expect("item");
    let moved = ana
        .client
        .post_form(
            &format!("/action-items/{item}"),
            &[
                ("title", "Alert on pool saturation"),
                ("kind", "prevent"),
                ("priority", "p2"),
                ("status", "open"),
                ("owner_id", &omar_id),
                ("due_on", "2030-03-31"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let round = deliver(&app, &sink, &mut seen).await;
    assert_eq!(round.len(), 1, "{round:?}");
    assert!(
        round[0]
            .1
            .contains("The due date of Alert on pool saturation changed")
    );
    assert!(round[0].2.contains("due 2030-03-31"));

    // Mentions reach those who may read the postmortem (Mo, now that it
    // is published).
    // Mentioned in a comment (an address is not a mention).
    let commented = rita
        .client
        .post_form(
            &format!("{path}/comments"),
            &[
                ("section", "summary"),
                (
                    "body",
                    "Can @mo check the pool numbers? (not ana@example.com)",
                ),
            ],
        )
        .await;
    assert_eq!(
        commented.status,
        StatusCode::SEE_OTHER,
        "{}",
        commented.body
    );
    let round = deliver(&app, &sink, &mut seen).await;
    assert_eq!(round.len(), 1, "{round:?}");
    assert_eq!(to(&round, &mo).len(), 1);
    assert!(
        round[0]
            .1
            .contains("Rita Reviewer mentioned you in a comment")
    );
    assert!(round[0].2.contains("check the pool numbers"));

    // Mentioned in a section.
    let version = editor_version(&ana.client, number).await;
    let text = "The pool shrank from 50 to 5; @mo.mentioned confirmed the figures.";
    assert_eq!(
        save_summary(&ana.client, number, &version, text)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let round = deliver(&app, &sink, &mut seen).await;
    assert_eq!(round.len(), 1, "{round:?}");
    assert!(
        round[0].1.contains("mentioned you in the summary"),
        "{round:?}"
    );

    // A burst: three mentions of Mo within a minute are one message.
    for n in 1..=3 {
        ana.client
            .post_form(
                &format!("{path}/comments"),
                &[("section", "lessons"), ("body", &format!("@mo point {n}"))],
            )
            .await;
        app.advance(Duration::seconds(20));
    }
    let round = deliver(&app, &sink, &mut seen).await;
    assert_eq!(round.len(), 1, "{round:?}");
    assert_eq!(
        round[0].1,
        "Debrief: 3 updates on your reviews and action items"
    );
    for n in 1..=3 {
        assert!(
            round[0].2.contains(&format!("@mo point {n}")),
            "{}",
            round[0].2
        );
    }

    // Switched off: mentions no longer reach Mo; the others still do.
    let saved = mo
        .client
        .post_form(
            "/account/notifications",
            &[("on", "review_requested"), ("on", "item_assigned")],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let account = mo.client.get("/account").await;
    assert!(!account.body.contains(r#"value="mentioned" checked"#));
    ana.client
        .post_form(
            &format!("{path}/comments"),
            &[("section", "lessons"), ("body", "@mo one more")],
        )
        .await;
    assert!(deliver(&app, &sink, &mut seen).await.is_empty());

    // Every message is in the outbox once, sent.
    let (notices, sent): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM outbox WHERE kind = 'notice'",
    )
    .fetch_one(&app.db)
    .await
    .expect("outbox");
    assert_eq!((notices, sent), (8, 8));
    let admin = app.signed_in(Role::Admin).await.0;
    let outbox = admin.get("/admin/outbox").await;
    assert!(outbox.body.contains("3 updates on your reviews"));
}

#[tokio::test]
async fn nobody_hears_of_a_postmortem_they_may_not_read_and_the_link_stops_them_all() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn().await;
    let mut seen = 0;
    let ana = person(&app, "ana", "Ana Author").await;
    let rita = person(&app, "rita", "Rita Reviewer").await;
    let fay = person(&app, "fay", "Fay Follower").await;
    fay.client
        .post_form("/account/follows", &[("follow_tag", "database")])
        .await;
    let number = create_incident(&ana.client, "Leaked key").await;
    let path = format!("/incidents/{number}");
    // A mention of Fay in a draft she cannot read tells her nothing.
    ana.client
        .post_form(
            &format!("{path}/comments"),
            &[("section", "summary"), ("body", "@fay should see this")],
        )
        .await;
    ana.client
        .post_form(&format!("{path}/access"), &[("restricted", "yes")])
        .await;
    ana.client
        .post_form(
            &format!("{path}/status"),
            &[("status", "in_review"), ("reviewers", &rita.id.to_string())],
        )
        .await;
    rita.client
        .post_form(
            &format!("{path}/status"),
            &[
                ("status", "published"),
                ("acknowledge", "yes"),
                ("acknowledge_comments", "yes"),
            ],
        )
        .await;
    let round = deliver(&app, &sink, &mut seen).await;
    assert_eq!(round.len(), 1, "only Rita's request: {round:?}");
    assert!(to(&round, &fay).is_empty());

    // The stop-all link of a message works without signing in.
    let link = round[0]
        .2
        .lines()
        .find_map(|line| line.strip_prefix("Stop them all: "))
        .expect("a stop link")
        .to_owned();
    let anonymous = reqwest::Client::new();
    let page = anonymous.get(&link).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let stopped = anonymous.post(&link).send().await.expect("stop");
    assert_eq!(stopped.status(), StatusCode::OK);
    let off: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notification_opt_outs WHERE user_id = $1")
            .bind(rita.id)
            .fetch_one(&app.db)
            .await
            .expect("opt-outs");
    assert_eq!(off, 6);
    let altered = anonymous
        .post(format!("{link}x"))
        .send()
        .await
        .expect("altered");
    assert_eq!(altered.status(), StatusCode::NOT_FOUND);
}
