//! Checking that a webhook came from who it says: an HMAC-SHA256 of the raw
//! body under a shared secret (PagerDuty, GitHub, Jira), or a shared bearer
//! secret (Alertmanager). Comparisons never stop at the first difference.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The hex HMAC-SHA256 of `body` under `secret`, as senders write it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether any of the header's signatures is the body's under `secret`.
/// `header` lists one or more `{scheme}{hex}` values separated by commas
/// (PagerDuty sends one per active secret while a secret is rotated):
/// `v1=ab12...` for PagerDuty, `sha256=ab12...` for GitHub and Jira.
pub fn verify(secret: &str, body: &[u8], header: &str, scheme: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    header
        .split(',')
        .filter_map(|part| part.trim().strip_prefix(scheme))
        .filter_map(|presented| hex::decode(presented.trim()).ok())
        .any(|presented| {
            let mut mac =
                HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
            mac.update(body);
            mac.verify_slice(&presented).is_ok()
        })
}

/// Whether a presented shared secret is the configured one.
pub fn same_secret(presented: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_under_its_secret_and_body() {
        let body = br#"{"event":{}}"#;
        let signature = format!("v1={}", sign("s3cret", body));
        assert!(verify("s3cret", body, &signature, "v1="));
        assert!(!verify("other", body, &signature, "v1="));
        assert!(!verify("s3cret", b"{}", &signature, "v1="));
        assert!(!verify("s3cret", body, &signature, "sha256="));
        assert!(!verify("", body, "v1=", "v1="));
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        let body = b"payload";
        let header = format!("v1=00ff, v1={}", sign("new", body));
        assert!(verify("new", body, &header, "v1="));
        assert!(!verify("new", body, "v1=zz, v1=00", "v1="));
    }

    #[test]
    fn shared_secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", ""));
    }
}
