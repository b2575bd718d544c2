-- Roadmap step 5, moderation (SPEC sections 4 "Moderation" and 5): members flag posts;
-- a privacy flag from a mentor, coordinator, moderator or admin, or flags from enough
-- distinct members, hide a post pending review; moderators decide (keep, hide, delete),
-- which resolves every open flag of the post. Moderators read a conversation's post only
-- once it is flagged, and that reading is logged.

CREATE TABLE flags (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_id     bigint NOT NULL REFERENCES posts (id),
    user_id     bigint NOT NULL REFERENCES users (id),
    reason      text NOT NULL CHECK (reason IN ('privacy', 'disrespectful', 'clinical_safety',
                                                'spam', 'off_topic', 'other')),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by bigint REFERENCES users (id),
    decision    text CHECK (decision IN ('keep', 'hide', 'delete'))
);
-- one open flag per member per post
CREATE UNIQUE INDEX flags_open_once ON flags (post_id, user_id) WHERE status = 'open';
CREATE INDEX flags_post ON flags (post_id, id);
CREATE INDEX flags_open ON flags (id) WHERE status = 'open';

ALTER TABLE posts ADD COLUMN hidden_reason text;

-- Whether the member's flags weigh alone: mentors (of any group), coordinators,
-- moderators and admins.
CREATE FUNCTION cf_trusted_flagger(p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM users WHERE id = p_user
                   AND site_role IN ('coordinator', 'moderator', 'admin'))
        OR EXISTS (SELECT 1 FROM group_members WHERE user_id = p_user AND role = 'mentor');
END $$;

CREATE FUNCTION cf_flag_json(f flags) RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN json_build_object('id', f.id, 'post_id', f.post_id, 'reason', f.reason,
                             'note', f.note, 'status', f.status,
                             'created_at', cf_time(f.created_at));
END $$;

-- POST /posts/{id}/flags. {"flag"} or {"error": not_found | already_flagged | own_post |
-- rate_limited (with retry_after)}. p_threshold: distinct members whose open flags hide
-- a post; p_daily: flags a member may raise a day (0: no limit).
CREATE FUNCTION cf_flag_create(p_user bigint, p_post bigint, p_reason text, p_note text,
                               p_threshold integer, p_daily integer) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    t threads;
    p posts;
    f flags;
    why text;
    wait integer;
BEGIN
    SELECT * INTO p FROM posts WHERE id = p_post FOR UPDATE;
    IF FOUND THEN
        SELECT * INTO t FROM threads WHERE id = p.thread_id;
    END IF;
    IF p.id IS NULL OR p.state = 'deleted'
       OR NOT cf_thread_readable(t, p_user, cf_thread_moderator(t, p_user)) THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF p.author_id = p_user THEN
        RETURN json_build_object('error', 'own_post');
    END IF;
    IF p_daily > 0 THEN
        wait := cf_rate_hit('flag:' || p_user, 86400, p_daily);
        IF wait > 0 THEN
            RETURN json_build_object('error', 'rate_limited', 'retry_after', wait);
        END IF;
    END IF;
    INSERT INTO flags (post_id, user_id, reason, note)
    VALUES (p.id, p_user, p_reason, coalesce(p_note, ''))
    ON CONFLICT (post_id, user_id) WHERE status = 'open' DO NOTHING
    RETURNING * INTO f;
    IF f.id IS NULL THEN
        RETURN json_build_object('error', 'already_flagged');
    END IF;
    IF p.state = 'visible' THEN
        IF p_reason = 'privacy' AND cf_trusted_flagger(p_user) THEN
            why := 'privacy flag from a mentor, coordinator or moderator';
        ELSIF (SELECT count(DISTINCT user_id) FROM flags
               WHERE post_id = p.id AND status = 'open') >= p_threshold THEN
            why := 'flags from ' || p_threshold || ' members';
        END IF;
        IF why IS NOT NULL THEN
            UPDATE posts SET state = 'hidden', hidden_reason = why WHERE id = p.id;
            UPDATE threads SET post_count = greatest(post_count - 1, 0) WHERE id = t.id;
            INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason,
                                        before, after)
            VALUES (NULL, 'post.hide', 'post', p.id, why, jsonb_build_object('state', 'visible'),
                    jsonb_build_object('state', 'hidden'));
        END IF;
    END IF;
    RETURN json_build_object('flag', cf_flag_json(f));
END $$;

-- Who reviews a flagged post: moderators and admins; coordinators for their network's
-- groups.
CREATE FUNCTION cf_reviewer(p_user bigint, t threads) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN cf_is_moderator(p_user)
        OR (t.space_type = 'group' AND cf_thread_moderator(t, p_user));
END $$;

