-- Two additions to each search entry, both for speed (see bench/README.md).
--
-- Word pairs. The document also holds every pair of neighbouring words as one
-- lexeme of its own: the two stems with a space between ('connect pool'),
-- or, when only stop words separate them, with their distance between
-- ('pool 2 connect' for "pool of connections"). No typed word can produce
-- such a lexeme. A quoted phrase of two words becomes that one lexeme
-- (search_query), which the text index answers exactly without reading a
-- document; before, every document holding both words was read to check
-- their order. A longer phrase keeps its order check but also asks for each
-- of its pairs, so only the few documents holding all of them are read.
--
-- (A phrase with stop words inside now matches only documents with stop
-- words at those places, as typed; Postgres alone would also match any
-- word there.)
--
-- Facet keys. `keys` lists what an entry counts towards, one key a line:
-- first its severity, kind, status and year on one line after a `*`
-- (`*sev1 incident published 2024`), then a line per service (`e` and the
-- name), tag (`g`) and team (`t` and its id). A search sends the keys of its
-- matches as one text and the server counts them, instead of Postgres
-- grouping every match once per facet. Kept in the row, uncompressed.

-- Each lexeme with the next one in the document (see above), as a vector
-- without positions.
CREATE FUNCTION search_pairs(doc tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT COALESCE(array_to_tsvector(array_agg(
               CASE WHEN x.next_pos = x.pos + 1 THEN x.lexeme || ' ' || x.next
                    ELSE x.lexeme || ' ' || (x.next_pos - x.pos) || ' ' || x.next END)), ''::tsvector)
    FROM (SELECT w.lexeme, w.pos, lead(w.lexeme) OVER (ORDER BY w.pos) AS next,
                 lead(w.pos) OVER (ORDER BY w.pos) AS next_pos
          FROM (SELECT lexeme, unnest(positions) AS pos FROM unnest(doc)) w) x
    WHERE x.next_pos > x.pos
$$;

-- A typed query (web syntax) as matched. Each run of lexemes joined by phrase
-- operators (a chain) is rewritten: two words become their pair lexeme; a
-- longer chain is kept and ANDed with the pair lexemes of its neighbours,
-- which the index answers.
CREATE FUNCTION search_query(typed text) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    token text;
    chain text[] := '{}';
    result text := '';
    pairs text[];
    i int;
BEGIN
    -- The query's tokens: quoted lexemes, phrase operators, anything else;
    -- a NULL token at the end closes the last chain.
    FOR token IN
        SELECT m[1] FROM regexp_matches(websearch_to_tsquery('english', typed)::text,
                                        '''(?:[^'']|'''')*''|<(?:-|[0-9]+)>|[^'' <]+|<', 'g') AS m
        UNION ALL SELECT NULL
    LOOP
        IF token LIKE '''%' AND (cardinality(chain) = 0 OR chain[cardinality(chain)] LIKE '<%') THEN
            chain := chain || token;
            CONTINUE;
        ELSIF token LIKE '<%' AND cardinality(chain) > 0 THEN
            chain := chain || token;
            CONTINUE;
        END IF;
        -- The chain of lexemes and phrase operators is complete.
        IF cardinality(chain) >= 3 THEN
            -- 'a' <-> 'b' pairs as 'a b', 'a' <3> 'b' as 'a 3 b'.
            pairs := '{}';
            FOR i IN 1 .. cardinality(chain) - 2 BY 2 LOOP
                pairs := pairs || (left(chain[i], -1) || ' '
                                   || CASE WHEN chain[i + 1] = '<->' THEN ''
                                           ELSE substring(chain[i + 1] FROM 2 FOR length(chain[i + 1]) - 2) || ' ' END
                                   || right(chain[i + 2], -1));
            END LOOP;
            IF cardinality(chain) = 3 THEN
                result := result || ' ' || pairs[1];
            ELSE
                result := result || ' ( ' || array_to_string(pairs, ' & ') || ' & ' || array_to_string(chain, ' ') || ' )';
            END IF;
        ELSIF cardinality(chain) > 0 THEN
            result := result || ' ' || array_to_string(chain, ' ');
        END IF;
        chain := '{}';
        IF token IS NOT NULL THEN
            IF token LIKE '''%' THEN
                chain := ARRAY[token];
            ELSE
                result := result || ' ' || token;
            END IF;
        END IF;
    END LOOP;
    RETURN result::tsquery;
END
$$;

-- The facet keys of one entry (see above); newlines in a value become spaces.
CREATE FUNCTION search_keys(severity severity, kind incident_kind, status postmortem_status,
                            happened_at timestamptz, services text[], tags text[], team_ids uuid[])
RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT concat_ws(E'\n', concat_ws(' ', '*' || severity, kind, status,
                                       extract(year FROM happened_at AT TIME ZONE 'UTC')::int),
                     (SELECT string_agg('e' || translate(v, E'\n\r', '  '), E'\n') FROM unnest(services) v),
                     (SELECT string_agg('g' || translate(v, E'\n\r', '  '), E'\n') FROM unnest(tags) v),
                     (SELECT string_agg('t' || v, E'\n') FROM unnest(team_ids) v))
$$;

ALTER TABLE search_entries ADD COLUMN keys text NOT NULL DEFAULT '';
ALTER TABLE search_entries ALTER COLUMN keys SET STORAGE PLAIN;
ALTER TABLE search_sample ADD COLUMN keys text NOT NULL DEFAULT '';
ALTER TABLE search_sample ALTER COLUMN keys SET STORAGE PLAIN;
ALTER TABLE search_fine_sample ADD COLUMN keys text NOT NULL DEFAULT '';
ALTER TABLE search_fine_sample ALTER COLUMN keys SET STORAGE PLAIN;

CREATE OR REPLACE FUNCTION refresh_search(pms uuid[]) RETURNS void
LANGUAGE sql AS $$
    WITH base AS (
    SELECT p.id AS postmortem_id, i.id AS incident_id, p.status, i.severity, i.kind, i.services, i.tags,
           ARRAY(SELECT t.team_id FROM incident_teams t WHERE t.incident_id = i.id ORDER BY 1) AS team_ids,
           ARRAY(SELECT a.user_id FROM postmortem_authors a WHERE a.postmortem_id = p.id
                 UNION SELECT r.user_id FROM postmortem_reviewers r WHERE r.postmortem_id = p.id ORDER BY 1) AS readers,
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
           b.readers, b.happened_at, b.words || search_pairs(b.words) AS document, b.ranking,
           search_keys(b.severity, b.kind, b.status, b.happened_at, b.services, b.tags, b.team_ids) AS keys
    FROM base b
    ), sampled AS (
    INSERT INTO search_sample AS s
        (postmortem_id, incident_id, status, severity, kind, services, tags, team_ids, readers, happened_at, document, keys)
    SELECT r.postmortem_id, r.incident_id, r.status, r.severity, r.kind, r.services, r.tags, r.team_ids, r.readers,
           r.happened_at, r.document, r.keys
    FROM refreshed r WHERE (hashtext(r.postmortem_id::text) & 15) = 0
    ON CONFLICT (postmortem_id) DO UPDATE SET
        incident_id = excluded.incident_id, status = excluded.status, severity = excluded.severity,
        kind = excluded.kind, services = excluded.services, tags = excluded.tags, team_ids = excluded.team_ids,
        readers = excluded.readers, happened_at = excluded.happened_at, document = excluded.document,
        keys = excluded.keys
    ), fine_sampled AS (
    INSERT INTO search_fine_sample AS s
        (postmortem_id, incident_id, status, severity, kind, services, tags, team_ids, readers, happened_at, document, keys)
    SELECT r.postmortem_id, r.incident_id, r.status, r.severity, r.kind, r.services, r.tags, r.team_ids, r.readers,
           r.happened_at, r.document, r.keys
    FROM refreshed r WHERE (hashtext(r.postmortem_id::text) & 127) = 0
    ON CONFLICT (postmortem_id) DO UPDATE SET
        incident_id = excluded.incident_id, status = excluded.status, severity = excluded.severity,
        kind = excluded.kind, services = excluded.services, tags = excluded.tags, team_ids = excluded.team_ids,
        readers = excluded.readers, happened_at = excluded.happened_at, document = excluded.document,
        keys = excluded.keys
    )
    INSERT INTO search_entries AS s
        (postmortem_id, incident_id, status, severity, kind, services, tags, team_ids, readers, happened_at,
         document, ranking, keys)
    SELECT * FROM refreshed
    ON CONFLICT (postmortem_id) DO UPDATE SET
        incident_id = excluded.incident_id, status = excluded.status, severity = excluded.severity,
        kind = excluded.kind, services = excluded.services, tags = excluded.tags, team_ids = excluded.team_ids,
        readers = excluded.readers, happened_at = excluded.happened_at, document = excluded.document,
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

SELECT refresh_search(ARRAY(SELECT id FROM postmortems));
