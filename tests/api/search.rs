//! Archive search over the real DFDS postmortems: the right ones on top,
//! misspellings forgiven, facet counts that add up, drafts kept private.

use std::path::Path;

use chrono_tz::Tz;
use debrief::{
    archive::markdown,
    domain::role::Role,
    store::{
        self,
        incidents::Reader,
        search::{Facets, SearchFilter, SearchSort},
    },
};
use reqwest::StatusCode;

use crate::{
    helpers::{TestApp, TestClient},
    incidents::create_incident,
};

async fn import_dfds(app: &TestApp) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/dfds");
    let (sources, _) = markdown::collect(&[folder]).expect("corpus");
    app.import_markdown(&sources, Tz::UTC).await;
}

/// The source files of the results, in the order shown.
async fn results(app: &TestApp, client: &TestClient, query: &str) -> (String, Vec<String>) {
    let page = client.get(&format!("/search?q={}", urlencode(query))).await;
    assert_eq!(page.status, StatusCode::OK);
    let mut files = Vec::new();
    for hit in page.body.split("<li class=\"card hit\">").skip(1) {
        let number: i32 = hit
            .split("href=\"/incidents/")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|n| n.parse().ok())
            .expect("a result link");
        let file: Option<String> = sqlx::query_scalar!(
            "SELECT imported_from FROM incidents WHERE number = $1",
            number
        )
        .fetch_one(&app.db)
        .await
        .expect("incident");
        files.push(file.unwrap_or_default());
    }
    (page.body, files)
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn has_in_top(files: &[String], expected: &str, top: usize) -> bool {
    files
        .iter()
        .take(top)
        .any(|file| file.starts_with(expected))
}

#[tokio::test]
async fn real_queries_put_the_expected_postmortems_on_top() {
    let app = TestApp::spawn().await;
    let (reader, _) = app.signed_in(Role::Viewer).await;
    import_dfds(&app).await;
    let cases = [
        ("Log4Shell", "PM2021-011", 1),
        ("CoreDNS upgrade", "PM2020-004", 1),
        ("ingress 503", "PM2021-005", 1),
        ("inotify", "PM2020-001", 1),
        ("ADFS", "PM2021-004", 1),
        ("AMI", "PM2022-009", 1),
        ("node ipc", "PM2022-005", 1),
        ("KIAM", "PM2020-009", 2),
        ("KIAM", "PM2020-002", 2),
        ("\"certificate\"", "PM2020-002", 2),
        ("\"certificate\"", "PM2021-004", 2),
        ("kafka metrics", "PM2022-004", 2),
        ("kafka metrics", "PM2022-007", 2),
    ];
    for (query, expected, top) in cases {
        let (_, files) = results(&app, &reader, query).await;
        assert!(
            has_in_top(&files, expected, top),
            "{query}: expected {expected} in the top {top}, got {files:?}"
        );
    }
}

#[tokio::test]
async fn misspelled_words_still_find_the_postmortem() {
    let app = TestApp::spawn().await;
    let (reader, _) = app.signed_in(Role::Member).await;
    import_dfds(&app).await;

    let (body, files) = results(&app, &reader, "certficate").await;
    assert!(
        body.contains("Showing results for <strong>certificate</strong>"),
        "the corrected query is named"
    );
    assert!(has_in_top(&files, "PM2020-002", 2), "{files:?}");

    let (_, files) = results(&app, &reader, "inotfy").await;
    assert!(has_in_top(&files, "PM2020-001", 1), "{files:?}");

    let (_, right) = results(&app, &reader, "kubernetes").await;
    let (_, stemmed) = results(&app, &reader, "kubernets").await;
    assert_eq!(right, stemmed, "a dropped letter finds the same");
}

/// The counts a search shows `reader` for `filter`.
async fn facets_of(app: &TestApp, reader: Reader, filter: &SearchFilter) -> sqlx::Result<Facets> {
    let mut tx = store::planned(&app.db, store::Plans::Generic).await?;
    let results =
        store::search::search(&mut tx, reader, filter, SearchSort::Relevance, 20, 0).await?;
    Ok(results.facets)
}

fn sum(values: &[(String, i64)]) -> i64 {
    values.iter().map(|(_, n)| n).sum()
}

