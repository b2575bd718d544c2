-- Search, second version of cf_search (schema/0011_search.sql has the first; its
-- comment there says what is ranked and how): PostgreSQL estimates a phrase ("a b",
-- a <-> b) as if it were a AND b, far more often than the words follow each other, so
-- for two common words it walked the posts newest first for a rare phrase: a million
-- posts, about a second. The same query with & for the phrase operators, a condition
-- every match meets, is added so that the estimate multiplies down and the index is
-- used (a phrase of very common words is still estimated common enough to walk). The
-- English and French readings are OR-ed only when they differ (an OR of twins doubles
-- the estimate). docs/performance.md, step 7, has the figures.
CREATE OR REPLACE FUNCTION cf_search(p_user bigint, p_q text, p_category bigint, p_group bigint,
                          p_author bigint, p_tag text, p_from timestamptz, p_to timestamptz,
                          p_cursor bigint[], p_limit integer) RETURNS text
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    q_en tsquery := websearch_to_tsquery('confer_en', p_q);
    q_fr tsquery := websearch_to_tsquery('confer_fr', p_q);
    q tsquery;
    q_plan tsquery;
    en_ok boolean;
    fr_ok boolean;
    me users;
    site_moderator boolean;
    reads bigint[];      -- groups whose threads p_user reads
    moderates bigint[];  -- groups whose threads p_user moderates
    c_score bigint := 9223372036854775807;
    c_id bigint := 9223372036854775807;
    hits bigint[];
    scores bigint[];
    more boolean;
    items text;
BEGIN
    IF p_group IS NOT NULL AND NOT cf_space_readable(p_user, 'group', p_group) THEN
        RETURN NULL;
    END IF;
    -- a reading with no word to look for (only stop words or punctuation) or only words
    -- to leave out ("-x") could only be answered by ranking every post: it is left out,
    -- and a query with neither reading finds nothing
    en_ok := numnode(q_en) > 0 AND querytree(q_en) <> 'T';
    fr_ok := numnode(q_fr) > 0 AND querytree(q_fr) <> 'T';
    IF NOT en_ok AND NOT fr_ok THEN
        RETURN '{"items":[],"next_cursor":null}';
    END IF;
    -- both readings when they differ (one when they are the same: an OR of twins would
    -- double PostgreSQL's estimate of the matches)
    q := CASE WHEN en_ok AND fr_ok AND q_en <> q_fr THEN q_en || q_fr
              WHEN en_ok THEN q_en ELSE q_fr END;
    -- PostgreSQL estimates a phrase ("a b", a <-> b) as if it were a AND b, far more
    -- often than the words follow each other: for two common words it then walked the
    -- posts newest first for the few phrases, a million posts, a second. The same
    -- query with AND for the phrases, a condition every match meets, is added so that
    -- the estimate multiplies down and the index is used (a phrase of very common
    -- words is still estimated common enough to walk). Not under a negation: a post
    -- without the phrase may well have both words.
    q_plan := CASE WHEN strpos(q::text, '!') > 0 THEN q
                   ELSE regexp_replace(q::text, '<(-|[0-9]+)>', '&', 'g')::tsquery END;
    IF cardinality(p_cursor) = 2 THEN
        c_score := p_cursor[1];
        c_id := p_cursor[2];
    END IF;
    SELECT * INTO me FROM users WHERE id = p_user;
    site_moderator := me.site_role IN ('moderator', 'admin');
    SELECT coalesce(array_agg(g.id), '{}') INTO reads FROM groups g
    WHERE site_moderator OR (me.site_role = 'coordinator' AND g.network_id = me.network_id)
       OR EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND m.user_id = p_user);
    SELECT coalesce(array_agg(g.id), '{}') INTO moderates FROM groups g
    WHERE site_moderator OR (me.site_role = 'coordinator' AND g.network_id = me.network_id);

    SELECT array_agg(h.id ORDER BY h.score DESC, h.id DESC),
           array_agg(h.score ORDER BY h.score DESC, h.id DESC)
    INTO hits, scores
    FROM (SELECT r.id, r.score FROM (
          SELECT c.id, (ts_rank(c.search, q) * 1000000000)::bigint AS score
          FROM (SELECT p.id, p.search
                FROM posts p JOIN threads t ON t.id = p.thread_id
                WHERE p.search @@ q AND (q_plan = q OR p.search @@ q_plan)
                  -- where p_user reads (cf_thread_readable over sets)
                  AND (t.space_type = 'category'
                       OR (t.space_type = 'group' AND t.group_id = ANY (reads))
                       OR (t.space_type = 'conversation'
                           AND EXISTS (SELECT 1 FROM conversation_participants cp
                                       WHERE cp.thread_id = t.id AND cp.user_id = p_user)))
                  -- hidden and deleted posts, and deleted threads, only where p_user
                  -- moderates (cf_thread_moderator over sets; nobody in a conversation)
                  AND ((p.state = 'visible' AND t.deleted_at IS NULL)
                       OR (t.space_type = 'category' AND site_moderator)
                       OR (t.space_type = 'group' AND t.group_id = ANY (moderates)))
                  AND (p_category IS NULL OR t.category_id = p_category)
                  AND (p_group IS NULL OR t.group_id = p_group)
                  AND (p_author IS NULL OR p.author_id = p_author)
                  AND (p_tag IS NULL OR t.tags @> ARRAY[p_tag])
                  AND (p_from IS NULL OR p.created_at >= p_from)
                  AND (p_to IS NULL OR p.created_at < p_to)
                -- the newest matches only (see above)
                ORDER BY p.id DESC
                LIMIT 1000) c) r
          WHERE (r.score, r.id) < (c_score, c_id)
          ORDER BY r.score DESC, r.id DESC
          LIMIT p_limit + 1) h;

    more := cardinality(hits) > p_limit;
    SELECT string_agg(json_build_object(
               'thread_id', t.id,
               'post_id', p.id,
               'post_number', p.number,
               'title', t.title,
               'title_html', coalesce(
                   cf_search_marked('confer_en', t.title, q_en, 'HighlightAll=true'),
                   cf_search_marked('confer_fr', t.title, q_fr, 'HighlightAll=true'),
                   cf_html_escape(t.title)),
               'snippet', cf_search_excerpt(p.body, q_en, q_fr,
                                            'MaxWords=30, MinWords=12, ShortWord=2, '
                                            'MaxFragments=2, FragmentDelimiter=" … "'),
               'rank', round(i.score / 1e9, 6),
               'space', json_build_object('type', t.space_type,
                                          'id', coalesce(t.category_id, t.group_id, t.id)),
               'author', cf_author_json(p.author_id),
               'state', p.state,
               'created_at', cf_time(p.created_at))::text, ',' ORDER BY i.o)
    INTO items
    FROM unnest(hits[1:p_limit], scores[1:p_limit]) WITH ORDINALITY AS i(id, score, o)
    JOIN posts p ON p.id = i.id
    JOIN threads t ON t.id = p.thread_id
    -- the authority on access, asked once more of every hit answered
    WHERE cf_thread_readable(t, p_user, cf_thread_moderator(t, p_user));

    RETURN '{"items":[' || coalesce(items, '') || '],"next_cursor":'
        || CASE WHEN more THEN to_json(cf_cursor_of(ARRAY[scores[p_limit], hits[p_limit]]))::text
                ELSE 'null' END || '}';
END $$;
