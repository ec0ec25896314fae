-- Each reviewer's current decision on a postmortem in review: approved, or
-- changes requested with a note. Every decision is also kept as a revision;
-- returning the postmortem to draft clears the current ones.
CREATE TYPE reviewer_decision AS ENUM ('approved', 'changes_requested');

CREATE TABLE reviewer_decisions (
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    reviewer_id   uuid NOT NULL REFERENCES users (id),
    decision      reviewer_decision NOT NULL,
    note          text CHECK (length(note) <= 2000),
    decided_at    timestamptz NOT NULL,
    PRIMARY KEY (postmortem_id, reviewer_id)
);
