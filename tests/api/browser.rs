//! Whole journeys in a real headless Chromium, driven through ChromeDriver.

use std::{process::Stdio, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::{PASSWORD, TestApp};

/// A ChromeDriver process and a browser session on it; both end on drop.
struct Browser {
    client: Client,
    _driver: Driver,
    _profile: TempDir,
}

/// ChromeDriver in a process group of its own, with the Chromium processes
/// it starts: on drop the whole group is killed, so a test that fails
/// before closing its session leaves no browser behind.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.0.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver_binary =
            std::env::var("DEBRIEF_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned());
        let driver = Command::new(&driver_binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("could not start {driver_binary} (apt-get install chromium chromium-driver): {error}"));
        let profile = TempDir(std::env::temp_dir().join(format!(
            "debrief-chromium-{}",
            uuid::Uuid::new_v4().simple()
        )));
        let chromium =
            std::env::var("DEBRIEF_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        // Headless, as root, with no network: the flags that work on these machines.
        let capabilities = json!({
            // Leaving a page with unsaved changes asks first; tests that
            // reload on purpose answer yes.
            "unhandledPromptBehavior": "accept",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.0.display()),
                ]
            }
        });
        let capabilities = capabilities.as_object().cloned().expect("an object");
        let webdriver = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..50 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        _driver: Driver(driver),
                        _profile: profile,
                    };
                }
                Err(error) => last_error = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("ChromeDriver did not start a browser: {last_error:?}");
    }

    async fn fill(&self, field_id: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Id(field_id))
            .await
            .expect(field_id);
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    async fn click(&self, css: &str) {
        let element = self.client.find(Locator::Css(css)).await.expect(css);
        // Out from under the sticky save bar.
        self.client
            .execute(
                "arguments[0].scrollIntoView({ block: 'center' });",
                vec![serde_json::to_value(&element).expect("element")],
            )
            .await
            .expect("scroll");
        element.click().await.expect("click");
    }

    async fn heading(&self) -> String {
        self.client
            .find(Locator::Css("h1"))
            .await
            .expect("h1")
            .text()
            .await
            .expect("text")
    }

    /// Waits (up to ten seconds) for the browser to arrive at `expected`,
    /// since a click that submits a form returns before the next page loads.
    async fn wait_for_path(&self, expected: &str) {
        for _ in 0..100 {
            if self.path().await == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(self.path().await, expected);
    }

    async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("url");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Saves what the browser shows, for a person to look at.
    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let folder = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&folder).expect("screenshot folder");
        std::fs::write(folder.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

#[tokio::test]
async fn a_newcomer_sets_up_signs_out_and_signs_back_in_with_a_real_browser() {
    let app = TestApp::spawn().await;
    let browser = Browser::start().await;

    browser
        .client
        .goto(&app.address)
        .await
        .expect("open Debrief");
    browser.wait_for_path("/setup").await;
    assert_eq!(browser.heading().await, "Welcome to Debrief");

    browser
        .client
        .goto(app.setup_link.as_deref().expect("setup link"))
        .await
        .expect("open the setup link");
    browser.fill("display_name", "Ada Lovelace").await;
    browser.fill("email", "ada@example.com").await;
    browser.fill("password", "short").await;
    browser.fill("password_confirm", "short").await;
    browser.click("form button[type=submit]").await;
    let problem = browser
        .client
        .wait()
        .for_element(Locator::Id("password-error"))
        .await
        .expect("the problem is named");
    assert!(
        problem
            .text()
            .await
            .expect("text")
            .contains("at least 12 characters")
    );
    let kept = browser
        .client
        .find(Locator::Id("display_name"))
        .await
        .expect("field");
    assert_eq!(
        kept.prop("value").await.expect("value").as_deref(),
        Some("Ada Lovelace")
    );
    browser.screenshot("setup-with-problems").await;

    browser.fill("password", PASSWORD).await;
    browser.fill("password_confirm", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for_path("/").await;
    assert_eq!(browser.heading().await, "Good to see you, Ada");
    browser.screenshot("home-after-setup").await;

    browser.click(".usermenu button[type=submit]").await;
    browser.wait_for_path("/login?signed_out=1").await;
    browser.fill("email", "ada@example.com").await;
    browser.fill("password", PASSWORD).await;
    browser.click("form button[type=submit]").await;
    browser.wait_for_path("/").await;
    assert!(
        browser
            .client
            .source()
            .await
            .expect("html")
            .contains("Ada Lovelace")
    );

    browser
        .client
        .goto(&format!("{}/admin/users", app.address))
        .await
        .expect("admin");
    browser.screenshot("admin-users").await;
    browser.click(".usermenu button[type=submit]").await;
    browser.wait_for_path("/login?signed_out=1").await;
    browser
        .client
        .goto(&format!("{}/account", app.address))
        .await
        .expect("account");
    browser.wait_for_path("/login?next=%2Faccount").await;

    browser
        .client
        .clone()
        .close()
        .await
        .expect("close the browser");
}

/// A 1×1 PNG, base64.
const TINY_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// How many rows the page's script has added so far.
async fn added_rows(browser: &Browser) -> usize {
    let count = browser
        .client
        .execute("return document.querySelectorAll('[id*=-added]').length > 0 ? Math.max(...Array.from(document.querySelectorAll('[id*=-added]')).map(e => Number(e.id.split('-added').pop()))) : 0;", vec![])
        .await
        .expect("count");
    count.as_u64().unwrap_or(0) as usize
}

impl Browser {
    /// Signs `email` in through the login page and waits for the home page.
    async fn sign_in(&self, app: &TestApp, email: &str) {
        self.client
            .goto(&format!("{}/login", app.address))
            .await
            .expect("open");
        self.fill_sign_in(email).await;
    }

    /// Fills and sends the sign-in form the browser shows.
    async fn fill_sign_in(&self, email: &str) {
        self.fill("email", email).await;
        self.fill("password", PASSWORD).await;
        self.submit("main form").await;
        self.wait_for_path("/").await;
    }

    /// Sets a field's value directly (date and time inputs take typed keys
    /// in a locale-dependent order, which a test should not depend on).
    async fn set_value(&self, field_id: &str, value: &str) {
        let script = "document.getElementById(arguments[0]).value = arguments[1];";
        self.client
            .execute(script, vec![json!(field_id), json!(value)])
            .await
            .expect("set a value");
    }

    async fn choose(&self, select_id: &str, value: &str) {
        self.click(&format!("#{select_id} option[value='{value}']"))
            .await;
    }

    async fn submit(&self, form_css: &str) {
        self.click(&format!("{form_css} button[type=submit]")).await;
    }

    async fn page_text(&self) -> String {
        self.client.source().await.expect("html")
    }

    /// Waits (up to ten seconds) until the page shows `text`.
    async fn wait_for_text(&self, text: &str) {
        for _ in 0..100 {
            if self.page_text().await.contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed {text:?}");
    }
}

#[tokio::test]
async fn an_author_writes_reviews_and_publishes_a_postmortem_that_survives_a_restart() {
    let mut app = TestApp::spawn().await;
    let member = debrief::domain::role::Role::Member;
    app.create_user("sam@example.com", "Sam Okafor", member)
        .await;
    app.create_user("rita@example.com", "Rita Chen", member)
        .await;
    let browser = Browser::start().await;
    let go = |path: &str| format!("{}{path}", app.address);

    browser.sign_in(&app, "sam@example.com").await;

    browser.click("a[href='/incidents']").await;
    browser.wait_for_path("/incidents").await;
    browser.click("a[href='/incidents/new']").await;
    browser.wait_for_path("/incidents/new").await;
    browser
        .fill("title", "Checkout returned 502s after a pool change")
        .await;
    browser.choose("severity", "sev2").await;
    browser
        .fill("services", "checkout-api, postgres-main")
        .await;
    browser.choose("time_zone", "Europe/Berlin").await;
    browser.set_value("started_at", "2026-03-01T14:05").await;
    browser.set_value("detected_at", "2026-03-01T14:18").await;
    browser.set_value("mitigated_at", "2026-03-01T15:00").await;
    browser.set_value("resolved_at", "2026-03-01T16:10").await;
    browser.submit("main form").await;
    browser.wait_for_path("/incidents/1/postmortem/edit").await;
    // From here the whole postmortem is written on this one page: every
    // section, 6 timeline rows, 4 factors, 4 action items and a screenshot,
    // then one save. Page loads are counted from the empty editor.
    let mut page_loads = 1;
    let mut form_submissions = 0;
    let sections = [
        (
            "summary",
            "Checkout failed for 55 minutes after the pool size was lowered.",
        ),
        ("impact", "About **1,200** customers could not pay."),
        (
            "trigger",
            "A config change lowered the database pool from 50 to 5.",
        ),
        ("went_well", "The alert fired within 13 minutes."),
        ("went_poorly", "The change had no canary."),
        ("got_lucky", "It happened outside the sales peak."),
        (
            "lessons",
            "Pool sizes are capacity settings and need review.",
        ),
    ];
    for (field, text) in sections {
        browser.fill(field, text).await;
    }
    browser.fill("users_affected", "1200").await;
    browser.fill("revenue_lost", "$12,500").await;
    let factors = [
        ("technical", "Pool size is not validated against load"),
        ("detection", "No alert on pool saturation"),
        ("process", "Database config changes skip the canary"),
        ("organizational", "Nobody owns capacity settings"),
    ];
    for (index, (category, text)) in factors.iter().enumerate() {
        if index >= 2 {
            browser.click("[data-add-row='factor']").await;
        }
        let suffix = (2..=index)
            .map(|n| format!("-added{}", n - 1))
            .collect::<String>();
        let id = if index < 2 {
            format!("{}", index + 1)
        } else {
            format!("2{suffix}")
        };
        browser
            .choose(&format!("factor-category-{id}"), category)
            .await;
        browser
            .fill(&format!("factor-description-{id}"), text)
            .await;
    }
    let entries = [
        ("2026-03-01 14:05", "trigger", "Config change deployed"),
        ("2026-03-01 14:18", "detection", "Error rate alert fired"),
        ("2026-03-01 14:25", "escalation", "Database on-call paged"),
        (
            "2026-03-01 14:40",
            "note",
            "Pool exhaustion seen in the metrics",
        ),
        ("2026-03-01 15:00", "mitigation", "Pool size restored"),
        (
            "2026-03-01 16:10",
            "resolution",
            "Error rate back to normal",
        ),
    ];
    let mut last = "entry-2".to_owned();
    for (index, (at, kind, text)) in entries.iter().enumerate() {
        let id = if index < 3 {
            format!("entry-{index}")
        } else {
            browser.click("[data-add-row='entry']").await;
            last = format!("{last}-added{}", added_rows(&browser).await);
            last.clone()
        };
        let (at_id, kind_id, text_id) = if index < 3 {
            (
                format!("{id}-at"),
                format!("{id}-kind"),
                format!("{id}-text"),
            )
        } else {
            let base = "entry-2";
            let tail = id.trim_start_matches(base);
            (
                format!("{base}-at{tail}"),
                format!("{base}-kind{tail}"),
                format!("{base}-text{tail}"),
            )
        };
        browser.fill(&at_id, at).await;
        browser.choose(&kind_id, kind).await;
        browser.fill(&text_id, text).await;
    }
    let items = [
        ("Alert when the pool is 80% used", "2026-04-01"),
        ("Validate pool size against peak load in CI", "2026-04-15"),
        ("Canary every database config change", "2026-05-01"),
        ("Name an owner for capacity settings", "2026-05-15"),
    ];
    let mut tail = String::new();
    for (index, (title, due)) in items.iter().enumerate() {
        if index > 0 {
            browser.click("[data-add-row='item']").await;
            tail = format!("{tail}-added{}", added_rows(&browser).await);
        }
        browser.fill(&format!("item-0-title{tail}"), title).await;
        browser.fill(&format!("item-0-due_on{tail}"), due).await;
    }
    // A screenshot pasted into the page is attached at once, without a load.
    browser
        .client
        .execute(
            "const png = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
             const transfer = new DataTransfer();
             transfer.items.add(new File([png], 'dashboard.png', { type: 'image/png' }));
             document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer }));",
            vec![json!(TINY_PNG)],
        )
        .await
        .expect("paste a screenshot");
    browser.wait_for_text("Attached dashboard.png").await;
    browser.screenshot("postmortem-editor").await;
    browser.submit("form.editor").await;
    page_loads += 1;
    form_submissions += 1;
    browser.wait_for_text("Saved as revision").await;
    let stored: (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM timeline_entries), (SELECT count(*) FROM contributing_factors),
                (SELECT count(*) FROM action_items), (SELECT count(*) FROM attachments)",
    )
    .fetch_one(&app.db)
    .await
    .expect("counts");
    assert_eq!(
        stored,
        (6, 4, 4, 1),
        "everything typed on the page was saved"
    );

    browser
        .client
        .goto(&go("/incidents/1"))
        .await
        .expect("the postmortem");
    page_loads += 1;
    browser
        .click("form.review-request input[name=reviewers]")
        .await;
    browser.click("form.review-request button").await;
    page_loads += 1;
    form_submissions += 1;
    browser.wait_for_text("Sent to review").await;
    println!(
        "from an empty incident to in review: {page_loads} page loads, {form_submissions} form submissions"
    );
    assert!(page_loads <= 4, "{page_loads} page loads");

    // The reviewer reads the draft from her home page and publishes it.
    browser.click(".usermenu button[type=submit]").await;
    browser.wait_for_path("/login?signed_out=1").await;
    browser.fill_sign_in("rita@example.com").await;
    browser.wait_for_text("you are asked to review").await;
    browser.click("a[href='/incidents/1']").await;
    browser.wait_for_path("/incidents/1").await;
    // If checks of the review checklist still fail, publishing asks for an
    // acknowledgement, which the reviewer gives.
    if browser.page_text().await.contains("name=\"acknowledge\"") {
        browser
            .client
            .execute(
                "document.querySelector(\"input[name='acknowledge']\").checked = true;",
                vec![],
            )
            .await
            .expect("tick the acknowledgement");
    }
    browser
        .click("form[action='/incidents/1/status'] button.btn-primary")
        .await;
    browser
        .wait_for_text("Published: everyone in the organization can read it now.")
        .await;
    browser.screenshot("postmortem-published").await;

    browser
        .client
        .goto(&go("/incidents?status=published"))
        .await
        .expect("list");
    browser
        .wait_for_text("Checkout returned 502s after a pool change")
        .await;

    app.restart().await;
    browser
        .client
        .goto(&format!("{}/incidents/1", app.address))
        .await
        .expect("after restart");
    let after = browser.page_text().await;
    assert!(
        after.contains("Checkout failed for 55 minutes"),
        "the summary survives"
    );
    assert!(
        after.contains("Error rate alert fired"),
        "the timeline survives"
    );
    for (title, _) in items {
        assert!(after.contains(title), "{title} survives");
    }
    assert!(after.contains("13 min"), "time to detect");
    browser
        .client
        .clone()
        .close()
        .await
        .expect("close the browser");
}

