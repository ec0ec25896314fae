//! Running the web server: bind, serve, and stop gracefully on SIGTERM or
//! Ctrl-C, letting requests in flight finish.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::{
    clock::Clock,
    config::ServerConfig,
    jobs::{self, supervisor::Jobs},
    setup,
    web::{self, AppState},
};

/// How long a background job that panicked waits before it starts again.
const JOB_RESTART_AFTER: std::time::Duration = std::time::Duration::from_secs(30);
/// How long shutdown waits for background jobs to finish their pass.
const JOB_STOP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves on an already bound listener until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("the server stopped with an error")
}

/// `debrief serve`: everything after migrations.
pub async fn run(pool: PgPool, config: ServerConfig) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let clock = Clock::system();
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("could not listen on {}", config.listen))?;
    let address = listener.local_addr().context("no local address")?;
    tracing::info!(%address, base_url = %config.public_base_url(), "Debrief is listening");

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
    let served = serve(listener, state, shutdown_signal()).await;
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
