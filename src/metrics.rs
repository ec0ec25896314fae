//! This process's Prometheus metrics: requests by route and status with
//! their latency, background job passes, flags raised, sign-in failures
//! and throttles, mail delivered. Figures that live in the database (the
//! outbox) or the pool are read when `/metrics` is scraped.

use std::{sync::LazyLock, time::Instant};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route's template (`/incidents/{number}`), never the path itself.
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub job: &'static str,
    /// `ok` or `failed`.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobName {
    pub job: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Histograms<RouteLabels>,
    pub job_passes: Family<JobLabels, Counter>,
    pub job_seconds: Histograms<JobName>,
    pub flags_raised: Counter,
    pub sign_in_failures: Counter,
    pub sign_in_throttled: Counter,
    pub mail_sent: Counter,
    pub mail_failed: Counter,
    /// Requests refused because no connection came free in time.
    pub pool_timeouts: Counter,
    pool_in_use: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    outbox: Family<StateLabels, Gauge>,
}

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

fn request_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn job_histogram() -> Histogram {
    // 5 ms to about 80 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

impl Metrics {
    fn new() -> Metrics {
        let metrics = Metrics {
            registry: Registry::with_prefix("debrief"),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(request_histogram),
            job_passes: Family::default(),
            job_seconds: Family::new_with_constructor(job_histogram),
            flags_raised: Counter::default(),
            sign_in_failures: Counter::default(),
            sign_in_throttled: Counter::default(),
            mail_sent: Counter::default(),
            mail_failed: Counter::default(),
            pool_timeouts: Counter::default(),
            pool_in_use: Gauge::default(),
            pool_idle: Gauge::default(),
            pool_max: Gauge::default(),
            outbox: Family::default(),
        };
        let mut registry = metrics.registry;
        registry.register(
            "http_requests",
            "Requests answered, by route, method and status.",
            metrics.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route and method.",
            metrics.request_seconds.clone(),
        );
        registry.register(
            "job_passes",
            "Background job passes, by job and outcome.",
            metrics.job_passes.clone(),
        );
        registry.register(
            "job_pass_duration_seconds",
            "Time one background job pass took.",
            metrics.job_seconds.clone(),
        );
        registry.register(
            "flags_raised",
            "Overdue and stale flags the sweeper raised.",
            metrics.flags_raised.clone(),
        );
        registry.register(
            "sign_in_failures",
            "Sign-ins refused for a wrong email or password.",
            metrics.sign_in_failures.clone(),
        );
        registry.register(
            "sign_in_throttled",
            "Sign-ins refused because of too many failures.",
            metrics.sign_in_throttled.clone(),
        );
        registry.register(
            "mail_sent",
            "Emails this process delivered.",
            metrics.mail_sent.clone(),
        );
        registry.register(
            "mail_failed",
            "Email deliveries of this process that failed.",
            metrics.mail_failed.clone(),
        );
        registry.register(
            "db_pool_timeouts",
            "Requests answered 503 because no database connection came free within DEBRIEF_DB_ACQUIRE_SECONDS.",
            metrics.pool_timeouts.clone(),
        );
        registry.register(
            "db_pool_in_use",
            "Database connections of this process in use.",
            metrics.pool_in_use.clone(),
        );
        registry.register(
            "db_pool_idle",
            "Database connections of this process open and idle.",
            metrics.pool_idle.clone(),
        );
        registry.register(
            "db_pool_max",
            "The most database connections this process opens.",
            metrics.pool_max.clone(),
        );
        registry.register(
            "outbox_messages",
            "Emails in the outbox (all replicas), by state.",
            metrics.outbox.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Counts one answered request.
    pub fn request(&self, route: &str, method: &str, status: u16, started: Instant) {
        let labels = RouteLabels {
            route: route.to_owned(),
            method: method.to_owned(),
        };
        self.request_seconds
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                route: labels.route,
                method: labels.method,
                status,
            })
            .inc();
    }

    /// The text a scrape gets, with the pool and outbox read now.
    pub fn render(
        &self,
        pool: &sqlx::PgPool,
        max_connections: u32,
        outbox: &[(&'static str, i64)],
    ) -> String {
        let size = i64::from(pool.size());
        let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
        self.pool_in_use.set(size - idle);
        self.pool_idle.set(idle);
        self.pool_max.set(i64::from(max_connections));
        for (state, count) in outbox {
            self.outbox
                .get_or_create(&StateLabels { state })
                .set(*count);
        }
        let mut text = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Runs one pass of a background job, counting it and its time.
pub async fn pass<T, E>(
    job: &'static str,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = work.await;
    METRICS
        .job_seconds
        .get_or_create(&JobName { job })
        .observe(started.elapsed().as_secs_f64());
    let outcome = if result.is_ok() { "ok" } else { "failed" };
    METRICS
        .job_passes
        .get_or_create(&JobLabels { job, outcome })
        .inc();
    result
}
