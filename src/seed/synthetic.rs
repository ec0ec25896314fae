//! `debrief seed --synthetic N`: N generated postmortems, for benchmarks.
//! The text is drawn from an incident vocabulary with a skewed (Zipf-like)
//! word frequency, so common words are common and rare words rare. Rows go
//! in with one `UNNEST` insert per table per batch.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    clock::Clock,
    domain::{email::Email, role::Role},
    store::{self, bulk::Batch, users::NewUser},
};

/// Postmortems written per database round trip.
const BATCH: usize = 500;

/// Words of incident reports, most frequent first.
const WORDS: &[&str] = &[
    "the",
    "service",
    "requests",
    "errors",
    "latency",
    "deploy",
    "database",
    "timeout",
    "cluster",
    "traffic",
    "alert",
    "users",
    "config",
    "queue",
    "cache",
    "node",
    "pod",
    "kubernetes",
    "connection",
    "pool",
    "retry",
    "load",
    "balancer",
    "region",
    "disk",
    "memory",
    "cpu",
    "network",
    "dns",
    "certificate",
    "rollback",
    "release",
    "canary",
    "replica",
    "failover",
    "primary",
    "lag",
    "backlog",
    "consumer",
    "producer",
    "kafka",
    "postgres",
    "redis",
    "ingress",
    "gateway",
    "proxy",
    "throttling",
    "quota",
    "limit",
    "saturation",
    "exhaustion",
    "leak",
    "restart",
    "crashloop",
    "oom",
    "eviction",
    "scaling",
    "autoscaler",
    "capacity",
    "spike",
    "outage",
    "degradation",
    "partial",
    "checkout",
    "payments",
    "search",
    "login",
    "session",
    "token",
    "auth",
    "webhook",
    "batch",
    "cron",
    "migration",
    "schema",
    "index",
    "lock",
    "deadlock",
    "vacuum",
    "bloat",
    "storage",
    "bucket",
    "cdn",
    "edge",
    "tls",
    "handshake",
    "expiry",
    "rotation",
    "secret",
    "vault",
    "feature",
    "flag",
    "toggle",
    "experiment",
    "rollout",
    "percentage",
    "dashboard",
    "runbook",
    "pager",
    "oncall",
    "escalation",
    "mitigation",
    "detection",
    "monitoring",
    "metrics",
    "logs",
    "tracing",
    "sampling",
    "retention",
    "ingestion",
    "pipeline",
    "etl",
    "warehouse",
    "report",
    "invoice",
    "billing",
    "email",
    "notification",
    "push",
    "mobile",
    "upstream",
    "downstream",
    "dependency",
    "vendor",
    "provider",
    "api",
    "sdk",
    "client",
    "browser",
    "firewall",
    "iptables",
    "route",
    "bgp",
    "peering",
    "latency",
    "jitter",
    "packet",
    "loss",
    "mtu",
    "keepalive",
    "inotify",
    "filehandle",
    "ulimit",
    "kernel",
    "ami",
    "image",
    "container",
    "registry",
    "helm",
    "terraform",
    "drift",
    "state",
    "apply",
    "plan",
    "review",
    "approval",
    "change",
    "freeze",
    "window",
    "maintenance",
    "coredns",
    "kiam",
    "traefik",
    "nginx",
    "envoy",
    "istio",
    "sidecar",
    "mesh",
    "grpc",
    "http2",
    "log4shell",
    "vulnerability",
    "patch",
    "cve",
    "exploit",
    "scanner",
    "audit",
    "compliance",
    "gdpr",
    "pii",
];

const SERVICES: &[&str] = &[
    "checkout-api",
    "payments-gateway",
    "search-indexer",
    "auth-service",
    "notification-hub",
    "billing-worker",
    "ingress-controller",
    "coredns",
    "postgres-main",
    "redis-sessions",
    "kafka-events",
    "cdn-edge",
    "mobile-push",
    "data-pipeline",
    "feature-flags",
    "email-relay",
    "api-gateway",
    "k8s-platform",
];

/// The seeded factor categories, most used first.
const CATEGORIES: &[&str] = &[
    "technical",
    "process",
    "detection",
    "organizational",
    "communication",
    "external",
];