#[tokio::test]
async fn facet_counts_add_up_to_the_total() {
    let app = TestApp::spawn().await;
    let (_, user_id) = app.signed_in(Role::Member).await;
    import_dfds(&app).await;
    let reader = Reader {
        user_id,
        is_admin: false,
    };
    for text in ["kubernetes", "", "alert -kiam"] {
        let filter = SearchFilter {
            text: text.to_owned(),
            ..SearchFilter::default()
        };
        let facets: Facets = facets_of(&app, reader, &filter).await.expect("facets");
        assert!(facets.total > 0, "{text}");
        for (name, values) in [
            ("severity", &facets.severity),
            ("kind", &facets.kind),
            ("status", &facets.status),
            ("year", &facets.year),
        ] {
            assert_eq!(sum(values), facets.total, "{text}: {name}");
        }
    }
    let all = SearchFilter::default();
    let total = facets_of(&app, reader, &all).await.expect("facets").total;
    assert_eq!(total, 40);
}

#[tokio::test]
async fn a_member_never_sees_someone_elses_draft_in_results_counts_or_facets() {
    let app = TestApp::spawn().await;
    let (author, author_id) = app.signed_in(Role::Member).await;
    let (other, other_id) = app.signed_in(Role::Member).await;
    create_incident(&author, "Zanzibar queue overflow").await;

    let (_, mine) = results(&app, &author, "zanzibar").await;
    assert_eq!(mine.len(), 1, "the author finds their draft");
    let (body, theirs) = results(&app, &other, "zanzibar").await;
    assert!(theirs.is_empty());
    assert!(body.contains("<strong>0</strong> postmortems"));

    let everything = SearchFilter::default();
    let for_author = facets_of(
        &app,
        Reader {
            user_id: author_id,
            is_admin: false,
        },
        &everything,
    )
    .await
    .expect("facets");
    let for_other = facets_of(
        &app,
        Reader {
            user_id: other_id,
            is_admin: false,
        },
        &everything,
    )
    .await
    .expect("facets");
    assert_eq!((for_author.total, for_other.total), (1, 0));
    assert!(
        for_other.severity.is_empty()
            && for_other.status.is_empty()
            && for_other.service.is_empty()
    );
}

#[tokio::test]
async fn a_postmortem_shows_its_most_similar_incidents_and_links_one_in_a_click() {
    let app = TestApp::spawn().await;
    let (admin, admin_id) = app.signed_in(Role::Admin).await;
    import_dfds(&app).await;
    let number_of = |file: &'static str| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar!(
                "SELECT number FROM incidents WHERE imported_from LIKE $1 || '%'",
                file
            )
            .fetch_one(&db)
            .await
            .expect("imported")
        }
    };
    let kiam_upgrade = number_of("PM2020-009").await;
    let kiam_certificate = number_of("PM2020-002").await;

    let postmortem = app.postmortem(kiam_upgrade).await;
    let reader = Reader {
        user_id: admin_id,
        is_admin: true,
    };
    let similar = store::search::list_similar(&app.db, reader, postmortem.id, 5)
        .await
        .expect("similar");
    assert_eq!(similar.len(), 5);
    assert_eq!(
        similar[0].number, kiam_certificate,
        "the other KIAM outage comes first"
    );

    let page = admin.get(&format!("/incidents/{kiam_upgrade}")).await;
    assert!(page.body.contains("Similar incidents"));
    assert!(page.body.contains("Mark as repeat of"));
    let linked = admin
        .post_form(
            &format!("/incidents/{kiam_upgrade}/links"),
            &[
                ("other", &kiam_certificate.to_string()),
                ("kind", "repeat_of"),
            ],
        )
        .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.body);
    let after = store::search::list_similar(&app.db, reader, postmortem.id, 5)
        .await
        .expect("similar");
    assert!(after[0].linked, "the linked one says so");
}

