-- Imported archives and attachments.

-- Sections older templates have and imports fill: how the incident was
-- noticed, how it was resolved, and whatever in a source maps to no section
-- (kept verbatim, so an import never drops a line).
ALTER TABLE postmortems
    ADD COLUMN detection   text NOT NULL DEFAULT '',
    ADD COLUMN resolution  text NOT NULL DEFAULT '',
    ADD COLUMN other_notes text NOT NULL DEFAULT '';

-- An imported incident remembers the file it came from; importing that file
-- again updates the incident instead of adding a second one.
-- The import report says where each part of the source went.
ALTER TABLE incidents
    ADD COLUMN imported_from text UNIQUE,
    ADD COLUMN source_url    text,
    ADD COLUMN import_report text;

-- The time as the source wrote it ("2021-12-10", "14:?? CET"), kept beside
-- the UTC time it was read as.
ALTER TABLE timeline_entries ADD COLUMN written_at text;

-- An owner named in an imported document who has no account here.
ALTER TABLE action_items ADD COLUMN owner_name text;

-- Screenshots and other images, stored in Postgres so every replica serves
-- them. The type is decided from the content, never from the file name.
CREATE TABLE attachments (
    id                uuid PRIMARY KEY,
    postmortem_id     uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    timeline_entry_id uuid REFERENCES timeline_entries (id) ON DELETE SET NULL,
    file_name         text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    content_type      text NOT NULL,
    byte_size         integer NOT NULL CHECK (byte_size > 0),
    sha256            text NOT NULL,
    content           bytea NOT NULL,
    created_by        uuid REFERENCES users (id),
    created_at        timestamptz NOT NULL
);
CREATE INDEX attachments_postmortem ON attachments (postmortem_id, created_at);
CREATE INDEX attachments_entry ON attachments (timeline_entry_id) WHERE timeline_entry_id IS NOT NULL;
-- Re-importing a document finds the images it already brought in.
CREATE INDEX attachments_content ON attachments (postmortem_id, sha256);

-- Removing a contributing factor clears the items that answer it; without
-- this index each removal read every action item (re-imports remove many).
CREATE INDEX action_items_factor ON action_items (factor_id);
