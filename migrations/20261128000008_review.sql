-- The quarterly review: decisions on overdue and stale action items, and
-- the frozen figures of closed quarters.

CREATE TYPE review_decision AS ENUM ('done', 'keep', 'wont_do', 'deprioritized');

CREATE TABLE review_decisions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_item_id uuid NOT NULL REFERENCES action_items (id) ON DELETE CASCADE,
    -- The review it was taken in, as '2026-Q4'.
    quarter        text NOT NULL CHECK (quarter ~ '^[0-9]{4}-Q[1-4]$'),
    decision       review_decision NOT NULL,
    evidence_url   text,
    new_due_on     date,
    reason         text,
    decided_by     uuid REFERENCES users (id),
    decided_at     timestamptz NOT NULL,
    CHECK (decision <> 'done' OR evidence_url IS NOT NULL),
    CHECK (decision <> 'keep' OR new_due_on IS NOT NULL),
    CHECK (decision NOT IN ('wont_do', 'deprioritized') OR length(reason) > 0)
);
CREATE INDEX review_decisions_item ON review_decisions (action_item_id, decided_at);
CREATE INDEX review_decisions_quarter ON review_decisions (quarter, decided_at);

-- A "keep" decision restarts the 180 days after which an open item is stale.
ALTER TABLE action_items ADD COLUMN kept_at timestamptz;

-- The review reads items by due date, open or not, and open items by due
-- date or age, with the few columns its figures need, without visiting the
-- table. The second replaces the plain index on open items' due dates.
CREATE INDEX action_items_due_all ON action_items (due_on)
    INCLUDE (status, closed_at, team_id, postmortem_id);
DROP INDEX action_items_due;
CREATE INDEX action_items_open_due ON action_items (due_on)
    INCLUDE (created_at, kept_at, team_id, owner_id, owner_name, postmortem_id)
    WHERE status IN ('open', 'in_progress');
CREATE INDEX action_item_changes_due_moves ON action_item_changes (at) WHERE field = 'due_on';
CREATE INDEX postmortems_published_at ON postmortems (published_at) WHERE status = 'published';

-- A closed quarter's figures as the review saw them, for the organization
-- (team_id NULL) and for each team.
CREATE TABLE review_snapshots (
    quarter   text NOT NULL CHECK (quarter ~ '^[0-9]{4}-Q[1-4]$'),
    team_id   uuid REFERENCES teams (id) ON DELETE CASCADE,
    closed_at timestamptz NOT NULL,
    closed_by uuid REFERENCES users (id),
    figures   jsonb NOT NULL
);
CREATE UNIQUE INDEX review_snapshots_quarter ON review_snapshots (quarter, team_id) NULLS NOT DISTINCT;

-- The first sweep of a large archive raises hundreds of thousands of flags,
-- and checking each new flag's foreign key (which also locks its action
-- item) was more than half of that sweep's time. A trigger deletes an
-- item's flags with the item instead. A flag raised for an item deleted
-- while the sweep ran is cleared by the next sweep, and every reader joins
-- flags to their items, so such a row is never shown.
ALTER TABLE item_flags DROP CONSTRAINT item_flags_action_item_id_fkey;

CREATE FUNCTION delete_item_flags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM item_flags WHERE action_item_id IN (SELECT id FROM gone_items);
    RETURN NULL;
END;
$$;

CREATE TRIGGER action_items_delete_flags AFTER DELETE ON action_items
    REFERENCING OLD TABLE AS gone_items FOR EACH STATEMENT EXECUTE FUNCTION delete_item_flags();
