-- The incident list's default order (newest first, then by number) read
-- straight from one index, without a sort step after it; the index it
-- replaces served only the first key.
CREATE INDEX incidents_started_at_number ON incidents (started_at DESC NULLS LAST, number DESC);
DROP INDEX incidents_started_at;
