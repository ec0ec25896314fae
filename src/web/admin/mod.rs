//! Admin pages: users, teams and the audit trail. Every handler takes the
//! [`Admin`](super::session::Admin) extractor, so only admins get in.

mod audit;
mod teams;
mod user;
mod users;

use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(users::routes())
        .merge(user::routes())
        .merge(teams::routes())
        .merge(audit::routes())
}
