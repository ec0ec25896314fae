-- Search gets a table of its own: one narrow row per postmortem holding
-- its documents beside every column search filters, counts or sorts by
-- (status, severity, kind, services, tags, teams, who may read a draft,
-- when it started). A search reads this one table; only the page of
-- results is joined to incidents and postmortems.
--
-- Two documents: `document` holds every word (title A; summary, trigger,
-- factors B; the other sections C; timeline, action items, services and
-- tags D) and is what queries match; `ranking` holds only A to C, so
-- ranking reads a small vector instead of each incident's whole timeline.
--
-- search_sample holds a copy of one entry in 16 (chosen by a hash of the
-- postmortem id), search_fine_sample one in 128 (of those). A query that
-- matches many postmortems is counted on a sample instead of on every
-- match, and its counts are shown as estimates (see store::search). Each
-- sample is a small table of its own, so counting it reads few pages.

ALTER TABLE postmortems DROP COLUMN search_document;

CREATE TABLE search_entries (
    postmortem_id uuid PRIMARY KEY REFERENCES postmortems (id) ON DELETE CASCADE,
    incident_id   uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    status        postmortem_status NOT NULL,
    severity      severity NOT NULL,
    kind          incident_kind NOT NULL,
    services      text[] NOT NULL,
    tags          text[] NOT NULL,
    team_ids      uuid[] NOT NULL,
    -- Authors and reviewers: who may read the postmortem before it is published.
    readers       uuid[] NOT NULL,
    -- When the incident started, or when it was recorded if that is unknown.
    happened_at   timestamptz NOT NULL,
    document      tsvector NOT NULL,
    ranking       tsvector NOT NULL
);
-- The full document lives out of line (TOAST), so the rows a count or a
-- facet reads stay narrower; the small arrays stay in the row, uncompressed,
-- as reading them from TOAST costs more than the row.
ALTER TABLE search_entries SET (toast_tuple_target = 128);
ALTER TABLE search_entries
    ALTER COLUMN services SET STORAGE PLAIN, ALTER COLUMN tags SET STORAGE PLAIN,
    ALTER COLUMN team_ids SET STORAGE PLAIN, ALTER COLUMN readers SET STORAGE PLAIN,
    -- Ranking reads this vector for every match it ranks: kept in the row
    -- (compressed if large), not fetched from TOAST.
    ALTER COLUMN ranking SET STORAGE MAIN;

CREATE INDEX search_entries_document ON search_entries USING gin (document);
CREATE INDEX search_entries_happened ON search_entries (happened_at DESC, postmortem_id DESC);
CREATE INDEX search_entries_services ON search_entries USING gin (services);
CREATE INDEX search_entries_tags ON search_entries USING gin (tags);
CREATE INDEX search_entries_incident ON search_entries (incident_id);

-- The samples need no ranking vector: they are only counted.
CREATE TABLE search_sample (
    LIKE search_entries INCLUDING STORAGE,
    PRIMARY KEY (postmortem_id),
    FOREIGN KEY (postmortem_id) REFERENCES postmortems (id) ON DELETE CASCADE
);
ALTER TABLE search_sample DROP COLUMN ranking;
CREATE INDEX search_sample_document ON search_sample USING gin (document);
CREATE TABLE search_fine_sample (
    LIKE search_sample INCLUDING STORAGE,
    PRIMARY KEY (postmortem_id),
    FOREIGN KEY (postmortem_id) REFERENCES postmortems (id) ON DELETE CASCADE
);
CREATE INDEX search_fine_sample_document ON search_fine_sample USING gin (document);

DROP FUNCTION search_document_of(uuid);