#[tokio::test]
async fn typing_a_blaming_sentence_into_the_root_cause_makes_the_checklist_flag_it() {
    let app = TestApp::spawn().await;
    let (browser, number) = sam_with_incident(&app, "Queue backlog").await;
    let go = |path: &str| format!("{}{path}", app.address);
    let editor = format!("/incidents/{number}/postmortem/edit");
    browser.client.goto(&go(&editor)).await.expect("editor");
    browser.wait_for_text("Review checklist").await;
    assert!(!browser.page_text().await.contains("<mark>"));

    // No save: the panel follows the text as it is typed.
    browser
        .fill(
            "trigger",
            "Human error: Sam Okafor failed to check the pool size.",
        )
        .await;
    browser.wait_for_text("<mark>Human error</mark>").await;
    browser.wait_for_text("<mark>Sam Okafor</mark>").await;
    browser.screenshot("checklist-live-panel").await;
    let saved = store_trigger(&app, number).await;
    assert!(saved.is_empty(), "nothing was saved");
}

async fn store_trigger(app: &TestApp, number: i32) -> String {
    sqlx::query_scalar(
        "SELECT p.trigger FROM postmortems p JOIN incidents i ON i.id = p.incident_id WHERE i.number = $1",
    )
    .bind(number)
    .fetch_one(&app.db)
    .await
    .expect("trigger")
}

