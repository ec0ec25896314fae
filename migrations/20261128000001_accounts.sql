-- Accounts, sessions and the audit trail: everything the foundation needs to
-- know who is asking. Later capabilities add their own migrations; this file
-- is never edited once released.

-- Role of a user across the whole organization. Team leadership is a separate
-- fact (team_members.is_lead) because a lead is usually an ordinary member.
CREATE TYPE user_role AS ENUM ('admin', 'member', 'viewer');

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- Stored lowercased by the application; the unique index makes the rule
    -- hold even if two sign-ups race.
    email         text NOT NULL UNIQUE CHECK (email = lower(email)),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    role          user_role NOT NULL DEFAULT 'member',
    -- NULL until the user has chosen a password through an invite link.
    password_hash text,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- Server-side sessions. Only a SHA-256 of the cookie value is kept, so a
-- leaked database dump cannot be replayed as a cookie. A visitor who is not
-- signed in gets an anonymous session (user_id NULL) so that the sign-in and
-- setup forms carry a CSRF token too; signing in replaces it with a new one.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY,
    user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
    -- The synchronizer token every form of this session must send back.
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    -- Absolute end of the session, whatever the activity.
    expires_at   timestamptz NOT NULL,
    -- A one-shot message shown on the next page (set before a redirect).
    flash        text
);
CREATE INDEX sessions_user_id ON sessions (user_id);

-- One-time links: first-run setup (no user yet), invitations and password
-- resets. Hashed like sessions; single use; a newer link for the same user
-- and purpose replaces the older one.
CREATE TYPE link_purpose AS ENUM ('setup', 'invite', 'reset');

CREATE TABLE one_time_links (
    token_hash bytea PRIMARY KEY,
    purpose    link_purpose NOT NULL,
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    CHECK ((purpose = 'setup') = (user_id IS NULL))
);
CREATE INDEX one_time_links_user_id ON one_time_links (user_id);

-- Failed sign-ins, kept in the database (not in process memory) so the
-- throttle holds across every replica behind the load balancer.
CREATE TABLE sign_in_failures (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL,
    client_ip  text NOT NULL,
    failed_at  timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_email ON sign_in_failures (email, failed_at);
CREATE INDEX sign_in_failures_client_ip ON sign_in_failures (client_ip, failed_at);

CREATE TABLE teams (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX teams_name ON teams (lower(name));

CREATE TABLE team_members (
    team_id uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    is_lead boolean NOT NULL DEFAULT false,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user_id ON team_members (user_id);

-- Who did what to whom, for sign-ins, account and team changes. Append-only.
CREATE TABLE audit_events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor_id  uuid REFERENCES users (id),
    action    text NOT NULL,
    target_id uuid,
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at ON audit_events (at DESC);
