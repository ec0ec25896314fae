-- Nothing an author removes is deleted: a removed timeline entry or
-- attachment keeps its row (and its bytes) with who removed it and when,
-- so restoring an earlier revision can bring it back exactly. Every read
-- of the live postmortem filters on `removed_at IS NULL`.
ALTER TABLE timeline_entries
    ADD COLUMN removed_at timestamptz,
    ADD COLUMN removed_by uuid REFERENCES users (id);
ALTER TABLE attachments
    ADD COLUMN removed_at timestamptz,
    ADD COLUMN removed_by uuid REFERENCES users (id);

-- The search document leaves removed entries out.
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
               COALESCE((SELECT string_agg(e.text, ' ') FROM timeline_entries e WHERE e.postmortem_id = p.id AND e.removed_at IS NULL), '') || ' ' ||
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
