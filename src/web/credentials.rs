//! Choosing a password, shared by setup, invite links and the account page.

use super::{AppError, form::FormErrors};
use crate::domain::password;

/// Checks a new password and its confirmation, recording problems under the
/// `password` and `password_confirm` fields.
pub fn check_new_password(errors: &mut FormErrors, new: &str, confirm: &str, email: &str) {
    if let Err(message) = password::check_new(new, email) {
        errors.add("password", message);
    } else if new != confirm {
        errors.add(
            "password_confirm",
            "The two passwords differ; type the same one twice.",
        );
    }
}

/// Hashes on a blocking thread: argon2 is deliberately slow and must not
/// stall the async runtime.
pub async fn hash_password(new: &str) -> Result<String, AppError> {
    let new = new.to_owned();
    let hashed = tokio::task::spawn_blocking(move || password::hash(&new))
        .await
        .map_err(anyhow::Error::new)??;
    Ok(hashed)
}

/// Verifies on a blocking thread; see [`password::verify`].
pub async fn verify_password(candidate: &str, stored: Option<String>) -> Result<bool, AppError> {
    let candidate = candidate.to_owned();
    let matched =
        tokio::task::spawn_blocking(move || password::verify(&candidate, stored.as_deref()))
            .await
            .map_err(anyhow::Error::new)?;
    Ok(matched)
}
