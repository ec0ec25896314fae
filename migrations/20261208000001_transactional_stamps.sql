-- Stamps that say whether a cached view is current, each moved inside the
-- writer's transaction.
--
-- The directory and access epochs were sequences. A sequence moves the
-- moment the writer's statement runs, before it commits, so a reader in
-- between could read the new epoch with the old names (or the old access
-- lists), cache them under it, and keep serving them after the commit.
-- A counter in a row moves when the writer commits, in the same snapshot
-- as the data it stands for. Writers of the same epoch now queue on its row
-- until they commit; these are rare writes (names, roles, access lists,
-- status changes).
CREATE TABLE epochs (
    name  text PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO epochs (name, value)
SELECT 'directory', last_value + is_called::int FROM directory_epoch
UNION ALL
SELECT 'access', last_value + is_called::int FROM access_epoch;

CREATE OR REPLACE FUNCTION bump_directory_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE epochs SET value = value + 1 WHERE name = 'directory';
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION bump_access_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE epochs SET value = value + 1 WHERE name = 'access';
    RETURN NULL;
END
$$;
DROP SEQUENCE directory_epoch;
DROP SEQUENCE access_epoch;

-- A postmortem's discussion (its comments and participants) changes without
-- touching its search entry, so it has a counter of its own: the reading
-- page reads it with the postmortem and fetches the discussion only when
-- the counter differs from the one its cached copy was read at. No foreign
-- key: deleting a postmortem deletes its comments, whose trigger would
-- then write a stamp for a postmortem that is gone; a stray stamp is
-- harmless.
CREATE TABLE discussion_stamps (
    postmortem_id uuid PRIMARY KEY,
    stamp         bigint NOT NULL
);
CREATE FUNCTION bump_discussion_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO discussion_stamps AS d (postmortem_id, stamp)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.postmortem_id ELSE NEW.postmortem_id END, 1)
    ON CONFLICT (postmortem_id) DO UPDATE SET stamp = d.stamp + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER discussion_stamp AFTER INSERT OR UPDATE OR DELETE ON comments
    FOR EACH ROW EXECUTE FUNCTION bump_discussion_stamp();
CREATE TRIGGER discussion_stamp AFTER INSERT OR UPDATE OR DELETE ON participants
    FOR EACH ROW EXECUTE FUNCTION bump_discussion_stamp();
