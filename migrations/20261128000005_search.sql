-- Full-text search over the archive.
--
-- Each postmortem keeps one weighted search document: the incident title
-- (A); summary, trigger and root cause, contributing factors (B); the other
-- sections (C); timeline entries, action items, services and tags (D). It is
-- kept current by triggers on every table it reads, so no write path can
-- forget it. Triggers are per statement with transition tables: a bulk
-- insert of a thousand timeline entries refreshes each postmortem once.
-- Bulk writers (imports, the synthetic seed) may set the transaction
-- setting debrief.search_deferred to 'on' and call refresh_search once for
-- what they wrote, instead of once per statement.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE postmortems ADD COLUMN search_document tsvector NOT NULL DEFAULT ''::tsvector;
CREATE INDEX postmortems_search ON postmortems USING gin (search_document);

-- Every word that occurs in the archive, unstemmed, for "did you mean".
CREATE TABLE search_words (word text PRIMARY KEY);
CREATE INDEX search_words_trigram ON search_words USING gin (word gin_trgm_ops);

CREATE FUNCTION search_document_of(pm uuid) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector('english', i.title), 'A')
        || setweight(to_tsvector('english', p.summary || ' ' || p.trigger || ' ' ||
               COALESCE((SELECT string_agg(f.description, ' ') FROM contributing_factors f WHERE f.postmortem_id = p.id), '')), 'B')
        || setweight(to_tsvector('english', p.impact || ' ' || p.detection || ' ' || p.resolution || ' ' ||
               p.went_well || ' ' || p.went_poorly || ' ' || p.got_lucky || ' ' || p.lessons || ' ' || p.other_notes), 'C')
        || setweight(to_tsvector('english',
               COALESCE((SELECT string_agg(e.text, ' ') FROM timeline_entries e WHERE e.postmortem_id = p.id), '') || ' ' ||
               COALESCE((SELECT string_agg(a.title || ' ' || a.description, ' ') FROM action_items a WHERE a.postmortem_id = p.id), '') || ' ' ||
               array_to_string(i.services, ' ') || ' ' || array_to_string(i.tags, ' ')), 'D')
    FROM postmortems p JOIN incidents i ON i.id = p.incident_id
    WHERE p.id = pm
$$;

-- Recomputes the documents of the given postmortems and records their words.
CREATE FUNCTION refresh_search(pms uuid[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE postmortems SET search_document = search_document_of(id) WHERE id = ANY (pms);
    INSERT INTO search_words (word)
    SELECT DISTINCT w.lexeme
    FROM postmortems p
    JOIN incidents i ON i.id = p.incident_id,
    LATERAL unnest(to_tsvector('simple', i.title || ' ' || p.summary || ' ' || p.trigger || ' ' || p.lessons)) AS w
    WHERE p.id = ANY (pms) AND length(w.lexeme) BETWEEN 4 AND 30 AND w.lexeme !~ '[0-9]'
      -- Known words are skipped before the insert, so concurrent writers
      -- rarely wait on each other's new words.
      AND NOT EXISTS (SELECT 1 FROM search_words s WHERE s.word = w.lexeme)
    ON CONFLICT DO NOTHING;
$$;

-- The trigger functions: each collects the postmortems its statement touched.
-- A refresh updates postmortems, which must not refresh again.
CREATE FUNCTION search_on_child_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 OR current_setting('debrief.search_deferred', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM refresh_search(ARRAY(SELECT DISTINCT postmortem_id FROM old_rows));
    ELSE
        PERFORM refresh_search(ARRAY(SELECT DISTINCT postmortem_id FROM new_rows));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION search_on_postmortem_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 OR current_setting('debrief.search_deferred', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM refresh_search(ARRAY(SELECT id FROM new_rows));
    RETURN NULL;
END
$$;

CREATE FUNCTION search_on_incident_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 OR current_setting('debrief.search_deferred', true) = 'on' THEN
        RETURN NULL;
    END IF;
    PERFORM refresh_search(ARRAY(SELECT p.id FROM postmortems p JOIN new_rows n ON n.id = p.incident_id));
    RETURN NULL;
END
$$;

CREATE TRIGGER postmortems_search_insert AFTER INSERT ON postmortems
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_postmortem_change();
CREATE TRIGGER postmortems_search_update AFTER UPDATE ON postmortems
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_postmortem_change();
CREATE TRIGGER incidents_search_update AFTER UPDATE ON incidents
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_incident_change();

CREATE TRIGGER factors_search_insert AFTER INSERT ON contributing_factors
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER factors_search_update AFTER UPDATE ON contributing_factors
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER factors_search_delete AFTER DELETE ON contributing_factors
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER entries_search_insert AFTER INSERT ON timeline_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER entries_search_update AFTER UPDATE ON timeline_entries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER entries_search_delete AFTER DELETE ON timeline_entries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER items_search_insert AFTER INSERT ON action_items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER items_search_update AFTER UPDATE ON action_items
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();
CREATE TRIGGER items_search_delete AFTER DELETE ON action_items
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_on_child_change();

-- Documents for what is already in the archive.
SELECT refresh_search(ARRAY(SELECT id FROM postmortems));
