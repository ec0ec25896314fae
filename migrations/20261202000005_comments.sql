-- Review as a conversation: comments on a postmortem, anchored to a section
-- (and, when made from a selection, to the passage quoted as it was then).
-- A thread is a comment without a parent and its replies; resolving is of
-- the thread.
CREATE TABLE comments (
    id            uuid PRIMARY KEY,
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    parent_id     uuid REFERENCES comments (id) ON DELETE CASCADE,
    author_id     uuid NOT NULL REFERENCES users (id),
    -- A section's field name, or 'general' for the postmortem as a whole.
    section       text NOT NULL CHECK (length(section) BETWEEN 1 AND 40),
    quote         text CHECK (length(quote) <= 2000),
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at    timestamptz NOT NULL,
    edited_at     timestamptz,
    resolved_at   timestamptz,
    resolved_by   uuid REFERENCES users (id),
    version       integer NOT NULL DEFAULT 1
);
CREATE INDEX comments_postmortem ON comments (postmortem_id, created_at);
CREATE INDEX comments_parent ON comments (parent_id) WHERE parent_id IS NOT NULL;
