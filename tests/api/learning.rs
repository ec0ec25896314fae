//! Learning across incidents: themes, the factor taxonomy, service pages,
//! the review's trends, similar incidents that say why, feeds and the
//! weekly note. Every figure is checked against one the test works out
//! from the rows it made.

use chrono::{DateTime, Duration, Utc};
use debrief::{
    domain::{role::Role, time::human_duration},
    jobs::notices,
    store::{
        self,
        trends::{QuarterFigures, Scope},
    },
};
use reqwest::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    helpers::{PASSWORD, TestApp, TestClient, team},
    incidents::create_incident,
    smtp::SmtpSink,
};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

/// One incident as a test wants it, made through the web and then set
/// straight in the database.
struct Spec<'a> {
    title: &'a str,
    services: &'a [&'a str],
    tags: &'a [&'a str],
    started: &'a str,
    /// Minutes from the start to detection and to resolution.
    detect: Option<i64>,
    resolve: Option<i64>,
    severity: &'a str,
    summary: &'a str,
    /// Each factor: its categories and its text.
    factors: &'a [(&'a [&'a str], &'a str)],
    team: Option<Uuid>,
}

impl Default for Spec<'_> {
    fn default() -> Self {
        Spec {
            title: "Untitled",
            services: &[],
            tags: &[],
            started: "2026-10-05T10:00:00Z",
            detect: Some(10),
            resolve: Some(60),
            severity: "sev2",
            summary: "",
            factors: &[],
            team: None,
        }
    }
}

struct Made {
    number: i32,
    postmortem: Uuid,
    factors: Vec<Uuid>,
}

/// Makes a published postmortem of `spec`, as `author`.
async fn published(app: &TestApp, author: &TestClient, spec: Spec<'_>) -> Made {
    let number = create_incident(author, spec.title).await;
    let started = at(spec.started);
    let services: Vec<String> = spec.services.iter().map(|s| s.to_string()).collect();
    let tags: Vec<String> = spec.tags.iter().map(|s| s.to_string()).collect();
    sqlx::query(
        "UPDATE incidents SET services = $2, tags = $3, started_at = $4, detected_at = $5,
                              mitigated_at = NULL, resolved_at = $6, severity = $7::severity
         WHERE number = $1",
    )
    .bind(number)
    .bind(&services)
    .bind(&tags)
    .bind(started)
    .bind(spec.detect.map(|m| started + Duration::minutes(m)))
    .bind(spec.resolve.map(|m| started + Duration::minutes(m)))
    .bind(spec.severity)
    .execute(&app.db)
    .await
    .expect("incident");
    let postmortem: Uuid = sqlx::query_scalar(
        "UPDATE postmortems p SET status = 'published', published_at = $2, summary = $3
         FROM incidents i WHERE i.id = p.incident_id AND i.number = $1 RETURNING p.id",
    )
    .bind(number)
    .bind(started + Duration::days(3))
    .bind(spec.summary)
    .fetch_one(&app.db)
    .await
    .expect("publish");
    for service in &services {
        sqlx::query(
            "INSERT INTO services (id, name, created_at, updated_at) VALUES ($1, $2, now(), now())
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(service)
        .execute(&app.db)
        .await
        .expect("service");
    }
    if let Some(team) = spec.team {
        sqlx::query(
            "INSERT INTO incident_teams (incident_id, team_id) SELECT id, $2 FROM incidents WHERE number = $1",
        )
        .bind(number)
        .bind(team)
        .execute(&app.db)
        .await
        .expect("team");
    }
    let mut factors = Vec::new();
    for (position, (categories, text)) in spec.factors.iter().enumerate() {
        let id = Uuid::now_v7();
        let categories: Vec<String> = categories.iter().map(|c| c.to_string()).collect();
        sqlx::query(
            "INSERT INTO contributing_factors (id, postmortem_id, position, categories, description)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(postmortem)
        .bind(position as i32)
        .bind(&categories)
        .bind(*text)
        .execute(&app.db)
        .await
        .expect("factor");
        factors.push(id);
    }
    Made {
        number,
        postmortem,
        factors,
    }
}

/// An action item of a postmortem, answering `factor`, owned by `owner`.
async fn item(
    db: &PgPool,
    made: &Made,
    factor: Option<Uuid>,
    title: &str,
    status: &str,
    owner: Option<Uuid>,
    due: &str,
) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO action_items (id, postmortem_id, title, kind, priority, status, closing_reason,
                                   closed_at, factor_id, owner_id, due_on, created_at, updated_at)
         VALUES ($1, $2, $3, 'prevent', 'p1', $4::action_status,
                 CASE WHEN $4 IN ('wont_do', 'deprioritized') THEN 'Test.' END,
                 CASE WHEN $4 <> 'open' AND $4 <> 'in_progress' THEN now() END, $5, $6, $7::date, now(), now())",
    )
    .bind(id)
    .bind(made.postmortem)
    .bind(title)
    .bind(status)
    .bind(factor)
    .bind(owner)
    .bind(due)
    .execute(db)
    .await
    .expect("item");
    id
}