-- Recomputes the entries of the given postmortems and records their words.
CREATE OR REPLACE FUNCTION refresh_search(pms uuid[]) RETURNS void
LANGUAGE sql AS $$
    WITH refreshed AS (
    SELECT p.id AS postmortem_id, i.id AS incident_id, p.status, i.severity, i.kind, i.services, i.tags,
           ARRAY(SELECT t.team_id FROM incident_teams t WHERE t.incident_id = i.id ORDER BY 1) AS team_ids,
           ARRAY(SELECT a.user_id FROM postmortem_authors a WHERE a.postmortem_id = p.id
                 UNION SELECT r.user_id FROM postmortem_reviewers r WHERE r.postmortem_id = p.id ORDER BY 1) AS readers,
           COALESCE(i.started_at, i.created_at) AS happened_at,
           doc.ranking || doc.rest AS document, doc.ranking
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
    ), sampled AS (
    INSERT INTO search_sample AS s
    SELECT r.postmortem_id, r.incident_id, r.status, r.severity, r.kind, r.services, r.tags, r.team_ids, r.readers,
           r.happened_at, r.document
    FROM refreshed r WHERE (hashtext(r.postmortem_id::text) & 15) = 0
    ON CONFLICT (postmortem_id) DO UPDATE SET
        incident_id = excluded.incident_id, status = excluded.status, severity = excluded.severity,
        kind = excluded.kind, services = excluded.services, tags = excluded.tags, team_ids = excluded.team_ids,
        readers = excluded.readers, happened_at = excluded.happened_at, document = excluded.document
    ), fine_sampled AS (
    INSERT INTO search_fine_sample AS s
    SELECT r.postmortem_id, r.incident_id, r.status, r.severity, r.kind, r.services, r.tags, r.team_ids, r.readers,
           r.happened_at, r.document
    FROM refreshed r WHERE (hashtext(r.postmortem_id::text) & 127) = 0
    ON CONFLICT (postmortem_id) DO UPDATE SET
        incident_id = excluded.incident_id, status = excluded.status, severity = excluded.severity,
        kind = excluded.kind, services = excluded.services, tags = excluded.tags, team_ids = excluded.team_ids,
        readers = excluded.readers, happened_at = excluded.happened_at, document = excluded.document
    )
    INSERT INTO search_entries AS s SELECT * FROM refreshed
    ON CONFLICT (postmortem_id) DO UPDATE SET
        incident_id = excluded.incident_id, status = excluded.status, severity = excluded.severity,
        kind = excluded.kind, services = excluded.services, tags = excluded.tags, team_ids = excluded.team_ids,
        readers = excluded.readers, happened_at = excluded.happened_at, document = excluded.document,
        ranking = excluded.ranking;
    INSERT INTO search_words (word)
    SELECT DISTINCT w.lexeme
    FROM postmortems p
    JOIN incidents i ON i.id = p.incident_id,
    LATERAL unnest(to_tsvector('simple', i.title || ' ' || p.summary || ' ' || p.trigger || ' ' || p.lessons)) AS w
    WHERE p.id = ANY (pms) AND length(w.lexeme) BETWEEN 4 AND 30 AND w.lexeme !~ '[0-9]'
      AND NOT EXISTS (SELECT 1 FROM search_words s WHERE s.word = w.lexeme)
    ON CONFLICT DO NOTHING;
$$;

-- The query with each phrase operator turned into AND: what the text index
-- answers without reading documents (checking a phrase reads each one).
CREATE FUNCTION search_words_of(q tsquery) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT regexp_replace(q::text, '<(-|[0-9]+)>', '&', 'g')::tsquery
$$;

-- Teams, authors and reviewers are now part of an entry too.
CREATE FUNCTION search_on_incident_child_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 OR current_setting('debrief.search_deferred', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM refresh_search(ARRAY(SELECT p.id FROM postmortems p JOIN old_rows o ON o.incident_id = p.incident_id));
    ELSE
        PERFORM refresh_search(ARRAY(SELECT p.id FROM postmortems p JOIN new_rows n ON n.incident_id = p.incident_id));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER incident_teams_search_insert AFTER INSERT ON incident_teams
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_incident_child_change();
CREATE TRIGGER incident_teams_search_delete AFTER DELETE ON incident_teams
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_incident_child_change();
CREATE TRIGGER authors_search_insert AFTER INSERT ON postmortem_authors
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER authors_search_delete AFTER DELETE ON postmortem_authors
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER reviewers_search_insert AFTER INSERT ON postmortem_reviewers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER reviewers_search_delete AFTER DELETE ON postmortem_reviewers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();

SELECT refresh_search(ARRAY(SELECT id FROM postmortems));
