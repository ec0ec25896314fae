//! Throttling of password guesses, per account and per client address,
//! counted in Postgres so the limits hold across every replica.

use chrono::Duration;

use super::{AppError, AppState};
use crate::store;

/// Failures count for this long.
pub const WINDOW_MINUTES: i64 = 15;
/// Failed attempts for one account within the window before it is locked.
const MAX_FAILURES_PER_ACCOUNT: i64 = 20;
/// Failed attempts from one address within the window, over all accounts.
const MAX_FAILURES_PER_ADDRESS: i64 = 100;

/// The message shown with a 429.
pub fn locked_message() -> String {
    format!(
        "Too many failed attempts. Wait {WINDOW_MINUTES} minutes and try again, or ask an admin for a password reset link."
    )
}

/// Whether a password may be checked for `email` from `client_ip`.
///
/// The attempt is recorded as a failure *before* the check and the count
/// includes it, so guesses sent in parallel all see each other and the limit
/// cannot be raced; [`forget_failures`] clears the account's record once the
/// password proves right.
pub async fn admit_attempt(
    state: &AppState,
    email: &str,
    client_ip: &str,
) -> Result<bool, AppError> {
    let now = state.clock.now();
    store::throttle::record_failure(&state.db, email, client_ip, now).await?;
    let since = now - Duration::minutes(WINDOW_MINUTES);
    let recent = store::throttle::count_recent_failures(&state.db, email, client_ip, since).await?;
    Ok(recent.for_email <= MAX_FAILURES_PER_ACCOUNT
        && recent.from_address <= MAX_FAILURES_PER_ADDRESS)
}

/// Forgets an account's failures after a right password ("in a row").
pub async fn forget_failures(state: &AppState, email: &str) -> Result<(), AppError> {
    store::throttle::clear_failures(&state.db, email).await?;
    Ok(())
}
