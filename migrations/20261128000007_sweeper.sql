-- The sweeper: flags on action items (overdue, stale) and on postmortems
-- (review overdue), each with when it was raised and when it was cleared,
-- and a record of every run.

CREATE TYPE item_flag AS ENUM ('overdue', 'stale');

-- One row per flag raised on an action item. A flag that no longer holds is
-- cleared, not deleted, so the history shows how long an item was overdue.
-- At most one open flag of a kind per item: it is raised once, however many
-- sweepers run.
CREATE TABLE item_flags (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_item_id uuid NOT NULL REFERENCES action_items (id) ON DELETE CASCADE,
    flag           item_flag NOT NULL,
    raised_at      timestamptz NOT NULL,
    cleared_at     timestamptz,
    CHECK (cleared_at IS NULL OR cleared_at >= raised_at)
);
-- One index serves both: at most one open flag per item and kind (open
-- flags' NULLs count as equal), and an item's flags for its history.
CREATE UNIQUE INDEX item_flags_item ON item_flags (action_item_id, flag, cleared_at) NULLS NOT DISTINCT;

-- A postmortem not published by its review due date.
CREATE TABLE review_flags (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    raised_at     timestamptz NOT NULL,
    cleared_at    timestamptz,
    CHECK (cleared_at IS NULL OR cleared_at >= raised_at)
);
CREATE UNIQUE INDEX review_flags_postmortem ON review_flags (postmortem_id, cleared_at) NULLS NOT DISTINCT;

-- Every sweep that ran (a replica that found another sweeping records nothing).
CREATE TABLE sweep_runs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    duration_ms integer NOT NULL CHECK (duration_ms >= 0),
    raised      integer NOT NULL,
    cleared     integer NOT NULL,
    -- Which process ran it (host and process id), to tell replicas apart.
    runner      text NOT NULL
);
CREATE INDEX sweep_runs_started ON sweep_runs (started_at DESC);
