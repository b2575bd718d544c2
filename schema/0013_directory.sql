-- The member directory (GET /api/v1/users): finding a colleague by name or @handle,
-- to add to a group or write to. Every signed-in member may read any member's profile
-- (GET /users/{id}), so the directory shows nothing more than profiles; emails only to
-- the member themself and to admins, as there.

-- Text folded for matching: lower case, accents removed. Immutable (unaccent with its
-- dictionary named), so that it can be indexed.
CREATE FUNCTION cf_fold(p text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN lower(public.unaccent('public.unaccent'::regdictionary, p));

-- Trigram indexes, so that "any part of the name" does not read every member as the
-- picker is typed into.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_name_trgm ON users USING gin (cf_fold(display_name) gin_trgm_ops);
CREATE INDEX users_handle_trgm ON users USING gin (handle gin_trgm_ops);

-- Members whose name or handle contains p_q (case and accents ignored; NULL: all),
-- optionally of one network, oldest account first, keyset pages on id. p_me, the
-- caller, sees their own email; p_with_email (admins) everyone's.
-- {"items", "next_cursor"} as JSON text.
CREATE FUNCTION cf_user_search(p_me bigint, p_q text, p_network bigint, p_cursor bigint[],
                               p_limit integer, p_with_email boolean) RETURNS text
-- planned for each call: a generic plan could not use the trigram indexes for
-- "pattern IS NULL OR ..."
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    c_id bigint := coalesce(p_cursor[1], 0);
    pattern text;
    ids bigint[];
BEGIN
    IF p_q IS NOT NULL THEN
        -- the text as a LIKE pattern: its own % and _ and \ taken literally
        pattern := '%' || replace(replace(replace(cf_fold(btrim(p_q)), '\', '\\'), '%', '\%'),
                                  '_', '\_') || '%';
    END IF;
    ids := ARRAY(SELECT u.id FROM users u
                 WHERE u.id > c_id
                   AND (pattern IS NULL OR cf_fold(u.display_name) LIKE pattern
                        OR u.handle LIKE pattern)
                   AND (p_network IS NULL OR u.network_id = p_network)
                 ORDER BY u.id LIMIT p_limit + 1);
    RETURN json_build_object(
        'items', coalesce((SELECT json_agg(cf_user_json(u, p_with_email OR u.id = p_me) ORDER BY u.id)
                           FROM users u WHERE u.id = ANY (ids[1:p_limit])), '[]'::json),
        'next_cursor', CASE WHEN cardinality(ids) > p_limit
                            THEN cf_cursor_of(ARRAY[ids[p_limit]]) END)::text;
END $$;