const TAGS: &[&str] = &[
    "database",
    "config",
    "deploy",
    "network",
    "capacity",
    "dependency",
    "security",
    "dns",
    "certificate",
    "kubernetes",
];
const KINDS: &[&str] = &[
    "incident",
    "incident",
    "incident",
    "incident",
    "near_miss",
    "chaos_experiment",
];
const SEVERITIES: &[&str] = &[
    "sev1", "sev2", "sev2", "sev3", "sev3", "sev3", "sev4", "sev4",
];
const TIMELINE_KINDS: &[&str] = &[
    "trigger",
    "detection",
    "escalation",
    "mitigation",
    "resolution",
];
const ACTION_KINDS: &[&str] = &["prevent", "mitigate", "detect", "process", "investigate"];
const PRIORITIES: &[&str] = &["p0", "p1", "p1", "p2", "p2", "p2", "p3"];
/// Most items get done; some stay open, a few are dropped.
const STATUSES: &[&str] = &[
    "done",
    "done",
    "done",
    "done",
    "done",
    "done",
    "done",
    "done",
    "done",
    "done",
    "done",
    "done",
    "done",
    "done",
    "open",
    "open",
    "open",
    "in_progress",
    "wont_do",
    "deprioritized",
];
/// The teams that own generated incidents and items.
const TEAMS: &[&str] = &[
    "Payments",
    "Checkout",
    "Identity",
    "Platform",
    "Networking",
    "Storage",
    "Search",
    "Data",
    "Mobile",
    "Growth",
    "Messaging",
    "Billing",
];

/// Share of words drawn from the long tail rather than the common words.
const TAIL_SHARE: f64 = 0.15;

/// The long tail: made-up names (of hosts, libraries, teams, error codes)
/// that each occur in few postmortems, as real archives have many of.
static TAIL: LazyLock<Vec<String>> = LazyLock::new(|| {
    const ONSETS: &[&str] = &[
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr",
        "gr",
    ];
    const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ou"];
    const CODAS: &[&str] = &["n", "x", "k", "m", "r", "l", "d", "t"];
    let syllable = |n: usize| {
        format!(
            "{}{}",
            ONSETS[n % ONSETS.len()],
            VOWELS[n / ONSETS.len() % VOWELS.len()]
        )
    };
    let per_syllable = ONSETS.len() * VOWELS.len();
    (0..20_000)
        .map(|n| {
            format!(
                "{}{}{}",
                syllable(n * 7 % per_syllable),
                syllable(n / per_syllable * 5 + n % 3),
                CODAS[n % CODAS.len()]
            )
        })
        .collect()
});

/// An index below `len` with a Zipf-like skew: the k-th about 1/k as
/// often as the first.
fn skewed(rng: &mut StdRng, len: usize) -> usize {
    let index = ((len as f64).powf(rng.random::<f64>()) - 1.0) as usize;
    index.min(len - 1)
}

struct Words(StdRng);

