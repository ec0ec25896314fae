-- Incidents, their postmortems, timelines and action items.

-- The zone a user reads times in (an IANA name such as Europe/Berlin).
ALTER TABLE users ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';

CREATE TYPE incident_kind AS ENUM ('incident', 'near_miss', 'chaos_experiment');
CREATE TYPE severity AS ENUM ('sev1', 'sev2', 'sev3', 'sev4');

-- Human numbers (INC-42) come from a sequence, so two incidents created at
-- the same moment on two replicas never share one.
CREATE SEQUENCE incident_number_seq;

CREATE TABLE incidents (
    id           uuid PRIMARY KEY,
    number       integer NOT NULL UNIQUE DEFAULT nextval('incident_number_seq'),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    kind         incident_kind NOT NULL,
    severity     severity NOT NULL,
    services     text[] NOT NULL DEFAULT '{}',
    tags         text[] NOT NULL DEFAULT '{}',
    started_at   timestamptz,
    detected_at  timestamptz,
    mitigated_at timestamptz,
    resolved_at  timestamptz,
    -- The zone the author typed the key times in; readers see their own.
    time_zone    text NOT NULL DEFAULT 'UTC',
    created_by   uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    -- Optimistic concurrency: an edit names the version it started from.
    version      integer NOT NULL DEFAULT 1
);
ALTER SEQUENCE incident_number_seq OWNED BY incidents.number;
CREATE INDEX incidents_started_at ON incidents (started_at DESC NULLS LAST);

CREATE TABLE incident_teams (
    incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, team_id)
);

-- `repeat_of` points from the later incident to the earlier one; `related`
-- is stored once, from the incident where the link was made.
CREATE TYPE incident_link_kind AS ENUM ('related', 'repeat_of');

CREATE TABLE incident_links (
    incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    other_id    uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind        incident_link_kind NOT NULL,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (incident_id, other_id),
    CHECK (incident_id <> other_id)
);
CREATE INDEX incident_links_other_id ON incident_links (other_id);

CREATE TYPE postmortem_status AS ENUM ('draft', 'in_review', 'published');

-- One postmortem per incident. Long text is Markdown, rendered and
-- sanitized when shown.
CREATE TABLE postmortems (
    id                  uuid PRIMARY KEY,
    incident_id         uuid NOT NULL UNIQUE REFERENCES incidents (id) ON DELETE CASCADE,
    status              postmortem_status NOT NULL DEFAULT 'draft',
    summary             text NOT NULL DEFAULT '',
    impact              text NOT NULL DEFAULT '',
    users_affected      bigint CHECK (users_affected >= 0),
    failed_requests     bigint CHECK (failed_requests >= 0),
    revenue_lost_cents  bigint CHECK (revenue_lost_cents >= 0),
    -- Percent of the period's SLO error budget (may exceed 100).
    slo_budget_consumed double precision CHECK (slo_budget_consumed >= 0),
    trigger             text NOT NULL DEFAULT '',
    went_well           text NOT NULL DEFAULT '',
    went_poorly         text NOT NULL DEFAULT '',
    got_lucky           text NOT NULL DEFAULT '',
    lessons             text NOT NULL DEFAULT '',
    submitted_at        timestamptz,
    published_at        timestamptz,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             integer NOT NULL DEFAULT 1
);
CREATE INDEX postmortems_status ON postmortems (status);

CREATE TABLE postmortem_authors (
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (postmortem_id, user_id)
);
CREATE INDEX postmortem_authors_user_id ON postmortem_authors (user_id);

-- Members asked to review a draft; they may read it before publication.
CREATE TABLE postmortem_reviewers (
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (postmortem_id, user_id)
);
CREATE INDEX postmortem_reviewers_user_id ON postmortem_reviewers (user_id);

CREATE TYPE factor_category AS ENUM
    ('technical', 'process', 'detection', 'organizational', 'external', 'communication');

CREATE TABLE contributing_factors (
    id            uuid PRIMARY KEY,
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    category      factor_category NOT NULL,
    description   text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000)
);
CREATE INDEX contributing_factors_postmortem ON contributing_factors (postmortem_id, position);

CREATE TYPE timeline_kind AS ENUM
    ('trigger', 'detection', 'escalation', 'mitigation', 'resolution', 'note');

CREATE TABLE timeline_entries (
    id            uuid PRIMARY KEY,
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    occurred_at   timestamptz NOT NULL,
    kind          timeline_kind NOT NULL,
    text          text NOT NULL CHECK (length(text) BETWEEN 1 AND 4000),
    -- Where the entry came from: typed, chat, deploy log, alert, ...
    source        text NOT NULL DEFAULT 'typed',
    link          text,
    created_by    uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL
);
CREATE INDEX timeline_entries_postmortem ON timeline_entries (postmortem_id, occurred_at);

CREATE TYPE action_kind AS ENUM ('prevent', 'mitigate', 'detect', 'process', 'investigate');
CREATE TYPE action_priority AS ENUM ('p0', 'p1', 'p2', 'p3');
CREATE TYPE action_status AS ENUM ('open', 'in_progress', 'done', 'wont_do', 'deprioritized');

CREATE TABLE action_items (
    id             uuid PRIMARY KEY,
    postmortem_id  uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    title          text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description    text NOT NULL DEFAULT '',
    kind           action_kind NOT NULL,
    priority       action_priority NOT NULL,
    owner_id       uuid REFERENCES users (id),
    team_id        uuid REFERENCES teams (id),
    due_on         date,
    tracker_url    text,
    status         action_status NOT NULL DEFAULT 'open',
    -- The contributing factor this item answers; kept if the factor goes.
    factor_id      uuid REFERENCES contributing_factors (id) ON DELETE SET NULL,
    -- Why an item was closed as won't do or deprioritized (required then).
    closing_reason text,
    closed_at      timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    version        integer NOT NULL DEFAULT 1,
    CHECK (status NOT IN ('wont_do', 'deprioritized') OR length(closing_reason) > 0)
);
CREATE INDEX action_items_postmortem ON action_items (postmortem_id);
CREATE INDEX action_items_owner ON action_items (owner_id, status);
CREATE INDEX action_items_team ON action_items (team_id, status);
CREATE INDEX action_items_due ON action_items (due_on) WHERE status IN ('open', 'in_progress');

-- Every change of an item's owner, due date or status, so slipping shows.
CREATE TABLE action_item_changes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action_item_id uuid NOT NULL REFERENCES action_items (id) ON DELETE CASCADE,
    at             timestamptz NOT NULL,
    actor_id       uuid REFERENCES users (id),
    field          text NOT NULL,
    old_value      text,
    new_value      text,
    note           text
);
CREATE INDEX action_item_changes_item ON action_item_changes (action_item_id, id);

-- Every save of a postmortem keeps a full snapshot (JSON), so any two can
-- be compared and any one restored.
CREATE TABLE postmortem_revisions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    number        integer NOT NULL,
    at            timestamptz NOT NULL,
    author_id     uuid REFERENCES users (id),
    summary       text NOT NULL,
    snapshot      jsonb NOT NULL,
    UNIQUE (postmortem_id, number)
);
