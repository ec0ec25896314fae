//! Admin pages: roles on every route, invitations, deactivation, teams.

use debrief::domain::role::Role;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp};

/// Every admin page, for the role checks.
const ADMIN_PAGES: [&str; 3] = ["/admin/users", "/admin/teams", "/admin/audit"];

#[tokio::test]
async fn only_admins_reach_the_admin_pages() {
    let app = TestApp::spawn().await;
    let someone = app
        .create_user("someone@example.com", "Someone", Role::Member)
        .await;
    let team = debrief::store::teams::insert_team(&app.db, "Payments", app.clock.now())
        .await
        .expect("team");
    let user_page = format!("/admin/users/{someone}");
    let team_page = format!("/admin/teams/{team}");
    let pages: Vec<&str> = ADMIN_PAGES
        .iter()
        .copied()
        .chain([user_page.as_str(), team_page.as_str()])
        .collect();

    let (admin, _) = app.signed_in(Role::Admin).await;
    for path in &pages {
        assert_eq!(
            admin.get(path).await.status,
            StatusCode::OK,
            "admin on {path}"
        );
    }
    for role in [Role::Member, Role::Viewer] {
        let (client, _) = app.signed_in(role).await;
        for path in &pages {
            assert_eq!(
                client.get(path).await.status,
                StatusCode::FORBIDDEN,
                "{role} on {path}"
            );
        }
    }
    let anonymous = app.client();
    for path in &pages {
        let page = anonymous.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "anonymous on {path}");
        assert!(
            page.location()
                .is_some_and(|to| to.starts_with("/login?next="))
        );
    }
}

#[tokio::test]
async fn members_and_viewers_cannot_change_users_or_teams() {
    let app = TestApp::spawn().await;
    let target = app
        .create_user("target@example.com", "Target", Role::Member)
        .await;
    let team = debrief::store::teams::insert_team(&app.db, "Payments", app.clock.now())
        .await
        .expect("team");
    for role in [Role::Member, Role::Viewer] {
        let (client, _) = app.signed_in(role).await;
        let attempts = [
            (
                "/admin/users".to_owned(),
                vec![
                    ("email", "x@example.com"),
                    ("display_name", "X"),
                    ("role", "admin"),
                ],
            ),
            (
                format!("/admin/users/{target}/role"),
                vec![("role", "admin")],
            ),
            (format!("/admin/users/{target}/deactivate"), vec![]),
            (format!("/admin/users/{target}/reactivate"), vec![]),
            (format!("/admin/users/{target}/link"), vec![]),
            ("/admin/teams".to_owned(), vec![("name", "Sneaky")]),
            (
                format!("/admin/teams/{team}/members"),
                vec![("user_id", "00000000-0000-0000-0000-000000000000")],
            ),
        ];
        for (path, form) in &attempts {
            let page = client.post_form(path, form).await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "{role} posting to {path}"
            );
        }
    }
    let user = debrief::store::users::get_user(&app.db, target)
        .await
        .expect("query")
        .expect("user");
    assert_eq!((user.role, user.active), (Role::Member, true));
}

