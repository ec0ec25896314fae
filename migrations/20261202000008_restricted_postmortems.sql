-- Restricted postmortems: an author can limit a postmortem (and so its
-- incident) to named teams and people. Its authors, its reviewers and
-- admins always read it; nobody else sees that it exists.
ALTER TABLE postmortems ADD COLUMN restricted boolean NOT NULL DEFAULT false;

-- Who, besides authors, reviewers and admins, may read a restricted
-- postmortem: a person, or every member of a team.
CREATE TABLE postmortem_access (
    postmortem_id uuid NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
    user_id       uuid REFERENCES users (id) ON DELETE CASCADE,
    team_id       uuid REFERENCES teams (id) ON DELETE CASCADE,
    CHECK ((user_id IS NULL) <> (team_id IS NULL)),
    UNIQUE (postmortem_id, user_id),
    UNIQUE (postmortem_id, team_id)
);
CREATE INDEX postmortem_access_team ON postmortem_access (team_id) WHERE team_id IS NOT NULL;
CREATE INDEX postmortem_access_user ON postmortem_access (user_id) WHERE user_id IS NOT NULL;

-- The people a restricted postmortem is open to by its access list: the
-- named people and the members of the named teams.
CREATE FUNCTION postmortem_audience(pm uuid) RETURNS uuid[]
LANGUAGE sql STABLE AS $$
    SELECT ARRAY(SELECT x.user_id FROM postmortem_access x WHERE x.postmortem_id = pm AND x.user_id IS NOT NULL
                 UNION
                 SELECT m.user_id FROM postmortem_access x JOIN team_members m ON m.team_id = x.team_id
                 WHERE x.postmortem_id = pm
                 ORDER BY 1)
$$;

-- The one statement of who may read a postmortem, for queries written with
-- the sqlx macros (digests, notifications). The incident list and search
-- inline the same rule (store::incidents::push_visible_to and
-- store::search), where the planner must see its parts.
CREATE FUNCTION may_read(pm uuid, viewer uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM users u WHERE u.id = viewer AND u.role = 'admin')
        OR EXISTS (SELECT 1 FROM postmortem_authors a WHERE a.postmortem_id = pm AND a.user_id = viewer)
        OR EXISTS (SELECT 1 FROM postmortem_reviewers r WHERE r.postmortem_id = pm AND r.user_id = viewer)
        OR EXISTS (SELECT 1 FROM postmortems p WHERE p.id = pm AND p.status = 'published'
                   AND (NOT p.restricted OR viewer = ANY (postmortem_audience(pm))))
$$;

-- Search entries carry the audience of a restricted postmortem (NULL for
-- one everybody may read once published).
ALTER TABLE search_entries ADD COLUMN audience uuid[];
ALTER TABLE search_entries ALTER COLUMN audience SET STORAGE PLAIN;
ALTER TABLE search_sample ADD COLUMN audience uuid[];
ALTER TABLE search_sample ALTER COLUMN audience SET STORAGE PLAIN;
ALTER TABLE search_fine_sample ADD COLUMN audience uuid[];
ALTER TABLE search_fine_sample ALTER COLUMN audience SET STORAGE PLAIN;