/// A member, Sam, with an incident written over HTTP, and a browser signed
/// in as Sam: the start of the editor journeys.
async fn sam_with_incident(app: &TestApp, title: &str) -> (Browser, i32) {
    let (_, number) = sam_writes(app, title).await;
    (browser_as_sam(app, None).await, number)
}

/// Sam, a member, signed in over HTTP, with a new incident called `title`.
async fn sam_writes(app: &TestApp, title: &str) -> (crate::helpers::TestClient, i32) {
    let member = debrief::domain::role::Role::Member;
    app.create_user("sam@example.com", "Sam Okafor", member)
        .await;
    let writer = app.client();
    writer.sign_in("sam@example.com", PASSWORD).await;
    let number = crate::incidents::create_incident(&writer, title).await;
    (writer, number)
}

/// A browser signed in as Sam, its window `width` × `height` when given.
async fn browser_as_sam(app: &TestApp, size: Option<(u32, u32)>) -> Browser {
    let browser = Browser::start().await;
    if let Some((width, height)) = size {
        browser
            .client
            .set_window_size(width, height)
            .await
            .expect("a window of that size");
    }
    browser.sign_in(app, "sam@example.com").await;
    browser
}

#[tokio::test]
async fn words_typed_into_the_editor_survive_a_reload_and_a_new_session() {
    let app = TestApp::spawn().await;
    let (browser, number) = sam_with_incident(&app, "Queue backlog").await;
    let editor = format!("{}/incidents/{number}/postmortem/edit", app.address);
    browser.client.goto(&editor).await.expect("editor");
    browser
        .fill("summary", "The queue backed up for an hour.")
        .await;
    browser.fill("entry-0-at", "2026-03-01 14:12").await;
    browser
        .fill("entry-0-text", "Consumer lag alert fired")
        .await;
    browser
        .fill("item-0-title", "Alert on consumer lag per partition")
        .await;
    browser.wait_for_text("Draft kept at").await;

    browser.client.refresh().await.expect("reload");
    browser.wait_for_text("Restored unsaved changes from").await;
    let page = browser.page_text().await;
    for words in [
        "The queue backed up for an hour.",
        "2026-03-01 14:12",
        "Consumer lag alert fired",
        "Alert on consumer lag per partition",
    ] {
        assert!(page.contains(words), "{words} survives the reload");
    }
    browser.screenshot("editor-restored").await;

    // The tab is gone: a new session (another device) finds the same words.
    browser
        .client
        .delete_all_cookies()
        .await
        .expect("forget the session");
    browser.sign_in(&app, "sam@example.com").await;
    browser.client.goto(&editor).await.expect("editor again");
    browser.wait_for_text("Restored unsaved changes from").await;
    assert!(
        browser
            .page_text()
            .await
            .contains("Consumer lag alert fired")
    );
    browser.click("[data-dismiss='restored']").await;
    browser.submit("form.editor").await;
    browser.wait_for_text("Saved as revision").await;
    let entries: i64 = sqlx::query_scalar("SELECT count(*) FROM timeline_entries")
        .fetch_one(&app.db)
        .await
        .expect("entries");
    assert_eq!(entries, 1);
    browser.client.clone().close().await.expect("close");
}

