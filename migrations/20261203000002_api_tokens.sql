-- Personal API tokens. Only the SHA-256 of a token is kept; the token is
-- shown once, when it is made. A token acts for its owner, with at most
-- the owner's rights, and only reads unless it was made to write.
CREATE TYPE api_scope AS ENUM ('read', 'write');

CREATE TABLE api_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    -- The first characters of the token, to tell tokens apart on the
    -- account page (not enough to use it).
    prefix text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    scope api_scope NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at timestamptz
);

CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at DESC);
