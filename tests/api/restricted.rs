//! Restricted postmortems: walked as a member outside the access list,
//! every read path shows nothing of one (counts included); as a member of
//! a named team, or as a named person, it reads as any other. Losing access
//! (leaving the team) takes effect on the next request.

use chrono::NaiveDate;
use debrief::domain::{quarter::Quarter, role::Role};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    attachments::{PIXEL_PNG, upload},
    helpers::{PASSWORD, TestApp, TestClient, team},
    incidents::create_incident,
};

const SECRET_TITLE: &str = "Signing key zorblatt exposure";
const SECRET_ITEM: &str = "Rotate every zorblatt signing key";
const OPEN_TITLE: &str = "Checkout latency after a pool change";
const OPEN_ITEM: &str = "Alert on pool saturation";

async fn publish(app: &TestApp, number: i32, summary: &str) -> Uuid {
    sqlx::query_scalar(
        "UPDATE postmortems p SET status = 'published', published_at = $2, summary = $3
         FROM incidents i WHERE i.id = p.incident_id AND i.number = $1 RETURNING p.id",
    )
    .bind(number)
    .bind(app.clock.now())
    .bind(summary)
    .fetch_one(&app.db)
    .await
    .expect("publish")
}

/// An overdue, flagged item owned by `owner` for `team`.
async fn overdue_item(db: &PgPool, postmortem: Uuid, title: &str, owner: Uuid, team: Uuid) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO action_items (id, postmortem_id, title, kind, priority, owner_id, team_id, due_on, created_at, updated_at)
         VALUES ($1, $2, $3, 'prevent', 'p1', $4, $5, $6, now(), now())",
    )
    .bind(id)
    .bind(postmortem)
    .bind(title)
    .bind(owner)
    .bind(team)
    .bind(NaiveDate::from_ymd_opt(2026, 1, 15).expect("date"))
    .execute(db)
    .await
    .expect("item");
    sqlx::query(
        "INSERT INTO item_flags (action_item_id, flag, raised_at) VALUES ($1, 'overdue', now())",
    )
    .bind(id)
    .execute(db)
    .await
    .expect("flag");
    id
}

