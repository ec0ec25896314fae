-- Sign-ins through the organization's OpenID provider that have started
-- and not yet come back: the state (kept hashed), the nonce the ID token
-- must carry, and the PKCE verifier. Each is used once and only briefly.
CREATE TABLE sso_logins (
    state_hash    bytea PRIMARY KEY,
    nonce         text NOT NULL,
    pkce_verifier text NOT NULL,
    next_path     text NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX sso_logins_created ON sso_logins (created_at);
