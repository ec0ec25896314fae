-- An entry whose source gave no time that can be read ("time unknown"): it
-- keeps its place among its neighbours, so occurred_at is then only where it
-- sorts; it is shown without a time and counts for none of the key times.
ALTER TABLE timeline_entries ADD COLUMN time_unknown boolean NOT NULL DEFAULT false;