#[tokio::test]
async fn every_main_page_fits_a_phone_without_sideways_scrolling() {
    let app = TestApp::spawn().await;
    let (writer, number) = sam_writes(
        &app,
        "Checkout returned 502s after a connection pool change in production",
    )
    .await;
    crate::incidents::add_entries(
        &writer,
        number,
        &[("2026-03-01 14:05", "trigger", "A long line of text about the deploy that changed https://example.com/a/very/long/path/without/breaks/at/all/anywhere")],
    )
    .await;
    crate::incidents::add_item(
        &writer,
        number,
        &[("title", "Alert when the pool is 80% used")],
    )
    .await;
    let browser = browser_as_sam(&app, Some((390, 844))).await;
    let pages = [
        "/".to_owned(),
        "/incidents".to_owned(),
        format!("/incidents/{number}"),
        format!("/incidents/{number}/postmortem/edit"),
        format!("/incidents/{number}/edit"),
        format!("/incidents/{number}/timeline/import"),
        "/search?q=pool".to_owned(),
        "/action-items".to_owned(),
        "/review".to_owned(),
    ];
    for path in pages {
        browser
            .client
            .goto(&format!("{}{path}", app.address))
            .await
            .expect("open");
        let widths = browser
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .expect("widths");
        let (document, viewport) = (
            widths[0].as_u64().unwrap_or(0),
            widths[1].as_u64().unwrap_or(0),
        );
        let name = path.trim_matches('/').replace(['/', '?', '='], "-");
        browser
            .screenshot(&format!(
                "phone-{}",
                if name.is_empty() { "home" } else { &name }
            ))
            .await;
        assert!(
            document <= viewport,
            "{path} is {document} px wide in a {viewport} px window"
        );
    }
    browser.client.clone().close().await.expect("close");
}