#[tokio::test]
async fn a_large_archive_shows_counts_estimated_from_a_sample_and_says_so() {
    let app = TestApp::spawn().await;
    let (client, user_id) = app.signed_in(Role::Member).await;
    // Enough that even an unlucky fine sample (1 in 128) sees more than the
    // exact limit.
    debrief::seed::synthetic::seed(&app.db, &app.clock, 8000, |_, _| {})
        .await
        .expect("seed");
    let reader = Reader {
        user_id,
        is_admin: false,
    };

    // Every postmortem matches an empty query: more than the exact limit.
    let everything = facets_of(&app, reader, &SearchFilter::default())
        .await
        .expect("facets");
    assert!(everything.estimated);
    assert!(
        (6400..=9600).contains(&everything.total),
        "about 8,000: {}",
        everything.total
    );
    let page = client.get("/search").await;
    assert!(
        page.body.contains("About <strong>≈"),
        "the estimate is marked"
    );

    // A narrow filter is counted exactly, and the count is right.
    let narrow = SearchFilter {
        severity: debrief::domain::incident::Severity::parse("sev1"),
        kind: debrief::domain::incident::IncidentKind::parse("chaos_experiment"),
        tag: Some("dns".to_owned()),
        ..SearchFilter::default()
    };
    let counted = facets_of(&app, reader, &narrow).await.expect("facets");
    // One generated postmortem in 50 is restricted to its team: this reader
    // is in none, so those are not counted.
    let expected: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM incidents i JOIN postmortems p ON p.incident_id = i.id
         WHERE i.severity = 'sev1' AND i.kind = 'chaos_experiment' AND 'dns' = ANY (i.tags) AND NOT p.restricted",
    )
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert!(!counted.estimated);
    assert_eq!(counted.total, expected);
    let page = client
        .get("/search?severity=sev1&kind=chaos_experiment&tag=dns")
        .await;
    assert!(
        page.body
            .contains(&format!("<strong>{expected}</strong> postmortem"))
    );
}

/// The incident numbers of the results, in the order shown.
async fn numbers(client: &TestClient, query: &str) -> Vec<i32> {
    let page = client.get(&format!("/search?q={}", urlencode(query))).await;
    assert_eq!(page.status, StatusCode::OK);
    let mut numbers: Vec<i32> = page
        .body
        .split("<li class=\"card hit\">")
        .skip(1)
        .filter_map(|hit| hit.split("href=\"/incidents/").nth(1))
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect();
    numbers.sort();
    numbers
}

#[tokio::test]
async fn a_phrase_matches_its_words_in_order_only() {
    let app = TestApp::spawn().await;
    let (client, _) = app.signed_in(Role::Member).await;
    let exhausted = create_incident(&client, "Connection pool exhausted on checkout").await;
    let workers = create_incident(&client, "Pool of workers lost its database connection").await;
    let leak = create_incident(&client, "The checkout connection pool leak").await;
    create_incident(&client, "Pool lost workers").await;
    let mut both = vec![exhausted, leak];
    both.sort();

    // Two words: answered by their word pair.
    assert_eq!(numbers(&client, "\"connection pool\"").await, both);
    assert_eq!(
        numbers(&client, "\"Connection Pools\"").await,
        both,
        "stemmed"
    );
    assert_eq!(
        numbers(&client, "\"pool connection\"").await,
        Vec::<i32>::new()
    );
    assert_eq!(
        numbers(&client, "connection -\"connection pool\"").await,
        vec![workers]
    );
    // A stop word inside matches stop words there, not any word ("Pool
    // lost workers"); three words are checked on the document.
    assert_eq!(numbers(&client, "\"pool of workers\"").await, vec![workers]);
    assert_eq!(numbers(&client, "\"pool to workers\"").await, vec![workers]);
    assert_eq!(
        numbers(&client, "\"connection pool leak\"").await,
        vec![leak]
    );
    assert_eq!(
        numbers(&client, "\"pool leak connection\"").await,
        Vec::<i32>::new()
    );
    let mut all = vec![exhausted, workers, leak];
    all.sort();
    assert_eq!(
        numbers(&client, "\"connection pool\" or \"pool of workers\"").await,
        all
    );
    // Plain words in any order, as before.
    assert_eq!(numbers(&client, "connection pool").await, all);
}

