//! Running the web server: bind, serve, and stop gracefully on SIGTERM or
//! Ctrl-C, letting requests in flight finish.

use std::sync::{Arc, OnceLock};

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::{
    clock::Clock,
    config::{DatabaseConfig, ServerConfig},
    db,
    jobs::{self, supervisor::Jobs},
    setup,
    web::{self, AppState},
};

/// How long a background job that panicked waits before it starts again.
const JOB_RESTART_AFTER: std::time::Duration = std::time::Duration::from_secs(30);
/// How long shutdown waits for background jobs to finish their pass.
const JOB_STOP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Time limits on clients, so a slow or idle one holds no connection for
/// long and shutdown is not held up by one.
#[derive(Clone, Copy, Debug)]
pub struct ClientLimits {
    /// To send a request's headers, and to start the next request on a
    /// kept-alive connection (the idle limit).
    pub headers: std::time::Duration,
    /// To send a request's body.
    pub body: std::time::Duration,
    /// For requests in flight to finish once shutdown begins.
    pub shutdown: std::time::Duration,
}

impl ClientLimits {
    pub fn from_config(config: &ServerConfig) -> ClientLimits {
        ClientLimits {
            headers: std::time::Duration::from_secs(config.client_header_seconds),
            body: std::time::Duration::from_secs(config.client_body_seconds),
            shutdown: std::time::Duration::from_secs(config.shutdown_seconds),
        }
    }
}

/// Serves `state`'s application on an already bound listener until
/// `shutdown` resolves; see [`serve_app`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    limits: ClientLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = Arc::new(OnceLock::new());
    let _ = app.set(application(state, limits));
    serve_app(listener, app, limits, shutdown).await
}

/// The router with the per-request limits around it.
fn application(state: AppState, limits: ClientLimits) -> axum::Router {
    web::router(state).layer(tower_http::timeout::RequestBodyDeadlineLayer::new(
        limits.body,
    ))
}

/// Serves on an already bound listener until `shutdown` resolves, then
/// stops accepting, gives requests in flight `limits.shutdown` to finish,
/// and returns (closing what is still open). Until `app` is set (the
/// database is being waited for, migrated or seeded), every request but
/// `/healthz` is answered 503.
pub async fn serve_app(
    listener: TcpListener,
    app: Arc<OnceLock<axum::Router>>,
    limits: ClientLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use hyper_util::{
        rt::{TokioExecutor, TokioIo, TokioTimer},
        server::{conn::auto::Builder, graceful::GracefulShutdown},
    };
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.headers)
        .keep_alive_timeout(limits.headers);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                let app = app.clone();
                async move {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    match app.get() {
                        Some(router) => tower::ServiceExt::oneshot(router.clone(), request).await,
                        None => Ok(starting(request.uri().path())),
                    }
                }
            },
        );
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "a connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = limits.shutdown.as_secs(),
            "requests still open at the shutdown deadline were cut"
        );
    }
    Ok(())
}

/// The answer while the process is starting: alive, not ready.
fn starting(path: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (status, text) = if path == "/healthz" {
        (axum::http::StatusCode::OK, "starting\n")
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "Debrief is starting: it is waiting for its database. Try again in a moment.\n",
        )
    };
    (
        status,
        [
            (axum::http::header::RETRY_AFTER, "5"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
            (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        text,
    )
        .into_response()
}

/// `debrief serve`.
/// `debrief serve`: listens at once, answering 503 (and `/healthz` 200)
/// while it waits for the database and `prepare`s it (migrations, the demo
/// archive); then serves and runs the background jobs until SIGTERM.
pub async fn run(
    config: ServerConfig,
    database: &DatabaseConfig,
    prepare: impl AsyncFnOnce(PgPool) -> anyhow::Result<PgPool>,
) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let clock = Clock::system();
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("could not listen on {}", config.listen))?;
    let address = listener.local_addr().context("no local address")?;
    tracing::info!(%address, base_url = %config.public_base_url(), "Debrief is listening");

    let stop = tokio_util::sync::CancellationToken::new();
    {
        let stop = stop.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            stop.cancel();
        });
    }
    let app = Arc::new(OnceLock::new());
    let limits = ClientLimits::from_config(&config);
    let server = tokio::spawn(serve_app(
        listener,
        app.clone(),
        limits,
        stop.clone().cancelled_owned(),
    ));
    let ready = async {
        let pool = db::connect_waiting(database).await?;
        prepare(pool).await
    };
    let pool = tokio::select! {
        pool = ready => match pool {
            Ok(pool) => pool,
            Err(error) => {
                stop.cancel();
                let _ = server.await;
                return Err(error);
            }
        },
        () = stop.cancelled() => {
            let _ = server.await;
            tracing::info!("Debrief stopped before its database was ready");
            return Ok(());
        }
    };

    if let Some(link) = setup::issue_setup_link(&pool, &clock, &config.public_base_url()).await? {
        tracing::info!(
            "No account exists yet. Open this one-time link to create the first admin \
             (valid {} hours):\n\n    {link}\n",
            setup::SETUP_LINK_HOURS
        );
    }

    tokio::task::spawn_blocking(crate::domain::password::warm_up);
    let mut jobs = Jobs::new(JOB_RESTART_AFTER);
    {
        let (pool, clock, config) = (pool.clone(), clock.clone(), config.clone());
        jobs.spawn("janitor", move |stop| {
            jobs::janitor::run(pool.clone(), clock.clone(), config.clone(), stop)
        });
    }
    {
        let (pool, clock, settings) = (pool.clone(), clock.clone(), config.sweeper());
        jobs.spawn("sweeper", move |stop| {
            jobs::sweeper::run(pool.clone(), clock.clone(), settings.clone(), stop)
        });
    }
    {
        let (pool, clock, settings) = (pool.clone(), clock.clone(), config.digest());
        let mailer = crate::mail::Mailer::new(&config.mail)?;
        jobs.spawn("digest", move |stop| {
            jobs::digest::run(
                pool.clone(),
                clock.clone(),
                settings.clone(),
                mailer.clone(),
                stop,
            )
        });
    }
    if !crate::trackers::connected(&config.integrations).is_empty() {
        let (pool, clock, config) = (pool.clone(), clock.clone(), config.clone());
        jobs.spawn("trackers", move |stop| {
            jobs::trackers::run(pool.clone(), clock.clone(), config.clone(), stop)
        });
    }
    let state = AppState {
        db: pool,
        config,
        clock,
        caches: Default::default(),
    };
    let _ = app.set(application(state, limits));
    tracing::info!("Debrief is ready");
    let served = server.await.context("the server task failed")?;
    // Requests are done (or the server failed); let the jobs finish the
    // pass they are in before the process goes.
    jobs.shutdown(JOB_STOP_DEADLINE).await;
    served?;
    tracing::info!("Debrief stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
