-- Search: a hyphenated word found by the index as the word it is.
--
-- websearch_to_tsquery reads a hyphenated word ("follow-up", "rendez-vous") as a phrase
-- of the whole and its parts: 'follow-up' <-> 'follow' <-> 'up'. The planner estimates
-- the phrase as if the three were independent words, multiplying their frequencies, when
-- every post with the whole also has the parts: a word in 5.8% of a million posts was
-- estimated at one post, so PostgreSQL visited all 57,812 matches by the index to keep
-- the newest 1,000 (300 ms) instead of walking the newest posts (docs/performance.md,
-- step 7).
--
-- The same query read without the parts (confer_en_words, confer_fr_words: the two
-- configurations with the hyphenated parts unmapped) gives the whole, 'follow-up', which
-- every match contains: the newest 1,000 posts with it are found (estimated by its own
-- frequency, like any word), then the exact query is checked on them, after the limit,
-- where the planner's estimate no longer steers anything. The parser writes a hyphenated
-- word's parts right after it, so a post with the whole has the phrase: the exact check
-- only guards the answer (every hit matches the query as typed) and removes, in
-- practice, nothing. A check inside the limit, as a function the planner cannot break
-- into words (ts_match_vq), was tried first: its default estimate of a third still sent
-- a search within one category through every thread of the category (330 ms).
--
-- Only for queries without quotes: a quoted phrase keeps the estimate cf_search gave it
-- in 0014 (the planner then rightly expects few matches). A negated hyphenated word is
-- read the same way: a post without the phrase has no whole either. Queries without a
-- hyphenated word read the same either way, so their plans do not change. cf_search is
-- rewritten in place; the migration fails if a part it changes is not where it was
-- expected.
CREATE TEXT SEARCH CONFIGURATION confer_en_words (COPY = confer_en);
ALTER TEXT SEARCH CONFIGURATION confer_en_words DROP MAPPING FOR hword_part, hword_asciipart;
CREATE TEXT SEARCH CONFIGURATION confer_fr_words (COPY = confer_fr);
ALTER TEXT SEARCH CONFIGURATION confer_fr_words DROP MAPPING FOR hword_part, hword_asciipart;

DO $$
DECLARE
    f regprocedure := 'cf_search(bigint, text, bigint, bigint, bigint, text, timestamp with time zone, '
                      'timestamp with time zone, bigint[], integer)'::regprocedure;
    def text := pg_get_functiondef(f);
    fixed text := def;
    edits text[] := ARRAY[
        -- a variable for the indexed reading
        E'    q_plan tsquery;\n',
        E'    q_plan tsquery;\n    q_ix tsquery;      -- the reading looked for by the index (0018)\n    ix_en tsquery;\n    ix_fr tsquery;\n',
        -- the reading without the hyphenated words' parts
        E'    IF cardinality(p_cursor) = 2 THEN\n',
        E'    -- a hyphenated word without its parts, as the index condition: see 0018\n'
        || E'    q_ix := q;\n'
        || E'    IF strpos(p_q, ''"'') = 0 THEN\n'
        || E'        ix_en := websearch_to_tsquery(''confer_en_words'', p_q);\n'
        || E'        ix_fr := websearch_to_tsquery(''confer_fr_words'', p_q);\n'
        || E'        IF (NOT en_ok OR (numnode(ix_en) > 0 AND querytree(ix_en) <> ''T''))\n'
        || E'           AND (NOT fr_ok OR (numnode(ix_fr) > 0 AND querytree(ix_fr) <> ''T'')) THEN\n'
        || E'            q_ix := CASE WHEN en_ok AND fr_ok AND ix_en <> ix_fr THEN ix_en || ix_fr\n'
        || E'                         WHEN en_ok THEN ix_en ELSE ix_fr END;\n'
        || E'            IF q_ix <> q THEN\n'
        || E'                q_plan := q;  -- the reading without parts is estimated alone\n'
        || E'            END IF;\n'
        || E'        END IF;\n'
        || E'    END IF;\n'
        || E'    IF cardinality(p_cursor) = 2 THEN\n',
        -- the conditions: indexed reading, then the exact query where they differ
        E'WHERE p.search @@ q AND (q_plan = q OR p.search @@ q_plan)\n',
        E'WHERE p.search @@ q_ix AND (q_plan = q OR p.search @@ q_plan)\n',
        -- and the exact query checked on the newest matches found
        E'LIMIT 1000) c) r\n',
        E'LIMIT 1000) c\n'
        || E'          -- the exact query, where the index looked for a reading without parts\n'
        || E'          WHERE q_ix = q OR c.search @@ q) r\n'];
BEGIN
    FOR i IN 1 .. cardinality(edits) BY 2 LOOP
        IF strpos(fixed, edits[i]) = 0 THEN
            RAISE EXCEPTION 'cf_search: % is not where it was expected', edits[i];
        END IF;
        fixed := replace(fixed, edits[i], edits[i + 1]);
    END LOOP;
    EXECUTE fixed;
END $$;
