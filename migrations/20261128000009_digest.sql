-- Email digests of overdue action items: each user's choice, and the outbox
-- that makes delivery exactly-once on our side.

CREATE TYPE digest_frequency AS ENUM ('weekly', 'daily', 'off');
ALTER TABLE users ADD COLUMN digest_frequency digest_frequency NOT NULL DEFAULT 'weekly';

CREATE TYPE outbox_status AS ENUM ('pending', 'sent');

-- One row per message to deliver. The unique key is the promise that a
-- recipient gets one digest of a kind per period, however many composers
-- run; a failed delivery stays pending and is retried, never dropped.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email           text NOT NULL,
    -- 'owner' (my overdue and due-soon items) or 'lead' (my teams' rollup).
    kind            text NOT NULL CHECK (kind IN ('owner', 'lead')),
    -- '2026-W48' for a weekly digest, '2026-11-28' for a daily one.
    period          text NOT NULL,
    subject         text NOT NULL,
    text_body       text NOT NULL,
    html_body       text NOT NULL,
    unsubscribe_url text NOT NULL,
    status          outbox_status NOT NULL DEFAULT 'pending',
    attempts        integer NOT NULL DEFAULT 0,
    -- When a sender may next take it: now for a new message, later after a
    -- failure (backoff), or at the end of a sender's lease while it sends.
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    UNIQUE (recipient_id, kind, period)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_created ON outbox (created_at DESC);

-- Which digest periods have been composed: a composer that finds its
-- period here has nothing to do.
CREATE TABLE digest_runs (
    frequency   digest_frequency NOT NULL,
    period      text NOT NULL,
    composed_at timestamptz NOT NULL,
    messages    integer NOT NULL,
    duration_ms integer NOT NULL,
    PRIMARY KEY (frequency, period)
);

-- Secrets the installation makes for itself on first use (the key that
-- signs unsubscribe links), shared by every replica.
CREATE TABLE app_secrets (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);