impl Words {
    /// A common word, or now and then one from the long tail.
    fn word(&mut self) -> &'static str {
        if self.0.random::<f64>() < TAIL_SHARE {
            TAIL[skewed(&mut self.0, TAIL.len())].as_str()
        } else {
            WORDS[skewed(&mut self.0, WORDS.len())]
        }
    }

    fn sentence(&mut self, words: usize) -> String {
        let mut text: Vec<&str> = (0..words).map(|_| self.word()).collect();
        if let Some(first) = text.first_mut() {
            *first = WORDS[self.0.random_range(1..WORDS.len())];
        }
        format!("{}.", text.join(" "))
    }

    fn paragraph(&mut self, sentences: usize) -> String {
        (0..sentences)
            .map(|_| {
                let length = self.0.random_range(8..18);
                self.sentence(length)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn pick<'a>(&mut self, options: &'a [&'a str]) -> &'a str {
        options[self.0.random_range(0..options.len())]
    }
}

/// Generates `count` published postmortems spread over five years;
/// `progress` hears how many are in after each batch.
pub async fn seed(
    pool: &PgPool,
    clock: &Clock,
    count: usize,
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<usize> {
    let now = clock.now();
    let mut words = Words(StdRng::seed_from_u64(count as u64 ^ 0x5eed));
    let people = synthetic_people(pool, now).await?;
    let teams = synthetic_teams(pool, now).await?;
    let mut done = 0;
    while done < count {
        let size = BATCH.min(count - done);
        let mut batch = Batch::default();
        for _ in 0..size {
            generate_one(&mut words, (&people, &teams), now, &mut batch);
        }
        store::bulk::insert_batch(pool, &batch, now).await?;
        done += size;
        progress(done, count);
    }
    Ok(done)
}

/// Fifty authors and owners (without passwords: they cannot sign in).
async fn synthetic_people(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<Vec<Uuid>> {
    let mut people = Vec::new();
    for n in 1..=50 {
        let email = Email::parse(&format!("engineer{n}@synthetic.debrief.dev"))
            .map_err(anyhow::Error::msg)?;
        let id = match store::users::find_credentials(pool, email.as_str()).await? {
            Some(existing) => existing.id,
            None => {
                let name = format!("Engineer {n}");
                let user = NewUser {
                    email: &email,
                    display_name: &name,
                    role: Role::Member,
                    password_hash: None,
                };
                store::users::insert_user(pool, user, now).await?
            }
        };
        people.push(id);
    }
    Ok(people)
}

/// The generated teams, made on the first run and found on the next.
async fn synthetic_teams(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<Vec<Uuid>> {
    let existing = store::teams::list_team_options(pool).await?;
    let mut teams = Vec::new();
    for name in TEAMS {
        let id = match existing.iter().find(|team| team.name == *name) {
            Some(team) => team.id,
            None => store::teams::insert_team(pool, name, now).await?,
        };
        teams.push(id);
    }
    Ok(teams)
}

fn generate_one(
    words: &mut Words,
    (people, teams): (&[Uuid], &[Uuid]),
    now: DateTime<Utc>,
    batch: &mut Batch,
) {
    let incident_id = Uuid::now_v7();
    let team = teams[skewed(&mut words.0, teams.len())];
    batch.teams.push(team);
    let postmortem_id = Uuid::now_v7();
    let started = now - Duration::minutes(words.0.random_range(60..5 * 365 * 24 * 60));
    let detected = started + Duration::minutes(words.0.random_range(1..120));
    let mitigated = detected + Duration::minutes(words.0.random_range(5..240));
    let resolved = mitigated + Duration::minutes(words.0.random_range(5..600));
    let service = words.pick(SERVICES).to_owned();
    batch.incident_ids.push(incident_id);
    let title_length = words.0.random_range(3..8);
    batch.titles.push(format!(
        "{} {}",
        service,
        words.sentence(title_length).trim_end_matches('.')
    ));
    batch.kinds.push(words.pick(KINDS).to_owned());
    batch.severities.push(words.pick(SEVERITIES).to_owned());
    batch.services.push(service);
    batch.tags.push(words.pick(TAGS).to_owned());
    batch.started.push(started);
    batch.detected.push(detected);
    batch.mitigated.push(mitigated);
    batch.resolved.push(resolved);
    batch.postmortem_ids.push(postmortem_id);
    batch
        .authors
        .push(people[words.0.random_range(0..people.len())]);
    batch.summaries.push(words.paragraph(3));
    batch.impacts.push(words.paragraph(2));
    batch.triggers.push(words.paragraph(4));
    batch.lessons.push(words.paragraph(2));
    batch.users_affected.push(words.0.random_range(0..200_000));
    for (index, kind) in TIMELINE_KINDS.iter().enumerate() {
        batch.entry_ids.push(Uuid::now_v7());
        batch.entry_postmortems.push(postmortem_id);
        let at = [
            started,
            detected,
            detected + Duration::minutes(3),
            mitigated,
            resolved,
        ][index];
        batch.entry_times.push(at);
        batch.entry_kinds.push((*kind).to_owned());
        let length = words.0.random_range(6..16);
        batch.entry_texts.push(words.sentence(length));
    }
    for position in 0..words.0.random_range(1..=3) {
        batch.factor_ids.push(Uuid::now_v7());
        batch.factor_postmortems.push(postmortem_id);
        batch.factor_positions.push(position);
        let main = words.pick(CATEGORIES);
        let also = words.pick(CATEGORIES);
        let categories = if also != main && words.0.random_bool(0.2) {
            format!("{main},{also}")
        } else {
            main.to_owned()
        };
        batch.factor_categories.push(categories);
        let length = words.0.random_range(6..14);
        batch.factor_texts.push(words.sentence(length));
    }
    for _ in 0..words.0.random_range(3..=8) {
        let status = words.pick(STATUSES);
        batch.item_ids.push(Uuid::now_v7());
        batch.item_postmortems.push(postmortem_id);
        let length = words.0.random_range(4..10);
        batch.item_titles.push(words.sentence(length));
        batch.item_kinds.push(words.pick(ACTION_KINDS).to_owned());
        batch
            .item_priorities
            .push(words.pick(PRIORITIES).to_owned());
        batch
            .item_owners
            .push(people[words.0.random_range(0..people.len())]);
        let due = resolved + Duration::days(words.0.random_range(7..120));
        batch.item_due.push(due.date_naive());
        // Closed around the due date: most on time, some late.
        let closed = due + Duration::days(words.0.random_range(-40..25));
        batch.item_closed.push(
            (!matches!(status, "open" | "in_progress")).then(|| closed.max(resolved).min(now)),
        );
        // Now and then an item belongs to another team than the incident.
        batch.item_teams.push(if words.0.random_bool(0.1) {
            teams[words.0.random_range(0..teams.len())]
        } else {
            team
        });
        batch.item_statuses.push(status.to_owned());
        batch.item_reasons.push(
            matches!(status, "wont_do" | "deprioritized")
                .then(|| "Generated: decided in review.".to_owned()),
        );
    }
}
