-- Learning across incidents: a factor taxonomy kept as data, themes that
-- link factors of many postmortems, services with owners and history, and
-- personal feed links.

-- Factor categories. A category is known by its slug, which never changes:
-- renaming changes its name, so every factor and every stored revision that
-- names the slug reads under the new name. A merged category keeps its row
-- and points at the one it went into; a retired one is no longer offered
-- for new factors but still reads right on old ones.
CREATE TABLE factor_categories (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    position    integer NOT NULL,
    retired_at  timestamptz,
    merged_into uuid REFERENCES factor_categories (id),
    created_at  timestamptz NOT NULL,
    CHECK (merged_into IS NULL OR merged_into <> id)
);
CREATE UNIQUE INDEX factor_categories_live_name ON factor_categories (lower(name)) WHERE merged_into IS NULL;

INSERT INTO factor_categories (id, slug, name, description, position, created_at) VALUES
    (gen_random_uuid(), 'technical', 'Technical', 'Software, hardware, configuration or capacity.', 1, now()),
    (gen_random_uuid(), 'process', 'Process', 'How work is done: deploys, reviews, runbooks, change control.', 2, now()),
    (gen_random_uuid(), 'detection', 'Detection', 'Alerts, dashboards and checks that saw it late or not at all.', 3, now()),
    (gen_random_uuid(), 'organizational', 'Organizational', 'Ownership, staffing, priorities and incentives.', 4, now()),
    (gen_random_uuid(), 'external', 'External', 'Vendors, providers and the world outside.', 5, now()),
    (gen_random_uuid(), 'communication', 'Communication', 'Hand-offs, status updates and who knew what.', 6, now());

-- The slug a category is known by now: a merged one leads, through any
-- chain of merges, to the category it went into. Writers that cannot ask
-- the application (bulk imports) store this.
CREATE FUNCTION category_now(wanted text) RETURNS text
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE chain AS (
        SELECT c.slug, c.merged_into, 0 AS depth FROM factor_categories c WHERE c.slug = wanted
        UNION ALL
        SELECT n.slug, n.merged_into, chain.depth + 1
        FROM chain JOIN factor_categories n ON n.id = chain.merged_into
        WHERE chain.depth < 50
    )
    SELECT COALESCE((SELECT slug FROM chain ORDER BY depth DESC LIMIT 1), wanted)
$$;

-- Every change to the taxonomy: created, renamed, merged, retired, restored.
CREATE TABLE factor_category_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_id uuid NOT NULL REFERENCES factor_categories (id),
    change      text NOT NULL CHECK (change IN ('created', 'renamed', 'merged', 'retired', 'restored')),
    old_value   text,
    new_value   text,
    actor_id    uuid REFERENCES users (id),
    at          timestamptz NOT NULL
);
CREATE INDEX factor_category_changes_category ON factor_category_changes (category_id, at);

-- A factor carries one category or several (by slug, the first is its main
-- one); the old single column moves into the list.
ALTER TABLE contributing_factors ADD COLUMN categories text[];
UPDATE contributing_factors SET categories = ARRAY[category::text];
ALTER TABLE contributing_factors
    ALTER COLUMN categories SET NOT NULL,
    ADD CONSTRAINT contributing_factors_categories CHECK (cardinality(categories) BETWEEN 1 AND 6),
    DROP COLUMN category;
DROP TYPE factor_category;
CREATE INDEX contributing_factors_categories ON contributing_factors USING gin (categories);

-- Themes: a named pattern across postmortems. A factor counts towards a
-- theme only once a person linked or confirmed it; suggestions are worked
-- out when shown and never stored, except a dismissal, so that a dismissed
-- suggestion stays away.
CREATE TABLE themes (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,79}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 4000),
    -- The search a theme was started from, if any: its results are offered
    -- on the theme's page as factors to link.
    query       text NOT NULL DEFAULT '' CHECK (length(query) <= 500),
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX themes_name ON themes (lower(name));

CREATE TABLE theme_factors (
    theme_id   uuid NOT NULL REFERENCES themes (id) ON DELETE CASCADE,
    factor_id  uuid NOT NULL REFERENCES contributing_factors (id) ON DELETE CASCADE,
    -- 'linked' counts; 'dismissed' only keeps a suggestion from coming back.
    state      text NOT NULL CHECK (state IN ('linked', 'dismissed')),
    decided_by uuid REFERENCES users (id),
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (theme_id, factor_id)
);
CREATE INDEX theme_factors_factor ON theme_factors (factor_id);

-- Services. Incidents name their services as text (the name as it is
-- now); this table adds an owner and a description, and `service_names`
-- keeps every earlier name, so a link to an old name still finds the
-- service after a rename or a merge.
CREATE TABLE services (
    id            uuid PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    owner_team_id uuid REFERENCES teams (id) ON DELETE SET NULL,
    description   text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    -- Where it came from: typed here, or a software catalog file.
    source        text NOT NULL DEFAULT 'debrief' CHECK (source IN ('debrief', 'catalog')),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE service_names (
    name       text PRIMARY KEY,
    service_id uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    -- 'renamed' or 'merged': how the name stopped being current.
    how        text NOT NULL CHECK (how IN ('renamed', 'merged')),
    actor_id   uuid REFERENCES users (id),
    at         timestamptz NOT NULL
);
CREATE INDEX service_names_service ON service_names (service_id);

CREATE INDEX incidents_services ON incidents USING gin (services);

-- Every service an incident already names gets its row.
INSERT INTO services (id, name, created_at, updated_at)
SELECT gen_random_uuid(), s, now(), now()
FROM (SELECT DISTINCT unnest(services) AS s FROM incidents) names
ON CONFLICT (name) DO NOTHING;

-- Personal feed links: a secret in the address stands in for the session,
-- since feed readers and calendar apps cannot sign in. Only its hash is
-- kept; revoking it makes every address built on it answer 404.
CREATE TABLE feed_links (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX feed_links_user ON feed_links (user_id) WHERE revoked_at IS NULL;

-- The weekly "newly published" email is something a person follows, and
-- it travels as a notification like the others.
ALTER TABLE follows DROP CONSTRAINT follows_subject_check;
ALTER TABLE follows ADD CONSTRAINT follows_subject_check CHECK (subject IN ('team', 'service', 'tag', 'weekly'));
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('review_requested', 'changes_requested', 'mentioned', 'item_assigned',
                    'item_due_changed', 'followed_published', 'weekly_published'));

-- For the review's and the service pages' distributions: incidents by
-- start, with the times they need.
CREATE INDEX incidents_started_detected ON incidents (started_at) INCLUDE (detected_at, resolved_at, severity);
