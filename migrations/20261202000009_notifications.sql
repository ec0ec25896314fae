-- Notifications by email: what happened to whom, recorded in the same
-- transaction as the change itself, then gathered per person into one
-- outbox message (so a burst of events is one email), and delivered by the
-- outbox's senders like the digests.

CREATE TABLE notifications (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('review_requested', 'changes_requested', 'mentioned',
                                                'item_assigned', 'item_due_changed', 'followed_published')),
    -- What happened, named so that recording it again (a retried request,
    -- a second save with the same mention) stores nothing new.
    event_key     text NOT NULL,
    postmortem_id uuid REFERENCES postmortems (id) ON DELETE CASCADE,
    -- One line saying what happened, a detail (a note, an excerpt), and the
    -- path it links to.
    summary       text NOT NULL,
    detail        text NOT NULL DEFAULT '',
    path          text NOT NULL,
    created_at    timestamptz NOT NULL,
    -- The message it went out in; NULL while it waits to be gathered.
    outbox_id     bigint REFERENCES outbox (id) ON DELETE SET NULL,
    UNIQUE (recipient_id, event_key)
);
CREATE INDEX notifications_waiting ON notifications (recipient_id, created_at) WHERE outbox_id IS NULL;

-- Kinds a person switched off.
CREATE TABLE notification_opt_outs (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind    text NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- What a person follows: a team (by id), a service or a tag (by name).
-- They hear when a postmortem of it is published.
CREATE TABLE follows (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subject    text NOT NULL CHECK (subject IN ('team', 'service', 'tag')),
    value      text NOT NULL CHECK (length(value) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, subject, value)
);
CREATE INDEX follows_subject ON follows (subject, value);

-- The outbox carries gathered notifications too ('notice'; the period is
-- the first notification's id, so each gathering is stored once).
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('owner', 'lead', 'notice'));
