//! Random secrets handed to browsers (session cookies, one-time links) and
//! the digests under which the database keeps them.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A 256-bit random secret, hex-encoded. Only its [`Token::digest`] is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn generate() -> Token {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Token(hex::encode(bytes))
    }

    /// Wraps a value that came back from a browser.
    pub fn from_presented(value: &str) -> Token {
        Token(value.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of the token: what the database keeps and looks up by.
    pub fn digest(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }
}

impl std::fmt::Debug for Token {
    // Secrets never reach logs through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (Token::generate(), Token::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn digests_depend_only_on_the_value() {
        let token = Token::generate();
        assert_eq!(
            token.digest(),
            Token::from_presented(token.as_str()).digest()
        );
        assert_eq!(format!("{token:?}"), "Token(..)");
    }
}