async fn member(app: &TestApp, email: &str, name: &str) -> (TestClient, Uuid) {
    let id = app.create_user(email, name, Role::Member).await;
    let client = app.client();
    assert_eq!(
        client.sign_in(email, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    (client, id)
}

/// `{id}/{name}` of the secret's screenshot.
static IMAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Every page a reader could find the restricted postmortem on, with what
/// each shows of it.
struct Walk {
    pages: Vec<(String, StatusCode, String)>,
}

impl Walk {
    async fn run(client: &TestClient, secret: i32, open: i32, item: Uuid, quarter: &str) -> Walk {
        let image = format!(
            "/incidents/{secret}/attachments/{}",
            IMAGE.get().expect("uploaded")
        );
        let paths = [
            "/".to_owned(),
            "/incidents".to_owned(),
            "/incidents?service=checkout-api".to_owned(),
            "/incidents?q=zorblatt".to_owned(),
            "/search?q=zorblatt".to_owned(),
            "/search?q=checkout".to_owned(),
            "/search?q=zorblatx".to_owned(),
            "/search?q=zorblatx+or+checkout".to_owned(),
            "/action-items".to_owned(),
            format!("/incidents/{open}"),
            format!("/review/{quarter}"),
            format!("/review/{quarter}/csv/published"),
            format!("/review/{quarter}/csv/awaiting-decision"),
            "/digest/preview".to_owned(),
            "/digest/preview/html?kind=owner".to_owned(),
            "/digest/preview/html?kind=lead".to_owned(),
            format!("/incidents/{secret}"),
            format!("/incidents/{secret}/export.md"),
            format!("/incidents/{secret}/export.json"),
            format!("/incidents/{secret}/history"),
            format!("/action-items/{item}"),
            image,
        ];
        let mut pages = Vec::new();
        for path in paths {
            let page = client.get(&path).await;
            pages.push((path, page.status, page.body));
        }
        Walk { pages }
    }

    fn body(&self, path: &str) -> &str {
        &self
            .pages
            .iter()
            .find(|(p, _, _)| p == path)
            .expect("walked")
            .2
    }

    fn status(&self, path: &str) -> StatusCode {
        self.pages
            .iter()
            .find(|(p, _, _)| p == path)
            .expect("walked")
            .1
    }

    /// Pages that name the secret (its title, its item or its word).
    fn naming_it(&self) -> Vec<&str> {
        self.pages
            .iter()
            .filter(|(_, _, body)| {
                body.contains(SECRET_TITLE)
                    || body.contains(SECRET_ITEM)
                    || body.contains("readable by every build job")
            })
            .map(|(path, _, _)| path.as_str())
            .collect()
    }
}

#[tokio::test]
async fn a_restricted_postmortem_is_invisible_outside_its_list_and_readable_inside_it() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (outsider, outsider_id) = member(&app, "olga@example.com", "Olga Outside").await;
    let (insider, insider_id) = member(&app, "ines@example.com", "Ines Inside").await;
    let (named, named_id) = member(&app, "nico@example.com", "Nico Named").await;
    let security = team(&app.db, "Security", &[(insider_id, false)]).await;
    // The outsider leads the team the secret's item is for, and owns it.
    let payments = team(&app.db, "Payments", &[(outsider_id, true)]).await;

    let secret = create_incident(&author, SECRET_TITLE).await;
    let open = create_incident(&author, OPEN_TITLE).await;
    let secret_pm = publish(
        &app,
        secret,
        "A zorblatt signing key was readable by every build job.",
    )
    .await;
    let open_pm = publish(&app, open, "Checkout requests queued for a pool.").await;
    let item = overdue_item(&app.db, secret_pm, SECRET_ITEM, outsider_id, payments).await;
    overdue_item(&app.db, open_pm, OPEN_ITEM, outsider_id, payments).await;
    let quarter = Quarter::current(app.clock.now(), chrono_tz::UTC).to_string();
    let uploaded = upload(&author, secret, "key.png", PIXEL_PNG.to_vec()).await;
    assert!(uploaded.status.is_redirection(), "{}", uploaded.body);
    let (image_id, image_name): (Uuid, String) =
        sqlx::query_as("SELECT id, file_name FROM attachments")
            .fetch_one(&app.db)
            .await
            .expect("attachment");
    IMAGE.set(format!("{image_id}/{image_name}")).expect("once");
    let image = format!("/incidents/{secret}/attachments/{image_id}/{image_name}");

    // Before it is restricted, the outsider finds it everywhere.
    let before = Walk::run(&outsider, secret, open, item, &quarter).await;
    assert_eq!(before.status(&image), StatusCode::OK);
    assert!(before.body("/search?q=zorblatt").contains(SECRET_TITLE));
    assert!(before.body("/search?q=zorblatx").contains("zorblatt"));
    assert!(
        before
            .body("/search?q=zorblatx+or+checkout")
            .contains("zorblatt")
    );
    assert!(
        before
            .body(&format!("/incidents/{open}"))
            .contains(SECRET_TITLE)
    );

    let restricted = author
        .post_form(
            &format!("/incidents/{secret}/access"),
            &[
                ("restricted", "yes"),
                ("teams", &security.to_string()),
                ("people", &named_id.to_string()),
            ],
        )
        .await;
    assert_eq!(
        restricted.status,
        StatusCode::SEE_OTHER,
        "{}",
        restricted.body
    );
    let page = author.get(&format!("/incidents/{secret}")).await;
    assert!(page.body.contains("Restricted"));
    assert!(
        page.body.contains("Only Security and Nico Named"),
        "{}",
        page.body
    );

    // Outside: nothing names it, direct links are 404, counts leave it out.
    let outside = Walk::run(&outsider, secret, open, item, &quarter).await;
    assert_eq!(outside.naming_it(), Vec::<&str>::new());
    assert!(!outside.body("/search?q=zorblatx").contains("zorblatt"));
    assert!(
        !outside
            .body("/search?q=zorblatx+or+checkout")
            .contains("zorblatt")
    );
    for path in [
        format!("/incidents/{secret}"),
        format!("/incidents/{secret}/export.md"),
        format!("/incidents/{secret}/export.json"),
        format!("/incidents/{secret}/history"),
        format!("/action-items/{item}"),
        image.clone(),
    ] {
        assert_eq!(outside.status(&path), StatusCode::NOT_FOUND, "{path}");
    }
    let counted = outside.body("/search?q=checkout");
    assert!(
        counted.contains("<strong>1</strong> postmortem"),
        "{counted}"
    );
    assert!(counted.contains(OPEN_TITLE));
    assert!(outside.body("/incidents").contains(OPEN_TITLE));
    assert!(outside.body("/digest/preview").contains(OPEN_ITEM));
    let review = outside.body(&format!("/review/{quarter}"));
    assert!(
        review.contains(OPEN_TITLE),
        "the review still names the open one"
    );
    assert!(
        review.contains("A restricted postmortem"),
        "the review counts the restricted one, unnamed"
    );
    assert!(
        outside
            .body(&format!("/review/{quarter}/csv/published"))
            .contains("(restricted)")
    );
    // Linking to it is refused as if it did not exist, even to an author
    // of the other incident.
    author
        .post_form(
            &format!("/incidents/{open}/people"),
            &[("add_author", &outsider_id.to_string())],
        )
        .await;
    outsider
        .post_form(
            &format!("/incidents/{open}/links"),
            &[("other", &secret.to_string())],
        )
        .await;
    let links: i64 = sqlx::query_scalar("SELECT count(*) FROM incident_links")
        .fetch_one(&app.db)
        .await
        .expect("links");
    assert_eq!(links, 0);

    // Inside, by team and by name: it reads as any other.
    for client in [&insider, &named] {
        let inside = Walk::run(client, secret, open, item, &quarter).await;
        assert_eq!(
            inside.status(&format!("/incidents/{secret}")),
            StatusCode::OK
        );
        assert!(inside.body("/search?q=zorblatt").contains(SECRET_TITLE));
        assert!(
            inside
                .body("/search?q=checkout")
                .contains("<strong>2</strong> postmortems")
        );
        assert!(
            inside
                .body("/search?q=checkout")
                .contains(r#">checkout-api</a> <span class="count">2</span>"#)
        );
        assert!(inside.body("/incidents").contains(SECRET_TITLE));
        assert!(
            inside.body("/incidents").contains(">Restricted</span>"),
            "marked in the list"
        );
        assert!(
            inside
                .body("/search?q=zorblatt")
                .contains(">Restricted</span>"),
            "marked in search"
        );
        assert!(
            inside
                .body(&format!("/incidents/{open}"))
                .contains(SECRET_TITLE)
        );
        assert!(
            inside
                .body(&format!("/review/{quarter}"))
                .contains(SECRET_TITLE)
        );
    }
    // A suggestion is offered to those who may read where it comes from.
    let inside = insider.get("/search?q=zorblatx").await;
    assert!(
        inside
            .body
            .contains("Showing results for <strong>zorblatt</strong>")
    );

    // Leaving the team takes the access away on the next request.
    sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
        .bind(security)
        .bind(insider_id)
        .execute(&app.db)
        .await
        .expect("leave");
    let gone = Walk::run(&insider, secret, open, item, &quarter).await;
    assert_eq!(gone.naming_it(), Vec::<&str>::new());
    assert_eq!(
        gone.status(&format!("/incidents/{secret}")),
        StatusCode::NOT_FOUND
    );

    // Opened again, everyone reads it.
    author
        .post_form(&format!("/incidents/{secret}/access"), &[])
        .await;
    let reopened = outsider.get(&format!("/incidents/{secret}")).await;
    assert_eq!(reopened.status, StatusCode::OK);
}
