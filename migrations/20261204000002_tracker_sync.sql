-- Action items kept in step with an issue in GitHub or Jira. An item has at
-- most one issue; calls to the tracker go through an outbox, so an outage
-- delays them and loses nothing, and a made issue carries its item's mark
-- (the idempotency key) so a retry finds it instead of making another.

CREATE TYPE tracker_kind AS ENUM ('github', 'jira');

CREATE TABLE tracker_issues (
    item_id      uuid PRIMARY KEY REFERENCES action_items (id) ON DELETE CASCADE,
    tracker      tracker_kind NOT NULL,
    -- owner/repo, or a Jira project key.
    project      text NOT NULL,
    -- owner/repo#123 or OPS-42; null until the issue is made.
    issue_key    text,
    url          text,
    -- open, done or wont_do, as last read; null until read.
    remote_state text CHECK (remote_state IN ('open', 'done', 'wont_do')),
    remote_reason text,
    synced_at    timestamptz,
    linked_by    uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL
);
CREATE INDEX tracker_issues_key ON tracker_issues (tracker, issue_key);
CREATE INDEX tracker_issues_synced ON tracker_issues (synced_at NULLS FIRST);

CREATE TABLE tracker_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_id         uuid NOT NULL REFERENCES action_items (id) ON DELETE CASCADE,
    -- create: make the issue; fetch: read it now (just linked, or asked).
    action          text NOT NULL CHECK (action IN ('create', 'fetch')),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL,
    done_at         timestamptz
);
-- One pending call per item and action: asking twice queues one.
CREATE UNIQUE INDEX tracker_outbox_pending ON tracker_outbox (item_id, action) WHERE status = 'pending';
CREATE INDEX tracker_outbox_due ON tracker_outbox (next_attempt_at) WHERE status = 'pending';