#[tokio::test]
async fn an_invited_user_chooses_a_password_through_a_link_that_works_once() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let page = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "New.Person@example.com"),
                ("display_name", "New Person"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let link = one_time_link(&page.body, &admin.address);
    let path = link.trim_start_matches(&admin.address).to_owned();

    let newcomer = app.client();
    let form = newcomer.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Welcome, New Person"));
    let weak = newcomer
        .post_form(
            &path,
            &[("password", "short"), ("password_confirm", "short")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = newcomer
        .post_form(
            &path,
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(
        newcomer
            .get("/")
            .await
            .body
            .contains("Your password is set")
    );

    assert_eq!(
        app.client().get(&path).await.status,
        StatusCode::GONE,
        "used up"
    );
    let signed_in = app
        .client()
        .sign_in("new.person@example.com", PASSWORD)
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_newer_link_replaces_the_older_and_links_expire() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let user = app
        .create_user("lin@example.com", "Lin Wei", Role::Member)
        .await;
    let first = admin
        .post_form(&format!("/admin/users/{user}/link"), &[])
        .await;
    let first = one_time_link(&first.body, &admin.address);
    let second = admin
        .post_form(&format!("/admin/users/{user}/link"), &[])
        .await;
    let second = one_time_link(&second.body, &admin.address);
    let visitor = app.client();
    let path = |link: &str| link.trim_start_matches(&admin.address).to_owned();
    assert_eq!(visitor.get(&path(&first)).await.status, StatusCode::GONE);
    assert_eq!(visitor.get(&path(&second)).await.status, StatusCode::OK);

    app.advance(chrono::Duration::hours(25));
    assert_eq!(
        visitor.get(&path(&second)).await.status,
        StatusCode::GONE,
        "reset links last 24 hours"
    );
}

#[tokio::test]
async fn inviting_with_bad_input_keeps_the_values_and_names_the_problems() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    app.create_user("taken@example.com", "Taken", Role::Member)
        .await;

    let page = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "taken@example.com"),
                ("display_name", "  "),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains(r#"id="display_name-error""#));

    let page = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "taken@example.com"),
                ("display_name", "Second Taken"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("already has an account"));
    assert!(page.body.contains(r#"value="Second Taken""#));
    assert!(page.body.contains(r#"<option value="viewer" selected>"#));
}

#[tokio::test]
async fn deactivating_a_user_ends_their_sessions_at_once_and_reactivating_lets_them_back() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (member, member_id) = app.signed_in(Role::Member).await;
    assert_eq!(member.get("/account").await.status, StatusCode::OK);

    let done = admin
        .post_form(&format!("/admin/users/{member_id}/deactivate"), &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(
        member.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "signed out at once"
    );

    admin
        .post_form(&format!("/admin/users/{member_id}/reactivate"), &[])
        .await;
    let user = debrief::store::users::get_user(&app.db, member_id)
        .await
        .expect("query")
        .expect("user");
    assert!(user.active);
    let events: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_events WHERE target_id = $1 ORDER BY id")
            .bind(member_id)
            .fetch_all(&app.db)
            .await
            .expect("audit");
    assert!(
        events.ends_with(&["user_deactivated".to_owned(), "user_reactivated".to_owned()]),
        "{events:?}"
    );
}

#[tokio::test]
async fn changing_a_role_applies_at_once() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let (member, member_id) = app.signed_in(Role::Member).await;

    admin
        .post_form(
            &format!("/admin/users/{member_id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(
        member.get("/account").await.status,
        StatusCode::SEE_OTHER,
        "signed in again to pick up the role"
    );
    let user = debrief::store::users::get_user(&app.db, member_id)
        .await
        .expect("query")
        .expect("user");
    assert_eq!(user.role, Role::Admin);
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let app = TestApp::spawn().await;
    let (admin, admin_id) = app.signed_in(Role::Admin).await;
    let demote = admin
        .post_form(
            &format!("/admin/users/{admin_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(demote.status, StatusCode::FORBIDDEN);
    let deactivate = admin
        .post_form(&format!("/admin/users/{admin_id}/deactivate"), &[])
        .await;
    assert_eq!(deactivate.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.get("/admin/users").await.status, StatusCode::OK);
}

#[tokio::test]
async fn admins_create_teams_add_members_and_mark_leads() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let lin = app
        .create_user("lin@example.com", "Lin Wei", Role::Member)
        .await;

    let created = admin
        .post_form("/admin/teams", &[("name", "Payments")])
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let team_path = created.location().expect("team page").to_owned();

    let duplicate = admin
        .post_form("/admin/teams", &[("name", "payments")])
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        duplicate.body.contains("exists already") && duplicate.body.contains(r#"value="payments""#)
    );

    let lin_id = lin.to_string();
    let added = admin
        .post_form(
            &format!("{team_path}/members"),
            &[("user_id", lin_id.as_str()), ("is_lead", "true")],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let page = admin.get(&team_path).await;
    assert!(page.body.contains("Lin Wei") && page.body.contains("badge-lead"));

    admin
        .post_form(
            &format!("{team_path}/members/{lin}/lead"),
            &[("is_lead", "false")],
        )
        .await;
    assert!(!admin.get(&team_path).await.body.contains("badge-lead"));

    let bogus = admin
        .post_form(&format!("{team_path}/members"), &[("user_id", "nobody")])
        .await;
    assert_eq!(bogus.status, StatusCode::UNPROCESSABLE_ENTITY);

    admin
        .post_form(&format!("{team_path}/members/{lin}/remove"), &[])
        .await;
    let page = admin.get(&team_path).await;
    assert!(page.body.contains("Lin Wei left Payments."));
    assert!(
        !page.body.contains(&format!("/admin/users/{lin}")),
        "no longer listed"
    );
}

/// The link shown to the admin after an invite or reset.
fn one_time_link(html: &str, address: &str) -> String {
    let marker = format!(r#"value="{address}/welcome/"#);
    let start = html.find(&marker).expect("a one-time link") + r#"value=""#.len();
    let end = html[start..].find('"').expect("end of link") + start;
    html[start..end].to_owned()
}

#[tokio::test]
async fn deactivating_a_user_revokes_their_one_time_links() {
    let app = TestApp::spawn().await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let user = app
        .create_user("lin@example.com", "Lin Wei", Role::Member)
        .await;
    let page = admin
        .post_form(&format!("/admin/users/{user}/link"), &[])
        .await;
    let link = one_time_link(&page.body, &admin.address);
    admin
        .post_form(&format!("/admin/users/{user}/deactivate"), &[])
        .await;
    admin
        .post_form(&format!("/admin/users/{user}/reactivate"), &[])
        .await;
    let path = link.trim_start_matches(&admin.address).to_owned();
    assert_eq!(app.client().get(&path).await.status, StatusCode::GONE);
}

#[tokio::test]
async fn the_command_line_creates_a_user_with_a_working_invite_link() {
    let app = TestApp::spawn().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args([
            "user",
            "create",
            "--email",
            "Ops@Example.com",
            "--name",
            "Ops Lead",
            "--admin",
        ])
        .env("DATABASE_URL", app.database_url())
        .env("DEBRIEF_BASE_URL", &app.address)
        .output()
        .expect("run debrief");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let link = stdout
        .lines()
        .find(|line| line.contains("/welcome/"))
        .expect("a link is printed");
    let path = link.trim().trim_start_matches(&app.address).to_owned();

    let newcomer = app.client();
    assert_eq!(newcomer.get(&path).await.status, StatusCode::OK);
    newcomer
        .post_form(
            &path,
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(
        newcomer.get("/admin/users").await.status,
        StatusCode::OK,
        "an admin"
    );
    assert_eq!(
        app.client().get("/setup").await.status,
        StatusCode::NOT_FOUND,
        "setup is over"
    );
}
