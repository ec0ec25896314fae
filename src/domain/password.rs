//! Password rules and argon2id hashing.
//!
//! Hashing is deliberately slow (argon2id with the OWASP parameters, the
//! crate's defaults: m = 19 MiB, t = 2, p = 1); callers run it on a blocking
//! thread, never on the async runtime.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// Passwords long enough to pass the length rule that attackers try first.
const COMMON: &[&str] = &[
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789123",
    "password1234",
    "password12345",
    "passwordpassword",
    "qwertyuiopasdf",
    "qwertyuiop12",
    "qwerty123456",
    "111111111111",
    "000000000000",
    "abcdefghijkl",
    "abc123abc123",
    "iloveyou1234",
    "letmein12345",
    "welcome12345",
    "administrator",
    "changeme1234",
    "trustno1trustno1",
    "correcthorsebatterystaple",
    "monkey123456",
    "football1234",
    "baseball1234",
    "sunshine1234",
    "princess1234",
    "dragon123456",
    "superman1234",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "zaq12wsxcde3",
    "qazwsxedcrfv",
    "asdfghjkl123",
    "p@ssw0rd1234",
    "passw0rd1234",
    "password123!",
    "Password123!",
    "debriefdebrief",
    "postmortem123",
    "incident1234",
];

/// Checks a new password against the policy; `email` may not be reused as the password.
pub fn check_new(password: &str, email: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        return Err(format!(
            "Use at least {MIN_LENGTH} characters; a few words strung together work well."
        ));
    }
    if length > MAX_LENGTH {
        return Err(format!("Use at most {MAX_LENGTH} characters."));
    }
    let lowered = password.to_lowercase();
    if COMMON.iter().any(|common| common.to_lowercase() == lowered) {
        return Err("That password is on the list attackers try first; pick another.".to_owned());
    }
    if !email.is_empty() && lowered.contains(&email.to_lowercase()) {
        return Err("Do not use your email address in your password.".to_owned());
    }
    if password
        .chars()
        .all(|c| c == password.chars().next().unwrap_or(c))
    {
        return Err("A password of one repeated character is easy to guess.".to_owned());
    }
    Ok(())
}

/// Hashes a password as a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub fn hash(password: &str) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|error| anyhow::anyhow!("argon2 hashing failed: {error}"))?;
    Ok(hash.to_string())
}

/// Checks a password against a stored hash. Passing `None` (unknown email, or
/// a user who never set a password) still does a full verification against a
/// throwaway hash, so the answer takes the same time either way.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let matched = Argon2::default()
        .verify_password(password.as_bytes(), stored.unwrap_or_else(|| decoy_hash()))
        .is_ok();
    matched && stored.is_some()
}

/// Computes the throwaway hash ahead of time, so the first sign-in with an
/// unknown email is not the one request that pays for it (call at start-up).
pub fn warm_up() {
    decoy_hash();
}

fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let random = crate::domain::token::Token::generate();
        hash(random.as_str()).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_common_and_email_passwords_are_refused() {
        assert!(check_new("short", "a@b.co").is_err());
        assert!(check_new("Password1234", "a@b.co").is_err());
        assert!(check_new("xx-ada@example.com-xx", "ada@example.com").is_err());
        assert!(check_new("aaaaaaaaaaaaaaa", "a@b.co").is_err());
        assert!(check_new(&"ab".repeat(65), "a@b.co").is_err());
    }

    #[test]
    fn long_uncommon_passwords_pass() {
        assert!(check_new("maple copper lantern river", "ada@example.com").is_ok());
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hashed = hash("maple copper lantern river").unwrap();
        assert!(
            hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hashed}"
        );
        assert!(verify("maple copper lantern river", Some(&hashed)));
        assert!(!verify("maple copper lantern rivers", Some(&hashed)));
    }

    #[test]
    fn a_missing_hash_never_verifies() {
        assert!(!verify("anything at all", None));
    }
}
