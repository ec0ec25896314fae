-- Timeline entries are edited one row at a time; a version per entry lets
-- an edit made from an old page be refused instead of overwriting a newer one.
ALTER TABLE timeline_entries ADD COLUMN version integer NOT NULL DEFAULT 1;
