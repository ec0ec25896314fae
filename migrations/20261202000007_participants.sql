-- The people who took part in an incident and their roles (incident
-- commander, communications, responder, subject expert, or a role of the
-- author's own words): accounts, or names of people without one.
CREATE TABLE participants (
    id            uuid PRIMARY KEY,
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    user_id       uuid REFERENCES users (id),
    name          text CHECK (length(name) BETWEEN 1 AND 120),
    role          text NOT NULL CHECK (length(role) BETWEEN 1 AND 60),
    created_at    timestamptz NOT NULL,
    CHECK ((user_id IS NULL) <> (name IS NULL))
);
CREATE INDEX participants_postmortem ON participants (postmortem_id);
CREATE INDEX participants_user ON participants (user_id) WHERE user_id IS NOT NULL;
