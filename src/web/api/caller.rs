//! Who calls the API: the owner of the presented token, within the token's
//! scope and its request budget.

use std::{num::NonZeroU32, sync::OnceLock};

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use chrono::Duration;
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};
use uuid::Uuid;

use super::problem::Problem;
use crate::{
    domain::token::Token,
    store::{self, api_tokens::Scope},
    web::{AppState, session::CurrentUser},
};

/// Tokens start with this, so that one pasted somewhere it should not be is
/// recognisable (and can be searched for by secret scanners).
pub const TOKEN_PREFIX: &str = "dbr_";

/// A token's last use is written at most this often.
const TOUCH_EVERY_SECONDS: i64 = 60;

/// The request budget of each token in this process.
#[derive(Default)]
pub struct RateLimits {
    limiter: OnceLock<DefaultKeyedRateLimiter<Uuid>>,
}

impl RateLimits {
    /// Takes one request from the token's budget; the seconds to wait when
    /// it is spent.
    fn admit(&self, token_id: Uuid, per_minute: u32) -> Result<(), u32> {
        let limiter = self.limiter.get_or_init(|| {
            let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
            let burst = NonZeroU32::new((per_minute / 10).max(1)).unwrap_or(NonZeroU32::MIN);
            DefaultKeyedRateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        limiter.check_key(&token_id).map_err(|not_until| {
            let now = governor::clock::DefaultClock::default().now();
            u32::try_from(not_until.wait_time_from(now).as_secs())
                .unwrap_or(u32::MAX)
                .max(1)
        })
    }
}

/// The bearer token of `Authorization: Bearer ...`, if one is sent.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The caller of an API request.
pub struct Caller {
    pub user: CurrentUser,
    pub scope: Scope,
}

impl Caller {
    /// The user, when this request may change the archive: a token made to
    /// write, of a user who may write. What they may change is then checked
    /// as on the pages.
    pub fn writer(&self) -> Result<&CurrentUser, Problem> {
        if self.scope != Scope::Write {
            return Err(Problem::forbidden(
                "This token may only read. Make a read-write token on your account page to change things.",
            ));
        }
        if !self.user.can_write() {
            return Err(Problem::forbidden(
                "Viewers read the archive; ask an admin to make you a member to change it.",
            ));
        }
        Ok(&self.user)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Problem> {
        let presented = bearer(&parts.headers)
            .filter(|token| token.starts_with(TOKEN_PREFIX))
            .ok_or_else(|| {
                Problem::unauthorized(
                    "Send a personal API token as `Authorization: Bearer dbr_...`; make one on your account page.",
                )
            })?;
        let now = state.clock.now();
        let found = store::api_tokens::find_live(
            &state.db,
            &Token::from_presented(presented).digest(),
            now,
        )
        .await?
        .ok_or_else(|| {
            Problem::unauthorized(
                "This token is unknown, expired or revoked, or its owner is deactivated.",
            )
        })?;
        if let Err(seconds) = state
            .caches
            .api_limits
            .admit(found.token_id, state.config.api_rate_per_minute)
        {
            let mut problem = Problem::new(
                axum::http::StatusCode::TOO_MANY_REQUESTS,
                "Too many requests",
                format!("This token has used its requests for now; try again in {seconds} s."),
            );
            problem.retry_after = Some(seconds);
            return Err(problem);
        }
        let stale = found
            .last_used_at
            .is_none_or(|at| now - at > Duration::seconds(TOUCH_EVERY_SECONDS));
        if stale {
            store::api_tokens::touch(&state.db, found.token_id, now).await?;
        }
        let user = CurrentUser::from_token(found.user);
        tracing::Span::current().record("user", tracing::field::display(user.id));
        Ok(Caller {
            user,
            scope: found.scope,
        })
    }
}
