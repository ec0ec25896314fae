//! Admin pages: users, teams, imports, the audit trail, the sweeper and the outbox. Every handler takes the
//! [`Admin`](super::session::Admin) extractor, so only admins get in.

mod audit;
mod categories;
mod import;
mod outbox;
mod sweeps;
mod teams;
mod user;
mod users;

use axum::Router;

use super::AppState;

pub fn routes(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .merge(import::routes(max_upload_bytes))
        .merge(users::routes())
        .merge(user::routes())
        .merge(teams::routes())
        .merge(audit::routes())
        .merge(sweeps::routes())
        .merge(outbox::routes())
        .merge(categories::routes())
}
