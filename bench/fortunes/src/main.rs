//! The ceiling page of `bench/run`: a TechEmpower-style "fortunes" page on
//! Debrief's stack. Each request reads every row of a small table with one
//! query, adds one row, sorts them by message and renders them through an
//! escaping askama template. Whatever Debrief's pages cost beyond this is
//! Debrief's own work, so `bench/run` reports them as a share of this page.
//!
//!   DATABASE_URL=postgres://... LISTEN=127.0.0.1:3998 fortunes

use std::net::SocketAddr;

use askama::Template;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use sqlx::{PgPool, postgres::PgPoolOptions};

/// Twelve messages, some with characters that must be escaped and some
/// outside ASCII, so the template's escaping does real work.
const MESSAGES: [&str; 12] = [
    "A postmortem without owners is a diary.",
    "Retries turn a small outage into a large one.",
    "<script>alert(\"the page escapes this\")</script>",
    "Every alert should be actionable & every action alertable.",
    "Cache invalidation: still hard in 2026.",
    "The timeline is the truth; the summary is an opinion.",
    "Blameless does not mean nobody learns anything.",
    "Staging is a rumour about production.",
    "日本語のメッセージもエスケープされる。",
    "Rollback first, ask questions later.",
    "A near-miss is a free lesson.",
    "'Quotes' and \"double quotes\" come out as entities.",
];

struct Fortune {
    id: i32,
    message: String,
}

#[derive(Template)]
#[template(path = "fortunes.html")]
struct FortunesPage {
    fortunes: Vec<Fortune>,
}

async fn fortunes(State(db): State<PgPool>) -> Response {
    let rows = sqlx::query_as::<_, (i32, String)>("SELECT id, message FROM fortune")
        .fetch_all(&db)
        .await;
    let Ok(rows) = rows else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let mut fortunes: Vec<Fortune> = rows
        .into_iter()
        .map(|(id, message)| Fortune { id, message })
        .collect();
    fortunes.push(Fortune {
        id: 0,
        message: "Added while the request ran.".to_owned(),
    });
    fortunes.sort_by(|a, b| a.message.cmp(&b.message));
    match (FortunesPage { fortunes }).render() {
        Ok(html) => Html(html).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Creates and fills the table unless it is there already.
async fn prepare(db: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query("CREATE TABLE IF NOT EXISTS fortune (id integer PRIMARY KEY, message text NOT NULL)")
        .execute(db)
        .await?;
    for (index, message) in MESSAGES.iter().enumerate() {
        sqlx::query("INSERT INTO fortune (id, message) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(index as i32 + 1)
            .bind(*message)
            .execute(db)
            .await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL")?;
    let listen: SocketAddr = std::env::var("LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:3998".to_owned())
        .parse()?;
    // The same pool size and settings as Debrief's default: twice the cores.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let db = PgPoolOptions::new()
        .max_connections(2 * cores as u32)
        .test_before_acquire(false)
        .connect(&url)
        .await?;
    prepare(&db).await?;
    let app = Router::new().route("/fortunes", get(fortunes)).with_state(db);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