#[tokio::test]
async fn the_reading_page_uses_a_wide_screen_without_wrapping_a_date() {
    let app = TestApp::spawn().await;
    let (writer, number) = sam_writes(&app, "Checkout returned 502s").await;
    crate::incidents::add_entries(
        &writer,
        number,
        &[
            (
                "2026-03-01 14:05",
                "trigger",
                "Deploy of **v2.14** with `pool_size = 5`",
            ),
            (
                "2026-03-01 14:18",
                "detection",
                "Alert: checkout 5xx above 2 %",
            ),
        ],
    )
    .await;
    let browser = browser_as_sam(&app, Some((1400, 900))).await;
    browser
        .client
        .goto(&format!("{}/incidents/{number}", app.address))
        .await
        .expect("open");
    // Each date is one line: its text makes one box per line it spans.
    let lines = browser
        .client
        .execute(
            "return [...document.querySelectorAll('.facts dd.mono, .timeline td.mono, .items td.mono')]
               .filter(el => el.textContent.trim() !== '')
               .map(el => { const r = document.createRange(); r.selectNodeContents(el.firstChild);
                            return [el.textContent.trim(), r.getClientRects().length]; });",
            vec![],
        )
        .await
        .expect("dates");
    let lines = lines.as_array().expect("a list").clone();
    assert!(lines.len() >= 6, "key times and timeline dates: {lines:?}");
    for date in &lines {
        assert_eq!(date[1].as_u64(), Some(1), "wrapped: {date}");
    }
    // Markdown in timeline entries is rendered, not shown as asterisks.
    let strong = browser
        .client
        .execute(
            "return document.querySelector('.timeline .tl-text strong')?.textContent;",
            vec![],
        )
        .await
        .expect("entry markup");
    assert_eq!(strong.as_str(), Some("v2.14"));
    browser.screenshot("wide-reading-page").await;
    browser.client.clone().close().await.expect("close");
}

