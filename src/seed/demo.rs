//! `debrief seed --demo`: a dozen realistic postmortems written for the
//! demo (`demo/archive.json`, compiled in), with their people and teams.
//! Times are relative to today, so the demo always has overdue and stale
//! items.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    clock::Clock,
    domain::{
        action::{ActionKind, ActionStatus, Priority},
        document::Sections,
        email::Email,
        incident::{IncidentKind, LinkKind, Severity},
        password,
        postmortem::{PostmortemStatus, TimelineKind},
        role::Role,
        time,
    },
    store::{
        self,
        action_items::{ActionFields, NewChange},
        incidents::IncidentFields,
        postmortems::FactorRow,
        timeline::EntryFields,
        users::NewUser,
    },
};

/// The password of every demo account, printed after seeding.
pub const DEMO_PASSWORD: &str = "debrief-demo-password";
/// The demo admin, whose sign-in is printed.
pub const DEMO_ADMIN: &str = "alex@demo.debrief.dev";

const ARCHIVE: &str = include_str!("../../demo/archive.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Archive {
    teams: Vec<String>,
    users: Vec<DemoUser>,
    postmortems: Vec<DemoPostmortem>,
    /// Patterns across the postmortems, each linking factors by the
    /// incident's title and the factor's place in its list.
    #[serde(default)]
    themes: Vec<DemoTheme>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoTheme {
    name: String,
    description: String,
    links: Vec<DemoThemeLink>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoThemeLink {
    incident: String,
    factor: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoUser {
    email: String,
    name: String,
    role: String,
    teams: Vec<String>,
    leads: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoPostmortem {
    title: String,
    kind: IncidentKind,
    severity: Severity,
    status: PostmortemStatus,
    services: Vec<String>,
    tags: Vec<String>,
    teams: Vec<String>,
    authors: Vec<String>,
    reviewers: Vec<String>,
    time_zone: String,
    started_days_ago: i64,
    started_at_local: String,
    detected_after_minutes: Option<i64>,
    mitigated_after_minutes: Option<i64>,
    resolved_after_minutes: Option<i64>,
    summary: String,
    impact: String,
    users_affected: Option<i64>,
    failed_requests: Option<i64>,
    revenue_lost: Option<f64>,
    slo_budget_consumed: Option<f64>,
    trigger: String,
    factors: Vec<DemoFactor>,
    went_well: String,
    went_poorly: String,
    got_lucky: String,
    lessons: String,
    timeline: Vec<DemoEntry>,
    action_items: Vec<DemoItem>,
    /// Days from resolution to publication (three when unset).
    published_after_days: Option<i64>,
    /// The start of the title of an earlier demo incident this one repeats.
    repeat_of: Option<String>,
    /// Who took part, and how.
    #[serde(default)]
    participants: Vec<DemoParticipant>,
    /// Review threads, with their replies.
    #[serde(default)]
    comments: Vec<DemoComment>,
    /// The teams a restricted postmortem is open to (unrestricted when empty).
    #[serde(default)]
    restricted_to: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoParticipant {
    /// A demo user's email, or the name of someone without an account.
    who: String,
    role: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoComment {
    section: String,
    #[serde(default)]
    quote: Option<String>,
    author: String,
    body: String,
    #[serde(default)]
    replies: Vec<DemoReply>,
    /// Who resolved the thread, if anyone did.
    #[serde(default)]
    resolved_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoReply {
    author: String,
    body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoFactor {
    #[serde(
        alias = "category",
        deserialize_with = "crate::domain::taxonomy::one_or_many"
    )]
    categories: Vec<String>,
    description: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoEntry {
    after_minutes: i64,
    kind: TimelineKind,
    text: String,
    source: String,
    link: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoItem {
    title: String,
    description: String,
    kind: ActionKind,
    priority: Priority,
    owner: String,
    team: String,
    due_in_days: i64,
    status: ActionStatus,
    closing_reason: Option<String>,
    tracker_url: Option<String>,
    factor: Option<usize>,
    /// Done this many days after its due date (otherwise when written).
    done_late_days: Option<i64>,
    /// Earlier due dates (days from today), oldest first: each was moved
    /// to the next, and the last to `due_in_days`, in the last weeks.
    #[serde(default)]
    pushed_from_days: Vec<i64>,
}

/// What a seeding run did.
#[derive(Debug, Default)]
pub struct SeedSummary {
    pub users: usize,
    pub teams: usize,
    pub postmortems: usize,
    pub action_items: usize,
    pub themes: usize,
}

/// Whether the archive is new: no incident and no account. The demo's
/// accounts share a published password, so it never goes into an archive
/// that real people already use.
pub async fn archive_is_empty(db: &mut PgConnection) -> anyhow::Result<bool> {
    Ok(store::incidents::count_incidents(&mut *db).await? == 0
        && store::users::count_users(&mut *db).await? == 0)
}

/// Why the demo was not seeded.
pub const ALREADY_FILLED: &str =
    "the archive already has accounts or incidents; the demo only goes into a new, empty archive";

/// Seeds the demo archive into an archive without incidents; `progress`
/// hears about each postmortem as it lands.
pub async fn seed(
    pool: &PgPool,
    clock: &Clock,
    mut progress: impl FnMut(usize, usize, &str),
) -> anyhow::Result<SeedSummary> {
    let archive: Archive =
        serde_json::from_str(ARCHIVE).context("the demo archive does not parse")?;
    let now = clock.now();
    let mut summary = SeedSummary::default();
    let mut tx = crate::store::begin(pool).await?;
    // Replicas started together with --demo: one seeds, the others wait
    // here and then find the archive filled.
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('debrief: demo seed'))")
        .execute(&mut *tx)
        .await?;
    if !archive_is_empty(&mut tx).await? {
        bail!(ALREADY_FILLED);
    }
    let teams = seed_teams(&mut tx, &archive.teams, now).await?;
    summary.teams = teams.len();
    let users = seed_users(&mut tx, &archive.users, &teams, now).await?;
    summary.users = users.len();
    let mut lookup = Lookup {
        users,
        teams,
        incidents: Vec::new(),
        factors: Vec::new(),
    };
    let total = archive.postmortems.len();
    for (index, postmortem) in archive.postmortems.iter().enumerate() {
        summary.action_items += seed_postmortem(&mut tx, postmortem, &mut lookup, now).await?;
        summary.postmortems += 1;
        progress(index + 1, total, &postmortem.title);
    }
    seed_services(&mut tx, now).await?;
    summary.themes = seed_themes(&mut tx, &archive.themes, &lookup, now).await?;
    store::links::delete_setup_links(&mut *tx).await?;
    tx.commit().await?;
    Ok(summary)
}

/// Every service the demo's incidents name, owned by the team of the
/// first incident that names it.
async fn seed_services(tx: &mut PgConnection, now: DateTime<Utc>) -> anyhow::Result<()> {
    sqlx::query!(
        "INSERT INTO services (id, name, owner_team_id, created_at, updated_at)
         SELECT gen_random_uuid(), named.service,
                (SELECT t.team_id FROM incidents i JOIN incident_teams t ON t.incident_id = i.id
                 WHERE named.service = ANY (i.services) ORDER BY i.started_at, t.team_id LIMIT 1), $1, $1
         FROM (SELECT DISTINCT unnest(services) AS service FROM incidents) named
         ON CONFLICT (name) DO UPDATE SET owner_team_id = excluded.owner_team_id",
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The demo's themes, started and linked by the demo admin.
async fn seed_themes(
    tx: &mut PgConnection,
    themes: &[DemoTheme],
    lookup: &Lookup,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let admin = lookup.user(DEMO_ADMIN)?;
    for theme in themes {
        let slug = crate::domain::taxonomy::slug_of(&theme.name, 80)
            .with_context(|| format!("the demo theme {:?} has no slug", theme.name))?;
        let (theme_id, _, _) = store::themes::find_or_create(
            tx,
            &theme.name,
            &theme.description,
            "",
            &slug,
            admin,
            now,
        )
        .await?;
        for link in &theme.links {
            let factor = lookup
                .factors
                .iter()
                .find(|(title, _)| *title == link.incident)
                .and_then(|(_, ids)| ids.get(link.factor))
                .with_context(|| {
                    format!(
                        "the demo theme {:?} links factor {} of {:?}, which does not exist",
                        theme.name, link.factor, link.incident
                    )
                })?;
            store::themes::decide(tx, theme_id, *factor, Some("linked"), admin, now).await?;
        }
    }
    Ok(themes.len())
}

struct Lookup {
    users: Vec<(String, Uuid)>,
    teams: Vec<(String, Uuid)>,
    /// Incidents seeded so far, by title.
    incidents: Vec<(String, Uuid)>,
    /// The factor ids of each incident seeded so far, in order, by title.
    factors: Vec<(String, Vec<Uuid>)>,
}

impl Lookup {
    fn user(&self, email: &str) -> anyhow::Result<Uuid> {
        find(&self.users, email).with_context(|| format!("the demo names an unknown user {email}"))
    }

    fn team(&self, name: &str) -> anyhow::Result<Uuid> {
        find(&self.teams, name).with_context(|| format!("the demo names an unknown team {name}"))
    }
}

fn find(pairs: &[(String, Uuid)], key: &str) -> Option<Uuid> {
    pairs
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, id)| *id)
}

async fn seed_teams(
    tx: &mut PgConnection,
    names: &[String],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(String, Uuid)>> {
    let existing = store::teams::list_team_options(&mut *tx).await?;
    let mut teams = Vec::new();
    for name in names {
        let id = match existing
            .iter()
            .find(|team| team.name.eq_ignore_ascii_case(name))
        {
            Some(team) => team.id,
            None => store::teams::insert_team(&mut *tx, name, now).await?,
        };
        teams.push((name.clone(), id));
    }
    Ok(teams)
}

async fn seed_users(
    tx: &mut PgConnection,
    demo_users: &[DemoUser],
    teams: &[(String, Uuid)],
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(String, Uuid)>> {
    let hash = tokio::task::spawn_blocking(|| password::hash(DEMO_PASSWORD)).await??;
    let mut users = Vec::new();
    for user in demo_users {
        let email = Email::parse(&user.email).map_err(anyhow::Error::msg)?;
        let role =
            Role::parse(&user.role).with_context(|| format!("unknown role {}", user.role))?;
        let id = match store::users::find_credentials(&mut *tx, email.as_str()).await? {
            Some(existing) => existing.id,
            None => {
                let new_user = NewUser {
                    email: &email,
                    display_name: &user.name,
                    role,
                    password_hash: Some(&hash),
                };
                store::users::insert_user(&mut *tx, new_user, now).await?
            }
        };
        for team in &user.teams {
            let team_id = find(teams, team).with_context(|| format!("unknown team {team}"))?;
            store::teams::upsert_member(&mut *tx, team_id, id, user.leads.contains(team)).await?;
        }
        users.push((user.email.clone(), id));
    }
    Ok(users)
}

/// Inserts one postmortem with everything in it; returns its item count.
async fn seed_postmortem(
    tx: &mut PgConnection,
    demo: &DemoPostmortem,
    lookup: &mut Lookup,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let zone = time::parse_zone(&demo.time_zone)
        .with_context(|| format!("unknown zone {}", demo.time_zone))?;
    let clock = NaiveTime::parse_from_str(&demo.started_at_local, "%H:%M")
        .context("started_at_local is not HH:MM")?;
    let day = (now.with_timezone(&zone) - Duration::days(demo.started_days_ago)).date_naive();
    let started = time::parse_local(
        &day.and_time(clock).format("%Y-%m-%d %H:%M").to_string(),
        zone,
    )
    .map_err(anyhow::Error::msg)?;
    let after = |minutes: Option<i64>| minutes.map(|minutes| started + Duration::minutes(minutes));
    let author = lookup.user(
        demo.authors
            .first()
            .context("a demo postmortem needs an author")?,
    )?;
    let fields = IncidentFields {
        title: demo.title.clone(),
        kind: demo.kind,
        severity: demo.severity,
        services: demo.services.clone(),
        tags: demo.tags.clone(),
        started_at: Some(started),
        detected_at: after(demo.detected_after_minutes),
        mitigated_at: after(demo.mitigated_after_minutes),
        resolved_at: after(demo.resolved_after_minutes),
        time_zone: demo.time_zone.clone(),
    };
    let resolved = fields.resolved_at.unwrap_or(started);
    let written_at = resolved + Duration::days(2);
    let (incident_id, number) =
        store::incidents::insert_incident(&mut *tx, &fields, Some(author), written_at).await?;
    let team_ids = demo
        .teams
        .iter()
        .map(|team| lookup.team(team))
        .collect::<anyhow::Result<Vec<_>>>()?;
    store::incidents::set_teams(tx, incident_id, &team_ids).await?;
    if let Some(title) = &demo.repeat_of {
        let (_, earlier) = lookup
            .incidents
            .iter()
            .find(|(seeded, _)| seeded.starts_with(title.as_str()))
            .with_context(|| format!("repeat_of names no earlier incident: {title}"))?;
        store::incidents::insert_link(
            tx,
            incident_id,
            *earlier,
            LinkKind::RepeatOf,
            author,
            written_at,
        )
        .await?;
    }
    lookup.incidents.push((demo.title.clone(), incident_id));
    let postmortem_id =
        store::postmortems::insert_postmortem(tx, incident_id, Some(author), written_at).await?;
    for extra in demo.authors.iter().skip(1) {
        store::postmortems::add_author(&mut *tx, postmortem_id, lookup.user(extra)?).await?;
    }
    let reviewers = demo
        .reviewers
        .iter()
        .map(|email| lookup.user(email))
        .collect::<anyhow::Result<Vec<_>>>()?;
    store::postmortems::set_reviewers(tx, postmortem_id, &reviewers).await?;
    let sections = Sections {
        summary: demo.summary.clone(),
        impact: demo.impact.clone(),
        users_affected: demo.users_affected,
        failed_requests: demo.failed_requests,
        revenue_lost_cents: demo
            .revenue_lost
            .map(|dollars| (dollars * 100.0).round() as i64),
        slo_budget_consumed: demo.slo_budget_consumed,
        trigger: demo.trigger.clone(),
        went_well: demo.went_well.clone(),
        went_poorly: demo.went_poorly.clone(),
        got_lucky: demo.got_lucky.clone(),
        lessons: demo.lessons.clone(),
        ..Sections::default()
    };
    store::postmortems::update_sections(&mut *tx, postmortem_id, 1, &sections, written_at).await?;
    let factors: Vec<FactorRow> = demo
        .factors
        .iter()
        .map(|factor| FactorRow {
            id: Uuid::now_v7(),
            categories: factor.categories.clone(),
            description: factor.description.clone(),
            themes: Vec::new(),
            dismissed: Vec::new(),
        })
        .collect();
    store::postmortems::save_factors(tx, postmortem_id, &factors).await?;
    lookup
        .factors
        .push((demo.title.clone(), factors.iter().map(|f| f.id).collect()));
    for entry in &demo.timeline {
        let fields = EntryFields {
            occurred_at: started + Duration::minutes(entry.after_minutes),
            time_unknown: false,
            kind: entry.kind,
            speaker: None,
            text: entry.text.clone(),
            source: entry.source.clone(),
            link: entry.link.clone(),
        };
        store::timeline::insert_entry(&mut *tx, postmortem_id, &fields, Some(author), written_at)
            .await?;
    }
    for item in &demo.action_items {
        seed_item(tx, postmortem_id, item, &factors, lookup, now, written_at).await?;
    }
    if demo.status != PostmortemStatus::Draft {
        store::postmortems::set_status(
            &mut *tx,
            postmortem_id,
            PostmortemStatus::Draft,
            PostmortemStatus::InReview,
            written_at,
        )
        .await?;
    }
    if demo.status == PostmortemStatus::Published {
        store::postmortems::set_status(
            &mut *tx,
            postmortem_id,
            PostmortemStatus::InReview,
            PostmortemStatus::Published,
            resolved + Duration::days(demo.published_after_days.unwrap_or(3)),
        )
        .await?;
    }
    seed_conversation(tx, postmortem_id, demo, lookup, written_at).await?;
    if !demo.restricted_to.is_empty() {
        let teams = demo
            .restricted_to
            .iter()
            .map(|team| lookup.team(team))
            .collect::<anyhow::Result<Vec<_>>>()?;
        store::access::replace(tx, postmortem_id, true, &[], &teams).await?;
    }
    if demo.status == PostmortemStatus::Published {
        for reviewer in &reviewers {
            store::postmortems::decide(
                &mut *tx,
                postmortem_id,
                *reviewer,
                store::postmortems::Decision::Approved,
                None,
                written_at,
            )
            .await?;
        }
    }
    let review_due_days = crate::domain::postmortem::DEFAULT_REVIEW_DUE_DAYS;
    let change = store::revisions::Change {
        postmortem_id,
        incident_number: number,
        author_id: Some(author),
        summary: "Imported from the demo archive",
        at: written_at,
    };
    store::revisions::record(tx, &change, review_due_days, now).await?;
    Ok(demo.action_items.len())
}

/// The participants and review threads of a demo postmortem.
async fn seed_conversation(
    tx: &mut PgConnection,
    postmortem_id: Uuid,
    demo: &DemoPostmortem,
    lookup: &Lookup,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    for participant in &demo.participants {
        let who = match find(&lookup.users, &participant.who) {
            Some(id) => store::participants::Who::User(id),
            None => store::participants::Who::Name(&participant.who),
        };
        store::participants::insert(&mut *tx, postmortem_id, who, &participant.role, at).await?;
    }
    for (index, thread) in demo.comments.iter().enumerate() {
        // A few minutes apart, so the threads read in order.
        let when = at + Duration::minutes(index as i64 * 10);
        let root = store::comments::insert(
            &mut *tx,
            &store::comments::NewComment {
                postmortem_id,
                parent_id: None,
                author_id: lookup.user(&thread.author)?,
                section: &thread.section,
                quote: thread.quote.as_deref(),
                body: &thread.body,
            },
            when,
        )
        .await?;
        for (offset, reply) in thread.replies.iter().enumerate() {
            store::comments::insert(
                &mut *tx,
                &store::comments::NewComment {
                    postmortem_id,
                    parent_id: Some(root),
                    author_id: lookup.user(&reply.author)?,
                    section: &thread.section,
                    quote: None,
                    body: &reply.body,
                },
                when + Duration::minutes(offset as i64 + 1),
            )
            .await?;
        }
        if let Some(by) = &thread.resolved_by {
            store::comments::set_resolved(
                &mut *tx,
                root,
                Some(lookup.user(by)?),
                when + Duration::hours(1),
            )
            .await?;
        }
    }
    Ok(())
}

async fn seed_item(
    tx: &mut PgConnection,
    postmortem_id: Uuid,
    item: &DemoItem,
    factors: &[FactorRow],
    lookup: &Lookup,
    now: DateTime<Utc>,
    written_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let owner = lookup.user(&item.owner)?;
    let fields = ActionFields {
        title: item.title.clone(),
        description: item.description.clone(),
        kind: item.kind,
        priority: item.priority,
        owner_id: Some(owner),
        team_id: Some(lookup.team(&item.team)?),
        due_on: Some(now.date_naive() + Duration::days(item.due_in_days)),
        tracker_url: item.tracker_url.clone(),
        status: item.status,
        factor_id: item
            .factor
            .and_then(|index| factors.get(index))
            .map(|factor| factor.id),
        closing_reason: item.closing_reason.clone(),
    };
    let id = store::action_items::insert_item(&mut *tx, postmortem_id, &fields, written_at).await?;
    let created = NewChange {
        field: "created",
        old_value: None,
        new_value: Some(item.title.clone()),
        note: None,
    };
    store::action_items::record_change(&mut *tx, id, Some(owner), created, written_at).await?;
    let today = now.date_naive();
    let dues: Vec<i64> = item
        .pushed_from_days
        .iter()
        .copied()
        .chain([item.due_in_days])
        .collect();
    for (index, pair) in dues.windows(2).enumerate() {
        let weeks_ago = i64::try_from(dues.len() - 1 - index).unwrap_or(1);
        let moved = NewChange {
            field: "due_on",
            old_value: Some((today + Duration::days(pair[0])).to_string()),
            new_value: Some((today + Duration::days(pair[1])).to_string()),
            note: None,
        };
        let at = (now - Duration::weeks(weeks_ago)).max(written_at);
        store::action_items::record_change(&mut *tx, id, Some(owner), moved, at).await?;
    }
    if let (Some(days), Some(due)) = (item.done_late_days, fields.due_on) {
        let done_at = (due + Duration::days(days))
            .and_time(NaiveTime::MIN + Duration::hours(15))
            .and_utc();
        store::action_items::set_closed_at(&mut *tx, id, done_at).await?;
    }
    Ok(())
}