-- A flagged post as the queue shows it: the post with its text, why it is hidden, its
-- thread and its flags.
CREATE FUNCTION cf_queue_item(p posts, p_user bigint, p_status text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT json_build_object(
        'post', cf_post_json(p, p_user, true),
        'hidden_reason', p.hidden_reason,
        'thread', json_build_object('id', t.id, 'title', t.title,
                                    'space', json_build_object('type', t.space_type,
                                        'id', coalesce(t.category_id, t.group_id, t.id))),
        'flags', coalesce((SELECT json_agg(json_build_object(
                     'id', f.id, 'reason', f.reason, 'note', f.note, 'status', f.status,
                     'created_at', cf_time(f.created_at), 'decision', f.decision,
                     'flagger', cf_author_json(f.user_id)) ORDER BY f.id)
                 FROM flags f WHERE f.post_id = p.id
                   AND (p_status = 'resolved' OR f.status = 'open')), '[]'::json))
        FROM threads t WHERE t.id = p.thread_id);
END $$;

-- GET /moderation/queue: one item per post with open flags (pending) or with flags all
-- resolved (resolved), newest flag first; keyset on the newest flag's id. Reading a
-- conversation's post here is logged. JSON text.
CREATE FUNCTION cf_moderation_queue(p_user bigint, p_status text, p_cursor bigint[],
                                    p_limit integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    rows record;
    items json[] := '{}';
    last_key bigint;
    n integer := 0;
    more boolean := false;
BEGIN
    FOR rows IN
        SELECT p, t, max(f.id) AS key
        FROM flags f JOIN posts p ON p.id = f.post_id JOIN threads t ON t.id = p.thread_id
        WHERE (p_status = 'pending') = EXISTS (SELECT 1 FROM flags o
                                               WHERE o.post_id = p.id AND o.status = 'open')
        GROUP BY p.id, t.id
        HAVING max(f.id) < coalesce(p_cursor[1], 9223372036854775807)
        ORDER BY max(f.id) DESC
    LOOP
        CONTINUE WHEN NOT cf_reviewer(p_user, rows.t);
        IF n = p_limit THEN
            more := true;
            EXIT;
        END IF;
        items := items || cf_queue_item(rows.p, p_user, p_status);
        IF (rows.t).space_type = 'conversation' THEN
            INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason)
            VALUES (p_user, 'conversation.read', 'post', (rows.p).id, 'flagged post reviewed');
        END IF;
        last_key := rows.key;
        n := n + 1;
    END LOOP;
    RETURN json_build_object('items', to_json(items),
                             'next_cursor', CASE WHEN more THEN cf_cursor_of(ARRAY[last_key]) END)::text;
END $$;

-- POST /moderation/posts/{id}/decision: keep (visible again), hide, or delete; every open
-- flag of the post is resolved. {"item"} or {"error": not_found | nothing_to_decide}.
CREATE FUNCTION cf_moderation_decide(p_user bigint, p_post bigint, p_action text, p_note text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    t threads;
    p posts;
    before text;
BEGIN
    SELECT * INTO p FROM posts WHERE id = p_post FOR UPDATE;
    IF FOUND THEN
        SELECT * INTO t FROM threads WHERE id = p.thread_id FOR UPDATE;
    END IF;
    IF p.id IS NULL OR NOT cf_reviewer(p_user, t)
       OR NOT EXISTS (SELECT 1 FROM flags WHERE post_id = p.id) THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF NOT EXISTS (SELECT 1 FROM flags WHERE post_id = p.id AND status = 'open') THEN
        RETURN json_build_object('error', 'nothing_to_decide');
    END IF;
    before := p.state;
    IF p_action = 'keep' AND p.state = 'hidden' THEN
        UPDATE posts SET state = 'visible', hidden_reason = NULL WHERE id = p.id
        RETURNING * INTO p;
        UPDATE threads SET post_count = post_count + 1 WHERE id = t.id;
    ELSIF p_action = 'hide' AND p.state = 'visible' THEN
        UPDATE posts SET state = 'hidden', hidden_reason = 'moderator: ' || coalesce(p_note, '')
        WHERE id = p.id RETURNING * INTO p;
        UPDATE threads SET post_count = greatest(post_count - 1, 0) WHERE id = t.id;
    ELSIF p_action = 'delete' AND p.state <> 'deleted' THEN
        UPDATE posts SET state = 'deleted', deleted_at = clock_timestamp(), deleted_by = p_user
        WHERE id = p.id RETURNING * INTO p;
        IF before = 'visible' THEN
            UPDATE threads SET post_count = greatest(post_count - 1, 0) WHERE id = t.id;
        END IF;
        UPDATE users SET post_count = greatest(post_count - 1, 0) WHERE id = p.author_id;
    END IF;
    UPDATE flags SET status = 'resolved', resolved_at = now(), resolved_by = p_user,
                     decision = p_action
    WHERE post_id = p.id AND status = 'open';
    INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason, before, after)
    VALUES (p_user, 'post.decision.' || p_action, 'post', p.id, coalesce(p_note, ''),
            jsonb_build_object('state', before), jsonb_build_object('state', p.state));
    RETURN json_build_object('item', cf_queue_item(p, p_user, 'resolved'));
