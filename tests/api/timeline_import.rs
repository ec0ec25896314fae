//! Building a timeline from a chat log: preview, unparsed lines named,
//! picked entries added with their source.

use debrief::domain::role::Role;
use reqwest::StatusCode;

use crate::{helpers::TestApp, incidents::create_incident};

const LOG: &str = "[2026-03-01 14:05] sam: checkout p99 is climbing\n\
                   [2026-03-01 14:07] alex: rolling back v2.14\n\
                   this line carries on alex's message\n\
                   [2026-03-01 14:20] sam: latency back to normal";

#[tokio::test]
async fn a_pasted_chat_log_is_previewed_and_the_picked_lines_are_added_with_their_source() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let path = format!("/incidents/{number}/timeline/import");
    let input = format!("garbage before any time\n{LOG}");

    let preview = author
        .post_form(
            &path,
            &[
                ("input", &input),
                ("format", "text"),
                ("time_zone", "Europe/Berlin"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("3 entries read"), "{}", preview.body);
    assert!(preview.body.contains("1 line could not be read"));
    assert!(
        preview.body.contains("garbage before any time"),
        "the unreadable line is shown"
    );
    assert!(
        preview.body.contains(r#"value="2026-03-01 14:07""#),
        "times are shown for editing in the zone read"
    );
    let digest = preview
        .body
        .split("name=\"digest\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("digest");

    let added = author
        .post_form(
            &path,
            &[
                ("input", &input),
                ("format", "text"),
                ("time_zone", "Europe/Berlin"),
                ("action", "add"),
                ("digest", digest),
                ("pick", "0"),
                ("pick", "1"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let rows = sqlx::query!(
        r#"SELECT occurred_at, kind::text AS "kind!", speaker, text, source
           FROM timeline_entries ORDER BY occurred_at"#
    )
    .fetch_all(&app.db)
    .await
    .expect("entries");
    assert_eq!(rows.len(), 2, "only the ticked lines");
    assert_eq!(
        rows[0].occurred_at.to_rfc3339(),
        "2026-03-01T13:05:00+00:00"
    );
    assert_eq!(
        rows[1].text,
        "rolling back v2.14\nthis line carries on alex's message"
    );
    assert_eq!(
        rows[1].speaker.as_deref(),
        Some("alex"),
        "the speaker is its own field"
    );
    assert_eq!(rows[1].kind, "mitigation", "guessed from \"rolling back\"");
    assert_eq!(rows[1].source, "chat log");
}

/// The value of the `name` input or the selected option of the `name`
/// select in row `index` of the preview.
fn row_value(body: &str, id: &str) -> String {
    let at = body.find(&format!("id=\"{id}\"")).expect(id);
    let tag = body[..at].rfind('<').expect("a tag");
    let rest = &body[at..];
    if body[tag..].starts_with("<select") {
        let options = &rest[..rest.find("</select>").expect("closed")];
        let selected = options.find(" selected").expect("a selected option");
        let value = options[..selected]
            .rsplit("value=\"")
            .next()
            .expect("a value");
        return value.split('"').next().expect("closed").to_owned();
    }
    let value = rest.split("value=\"").nth(1).expect("a value");
    value.split('"').next().expect("closed").to_owned()
}

#[tokio::test]
async fn imported_lines_get_kinds_from_their_words_repeats_are_unticked_and_rows_can_be_changed() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    // Already typed in (in the author's zone, UTC): the rollback, a minute
    // off and worded a little differently.
    let typed = crate::incidents::add_entries(
        &author,
        number,
        &[(
            "2026-03-01 13:08",
            "mitigation",
            "alex: Rolling back v2.14.",
        )],
    )
    .await;
    assert_eq!(typed.status, StatusCode::SEE_OTHER, "{}", typed.body);

    let path = format!("/incidents/{number}/timeline/import");
    let form = |action: &'static str| {
        vec![
            ("input", LOG.to_owned()),
            ("format", "text".to_owned()),
            ("time_zone", "Europe/Berlin".to_owned()),
            ("action", action.to_owned()),
        ]
    };
    let fields = form("preview");
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let preview = author.post_form(&path, &borrowed).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let body = &preview.body;
    assert_eq!(row_value(body, "row-0-kind"), "detection", "\"climbing\"");
    assert_eq!(row_value(body, "row-1-kind"), "mitigation");
    assert_eq!(row_value(body, "row-2-kind"), "resolution");
    assert!(body.contains("1 row is already in the timeline"), "{body}");
    assert!(body.contains("Already in the timeline"));
    let ticked = |index: usize| {
        let start = body
            .find(&format!("id=\"pick-{index}\""))
            .expect("a tick box");
        body[start..]
            .split('>')
            .next()
            .expect("closed")
            .contains("checked")
    };
    assert!(ticked(0) && ticked(2), "new lines are ticked");
    assert!(!ticked(1), "the repeated rollback is not");
    let digest = body
        .split("name=\"digest\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("digest")
        .to_owned();

    // Change the first row's kind and time, and add rows 0 and 2.
    let mut fields = form("add");
    fields.extend([
        ("digest", digest.clone()),
        ("pick", "0".to_owned()),
        ("pick", "2".to_owned()),
        ("row_at", "2026-03-01 14:04".to_owned()),
        ("row_kind", "trigger".to_owned()),
        ("row_at", row_value(body, "row-1-at")),
        ("row_kind", "mitigation".to_owned()),
        ("row_at", "not a time".to_owned()),
        ("row_kind", "resolution".to_owned()),
    ]);
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = author.post_form(&path, &borrowed).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Row 3 has a time that cannot be read"),
        "{}",
        refused.body
    );
    assert_eq!(
        row_value(&refused.body, "row-0-kind"),
        "trigger",
        "the changed kind is kept"
    );
    assert_eq!(
        row_value(&refused.body, "row-2-at"),
        "not a time",
        "the typed time is kept"
    );

    fields.retain(|(name, value)| !(*name == "row_at" && value == "not a time"));
    let position = fields
        .iter()
        .rposition(|(name, _)| *name == "row_kind")
        .expect("kind");
    fields.insert(position, ("row_at", "2026-03-01 14:21".to_owned()));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let added = author.post_form(&path, &borrowed).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let rows = sqlx::query!(
        r#"SELECT to_char(occurred_at AT TIME ZONE 'Europe/Berlin', 'HH24:MI') AS "at!",
                  kind::text AS "kind!", speaker, text
           FROM timeline_entries WHERE source = 'chat log' ORDER BY occurred_at"#
    )
    .fetch_all(&app.db)
    .await
    .expect("entries");
    let got: Vec<(&str, &str, Option<&str>)> = rows
        .iter()
        .map(|row| (row.at.as_str(), row.kind.as_str(), row.speaker.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("14:04", "trigger", Some("sam")),
            ("14:21", "resolution", Some("sam")),
        ]
    );
}

#[tokio::test]
async fn edited_text_is_previewed_again_before_anything_is_added() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Checkout 502s").await;
    let page = author
        .post_form(
            &format!("/incidents/{number}/timeline/import"),
            &[
                ("input", LOG),
                ("format", "auto"),
                ("time_zone", "UTC"),
                ("action", "add"),
                ("digest", "stale"),
                ("pick", "0"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("3 entries read"));
    let count: i64 = sqlx::query_scalar!("SELECT count(*) AS \"n!\" FROM timeline_entries")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(count, 0);
}

/// How many entries incident `number`'s timeline has.
async fn entries_of(app: &TestApp, number: i32) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM timeline_entries e JOIN postmortems p ON p.id = e.postmortem_id
         JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1",
    )
    .bind(number)
    .fetch_one(&app.db)
    .await
    .expect("count")
}

/// A chat log of `lines` lines, a minute apart, as one paste.
fn long_log(lines: usize) -> String {
    (0..lines)
        .map(|n| {
            let (hour, minute) = ((n / 60) % 24, n % 60);
            format!("[2026-03-01 {hour:02}:{minute:02}] sam: step {n}\n")
        })
        .collect()
}

/// Adds every line of `input` in one request, as the form's second step.
async fn add_all(
    client: &crate::helpers::TestClient,
    number: i32,
    input: &str,
    lines: usize,
) -> crate::helpers::Page {
    use sha2::Digest;
    let digest = hex::encode(&sha2::Sha256::digest(input.as_bytes())[..8]);
    let token = client.csrf_token().await;
    let mut fields: Vec<(&str, String)> = vec![
        ("_csrf", token),
        ("input", input.to_owned()),
        ("format", "text".to_owned()),
        ("time_zone", "UTC".to_owned()),
        ("action", "add".to_owned()),
        ("digest", digest),
    ];
    fields.extend((0..lines).map(|n| ("pick", n.to_string())));
    let response = client
        .http
        .post(client.url(&format!("/incidents/{number}/timeline/import")))
        .header("origin", &client.address)
        .form(&fields)
        .send()
        .await
        .expect("the add");
    crate::helpers::Page {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.expect("body"),
    }
}

#[tokio::test]
async fn twenty_thousand_entries_go_in_with_one_request_and_more_are_refused_with_a_clear_message()
{
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let mut timings = Vec::new();
    for lines in [1_000, 10_000, 20_000] {
        let number = create_incident(&author, &format!("Backlog of {lines}")).await;
        let input = long_log(lines);
        let started = std::time::Instant::now();
        let added = add_all(&author, number, &input, lines).await;
        let took = started.elapsed();
        assert_eq!(
            added.status,
            StatusCode::SEE_OTHER,
            "{lines}: {}",
            added.body
        );
        assert_eq!(entries_of(&app, number).await as usize, lines);
        timings.push(format!("{lines}: {:.2} s", took.as_secs_f64()));
        if lines == 20_000 {
            // Searchable at once: the one refresh ran.
            let found = author.get("/search?q=step").await;
            assert!(found.body.contains(&format!("INC-{number}")), "searchable");
        }
    }
    let number = create_incident(&author, "Too many").await;
    let refused = add_all(&author, number, &long_log(20_001), 20_001).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("20001 entries are ticked; at most 20000 can be added at once"),
        "{}",
        refused.body
    );
    assert_eq!(entries_of(&app, number).await, 0, "nothing added");
    eprintln!(
        "timeline entries added in one request: {}",
        timings.join(", ")
    );
}

#[tokio::test]
async fn a_long_preview_shows_its_first_thousand_rows_adds_them_all_and_an_oversized_upload_is_refused()
 {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let number = create_incident(&author, "Long log").await;
    let path = format!("/incidents/{number}/timeline/import");
    let input = long_log(3_000);
    let preview = author
        .post_form(
            &path,
            &[
                ("input", &input),
                ("format", "text"),
                ("time_zone", "UTC"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview.body.contains("3000 entries read"),
        "{}",
        &preview.body[..2000]
    );
    assert_eq!(
        preview.body.matches("name=\"pick\"").count(),
        1_000,
        "rows shown are bounded"
    );
    assert!(preview.body.contains("The other 2000 are added as read"));
    eprintln!(
        "preview of 3,000 lines: a page of {} KB",
        preview.body.len() / 1024
    );

    // Adding from that page: the shown rows as ticked, the rest as read.
    let digest = preview
        .body
        .split("name=\"digest\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("digest")
        .to_owned();
    let mut fields: Vec<(&str, String)> = vec![
        ("input", input.clone()),
        ("format", "text".to_owned()),
        ("time_zone", "UTC".to_owned()),
        ("action", "add".to_owned()),
        ("digest", digest),
        ("rest_from", "1000".to_owned()),
    ];
    fields.extend(
        (0..1_000)
            .filter(|n| *n != 7)
            .map(|n| ("pick", n.to_string())),
    );
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let added = author.post_form(&path, &borrowed).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(
        entries_of(&app, number).await,
        2_999,
        "all but the one unticked row"
    );

    // More than a preview reads at once (a 5 MB upload): refused, saying
    // how much is allowed.
    let token = author.csrf_token().await;
    let file = reqwest::multipart::Part::bytes(vec![b'x'; 5 * 1024 * 1024])
        .file_name("huge.log")
        .mime_str("text/plain")
        .expect("mime");
    let form = reqwest::multipart::Form::new()
        .part("file", file)
        .text("format", "text")
        .text("time_zone", "UTC");
    let response = author
        .http
        .post(author.url(&format!("{path}/preview?_csrf={token}")))
        .header("origin", &author.address)
        .multipart(form)
        .send()
        .await
        .expect("an upload");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.expect("body");
    assert!(
        body.contains("That is 5.0 MB of text; a preview reads at most 4 MB at once"),
        "{}",
        body.len()
    );
    assert!(
        body.len() < 200 * 1024,
        "the refusal does not echo 5 MB back"
    );
    // A paste of unreadable lines lists the first of them and counts the rest.
    let noise: String = (0..5_000).map(|n| format!("noise line {n}\n")).collect();
    let unreadable = author
        .post_form(
            &path,
            &[("input", &noise), ("format", "text"), ("action", "preview")],
        )
        .await;
    assert!(
        unreadable.body.contains("…and 4950 more."),
        "listed lines are bounded"
    );
}
