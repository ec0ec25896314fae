-- Work in progress on the authoring page, autosaved every few seconds: one
-- draft per author and postmortem, the form exactly as typed (URL-encoded,
-- without the CSRF token). A draft is not a revision; a save deletes it.
CREATE TABLE editor_drafts (
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    form text NOT NULL,
    saved_at timestamptz NOT NULL,
    PRIMARY KEY (postmortem_id, user_id)
);