#[tokio::test]
async fn a_chat_log_becomes_timeline_rows_with_guessed_kinds_and_the_repeat_left_out() {
    let app = TestApp::spawn().await;
    let (writer, number) = sam_writes(&app, "Checkout returned 502s").await;
    crate::incidents::add_entries(
        &writer,
        number,
        &[("2026-03-01 13:07", "mitigation", "alex: rolling back v2.14")],
    )
    .await;
    let browser = browser_as_sam(&app, Some((1400, 900))).await;
    browser
        .client
        .goto(&format!(
            "{}/incidents/{number}/timeline/import",
            app.address
        ))
        .await
        .expect("open");
    browser
        .fill(
            "import-input",
            "[2026-03-01 14:05] sam: Alert firing: checkout 5xx above 2%\n\
             [2026-03-01 14:07] alex: rolling back v2.14\n\
             [2026-03-01 14:20] sam: error rate back to normal, resolved",
        )
        .await;
    browser
        .client
        .execute(
            "document.getElementById('import-zone').value = 'Europe/Berlin';",
            vec![],
        )
        .await
        .expect("zone");
    browser.click("form.card button[type=submit]").await;
    let state = async |script: &str| {
        browser
            .client
            .execute(script, vec![])
            .await
            .expect("read the preview")
    };
    for _ in 0..100 {
        if state("return !!document.getElementById('row-0-kind');").await == serde_json::json!(true)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let read = state(
        "return [0, 1, 2].map(i => [document.getElementById('row-' + i + '-kind').value,
                                    document.getElementById('pick-' + i).checked]);",
    )
    .await;
    assert_eq!(
        read,
        serde_json::json!([
            ["detection", true],
            ["mitigation", false],
            ["resolution", true]
        ]),
        "kinds from the words; the rollback already typed is left unticked"
    );
    browser.screenshot("import-preview-wide").await;
    browser
        .client
        .set_window_size(390, 844)
        .await
        .expect("a phone-sized window");
    let widths = state("return [document.documentElement.scrollWidth, window.innerWidth];").await;
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "the preview fits a phone: {widths}"
    );
    browser.screenshot("import-preview-phone").await;
    browser
        .client
        .set_window_size(1400, 900)
        .await
        .expect("a wide window");
    // The author calls the alert the trigger, and adds.
    state("document.getElementById('row-0-kind').value = 'trigger';").await;
    browser.click("button[value=add]").await;
    browser
        .wait_for_path(&format!("/incidents/{number}/postmortem/edit"))
        .await;
    let rows = sqlx::query!(
        r#"SELECT kind::text AS "kind!", speaker FROM timeline_entries
           WHERE source = 'chat log' ORDER BY occurred_at"#
    )
    .fetch_all(&app.db)
    .await
    .expect("entries");
    let got: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|row| (row.kind.as_str(), row.speaker.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![("trigger", Some("sam")), ("resolution", Some("sam"))]
    );
    browser.client.clone().close().await.expect("close");
}