END $$;

-- A moderator may read a conversation's post once it has been flagged (SPEC section 2),
-- and the reading is logged; the rest of the conversation stays closed to them.
CREATE OR REPLACE FUNCTION cf_post_get(p_user bigint, p_post bigint) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    moderator boolean;
    p posts;
    t threads;
BEGIN
    SELECT * INTO p FROM posts WHERE id = p_post;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO t FROM threads WHERE id = p.thread_id;
    moderator := cf_thread_moderator(t, p_user);
    IF cf_thread_readable(t, p_user, moderator) THEN
        RETURN cf_post_json(p, p_user, moderator);
    ELSIF t.space_type = 'conversation' AND cf_is_moderator(p_user)
          AND EXISTS (SELECT 1 FROM flags WHERE post_id = p.id) THEN
        INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason)
        VALUES (p_user, 'conversation.read', 'post', p.id, 'flagged post');
        RETURN cf_post_json(p, p_user, true);
    END IF;
    RETURN NULL;
END $$;

-- ---- suspensions and the log -----------------------------------------------------------

-- POST /moderation/users/{id}/suspend (p_on, until p_until) and /unsuspend: moderators
-- suspend members and coordinators, admins anyone but themselves. A suspended member
-- reads but never writes (auth.c). Logged with before and after.
-- {"user"} or {"error": not_found | forbidden | until_invalid}.
CREATE FUNCTION cf_suspend(p_actor bigint, p_target bigint, p_on boolean, p_until_text text,
                           p_reason text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    actor users;
    u users;
    before jsonb;
    p_until timestamptz := CASE WHEN p_on THEN cf_parse_time(p_until_text) END;
BEGIN
    IF p_on AND (p_until IS NULL OR p_until <= now()) THEN
        RETURN json_build_object('error', 'until_invalid');
    END IF;
    SELECT * INTO actor FROM users WHERE id = p_actor;
    SELECT * INTO u FROM users WHERE id = p_target FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF actor.site_role NOT IN ('moderator', 'admin') OR u.id = actor.id
          OR (actor.site_role = 'moderator' AND u.site_role IN ('moderator', 'admin')) THEN
        RETURN json_build_object('error', 'forbidden');
    END IF;
    before := jsonb_build_object('suspended_until', cf_time(u.suspended_until),
                                 'suspended_reason', u.suspended_reason);
    UPDATE users SET suspended_until = p_until,
                     suspended_reason = CASE WHEN p_until IS NULL THEN NULL ELSE p_reason END
    WHERE id = u.id RETURNING * INTO u;
    INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason, before, after)
    VALUES (p_actor, CASE WHEN p_until IS NULL THEN 'user.unsuspend' ELSE 'user.suspend' END,
            'user', u.id, p_reason, before,
            jsonb_build_object('suspended_until', cf_time(u.suspended_until),
                               'suspended_reason', u.suspended_reason));
    RETURN json_build_object('user', cf_user_json(u, true));
END $$;

-- GET /moderation/log: newest first, keyset on id; filters by action, actor and target.
-- Moderators and admins. JSON text.
CREATE FUNCTION cf_moderation_log(p_action text, p_actor bigint, p_target_type text,
                                  p_target_id bigint, p_cursor bigint[], p_limit integer)
RETURNS text LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    ids bigint[];
BEGIN
    ids := ARRAY(SELECT id FROM moderation_log
                 WHERE id < coalesce(p_cursor[1], 9223372036854775807)
                   AND (p_action IS NULL OR action = p_action)
                   AND (p_actor IS NULL OR actor_id = p_actor)
                   AND (p_target_type IS NULL OR target_type = p_target_type)
                   AND (p_target_id IS NULL OR target_id = p_target_id)
                 ORDER BY id DESC LIMIT p_limit + 1);
    RETURN json_build_object(
        'items', coalesce((SELECT json_agg(json_build_object(
                     'id', m.id, 'action', m.action,
                     'actor', CASE WHEN m.actor_id IS NULL THEN NULL
                                   ELSE cf_author_json(m.actor_id) END,
                     'target', json_build_object('type', m.target_type, 'id', m.target_id),
                     'reason', m.reason, 'before', m.before, 'after', m.after,
                     'created_at', cf_time(m.created_at)) ORDER BY m.id DESC)
                 FROM moderation_log m WHERE m.id = ANY (ids[1:p_limit])), '[]'::json),
        'next_cursor', CASE WHEN cardinality(ids) > p_limit
                            THEN cf_cursor_of(ARRAY[ids[p_limit]]) END)::text;
END $$;
