-- Roadmap step 7: full-text search (SPEC section 8).
--
-- Every post carries its search vector, written by a trigger whenever its text changes
-- (and, for a thread's first post, whenever the thread's title changes): the title
-- with weight A, the body with the default weight D, each stemmed both in English and
-- in French, accents removed. A query is read by websearch_to_tsquery in both languages
-- and the two readings are OR-ed, so "douleurs" finds "douleur" and "tapering" finds
-- "taper", and quotes, OR and -word work in either language.
--
-- Access is decided inside the query, for every hit: the same rules as
-- cf_thread_readable and cf_thread_moderator, written over sets (the caller's groups
-- and conversations), and cf_thread_readable is asked once more about each hit of the
-- page before it is answered.

CREATE TEXT SEARCH CONFIGURATION confer_en (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION confer_en
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
CREATE TEXT SEARCH CONFIGURATION confer_fr (COPY = pg_catalog.french);
ALTER TEXT SEARCH CONFIGURATION confer_fr
    ALTER MAPPING FOR asciihword, asciiword, hword_asciipart, hword, hword_part, word
    WITH unaccent, french_stem;

-- A post's vector: its thread's title (first posts only) and its body.
CREATE FUNCTION cf_search_vector(p_title text, p_body text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN
    setweight(to_tsvector('confer_en'::regconfig, coalesce(p_title, '')), 'A')
    || setweight(to_tsvector('confer_fr'::regconfig, coalesce(p_title, '')), 'A')
    || to_tsvector('confer_en'::regconfig, p_body)
    || to_tsvector('confer_fr'::regconfig, p_body);

ALTER TABLE posts ADD COLUMN search tsvector;

CREATE FUNCTION cf_posts_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := cf_search_vector(
        CASE WHEN NEW.number = 1 THEN (SELECT title FROM threads WHERE id = NEW.thread_id) END,
        NEW.body);
    RETURN NEW;
END $$;
CREATE TRIGGER posts_search BEFORE INSERT OR UPDATE OF body ON posts
    FOR EACH ROW EXECUTE FUNCTION cf_posts_search();

CREATE FUNCTION cf_threads_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts SET search = cf_search_vector(NEW.title, body)
    WHERE thread_id = NEW.id AND number = 1;
    RETURN NULL;
END $$;
CREATE TRIGGER threads_search AFTER UPDATE OF title ON threads
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title)
    EXECUTE FUNCTION cf_threads_search();

UPDATE posts p SET search = cf_search_vector(CASE WHEN p.number = 1 THEN t.title END, p.body)
FROM threads t WHERE t.id = p.thread_id;
ALTER TABLE posts ALTER COLUMN search SET NOT NULL;
CREATE INDEX posts_search ON posts USING gin (search);
-- The frequencies of 10,000 words rather than 1,000 (ANALYZE): the planner's choice
-- between the index of the words and the newest posts first (cf_search) rests on them.
ALTER TABLE posts ALTER COLUMN search SET STATISTICS 1000;

-- A ?category= filter (an id or a slug) as an id: NULL for none, -1 for no such category
-- (nothing matches). An all-digit slug that is also another category's id names the id.
-- Used by GET /threads and GET /search.
CREATE FUNCTION cf_category_filter(p text) RETURNS bigint LANGUAGE sql STABLE RETURN
    CASE WHEN p IS NULL THEN NULL
         ELSE coalesce((SELECT id FROM categories WHERE id::text = p OR slug = p
                        ORDER BY id::text = p DESC LIMIT 1), -1) END;

-- Text made safe to put in HTML.
CREATE FUNCTION cf_html_escape(s text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE RETURN
    replace(replace(replace(replace(replace(s, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                    '"', '&quot;'), '''', '&#39;');

-- ts_headline's excerpt of p_text, HTML-escaped, the matches in <mark>: the matches are
-- first marked with two private-use characters (removed from the text beforehand, so
-- that no text can forge a mark), the whole is escaped, then they become the tags.
-- NULL when no word of the text matches in that language. (ts_headline leaves out the
-- text's HTML-like tags; what is left is escaped.)
CREATE FUNCTION cf_search_marked(p_config regconfig, p_text text, p_query tsquery,
                                 p_options text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    h text;
BEGIN
    h := ts_headline(p_config, translate(p_text, U&'\E000\E001', ''), p_query,
                     'StartSel=' || U&'\E000' || ', StopSel=' || U&'\E001' || ', ' || p_options);
    IF strpos(h, U&'\E000') = 0 THEN
        RETURN NULL;
    END IF;
    RETURN replace(replace(cf_html_escape(h), U&'\E000', '<mark>'), U&'\E001', '</mark>');
END $$;

-- The excerpt in whichever language matched, or the text's beginning.
CREATE FUNCTION cf_search_excerpt(p_text text, q_en tsquery, q_fr tsquery, p_options text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce(cf_search_marked('confer_en', p_text, q_en, p_options),
                    cf_search_marked('confer_fr', p_text, q_fr, p_options),
                    cf_html_escape(left(p_text, 240)));
END $$;

-- GET /search: the posts matching p_q that p_user may read, best first (ts_rank, then
-- newest), keyset pages on (score, id) where score is the rank times 10^9 as an integer,
-- so that a cursor carries it exactly. Filters: category (id), group (id; NULL when the
-- group is not one p_user reads: 404), author, tag, created from (inclusive) and to
-- (exclusive). {"items", "next_cursor"} as JSON text.
--
-- Ranked are the newest 1,000 matching posts the caller may read: all of them for any
-- query that matches fewer (most do), the most recent for one common word, whose
-- every match would otherwise be ranked on every page (a word in 20% of a million
-- posts: 200,000 ranks, about a second). PostgreSQL finds those newest matches by the
-- index of the words when they are few, by walking the posts newest first when they
-- are many; each call is planned for its own query (force_custom_plan), so that the
-- choice follows the words' frequencies.
CREATE FUNCTION cf_search(p_user bigint, p_q text, p_category bigint, p_group bigint,
                          p_author bigint, p_tag text, p_from timestamptz, p_to timestamptz,
                          p_cursor bigint[], p_limit integer) RETURNS text
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    q_en tsquery := websearch_to_tsquery('confer_en', p_q);
    q_fr tsquery := websearch_to_tsquery('confer_fr', p_q);
    q tsquery;
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
    q := CASE WHEN en_ok AND fr_ok THEN q_en || q_fr WHEN en_ok THEN q_en ELSE q_fr END;
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
                WHERE p.search @@ q
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