#[tokio::test]
async fn a_review_conversation_runs_from_a_passage_comment_to_publication() {
    let app = TestApp::spawn().await;
    let (writer, number) = sam_writes(&app, "Checkout 502s").await;
    sqlx::query(
        "UPDATE postmortems SET summary = 'The pool was lowered from 50 to 5 by a config change.'",
    )
    .execute(&app.db)
    .await
    .expect("summary");
    let member = debrief::domain::role::Role::Member;
    let nina = app
        .create_user("nina@example.com", "Nina Kowalski", member)
        .await;
    let sent = writer
        .post_form(
            &format!("/incidents/{number}/status"),
            &[("status", "in_review"), ("reviewers", &nina.to_string())],
        )
        .await;
    assert_eq!(sent.status, reqwest::StatusCode::SEE_OTHER);
    let page = format!("{}/incidents/{number}", app.address);

    // The reviewer selects a passage and comments on it.
    let reviewer = Browser::start().await;
    reviewer.sign_in(&app, "nina@example.com").await;
    reviewer.client.goto(&page).await.expect("open");
    reviewer
        .client
        .execute(
            "const text = document.querySelector('[data-commentable=summary] p').firstChild;
             const at = text.data.indexOf('from 50 to 5');
             const range = document.createRange();
             range.setStart(text, at); range.setEnd(text, at + 'from 50 to 5'.length);
             const selection = document.getSelection();
             selection.removeAllRanges(); selection.addRange(range);
             document.dispatchEvent(new Event('selectionchange'));",
            vec![],
        )
        .await
        .expect("select a passage");
    reviewer.click(".comment-offer").await;
    reviewer
        .fill("comment-summary-body", "Why 5? Was that a typo?")
        .await;
    reviewer.submit("#comment-form-summary").await;
    reviewer.wait_for_text("Why 5? Was that a typo?</p>").await;
    reviewer.wait_for_text("“from 50 to 5”").await;

    // The author changes the passage: the comment shows as outdated with its quote.
    let author = browser_as_sam(&app, None).await;
    author
        .client
        .goto(&format!("{page}/postmortem/edit"))
        .await
        .expect("open the editor");
    author.wait_for_text("1 review comment to answer").await;
    author
        .fill(
            "summary",
            "The pool was lowered from 50 to 10 by a config change.",
        )
        .await;
    author.submit("form.editor").await;
    author.wait_for_text("Saved as revision").await;
    author.client.goto(&page).await.expect("open");
    author.wait_for_text("Outdated").await;
    assert!(author.page_text().await.contains("“from 50 to 5”"));
    author.click(".thread .reply summary").await;
    let reply_box = author
        .client
        .find(Locator::Css(".thread .reply textarea"))
        .await
        .expect("the reply box");
    reply_box
        .send_keys("It was a typo: 10 now, and validated.")
        .await
        .expect("type");
    author.submit(".thread .reply form").await;
    author.wait_for_text("10 now, and validated.</p>").await;
    author.submit(".thread form.inline").await;
    author.wait_for_text("Resolved by Sam Okafor").await;

    // The reviewer approves and publishes.
    reviewer.client.goto(&page).await.expect("open");
    reviewer.wait_for_text("Resolved by Sam Okafor").await;
    reviewer.click("#review button[value=approve]").await;
    reviewer.wait_for_text("Approved.").await;
    // This short postmortem fails checks of the checklist: publishing asks
    // the reviewer to acknowledge them.
    reviewer.click("input[name=acknowledge]").await;
    reviewer
        .click("form.inline input[value=published] ~ button[type=submit]")
        .await;
    reviewer
        .wait_for_text("Published: everyone in the organization can read it now.")
        .await;
    reviewer.screenshot("review-conversation").await;
    let status: String = sqlx::query_scalar("SELECT status::text FROM postmortems")
        .fetch_one(&app.db)
        .await
        .expect("status");
    assert_eq!(status, "published");
}