#[tokio::test]
async fn a_query_with_one_word_the_postmortem_lacks_still_finds_it_and_says_so() {
    let app = TestApp::spawn().await;
    let (reader, _) = app.signed_in(Role::Viewer).await;
    import_dfds(&app).await;
    // Each last word is in the archive, but not in the postmortem sought.
    let cases = [
        ("CoreDNS upgrade crash kafka", "PM2020-004"),
        ("Log4Shell vulnerability terraform", "PM2021-011"),
        ("AMI rollover certificate", "PM2022-009"),
    ];
    for (query, expected) in cases {
        let (body, files) = results(&app, &reader, query).await;
        assert!(
            has_in_top(&files, expected, 3),
            "{query}: expected {expected} in the top 3, got {files:?}"
        );
        assert!(
            body.contains("showing those with most of the words"),
            "{query}: the page says not every word matched"
        );
    }
    // With one postmortem having both words, it comes first and the others
    // with one of them follow.
    let (body, files) = results(&app, &reader, "CoreDNS upgrade").await;
    assert!(has_in_top(&files, "PM2020-004", 1), "{files:?}");
    assert!(body.contains("Only 1 postmortem has all of"), "{body}");
    // With enough postmortems having every word, nothing changes.
    let (body, _) = results(&app, &reader, "Kubernetes nodes").await;
    assert!(!body.contains("most of the words"));
}

#[tokio::test]
async fn words_close_together_rank_above_the_same_words_far_apart() {
    let app = TestApp::spawn().await;
    let (reader, _) = app.signed_in(Role::Viewer).await;
    let filler =
        "Traffic was normal for most of the morning and nothing looked unusual. ".repeat(6);
    // The far one is shorter (so plain ranking favours it) and imported
    // first (so a tie would too): only closeness puts the near one first.
    for (name, summary) in [
        (
            "far.md",
            format!("The pool shrank. {filler} A connection dropped."),
        ),
        (
            "near.md",
            format!(
                "The connection pool ran dry under load. {filler} Workers were fine and the registry kept serving every request."
            ),
        ),
    ] {
        let source = markdown::Source {
            name: name.to_owned(),
            text: format!("# Incident {name}\n\n## Summary\n\n{summary}\n"),
            folder: None,
            root: None,
            files: Default::default(),
        };
        app.import_markdown(std::slice::from_ref(&source), Tz::UTC)
            .await;
    }
    let (_, files) = results(&app, &reader, "connection pool").await;
    assert_eq!(files, vec!["near.md".to_owned(), "far.md".to_owned()]);
}

#[tokio::test]
async fn a_word_only_in_a_draft_is_never_suggested_to_others_and_a_removed_word_not_at_all() {
    let app = TestApp::spawn().await;
    let (author, _) = app.signed_in(Role::Member).await;
    let (other, _) = app.signed_in(Role::Member).await;
    let (viewer, _) = app.signed_in(Role::Viewer).await;
    // A published postmortem about queues, so that some searches find
    // something and the "did you mean" path is taken too.
    let public = create_incident(&author, "Queue backlog in checkout").await;
    sqlx::query(
        "UPDATE postmortems p SET status = 'published', published_at = now()
         FROM incidents i WHERE i.id = p.incident_id AND i.number = $1",
    )
    .bind(public)
    .execute(&app.db)
    .await
    .expect("publish");
    let draft = create_incident(&author, "A draft").await;
    let version = crate::incidents::editor_version(&author, draft).await;
    let saved = crate::incidents::save_summary(
        &author,
        draft,
        &version,
        "The quuxbergite cache evicted every session.",
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);

    for query in ["quuxbergute", "queue or quuxbergute"] {
        let path = format!("/search?q={}", query.replace(' ', "+"));
        let mine = author.get(&path).await;
        assert!(
            mine.body
                .contains("Showing results for <strong>quuxbergite</strong>")
                || mine.body.contains(">queue or quuxbergite</a>?"),
            "the author may be offered their own word ({query})"
        );
        for (who, client) in [("another member", &other), ("a viewer", &viewer)] {
            let page = client.get(&path).await;
            assert_eq!(page.status, StatusCode::OK);
            assert!(
                !page.body.contains("quuxbergite"),
                "{who} is not offered a word of a draft ({query})"
            );
        }
    }

    // The word removed from the draft is suggested to nobody.
    let version = crate::incidents::editor_version(&author, draft).await;
    let saved =
        crate::incidents::save_summary(&author, draft, &version, "The cache evicted sessions.")
            .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    for query in ["quuxbergute", "queue or quuxbergute"] {
        let page = author
            .get(&format!("/search?q={}", query.replace(' ', "+")))
            .await;
        assert!(
            !page.body.contains("quuxbergite"),
            "a word gone everywhere is not suggested ({query})"
        );
    }
}