async fn member(app: &TestApp, handle: &str) -> (TestClient, Uuid) {
    let email = format!("{handle}@example.com");
    let id = app.create_user(&email, handle, Role::Member).await;
    let client = app.client();
    assert_eq!(
        client.sign_in(&email, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    (client, id)
}

/// Restricts a postmortem to `team`, as its author.
async fn restrict(author: &TestClient, number: i32, team: Uuid) {
    let done = author
        .post_form(
            &format!("/incidents/{number}/access"),
            &[("restricted", "yes"), ("teams", &team.to_string())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
}

fn set_clock(app: &TestApp, to: &str) {
    app.advance(at(to) - app.clock.now());
}

/// Postgres's `percentile_cont`: linear interpolation between the two
/// closest ranks.
fn percentile(values: &[f64], fraction: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = fraction * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

/// A duration in minutes as the pages write it.
fn shown(minutes: f64) -> String {
    human_duration(Duration::seconds((minutes * 60.0).round() as i64))
}

/// The cells of the table row that starts with `first` (a quarter, a
/// service or a team), as text.
fn row_cells(html: &str, first: &str) -> Vec<String> {
    let start = html
        .find(&format!(">{first}</"))
        .unwrap_or_else(|| panic!("a row for {first}"));
    let row = &html[start..];
    let row = &row[..row.find("</tr>").expect("the row's end")];
    row.split("<td")
        .skip(1)
        .map(|cell| {
            let text = &cell[cell.find('>').expect("a cell") + 1..];
            text[..text.find("</td>").unwrap_or(text.len())]
                .trim()
                .to_owned()
        })
        .collect()
}

/// A row of the review's count tables: `<th scope="row">name</th>` then
/// one cell per quarter.
fn count_row(html: &str, name: &str) -> Vec<i64> {
    let marker = format!("<th scope=\"row\">{name}</th>");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("a row for {name}"));
    let row = &html[start..];
    let row = &row[..row.find("</tr>").expect("the row's end")];
    row.split("<td class=\"num\">")
        .skip(1)
        .map(|cell| {
            cell[..cell.find('<').expect("a cell")]
                .parse()
                .expect("a count")
        })
        .collect()
}

#[tokio::test]
async fn a_theme_linked_from_three_postmortems_lists_exactly_those_with_their_open_items() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let mut made = Vec::new();
    for (title, factor) in [
        (
            "Checkout TLS errors",
            "The checkout certificate expired on a Sunday; renewal was manual.",
        ),
        (
            "Webhook deliveries failing",
            "The webhook endpoint's certificate expired unnoticed.",
        ),
        (
            "Mobile app cannot sign in",
            "An intermediate certificate expired in the identity provider chain.",
        ),
        (
            "Partner API refusing calls",
            "The partner's client certificate expired before rotation.",
        ),
        (
            "Search slow after reindex",
            "The reindex ran during peak traffic without a throttle.",
        ),
    ] {
        made.push(
            published(
                &app,
                &author,
                Spec {
                    title,
                    services: &["edge"],
                    factors: &[(&["technical"], factor)],
                    ..Spec::default()
                },
            )
            .await,
        );
    }
    // Open, in progress and done items on each; only open ones answering a
    // linked factor are listed.
    let mut open_titles = Vec::new();
    for (n, pm) in made[..4].iter().enumerate() {
        let open = format!("Automate renewal {n}");
        item(
            &app.db,
            pm,
            Some(pm.factors[0]),
            &open,
            "open",
            Some(author_id),
            "2027-01-10",
        )
        .await;
        let going = format!("Alert before expiry {n}");
        item(
            &app.db,
            pm,
            Some(pm.factors[0]),
            &going,
            "in_progress",
            None,
            "2027-02-10",
        )
        .await;
        item(
            &app.db,
            pm,
            Some(pm.factors[0]),
            &format!("Inventory certificates {n}"),
            "done",
            None,
            "2026-11-01",
        )
        .await;
        item(
            &app.db,
            pm,
            None,
            &format!("Unrelated cleanup {n}"),
            "open",
            None,
            "2027-03-01",
        )
        .await;
        if n < 3 {
            open_titles.push(open);
            open_titles.push(going);
        }
    }

    // The first link starts the theme; the next two join it.
    for pm in &made[..3] {
        let linked = author
            .post_form(
                "/themes/link",
                &[
                    ("factor", &pm.factors[0].to_string()),
                    ("name", "Certificate expiry"),
                ],
            )
            .await;
        assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.body);
    }
    let themes: i64 = sqlx::query_scalar("SELECT count(*) FROM themes")
        .fetch_one(&app.db)
        .await
        .expect("themes");
    assert_eq!(themes, 1, "one theme, linked three times");

    let page = author.get("/themes/certificate-expiry").await;
    assert_eq!(page.status, StatusCode::OK);
    let (listed, rest) = page
        .body
        .split_once("id=\"candidates\"")
        .expect("a candidates section");
    let incidents = &listed[listed.find("id=\"incidents\"").expect("incidents")..];
    for pm in &made[..3] {
        assert!(
            incidents.contains(&format!("href=\"/incidents/{}\"", pm.number)),
            "INC-{} is listed",
            pm.number
        );
    }
    for pm in &made[3..] {
        assert!(
            !incidents.contains(&format!("href=\"/incidents/{}\"", pm.number)),
            "INC-{} is not linked",
            pm.number
        );
    }
    assert!(incidents.contains("The webhook endpoint&#39;s certificate expired unnoticed."));
    let items = &listed[listed.find("id=\"open-items\"").expect("open items")..];
    let items = &items[..items.find("</section>").expect("its end")];
    assert_eq!(items.matches("href=\"/action-items/").count(), 6);
    for title in &open_titles {
        assert!(items.contains(title.as_str()), "{title} is listed");
    }
    assert!(
        !items.contains("Inventory certificates"),
        "done items are not open"
    );
    assert!(
        !items.contains("Unrelated cleanup"),
        "items answering no linked factor"
    );
    assert!(
        !items.contains("renewal 3"),
        "the unlinked postmortem's items"
    );
    // The trend: three incidents in 2026-Q4.
    assert_eq!(row_cells(listed, "2026-Q4"), vec!["3".to_owned()]);
    // The fourth certificate outage is a candidate on the theme's page,
    // the reindex one is not.
    assert!(rest.contains("The partner&#39;s client certificate expired before rotation."));
    assert!(!rest.contains("without a throttle"));

    // On the fourth postmortem the theme is suggested, with its reasons,
    // and counts for nothing until confirmed.
    let fourth = author.get(&format!("/incidents/{}", made[3].number)).await;
    let card = &fourth.body[fourth
        .body
        .find("id=\"theme-suggestions\"")
        .expect("a suggestion")..];
    let card = &card[..card.find("</section>").expect("its end")];
    assert!(card.contains("Certificate expiry"));
    assert!(
        card.contains("“certificate”") && card.contains("“expired”"),
        "{card}"
    );
    assert!(
        card.contains("<span class=\"shared\">edge</span>"),
        "{card}"
    );
    let fifth = author.get(&format!("/incidents/{}", made[4].number)).await;
    assert!(
        !fifth.body.contains("id=\"theme-suggestions\""),
        "nothing in common"
    );

    let confirmed = author
        .post_form(
            "/themes/certificate-expiry/factors",
            &[
                ("factor", &made[3].factors[0].to_string()),
                ("decision", "link"),
            ],
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER);
    let page = author.get("/themes/certificate-expiry").await;
    assert!(page.body.contains("4 incidents"));
    let again = author.get(&format!("/incidents/{}", made[3].number)).await;
    assert!(!again.body.contains("id=\"theme-suggestions\""), "decided");
    assert!(again.body.contains("href=\"/themes/certificate-expiry\""));

    // A viewer reads the theme but cannot link.
    let (viewer, _) = app.signed_in(Role::Viewer).await;
    assert_eq!(
        viewer.get("/themes/certificate-expiry").await.status,
        StatusCode::OK
    );
    let refused = viewer
        .post_form(
            "/themes/link",
            &[
                ("factor", &made[4].factors[0].to_string()),
                ("name", "Throttles"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_renamed_category_keeps_every_old_factor_under_its_new_name_and_merges_keep_history() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (author, _) = app.signed_in(Role::Member).await;
    let pm = published(
        &app,
        &author,
        Spec {
            title: "Queue stalled",
            factors: &[
                (&["detection"], "No alert watched the queue depth."),
                (
                    &["communication", "process"],
                    "The hand-off note missed the stall.",
                ),
            ],
            ..Spec::default()
        },
    )
    .await;

    // Read once before the changes, so the page's parts are cached.
    let before = author.get(&format!("/incidents/{}", pm.number)).await;
    assert!(before.body.contains(">Detection<"), "{}", before.body);

    let renamed = admin
        .post_form(
            "/admin/categories/detection",
            &[("action", "rename"), ("name", "Monitoring and alerting")],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    let merged = admin
        .post_form(
            "/admin/categories/communication",
            &[("action", "merge"), ("into", "organizational")],
        )
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    let retired = admin
        .post_form("/admin/categories/external", &[("action", "retire")])
        .await;
    assert_eq!(retired.status, StatusCode::SEE_OTHER, "{}", retired.body);

    let page = author.get(&format!("/incidents/{}", pm.number)).await;
    assert!(page.body.contains("Monitoring and alerting"));
    assert!(page.body.contains("Organizational"));
    assert!(!page.body.contains(">Detection<") && !page.body.contains(">Communication<"));
    let markdown = author
        .get(&format!("/incidents/{}/export.md", pm.number))
        .await;
    assert_eq!(markdown.status, StatusCode::OK);
    assert!(
        markdown.body.contains("Monitoring and alerting"),
        "{}",
        markdown.body
    );
    assert!(!markdown.body.contains("Detection"));

    // The stored factors keep their slugs; readers resolve them.
    let stored: Vec<Vec<String>> = sqlx::query_scalar(
        "SELECT categories FROM contributing_factors WHERE postmortem_id = $1 ORDER BY position",
    )
    .bind(pm.postmortem)
    .fetch_all(&app.db)
    .await
    .expect("factors");
    assert_eq!(stored[0], vec!["detection".to_owned()]);

    // The admin page shows the history and no longer offers the merged
    // one; the editor offers neither it nor the retired one for new
    // factors.
    let categories = admin.get("/admin/categories").await;
    assert!(
        categories.body.contains("Detection")
            && categories.body.contains("Monitoring and alerting")
    );
    assert!(
        categories.body.contains("merged"),
        "the history names the merge"
    );
    let editor = author
        .get(&format!("/incidents/{}/postmortem/edit", pm.number))
        .await;
    assert!(editor.body.contains("Monitoring and alerting"));
    assert!(!editor.body.contains("value=\"external\""), "retired");
    assert!(!editor.body.contains("value=\"communication\""), "merged");

    // A renamed name cannot be taken twice; a refusal says why.
    let clash = admin
        .post_form(
            "/admin/categories/process",
            &[("action", "rename"), ("name", "monitoring and alerting")],
        )
        .await;
    assert_eq!(clash.status, StatusCode::SEE_OTHER);
    let told = admin.get("/admin/categories").await;
    let refusal = &told.body[told.body.find("flash-refused").expect("a refusal")..];
    assert!(
        refusal[..300].contains("already called"),
        "{}",
        &refusal[..300]
    );
    // Members cannot change the taxonomy.
    let refused = author
        .post_form("/admin/categories/process", &[("action", "retire")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

/// The directory epoch (see the `transactional_stamps` migration).
async fn directory_epoch(db: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT value FROM epochs WHERE name = 'directory'")
        .fetch_one(db)
        .await
        .expect("the epoch")
}

#[tokio::test]
async fn a_change_to_any_name_the_reading_page_shows_moves_the_directory_epoch() {
    let app = TestApp::spawn().await;
    let changes = [
        "UPDATE users SET display_name = display_name || ' Jr'",
        "UPDATE users SET role = role",
        "UPDATE users SET active = active",
        "UPDATE teams SET name = name",
        "UPDATE factor_categories SET name = name",
        "UPDATE factor_categories SET merged_into = merged_into",
        "UPDATE themes SET name = name",
        "UPDATE themes SET slug = slug",
    ];
    for change in changes {
        let before = directory_epoch(&app.db).await;
        sqlx::query(change).execute(&app.db).await.expect(change);
        assert!(directory_epoch(&app.db).await > before, "{change}");
    }
    // What the page does not show leaves it alone.
    let before = directory_epoch(&app.db).await;
    sqlx::query("UPDATE users SET time_zone = time_zone")
        .execute(&app.db)
        .await
        .expect("time zone");
    assert_eq!(directory_epoch(&app.db).await, before);
}

#[tokio::test]
async fn merging_two_services_moves_their_incidents_and_keeps_the_old_name_findable() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (author, _) = app.signed_in(Role::Member).await;
    let old = published(
        &app,
        &author,
        Spec {
            title: "Ledger writes timing out",
            services: &["ledger-api", "postgres"],
            ..Spec::default()
        },
    )
    .await;
    let new = published(
        &app,
        &author,
        Spec {
            title: "Ledger reconciliation late",
            services: &["ledger"],
            ..Spec::default()
        },
    )
    .await;

    let merged = admin
        .post_form("/services/ledger-api/merge", &[("to", "ledger")])
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    assert_eq!(merged.location(), Some("/services/ledger"));
    let services: Vec<String> =
        sqlx::query_scalar("SELECT services FROM incidents WHERE number = $1")
            .bind(old.number)
            .fetch_one(&app.db)
            .await
            .map(|s: Vec<String>| s)
            .map(|s| s.into_iter().collect())
            .expect("services");
    assert_eq!(services, vec!["ledger".to_owned(), "postgres".to_owned()]);

    let page = author.get("/services/ledger").await;
    assert!(page.body.contains("formerly ledger-api"));
    for pm in [&old, &new] {
        assert!(
            page.body
                .contains(&format!("href=\"/incidents/{}\"", pm.number))
        );
    }
    let moved = author.get("/services/ledger-api").await;
    assert_eq!(moved.status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(moved.location(), Some("/services/ledger"));
    // The search's service filter takes the old name too.
    let search = author.get("/search?service=ledger-api").await;
    assert_eq!(search.status, StatusCode::OK);
    for pm in [&old, &new] {
        assert!(
            search
                .body
                .contains(&format!("href=\"/incidents/{}\"", pm.number)),
            "INC-{} found under the old name",
            pm.number
        );
    }

    // A rename after the merge: both old names lead to the new one.
    let renamed = admin
        .post_form("/services/ledger/rename", &[("to", "general-ledger")])
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    for name in ["ledger", "ledger-api"] {
        let moved = author.get(&format!("/services/{name}")).await;
        assert_eq!(moved.location(), Some("/services/general-ledger"), "{name}");
    }
    let history: Vec<(String, String)> =
        sqlx::query_as("SELECT name, how FROM service_names ORDER BY name")
            .fetch_all(&app.db)
            .await
            .expect("history");
    assert_eq!(
        history,
        vec![
            ("ledger".to_owned(), "renamed".to_owned()),
            ("ledger-api".to_owned(), "merged".to_owned())
        ]
    );
    // Merging into a name nobody uses is refused on the page, in words.
    let refused = admin
        .post_form("/services/postgres/merge", &[("to", "no-such-service")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("no-such-service"));
    let member_merge = author
        .post_form("/services/postgres/merge", &[("to", "general-ledger")])
        .await;
    assert_eq!(member_merge.status, StatusCode::FORBIDDEN);
}

/// The figures of the trend tests: detect and resolve minutes per quarter
/// of the incidents of one service.
const Q3_TIMES: [(i64, i64); 5] = [(5, 30), (10, 60), (20, 90), (40, 120), (80, 600)];
const Q4_TIMES: [(i64, i64); 2] = [(3, 45), (7, 200)];
/// The restricted incident's, counted in the figures but never named.
const SECRET_TIMES: (i64, i64) = (100, 1000);

fn check_spread(figures: &QuarterFigures, times: &[(i64, i64)]) {
    let detect: Vec<f64> = times.iter().map(|t| t.0 as f64).collect();
    let resolve: Vec<f64> = times.iter().map(|t| t.1 as f64).collect();
    let close = |a: Option<f64>, b: f64| (a.expect("a figure") - b).abs() < 1e-6;
    assert_eq!(figures.incidents, times.len() as i64);
    assert!(
        close(figures.detect.median, percentile(&detect, 0.5)),
        "{figures:?}"
    );
    assert!(
        close(figures.detect.p90, percentile(&detect, 0.9)),
        "{figures:?}"
    );
    assert!(
        close(figures.resolve.median, percentile(&resolve, 0.5)),
        "{figures:?}"
    );
    assert!(
        close(figures.resolve.p90, percentile(&resolve, 0.9)),
        "{figures:?}"
    );
}

/// The cells a page's per-quarter table shows for `times`: incidents, the
/// four severities, then detect and resolve medians and 90th percentiles.
fn expected_row(times: &[(i64, i64)], sev1: usize) -> Vec<String> {
    let detect: Vec<f64> = times.iter().map(|t| t.0 as f64).collect();
    let resolve: Vec<f64> = times.iter().map(|t| t.1 as f64).collect();
    vec![
        times.len().to_string(),
        sev1.to_string(),
        (times.len() - sev1).to_string(),
        "0".to_owned(),
        "0".to_owned(),
        shown(percentile(&detect, 0.5)),
        shown(percentile(&detect, 0.9)),
        shown(percentile(&resolve, 0.5)),
        shown(percentile(&resolve, 0.9)),
    ]
}

#[tokio::test]
async fn service_page_and_review_trends_match_figures_worked_out_from_the_rows() {
    let app = TestApp::spawn().await;
    set_clock(&app, "2026-12-03T12:00:00Z");
    let (author, author_id) = app.signed_in(Role::Member).await;
    let (outsider, _) = member(&app, "outsider").await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let security = team(&app.db, "Security", &[(author_id, false)]).await;
    let ledger_team = team(&app.db, "Ledger team", &[]).await;

    let mut q3 = Vec::new();
    for (n, (detect, resolve)) in Q3_TIMES.iter().enumerate() {
        let categories: &[&str] = if n < 3 {
            &["detection"]
        } else {
            &["technical", "process"]
        };
        let title = format!("Ledger Q3 incident {n}");
        q3.push(
            published(
                &app,
                &author,
                Spec {
                    title: &title,
                    services: &["ledger"],
                    started: &format!("2026-08-0{}T09:00:00Z", n + 1),
                    detect: Some(*detect),
                    resolve: Some(*resolve),
                    severity: if n == 0 { "sev1" } else { "sev2" },
                    factors: &[(categories, "A factor of the quarter.")],
                    team: Some(ledger_team),
                    ..Spec::default()
                },
            )
            .await,
        );
    }
    for (n, (detect, resolve)) in Q4_TIMES.iter().enumerate() {
        let title = format!("Ledger Q4 incident {n}");
        published(
            &app,
            &author,
            Spec {
                title: &title,
                services: &["ledger"],
                started: &format!("2026-10-1{n}T09:00:00Z"),
                detect: Some(*detect),
                resolve: Some(*resolve),
                team: Some(ledger_team),
                factors: &[(&["external"], "The provider's region failed.")],
                ..Spec::default()
            },
        )
        .await;
    }
    let secret = published(
        &app,
        &author,
        Spec {
            title: "Vault token leaked to a log",
            services: &["ledger"],
            started: "2026-11-02T09:00:00Z",
            detect: Some(SECRET_TIMES.0),
            resolve: Some(SECRET_TIMES.1),
            severity: "sev1",
            factors: &[(&["process"], "Tokens were logged at debug level.")],
            ..Spec::default()
        },
    )
    .await;
    restrict(&author, secret.number, security).await;
    // An incident of another service, outside every figure below.
    published(
        &app,
        &author,
        Spec {
            title: "Search cluster yellow",
            services: &["search"],
            started: "2026-10-20T09:00:00Z",
            detect: Some(999),
            resolve: Some(9999),
            ..Spec::default()
        },
    )
    .await;
    // Items: two open (one overdue), one done.
    item(
        &app.db,
        &q3[0],
        None,
        "Add a queue depth alert",
        "open",
        None,
        "2026-11-01",
    )
    .await;
    item(
        &app.db,
        &q3[1],
        None,
        "Replay tooling",
        "in_progress",
        None,
        "2027-01-15",
    )
    .await;
    item(
        &app.db,
        &q3[2],
        None,
        "Write the runbook",
        "done",
        None,
        "2026-09-01",
    )
    .await;
    item(
        &app.db,
        &secret,
        None,
        "Scrub tokens from logs",
        "open",
        None,
        "2026-11-20",
    )
    .await;
    // Two Q3 factors linked to a theme.
    for pm in &q3[..2] {
        let linked = author
            .post_form(
                "/themes/link",
                &[
                    ("factor", &pm.factors[0].to_string()),
                    ("name", "Silent queues"),
                ],
            )
            .await;
        assert_eq!(linked.status, StatusCode::SEE_OTHER);
    }

    // The store's figures, against the ones worked out here.
    let scope = Scope {
        team_id: None,
        service: Some("ledger".to_owned()),
    };
    let figures = store::trends::by_quarter(
        &app.db,
        &scope,
        "UTC",
        at("2026-07-01T00:00:00Z"),
        at("2027-01-01T00:00:00Z"),
    )
    .await
    .expect("figures");
    assert_eq!(figures.len(), 2);
    assert_eq!(figures[0].quarter, "2026-Q3");
    check_spread(&figures[0], &Q3_TIMES);
    let q4_all: Vec<(i64, i64)> = Q4_TIMES.iter().copied().chain([SECRET_TIMES]).collect();
    check_spread(&figures[1], &q4_all);
    assert_eq!(figures[1].severities, [1, 2, 0, 0]);

    // The service page, as an outsider: the figures count every incident,
    // the restricted one is never named.
    let page = outsider.get("/services/ledger").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(row_cells(&page.body, "2026-Q3"), expected_row(&Q3_TIMES, 1));
    assert_eq!(row_cells(&page.body, "2026-Q4"), expected_row(&q4_all, 1));
    assert!(page.body.contains("<dt>Incidents</dt><dd>8</dd>"));
    assert!(page.body.contains("<dt>Open action items</dt><dd>3</dd>"));
    assert!(
        page.body
            .contains("<dt>Overdue</dt><dd class=\"late\">2</dd>")
    );
    assert!(page.body.contains("Silent queues"));
    assert!(!page.body.contains("Vault token"));
    assert!(!page.body.contains("Scrub tokens"));
    assert!(
        !page
            .body
            .contains(&format!("/incidents/{}\"", secret.number))
    );
    assert!(
        page.body
            .contains("1 more are counted above but not listed")
    );
    assert!(page.body.contains("Add a queue depth alert") && page.body.contains("Replay tooling"));
    assert!(!page.body.contains("Write the runbook"));
    // An admin sees it listed.
    let inside = admin.get("/services/ledger").await;
    assert!(inside.body.contains("Vault token leaked to a log"));

    // The review's trends, as the outsider.
    let review = outsider.get("/review/2026-Q4").await;
    assert_eq!(review.status, StatusCode::OK);
    let trends = &review.body[review.body.find("id=\"trends\"").expect("trends")..];
    assert!(!trends.contains("Vault token"));
    let everything_q3 = expected_row(&Q3_TIMES, 1);
    assert_eq!(row_cells(trends, "2026-Q3"), everything_q3);
    let mut q4_every: Vec<(i64, i64)> = q4_all.clone();
    q4_every.push((999, 9999));
    assert_eq!(row_cells(trends, "2026-Q4"), expected_row(&q4_every, 1));
    // Categories and themes per quarter: the last two of eight columns.
    let last_two = |row: Vec<i64>| row[row.len() - 2..].to_vec();
    assert_eq!(last_two(count_row(trends, "Detection")), vec![3, 0]);
    assert_eq!(last_two(count_row(trends, "Technical")), vec![2, 0]);
    assert_eq!(last_two(count_row(trends, "Process")), vec![2, 1]);
    assert_eq!(last_two(count_row(trends, "External")), vec![0, 2]);
    let themes_row = &trends[trends.find("Silent queues</a></th>").expect("theme row")..];
    let themes_row = &themes_row[..themes_row.find("</tr>").expect("end")];
    let counts: Vec<&str> = themes_row
        .split("<td class=\"num\">")
        .skip(1)
        .map(|c| &c[..c.find('<').expect("cell")])
        .collect();
    assert_eq!(&counts[counts.len() - 2..], ["2", "0"]);
    // This quarter by service and by team.
    let by_service = row_cells(trends, "<a href=\"/services/ledger\">ledger</a>");
    assert_eq!(by_service[0], "3");
    assert_eq!(by_service[1], shown(percentile(&[3.0, 7.0, 100.0], 0.5)));
    assert_eq!(
        by_service[2],
        shown(percentile(&[45.0, 200.0, 1000.0], 0.5))
    );
    assert_eq!(
        by_service[3],
        shown(percentile(&[45.0, 200.0, 1000.0], 0.9))
    );
    let by_team = row_cells(trends, "Ledger team");
    assert_eq!(by_team[0], "2");
    assert_eq!(by_team[4], "External");
    // Narrowed to a team, only its incidents count.
    let narrowed = outsider
        .get(&format!("/review/2026-Q4?team={ledger_team}"))
        .await;
    let trends = &narrowed.body[narrowed.body.find("id=\"trends\"").expect("trends")..];
    assert_eq!(row_cells(trends, "2026-Q4"), expected_row(&Q4_TIMES, 0));
}

/// The similar-incidents card of a page: per suggestion, its incident
/// number and the sentence of reasons.
fn similar_card(html: &str) -> Vec<(i32, String)> {
    let card = &html[html.find("id=\"similar\"").expect("the card")..];
    let card = &card[..card.find("</section>").expect("its end")];
    card.split("<li><a href=\"/incidents/")
        .skip(1)
        .map(|li| {
            let number = li[..li.find('"').expect("number")]
                .parse()
                .expect("a number");
            let reasons = &li[li.find("<p class=\"reasons\">").expect("reasons")..];
            let reasons = &reasons[..reasons.find("</p>").expect("end")];
            (number, reasons.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn similar_incidents_name_what_they_share_and_nothing_distinctive_gets_none() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let (outsider, _) = member(&app, "outsider").await;
    let security = team(&app.db, "Security", &[(author_id, false)]).await;
    let spec = |title, services, tags, summary| Spec {
        title,
        services,
        tags,
        summary,
        ..Spec::default()
    };
    let pool = published(
        &app,
        &author,
        spec(
            "Connection pool exhausted in billing",
            &["billing"],
            &["postgres"],
            "Pgbouncer saturated and billing requests queued behind idle transactions.",
        ),
    )
    .await;
    let same_service = published(
        &app,
        &author,
        spec(
            "Billing invoices sent twice",
            &["billing"],
            &[],
            "A retry loop resent invoices after a timeout.",
        ),
    )
    .await;
    let same_tag = published(
        &app,
        &author,
        spec(
            "Reporting queries slow",
            &["reports"],
            &["postgres"],
            "A missing index made the nightly report scan a table.",
        ),
    )
    .await;
    let same_word = published(
        &app,
        &author,
        spec(
            "Checkout waiting on pgbouncer",
            &["checkout"],
            &[],
            "Pgbouncer hit its client limit during the sale.",
        ),
    )
    .await;
    let restricted = published(
        &app,
        &author,
        spec(
            "Billing secrets exposed",
            &["billing"],
            &["postgres"],
            "Pgbouncer logs held passwords.",
        ),
    )
    .await;
    restrict(&author, restricted.number, security).await;
    let lonely = published(
        &app,
        &author,
        spec(
            "Office printer offline",
            &["printers"],
            &["hardware"],
            "The device lost its network lease.",
        ),
    )
    .await;

    let page = outsider.get(&format!("/incidents/{}", pool.number)).await;
    assert_eq!(page.status, StatusCode::OK);
    let card = similar_card(&page.body);
    let numbers: Vec<i32> = card.iter().map(|(n, _)| *n).collect();
    assert!(numbers.contains(&same_service.number), "{card:?}");
    assert!(numbers.contains(&same_tag.number), "{card:?}");
    assert!(numbers.contains(&same_word.number), "{card:?}");
    assert!(
        !numbers.contains(&restricted.number),
        "never to an outsider"
    );
    assert!(!numbers.contains(&lonely.number), "shares nothing");
    for (number, reasons) in &card {
        assert!(
            reasons.contains("<span class=\"shared\">"),
            "INC-{number} names what it shares: {reasons}"
        );
    }
    let reason_of = |number: i32| {
        card.iter()
            .find(|(n, _)| *n == number)
            .map(|(_, r)| r.clone())
            .expect("listed")
    };
    assert!(
        reason_of(same_service.number).contains("service <span class=\"shared\">billing</span>")
    );
    assert!(reason_of(same_tag.number).contains("tag <span class=\"shared\">postgres</span>"));
    assert!(
        reason_of(same_word.number).contains("“pgbouncer”")
            || reason_of(same_word.number).contains("“Pgbouncer”")
    );
    // Strength is shown with each.
    assert!(page.body.contains("class=\"strength strength-"));

    // Inside the restricted list it is suggested.
    let inside = author.get(&format!("/incidents/{}", pool.number)).await;
    let numbers: Vec<i32> = similar_card(&inside.body).iter().map(|(n, _)| *n).collect();
    assert!(numbers.contains(&restricted.number));

    // The printer outage shares nothing distinctive: no suggestion.
    let page = outsider.get(&format!("/incidents/{}", lonely.number)).await;
    assert!(similar_card(&page.body).is_empty());
    assert!(
        page.body
            .contains("Nothing in the archive shares a service")
    );
}

#[tokio::test]
async fn atom_and_icalendar_feeds_parse_with_real_parsers_and_a_revoked_link_is_gone() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let (reader, reader_id) = member(&app, "reader").await;
    let payments = team(&app.db, "Payments", &[]).await;
    let security = team(&app.db, "Security", &[(author_id, false)]).await;
    let a = published(
        &app,
        &author,
        Spec {
            title: "Card payments declined",
            services: &["payments"],
            team: Some(payments),
            summary: "Declines rose to 30% for 40 minutes.",
            factors: &[(&["technical"], "A TLS certificate expired.")],
            ..Spec::default()
        },
    )
    .await;
    let b = published(
        &app,
        &author,
        Spec {
            title: "Search results stale",
            services: &["search"],
            started: "2026-10-06T10:00:00Z",
            ..Spec::default()
        },
    )
    .await;
    let hidden = published(
        &app,
        &author,
        Spec {
            title: "Secret incident",
            services: &["payments"],
            started: "2026-10-07T10:00:00Z",
            ..Spec::default()
        },
    )
    .await;
    restrict(&author, hidden.number, security).await;
    let draft = create_incident(&author, "A draft in progress").await;
    let linked = author
        .post_form(
            "/themes/link",
            &[
                ("factor", &a.factors[0].to_string()),
                ("name", "Certificate expiry"),
            ],
        )
        .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER);
    // The reader owns two open items with due dates and a done one.
    item(
        &app.db,
        &a,
        None,
        "Automate renewal",
        "open",
        Some(reader_id),
        "2027-01-10",
    )
    .await;
    item(
        &app.db,
        &b,
        None,
        "Reindex alarm",
        "in_progress",
        Some(reader_id),
        "2027-02-03",
    )
    .await;
    item(
        &app.db,
        &b,
        None,
        "Old chore",
        "done",
        Some(reader_id),
        "2026-10-01",
    )
    .await;
    item(
        &app.db,
        &b,
        None,
        "Someone else's",
        "open",
        Some(author_id),
        "2027-01-01",
    )
    .await;

    let made = reader.post_form("/account/feeds", &[]).await;
    assert_eq!(made.status, StatusCode::OK);
    let address = |suffix: &str| {
        let end = made.body.find(suffix).expect("an address") + suffix.len();
        let start = made.body[..end].rfind("http").expect("its start");
        made.body[start..end].to_owned()
    };
    let atom = address("/postmortems.atom");
    let ics = address("/action-items.ics");
    let feed_path = atom
        .split_once("/feeds/")
        .map(|(_, p)| format!("/feeds/{p}"))
        .expect("a path");
    let ics_path = ics
        .split_once("/feeds/")
        .map(|(_, p)| format!("/feeds/{p}"))
        .expect("a path");
    // The secret is stored only as a hash.
    let secret = feed_path.split('/').nth(2).expect("the secret").to_owned();
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM feed_links WHERE encode(token_hash, 'hex') = $1")
            .bind(&secret)
            .fetch_one(&app.db)
            .await
            .expect("count");
    assert_eq!(stored, 0);

    // Feeds need no sign-in: a fresh client with the link reads them.
    let anonymous = app.client();
    let titles = |body: &str| {
        let feed = feed_rs::parser::parse(body.as_bytes()).expect("a valid feed");
        feed.entries
            .iter()
            .map(|e| e.title.as_ref().expect("a title").content.clone())
            .collect::<Vec<_>>()
    };
    let all = anonymous.get(&feed_path).await;
    assert_eq!(all.status, StatusCode::OK);
    let entries = titles(&all.body);
    assert_eq!(
        entries,
        vec![
            format!("INC-{}: Search results stale", b.number),
            format!("INC-{}: Card payments declined", a.number),
        ],
        "published ones only, newest first; neither the draft INC-{draft} nor the restricted one"
    );
    let parsed = feed_rs::parser::parse(all.body.as_bytes()).expect("a valid feed");
    let first = &parsed.entries[1];
    assert!(
        first.links[0]
            .href
            .ends_with(&format!("/incidents/{}", a.number))
    );
    assert!(
        first
            .summary
            .as_ref()
            .is_some_and(|s| s.content.contains("Declines rose"))
    );
    for (query, wanted) in [
        ("?service=payments", vec![a.number]),
        ("?team=Payments", vec![a.number]),
        (&format!("?team={payments}") as &str, vec![a.number]),
        ("?theme=certificate-expiry", vec![a.number]),
        ("?service=search", vec![b.number]),
    ] {
        let narrowed = anonymous.get(&format!("{feed_path}{query}")).await;
        assert_eq!(narrowed.status, StatusCode::OK, "{query}");
        let got: Vec<String> = titles(&narrowed.body);
        let want: Vec<String> = wanted
            .iter()
            .map(|n| {
                let title = if *n == a.number {
                    "Card payments declined"
                } else {
                    "Search results stale"
                };
                format!("INC-{n}: {title}")
            })
            .collect();
        assert_eq!(got, want, "{query}");
    }
    assert_eq!(
        anonymous
            .get(&format!("{feed_path}?theme=nothing"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let calendar = anonymous.get(&ics_path).await;
    assert_eq!(calendar.status, StatusCode::OK);
    let parsed: icalendar::Calendar = calendar.body.parse().expect("a valid calendar");
    let mut events: Vec<(String, String)> = parsed
        .components
        .iter()
        .filter_map(|c| match c {
            icalendar::CalendarComponent::Event(event) => {
                use icalendar::Component;
                let start = match event.get_start().expect("a start") {
                    icalendar::DatePerhapsTime::Date(day) => day.to_string(),
                    other => panic!("an all-day event, not {other:?}"),
                };
                Some((event.get_summary().expect("a summary").to_owned(), start))
            }
            _ => None,
        })
        .collect();
    events.sort();
    assert_eq!(
        events,
        vec![
            (
                format!("Due: Automate renewal (INC-{})", a.number),
                "2027-01-10".to_owned()
            ),
            (
                format!("Due: Reindex alarm (INC-{})", b.number),
                "2027-02-03".to_owned()
            ),
        ]
    );

    // Revoked: every address built on the link is gone.
    let revoked = reader.post_form("/account/feeds/revoke", &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    for path in [
        &feed_path,
        &ics_path,
        &format!("{feed_path}?service=payments"),
    ] {
        assert_eq!(
            anonymous.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // A made-up secret is not found either.
    let forged = format!("/feeds/{}/postmortems.atom", "a".repeat(64));
    assert_eq!(anonymous.get(&forged).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_weekly_note_lists_last_weeks_postmortems_once_to_those_who_follow_it() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn().await;
    set_clock(&app, "2026-11-25T12:00:00Z");
    let (author, author_id) = app.signed_in(Role::Member).await;
    let (fan, _) = member(&app, "fan").await;
    // Someone who does not follow the note, and gets nothing.
    member(&app, "outsider").await;
    let security = team(&app.db, "Security", &[(author_id, false)]).await;
    let followed = fan.post_form("/account/follows", &[("weekly", "on")]).await;
    assert_eq!(followed.status, StatusCode::SEE_OTHER, "{}", followed.body);

    // Published in the week of 2026-11-23: two open, one restricted; one
    // the week before.
    for (title, started) in [
        ("Payments retry storm", "2026-11-21T09:00:00Z"),
        ("DNS resolver flapping", "2026-11-22T09:00:00Z"),
        ("Older outage", "2026-11-12T09:00:00Z"),
    ] {
        published(
            &app,
            &author,
            Spec {
                title,
                started,
                ..Spec::default()
            },
        )
        .await;
    }
    let secret = published(
        &app,
        &author,
        Spec {
            title: "Quiet security incident",
            started: "2026-11-21T10:00:00Z",
            ..Spec::default()
        },
    )
    .await;
    restrict(&author, secret.number, security).await;

    // The next Monday the note is recorded, and again later that week it
    // is not recorded twice.
    set_clock(&app, "2026-11-30T08:00:00Z");
    assert_eq!(
        notices::record_weekly(&app.db, &app.clock)
            .await
            .expect("weekly"),
        1
    );
    app.advance(Duration::hours(30));
    assert_eq!(
        notices::record_weekly(&app.db, &app.clock)
            .await
            .expect("weekly"),
        0
    );

    let mut seen = 0;
    let messages = crate::notifications::deliver(&app, &sink, &mut seen).await;
    assert_eq!(messages.len(), 1, "one note, to the one follower");
    let (to, _, text) = &messages[0];
    assert!(to.contains("fan@example.com"));
    assert!(
        text.contains("Payments retry storm") && text.contains("DNS resolver flapping"),
        "{text}"
    );
    assert!(!text.contains("Older outage"), "last week only");
    assert!(
        !text.contains("Quiet security incident"),
        "not readable by the follower"
    );
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(&app.db)
        .await
        .expect("outbox");
    assert_eq!(outbox, 1, "through the outbox");
}

const CATALOG: &str = "\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  description: Double-entry bookkeeping for every payment.
spec:
  type: service
  owner: group:default/payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: search-indexer
spec:
  owner: team-nobody-knows
---
kind: Group
metadata:
  name: payments
---
kind: Component
metadata: [not, a, mapping]
";

/// Runs `debrief services load PATH` against the test's database.
fn services_load(app: &TestApp, path: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args(["services", "load"])
        .arg(path)
        .env("DATABASE_URL", app.database_url())
        .output()
        .expect("run debrief")
}

#[tokio::test]
async fn a_backstage_catalog_loads_services_with_owner_teams_from_the_command_line() {
    let app = TestApp::spawn().await;
    let payments = team(&app.db, "Payments", &[]).await;
    let folder = std::env::temp_dir().join(format!("debrief-catalog-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&folder).expect("a folder");
    let file = folder.join("catalog-info.yaml");
    std::fs::write(&file, CATALOG).expect("written");
    let output = services_load(&app, &file);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("2 services created, 0 updated, 2 entries skipped, 1 owners not matched"),
        "{stdout}"
    );
    assert!(stderr.contains("loading 2 services"), "{stderr}");
    assert!(
        stderr.contains("search-indexer: team-nobody-knows"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped"),
        "the Group and the broken document are reported"
    );
    let owner: Option<Uuid> =
        sqlx::query_scalar("SELECT owner_team_id FROM services WHERE name = 'ledger'")
            .fetch_one(&app.db)
            .await
            .expect("ledger");
    assert_eq!(owner, Some(payments));

    // The page shows the owner; loading again updates and creates nothing.
    let (reader, _) = app.signed_in(Role::Viewer).await;
    let page = reader.get("/services/ledger").await;
    assert!(page.body.contains("Owned by <strong>Payments</strong>"));
    assert!(page.body.contains("Double-entry bookkeeping"));
    let again = services_load(&app, &file);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 services created, 2 updated"));

    // A folder is refused by name, and nothing changes.
    let refused = services_load(&app, &folder);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a regular file"));
    std::fs::remove_dir_all(&folder).expect("cleaned up");

    // The same file pasted by an admin on /services.
    let (admin, _) = app.signed_in(Role::Admin).await;
    let pasted = admin
        .post_form("/services/catalog", &[("catalog", CATALOG)])
        .await;
    assert_eq!(pasted.status, StatusCode::OK);
    assert!(
        pasted.body.contains("0 services created, 2 updated"),
        "{}",
        pasted.body
    );
    let member_paste = reader
        .post_form("/services/catalog", &[("catalog", CATALOG)])
        .await;
    assert_eq!(member_paste.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_theme_started_from_search_results_offers_their_factors_and_a_bad_name_keeps_the_text() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let flags = published(
        &app,
        &author,
        Spec {
            title: "Checkout broken by a flag flip",
            summary: "A feature flag was flipped for every region at once.",
            factors: &[(&["process"], "Flag changes reach every region in one step.")],
            ..Spec::default()
        },
    )
    .await;
    let config = published(
        &app,
        &author,
        Spec {
            title: "Config push took down the edge",
            summary: "A config push went to every region at once.",
            factors: &[(&["technical"], "No staged rollout for edge configuration.")],
            ..Spec::default()
        },
    )
    .await;
    let unrelated = published(
        &app,
        &author,
        Spec {
            title: "Disk full on the warehouse",
            summary: "A backfill filled the volume.",
            factors: &[(&["technical"], "No space reservation for backfills.")],
            ..Spec::default()
        },
    )
    .await;

    let search = author.get("/search?q=%22every+region%22").await;
    assert!(
        search.body.contains("Start a theme"),
        "offered on the results"
    );
    // A name too long is refused on the page, the typed text kept.
    let long = "x".repeat(200);
    let refused = author
        .post_form("/themes", &[("name", &long), ("query", "\"every region\"")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains(&long), "the typed name is kept");
    assert!(refused.body.contains("field-error"));

    let started = author
        .post_form(
            "/themes",
            &[
                ("name", "Pushed to every region at once"),
                ("query", "\"every region\""),
            ],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let slug = started.location().expect("the theme's page").to_owned();
    let page = author.get(&slug).await;
    let candidates = &page.body[page.body.find("id=\"candidates\"").expect("candidates")..];
    assert!(
        candidates.contains("“&quot;every region&quot;”") || candidates.contains("every region")
    );
    for made in [&flags, &config] {
        assert!(
            candidates.contains(&format!("value=\"{}\"", made.factors[0])),
            "INC-{}",
            made.number
        );
    }
    assert!(!candidates.contains(&format!("value=\"{}\"", unrelated.factors[0])));

    // Linking both ticked factors at once; dismissing keeps one away.
    let linked = author
        .post_form(
            &format!("{slug}/factors"),
            &[
                ("factor", &flags.factors[0].to_string()),
                ("factor", &config.factors[0].to_string()),
                ("decision", "link"),
            ],
        )
        .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER);
    let page = author.get(&slug).await;
    assert!(page.body.contains("2 incidents"));
    assert!(page.body.contains("No candidates left."));
}

/// A stamp's writer moves it when it commits, not before: a reader in
/// between still reads the old stamp with the old names, so nothing old is
/// cached under a new stamp.
#[tokio::test]
async fn stamps_move_when_their_writer_commits() {
    let app = TestApp::spawn().await;
    let (_, user_id) = app.signed_in(Role::Member).await;
    let before = directory_epoch(&app.db).await;
    let mut writer = store::begin(&app.db).await.expect("a transaction");
    sqlx::query("UPDATE users SET display_name = 'Renamed' WHERE id = $1")
        .bind(user_id)
        .execute(&mut *writer)
        .await
        .expect("rename");
    assert_eq!(
        directory_epoch(&app.db).await,
        before,
        "moved before commit"
    );
    writer.commit().await.expect("commit");
    assert!(directory_epoch(&app.db).await > before);
}

/// The reading page keeps a postmortem's comments and participants between
/// views and asks the database to send them only when their stamp moved:
/// changes made behind the application's back (straight in SQL) still show
/// on the next view, and so does a renamed commenter.
#[tokio::test]
async fn the_reading_page_shows_every_change_to_its_discussion_on_the_next_view() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Queue backlog after deploy").await;
    let path = format!("/incidents/{number}");
    let postmortem = app.postmortem(number).await;
    let first = author.get(&path).await;
    assert!(!first.body.contains("Is the backlog alarm new?"));

    let comment = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO comments (id, postmortem_id, author_id, section, body, created_at)
         VALUES ($1, $2, $3, 'summary', 'Is the backlog alarm new?', now())",
    )
    .bind(comment)
    .bind(postmortem.id)
    .bind(author_id)
    .execute(&app.db)
    .await
    .expect("a comment");
    sqlx::query(
        "INSERT INTO participants (id, postmortem_id, name, role, created_at)
         VALUES ($1, $2, 'Rosa Quayle', 'Incident commander', now())",
    )
    .bind(Uuid::now_v7())
    .bind(postmortem.id)
    .execute(&app.db)
    .await
    .expect("a participant");
    let second = author.get(&path).await;
    assert!(second.body.contains("Is the backlog alarm new?"));
    assert!(second.body.contains("Rosa Quayle"));
    // Seen again with nothing changed: still all there.
    assert!(author.get(&path).await.body.contains("Rosa Quayle"));

    sqlx::query("UPDATE comments SET body = 'Was the backlog alarm new?', version = version + 1")
        .execute(&app.db)
        .await
        .expect("edit");
    sqlx::query("DELETE FROM participants")
        .execute(&app.db)
        .await
        .expect("remove");
    sqlx::query("UPDATE users SET display_name = 'Dana Okafor' WHERE id = $1")
        .bind(author_id)
        .execute(&app.db)
        .await
        .expect("rename");
    let third = author.get(&path).await;
    assert!(
        third.body.contains("Was the backlog alarm new?"),
        "the edit shows"
    );
    assert!(!third.body.contains("Rosa Quayle"), "the removal shows");
    assert!(third.body.contains("Dana Okafor"), "the new name shows");

    sqlx::query("DELETE FROM comments")
        .execute(&app.db)
        .await
        .expect("delete");
    assert!(
        !author
            .get(&path)
            .await
            .body
            .contains("Was the backlog alarm new?")
    );
}