#[tokio::test]
async fn a_person_signs_in_through_the_organizations_provider_in_a_real_browser() {
    let port = crate::sso::free_port();
    let app = TestApp::spawn_integrated(crate::sso::sso_settings(port)).await;
    let _provider = crate::sso::OidcProvider::start(port, &app).await;
    let browser = Browser::start().await;

    browser
        .client
        .goto(&format!("{}/login", app.address))
        .await
        .expect("the sign-in page");
    browser.screenshot("sso-sign-in-page").await;
    browser.click("a[href^='/auth/oidc']").await;
    // The provider's own sign-in page, then its consent page.
    let login = browser
        .client
        .wait()
        .for_element(Locator::Css("input[name=login]"))
        .await
        .expect("the provider's sign-in form");
    login.send_keys("max@acme.test").await.expect("type");
    browser
        .client
        .find(Locator::Css("input[name=password]"))
        .await
        .expect("password field")
        .send_keys("any password")
        .await
        .expect("type");
    browser.click("button[type=submit]").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css("input[name=prompt][value=consent]"))
        .await
        .expect("the provider's consent page");
    browser.click("button[type=submit]").await;

    browser.wait_for_path("/").await;
    let text = browser.page_text().await;
    assert!(text.contains("Max Member"), "{text}");
    let role: String =
        sqlx::query_scalar("SELECT role::text FROM users WHERE email = 'max@acme.test'")
            .fetch_one(&app.db)
            .await
            .expect("the account made at first sign-in");
    assert_eq!(role, "member");
}

/// axe-core's source, from the pinned npm package in `tests/axe`.
fn axe_source() -> String {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/axe");
    crate::helpers::npm_packages(&folder, "axe-core");
    std::fs::read_to_string(folder.join("node_modules/axe-core/axe.min.js")).expect("axe.min.js")
}

/// Runs axe-core on the page the browser shows; gives its serious and
/// critical findings ("rule: help (n places: first targets)") and how many
/// lesser ones it found.
async fn audit(browser: &Browser, axe: &str) -> (Vec<String>, usize) {
    browser
        .client
        .execute(&format!("{axe}\nreturn true;"), vec![])
        .await
        .expect("axe-core loads");
    let found = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then(r => done(r.violations.map(v => ({ impact: v.impact, id: v.id, help: v.help,
                    targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')), count: v.nodes.length }))))
                .catch(e => done([{ impact: 'critical', id: 'axe-failed', help: String(e), targets: [], count: 1 }]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    let findings = found.as_array().cloned().unwrap_or_default();
    let mut grave = Vec::new();
    let mut lesser = 0;
    for finding in findings {
        let impact = finding["impact"].as_str().unwrap_or("");
        if matches!(impact, "serious" | "critical") {
            grave.push(format!(
                "{impact} {}: {} ({} places: {})",
                finding["id"].as_str().unwrap_or(""),
                finding["help"].as_str().unwrap_or(""),
                finding["count"],
                finding["targets"]
            ));
        } else {
            lesser += 1;
        }
    }
    (grave, lesser)
}

#[tokio::test]
async fn every_main_page_passes_axe_core_with_no_serious_or_critical_finding() {
    let app = TestApp::spawn().await;
    debrief::seed::demo::seed(&app.db, &app.clock, |_, _, _| {})
        .await
        .expect("the demo archive");
    let axe = axe_source();
    let browser = Browser::start().await;
    let mut problems = Vec::new();
    let mut lesser = 0;
    let mut audited = 0;
    // The sign-in page as a visitor, then the rest as the demo admin.
    let pages = [
        "/login",
        "/",
        "/incidents",
        "/incidents/1",
        "/incidents/1/postmortem/edit",
        "/incidents/1/history",
        "/incidents/1/timeline/import",
        "/incidents/new",
        "/search?q=pool",
        "/action-items",
        "/review",
        "/themes",
        "/services",
        "/checklist",
        "/account",
        "/admin/users",
        "/admin/audit",
    ];
    for path in pages {
        browser
            .client
            .goto(&format!("{}{path}", app.address))
            .await
            .expect("open");
        let (grave, minor) = audit(&browser, &axe).await;
        problems.extend(
            grave
                .into_iter()
                .map(|finding| format!("{path}: {finding}")),
        );
        lesser += minor;
        audited += 1;
        if path == "/login" {
            browser.fill("email", debrief::seed::demo::DEMO_ADMIN).await;
            browser
                .fill("password", debrief::seed::demo::DEMO_PASSWORD)
                .await;
            browser.submit("main form").await;
            browser.wait_for_path("/").await;
        }
    }
    browser.client.clone().close().await.expect("close");
    assert!(problems.is_empty(), "{problems:#?}");
    eprintln!(
        "axe-core on {audited} pages: no serious or critical finding ({lesser} moderate or minor rules flagged)"
    );
}
