//! Running the web server: bind, serve, and stop gracefully on SIGTERM or
//! Ctrl-C, letting requests in flight finish.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::{
    clock::Clock,
    config::ServerConfig,
    jobs, setup,
    web::{self, AppState},
};

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
    tokio::spawn(jobs::janitor::run(
        pool.clone(),
        clock.clone(),
        config.clone(),
    ));
    tokio::spawn(jobs::sweeper::run(
        pool.clone(),
        clock.clone(),
        config.sweeper(),
    ));
    tokio::spawn(jobs::digest::run(
        pool.clone(),
        clock.clone(),
        config.digest(),
        crate::mail::Mailer::new(&config.mail)?,
    ));
    let state = AppState {
        db: pool,
        config,
        clock,
        caches: Default::default(),
    };
    serve(listener, state, shutdown_signal()).await?;
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