-- The refresh now also records the audience. (The word list for "did you
-- mean" still learns from every postmortem: a suggestion is offered only
-- when a postmortem the reader may see has it, see store::search.)
CREATE OR REPLACE FUNCTION refresh_search(pms uuid[]) RETURNS void
LANGUAGE sql AS $$
    WITH base AS (
    SELECT p.id AS postmortem_id, i.id AS incident_id, p.status, i.severity, i.kind, i.services, i.tags,
           ARRAY(SELECT t.team_id FROM incident_teams t WHERE t.incident_id = i.id ORDER BY 1) AS team_ids,
           ARRAY(SELECT a.user_id FROM postmortem_authors a WHERE a.postmortem_id = p.id
                 UNION SELECT r.user_id FROM postmortem_reviewers r WHERE r.postmortem_id = p.id ORDER BY 1) AS readers,
           CASE WHEN p.restricted THEN postmortem_audience(p.id) END AS audience,
           COALESCE(i.started_at, i.created_at) AS happened_at,
           doc.ranking || doc.rest AS words, doc.ranking
    FROM postmortems p
    JOIN incidents i ON i.id = p.incident_id,
    LATERAL (SELECT
        setweight(to_tsvector('english', i.title), 'A')
        || setweight(to_tsvector('english', p.summary || ' ' || p.trigger || ' ' ||
               COALESCE((SELECT string_agg(f.description, ' ') FROM contributing_factors f WHERE f.postmortem_id = p.id), '')), 'B')
        || setweight(to_tsvector('english', p.impact || ' ' || p.detection || ' ' || p.resolution || ' ' ||
               p.went_well || ' ' || p.went_poorly || ' ' || p.got_lucky || ' ' || p.lessons || ' ' || p.other_notes), 'C')
        AS ranking,
        setweight(to_tsvector('english',
               COALESCE((SELECT string_agg(e.text, ' ') FROM timeline_entries e WHERE e.postmortem_id = p.id), '') || ' ' ||
               COALESCE((SELECT string_agg(a.title || ' ' || a.description, ' ') FROM action_items a WHERE a.postmortem_id = p.id), '') || ' ' ||
               array_to_string(i.services, ' ') || ' ' || array_to_string(i.tags, ' ')), 'D')
        AS rest) doc
    WHERE p.id = ANY (pms)
    ), refreshed AS (
    SELECT b.postmortem_id, b.incident_id, b.status, b.severity, b.kind, b.services, b.tags, b.team_ids,
           b.readers, b.audience, b.happened_at, b.words || search_pairs(b.words) AS document, b.ranking,
           search_keys(b.severity, b.kind, b.status, b.happened_at, b.services, b.tags, b.team_ids) AS keys
    FROM base b
    ), sampled AS (
    INSERT INTO search_sample AS s
        (postmortem_id, incident_id, status, severity, kind, services, tags, team_ids, readers, audience, happened_at, document, keys)
    SELECT r.postmortem_id, r.incident_id, r.status, r.severity, r.kind, r.services, r.tags, r.team_ids, r.readers, r.audience,
           r.happened_at, r.document, r.keys
    FROM refreshed r WHERE (hashtext(r.postmortem_id::text) & 15) = 0
    ON CONFLICT (postmortem_id) DO UPDATE SET
        incident_id = excluded.incident_id, status = excluded.status, severity = excluded.severity,
        kind = excluded.kind, services = excluded.services, tags = excluded.tags, team_ids = excluded.team_ids,
        readers = excluded.readers, audience = excluded.audience, happened_at = excluded.happened_at, document = excluded.document,
        keys = excluded.keys
    ), fine_sampled AS (
    INSERT INTO search_fine_sample AS s
        (postmortem_id, incident_id, status, severity, kind, services, tags, team_ids, readers, audience, happened_at, document, keys)
    SELECT r.postmortem_id, r.incident_id, r.status, r.severity, r.kind, r.services, r.tags, r.team_ids, r.readers, r.audience,
           r.happened_at, r.document, r.keys
    FROM refreshed r WHERE (hashtext(r.postmortem_id::text) & 127) = 0
    ON CONFLICT (postmortem_id) DO UPDATE SET
        incident_id = excluded.incident_id, status = excluded.status, severity = excluded.severity,
        kind = excluded.kind, services = excluded.services, tags = excluded.tags, team_ids = excluded.team_ids,
        readers = excluded.readers, audience = excluded.audience, happened_at = excluded.happened_at, document = excluded.document,
        keys = excluded.keys
    )
    INSERT INTO search_entries AS s
        (postmortem_id, incident_id, status, severity, kind, services, tags, team_ids, readers, audience, happened_at,
         document, ranking, keys)
    SELECT * FROM refreshed
    ON CONFLICT (postmortem_id) DO UPDATE SET
        incident_id = excluded.incident_id, status = excluded.status, severity = excluded.severity,
        kind = excluded.kind, services = excluded.services, tags = excluded.tags, team_ids = excluded.team_ids,
        readers = excluded.readers, audience = excluded.audience, happened_at = excluded.happened_at, document = excluded.document,
        ranking = excluded.ranking, keys = excluded.keys;
    INSERT INTO search_words (word)
    SELECT DISTINCT w.lexeme
    FROM postmortems p
    JOIN incidents i ON i.id = p.incident_id,
    LATERAL unnest(to_tsvector('simple', i.title || ' ' || p.summary || ' ' || p.trigger || ' ' || p.lessons)) AS w
    WHERE p.id = ANY (pms) AND length(w.lexeme) BETWEEN 4 AND 30 AND w.lexeme !~ '[0-9]'
      AND NOT EXISTS (SELECT 1 FROM search_words s WHERE s.word = w.lexeme)
    ON CONFLICT DO NOTHING;
$$;
-- Changing the access list, or a team's members, changes the audience.
CREATE TRIGGER access_search_insert AFTER INSERT ON postmortem_access
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER access_search_delete AFTER DELETE ON postmortem_access
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();

CREATE FUNCTION search_on_member_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 OR current_setting('debrief.search_deferred', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM refresh_search(ARRAY(SELECT DISTINCT x.postmortem_id FROM postmortem_access x
                                     JOIN old_rows o ON o.team_id = x.team_id));
    ELSE
        PERFORM refresh_search(ARRAY(SELECT DISTINCT x.postmortem_id FROM postmortem_access x
                                     JOIN new_rows n ON n.team_id = x.team_id));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER members_search_insert AFTER INSERT ON team_members
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_member_change();
CREATE TRIGGER members_search_delete AFTER DELETE ON team_members
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_member_change();


-- A counter that moves whenever who may read what could have changed:
-- access lists, restriction and status, authors and reviewers, team
-- members, roles. Views cached per reader (similar incidents) key on it,
-- so a permission change takes effect on every replica's next request.
CREATE SEQUENCE access_epoch;
CREATE FUNCTION bump_access_epoch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('access_epoch');
    RETURN NULL;
END
$$;
CREATE TRIGGER access_epoch AFTER INSERT OR UPDATE OR DELETE ON postmortem_access
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_epoch();
CREATE TRIGGER access_epoch AFTER INSERT OR DELETE ON postmortem_authors
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_epoch();
CREATE TRIGGER access_epoch AFTER INSERT OR DELETE ON postmortem_reviewers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_epoch();
CREATE TRIGGER access_epoch AFTER INSERT OR UPDATE OR DELETE ON team_members
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_epoch();
CREATE TRIGGER access_epoch AFTER UPDATE OF restricted, status ON postmortems
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_epoch();
CREATE TRIGGER access_epoch AFTER UPDATE OF role, active ON users
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_epoch();
