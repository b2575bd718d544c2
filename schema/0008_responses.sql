-- Roadmap step 6, the response commitment and in-app notifications (SPEC section 7):
-- a mentee's post starts the thread's response clock, the first post of a mentor where
-- the thread lives stops it and records the response time; a sweep notifies the mentors
-- at 48 h and the network's coordinators at 72 h. Every post notifies, in its own
-- transaction, whom it concerns: mentions, the post replied to, a conversation's
-- participants, a group's members for a new thread, and those watching the thread.

CREATE TABLE response_clocks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id        bigint NOT NULL REFERENCES threads (id),
    mentee_id        bigint NOT NULL REFERENCES users (id),
    started_post_id  bigint NOT NULL REFERENCES posts (id),
    started_at       timestamptz NOT NULL,
    stopped_post_id  bigint REFERENCES posts (id),
    stopped_at       timestamptz,
    responder_id     bigint REFERENCES users (id),
    response_seconds integer,
    due_notified_at     timestamptz,
    overdue_notified_at timestamptz
);
-- one running clock a thread
CREATE UNIQUE INDEX response_clocks_running ON response_clocks (thread_id)
    WHERE stopped_at IS NULL;
CREATE INDEX response_clocks_open ON response_clocks (started_at) WHERE stopped_at IS NULL;
CREATE INDEX response_clocks_stopped ON response_clocks (stopped_at) WHERE stopped_at IS NOT NULL;

-- Whether the member answers for the response commitment in the thread: a mentor where
-- it lives (cf_thread_mentor), who in a conversation takes part in it.
CREATE FUNCTION cf_thread_responder(t threads, p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN t.space_type IN ('group', 'conversation') AND cf_thread_mentor(t, p_user)
       AND (t.space_type = 'group'
            OR EXISTS (SELECT 1 FROM conversation_participants
                       WHERE thread_id = t.id AND user_id = p_user));
END $$;

-- The members who answer for the thread (its mentors).
CREATE FUNCTION cf_thread_responders(t threads) RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF t.space_type = 'group' THEN
        RETURN ARRAY(SELECT user_id FROM group_members
                     WHERE group_id = t.group_id AND role = 'mentor' ORDER BY user_id);
    END IF;
    RETURN ARRAY(SELECT cp.user_id FROM conversation_participants cp
                 WHERE cp.thread_id = t.id
                   AND EXISTS (SELECT 1 FROM group_members m
                               WHERE m.user_id = cp.user_id AND m.role = 'mentor')
                 ORDER BY cp.user_id);
END $$;

-- Whether the member's post starts a clock: a mentee of the group; in a conversation
-- with a mentor, a participant who is not one.
CREATE FUNCTION cf_thread_asker(t threads, p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF t.space_type = 'group' THEN
        RETURN EXISTS (SELECT 1 FROM group_members
                       WHERE group_id = t.group_id AND user_id = p_user AND role = 'mentee');
    ELSIF t.space_type = 'conversation' THEN
        RETURN NOT cf_thread_responder(t, p_user) AND cardinality(cf_thread_responders(t)) > 0;
    END IF;
    RETURN false;
END $$;

-- The clock after post p of thread t (in the post's transaction).
CREATE FUNCTION cf_response_clock(t threads, p posts) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c response_clocks;
BEGIN
    IF t.space_type NOT IN ('group', 'conversation') THEN
        RETURN;
    END IF;
    SELECT * INTO c FROM response_clocks WHERE thread_id = t.id AND stopped_at IS NULL
    FOR UPDATE;
    IF c.id IS NULL AND cf_thread_asker(t, p.author_id) THEN
        INSERT INTO response_clocks (thread_id, mentee_id, started_post_id, started_at)
        VALUES (t.id, p.author_id, p.id, p.created_at);
        UPDATE threads SET awaiting_response_since = p.created_at WHERE id = t.id;
    ELSIF c.id IS NOT NULL AND cf_thread_responder(t, p.author_id) THEN
        UPDATE response_clocks
        SET stopped_post_id = p.id, stopped_at = p.created_at, responder_id = p.author_id,
            response_seconds = greatest(0, extract(epoch FROM p.created_at - c.started_at))::integer
        WHERE id = c.id;
        UPDATE threads SET awaiting_response_since = NULL WHERE id = t.id;
    END IF;
END $$;

-- ---- notifications of a post ---------------------------------------------------------

-- Whom post p (of thread t, replying to p_parent) concerns, once each, in this order:
-- mentioned, replied to, a conversation's participants, a group's members (new thread),
-- watching. cf_notify skips the author, whoever cannot read the thread and muted threads.
CREATE FUNCTION cf_post_notify(t threads, p posts, p_parent posts) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    done bigint[] := ARRAY[p.author_id];
BEGIN
    FOR r IN
        SELECT user_id, 'mention' AS kind, 1 AS rank FROM post_mentions WHERE post_id = p.id
        UNION ALL
        SELECT p_parent.author_id, 'reply', 2 WHERE p_parent.id IS NOT NULL
        UNION ALL
        SELECT user_id, 'conversation', 3 FROM conversation_participants
        WHERE thread_id = t.id AND t.space_type = 'conversation'
        UNION ALL
        SELECT user_id, 'group_thread', 4 FROM group_members
        WHERE group_id = t.group_id AND t.space_type = 'group' AND p.number = 1
        UNION ALL
        SELECT user_id, 'watched', 5 FROM subscriptions
        WHERE thread_id = t.id AND level = 'watching'
        ORDER BY rank, user_id
    LOOP
        IF r.user_id = ANY (done) THEN
            CONTINUE;
        END IF;
        done := done || r.user_id;
        PERFORM cf_notify(r.user_id, r.kind, p.id, p.author_id, NULL);
    END LOOP;
END $$;

-- Every post goes through cf_post_insert (0004): the clock and the notifications follow it
-- in the same transaction.
ALTER FUNCTION cf_post_insert(bigint, integer, bigint, posts, text, text, bigint[], boolean, text)
    RENAME TO cf_post_insert_row;
CREATE FUNCTION cf_post_insert(p_thread bigint, p_number integer, p_user bigint,
                               p_parent posts, p_body text, p_html text, p_mentions bigint[],
                               p_ack boolean, p_title text) RETURNS posts
LANGUAGE plpgsql AS $$
DECLARE
    p posts := cf_post_insert_row(p_thread, p_number, p_user, p_parent, p_body, p_html,
                                  p_mentions, p_ack, p_title);
    t threads;
BEGIN
    SELECT * INTO t FROM threads WHERE id = p_thread;
    PERFORM cf_response_clock(t, p);
    PERFORM cf_post_notify(t, p, p_parent);
    RETURN p;
END $$;

-- An accepted answer tells its author.
ALTER FUNCTION cf_thread_answer(bigint, bigint, bigint) RENAME TO cf_thread_answer_set;
CREATE FUNCTION cf_thread_answer(p_user bigint, p_thread bigint, p_post bigint) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    out json := cf_thread_answer_set(p_user, p_thread, p_post);
BEGIN
    IF out->>'error' IS NULL AND p_post IS NOT NULL THEN
        PERFORM cf_notify((SELECT author_id FROM posts WHERE id = p_post), 'answer_accepted',
                          p_post, p_user, NULL);
    END IF;
    RETURN out;
END $$;

-- ---- the sweep ------------------------------------------------------------------------

-- Run on a timer by the server (sweep.c); one instance at a time, whatever the number of
-- servers: the advisory lock is held for the transaction. A clock past p_due seconds
-- notifies the thread's mentors (response_due), past p_overdue the coordinators of the
-- mentee's network (response_overdue), each once. A coordinator cannot read a
-- conversation: theirs names no thread, only the ages and the people.
-- {"due": n, "overdue": n} or {"skipped": true} when another sweep holds the lock.
CREATE FUNCTION cf_response_sweep(p_due integer, p_overdue integer) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    m bigint;
    due integer := 0;
    overdue integer := 0;
    detail jsonb;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('confer:response_sweep')) THEN
        RETURN json_build_object('skipped', true);
    END IF;
    FOR c IN SELECT rc.*, t AS t FROM response_clocks rc JOIN threads t ON t.id = rc.thread_id
             WHERE rc.stopped_at IS NULL AND rc.due_notified_at IS NULL
               AND rc.started_at <= now() - make_interval(secs => p_due)
             ORDER BY rc.started_at FOR UPDATE OF rc
    LOOP
        detail := jsonb_build_object('started_at', cf_time(c.started_at),
                                     'mentee', cf_author_json(c.mentee_id));
        FOREACH m IN ARRAY cf_thread_responders(c.t) LOOP
            PERFORM cf_notify(m, 'response_due', c.started_post_id, NULL, detail);
        END LOOP;
        UPDATE response_clocks SET due_notified_at = now() WHERE id = c.id;
        due := due + 1;
    END LOOP;
    FOR c IN SELECT rc.*, t AS t, u.network_id FROM response_clocks rc
             JOIN threads t ON t.id = rc.thread_id JOIN users u ON u.id = rc.mentee_id
             WHERE rc.stopped_at IS NULL AND rc.overdue_notified_at IS NULL
               AND rc.started_at <= now() - make_interval(secs => p_overdue)
             ORDER BY rc.started_at FOR UPDATE OF rc
    LOOP
        detail := jsonb_build_object(
            'started_at', cf_time(c.started_at), 'mentee', cf_author_json(c.mentee_id),
            'mentors', (SELECT coalesce(jsonb_agg(cf_author_json(x)::jsonb), '[]'::jsonb)
                        FROM unnest(cf_thread_responders(c.t)) x),
            'space', (c.t).space_type);
        FOR m IN SELECT id FROM users
                 WHERE site_role = 'coordinator'
                   AND network_id = coalesce((SELECT network_id FROM groups
                                              WHERE id = (c.t).group_id), c.network_id)
        LOOP
            IF (c.t).space_type = 'group' THEN
                PERFORM cf_notify(m, 'response_overdue', c.started_post_id, NULL, detail);
            ELSE
                INSERT INTO notifications (user_id, kind, detail) VALUES (m, 'response_overdue', detail);
            END IF;
        END LOOP;
        UPDATE response_clocks SET overdue_notified_at = now() WHERE id = c.id;
        overdue := overdue + 1;
    END LOOP;
    RETURN json_build_object('due', due, 'overdue', overdue);
END $$;

-- ---- GET /responses/pending ----------------------------------------------------------

-- Running clocks the member answers for or oversees, oldest first: a mentor's own (their
-- groups and conversations), a coordinator's network (its groups, and its mentees'
-- conversations without their title), an admin's all. Members see none.
CREATE FUNCTION cf_responses_pending(p_user bigint, p_due integer, p_overdue integer,
                                     p_cursor bigint[], p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u users;
    items json;
    n integer;
    last_started timestamptz;
    last_id bigint;
BEGIN
    SELECT * INTO u FROM users WHERE id = p_user;
    SELECT json_agg(x.item ORDER BY x.started_at, x.id), count(*),
           (array_agg(x.started_at ORDER BY x.started_at DESC, x.id DESC))[1],
           (array_agg(x.id ORDER BY x.started_at DESC, x.id DESC))[1]
    INTO items, n, last_started, last_id
    FROM (SELECT rc.id, rc.started_at, json_build_object(
                 'thread_id', CASE WHEN r.readable THEN t.id END,
                 'title', CASE WHEN r.readable THEN t.title END,
                 'space', json_build_object('type', t.space_type, 'id',
                                            CASE WHEN t.space_type = 'group' THEN t.group_id END),
                 'mentee', cf_author_json(rc.mentee_id),
                 'mentors', (SELECT coalesce(json_agg(cf_author_json(x)), '[]'::json)
                             FROM unnest(cf_thread_responders(t)) x),
                 'started_at', cf_time(rc.started_at),
                 'age_seconds', greatest(0, extract(epoch FROM now() - rc.started_at))::bigint,
                 'due_at', cf_time(rc.started_at + make_interval(secs => p_due)),
                 'overdue_at', cf_time(rc.started_at + make_interval(secs => p_overdue)),
                 'state', CASE WHEN rc.started_at <= now() - make_interval(secs => p_overdue)
                                    THEN 'overdue'
                               WHEN rc.started_at <= now() - make_interval(secs => p_due)
                                    THEN 'due' ELSE 'waiting' END) AS item
          FROM response_clocks rc
          JOIN threads t ON t.id = rc.thread_id
          JOIN users mentee ON mentee.id = rc.mentee_id
          CROSS JOIN LATERAL (SELECT cf_thread_readable(t, p_user,
                                                        cf_thread_moderator(t, p_user))
                                     AS readable) r
          WHERE rc.stopped_at IS NULL AND t.deleted_at IS NULL
            AND (p_cursor IS NULL
                 OR (rc.started_at, rc.id) > (cf_from_epoch_us(p_cursor[1]), p_cursor[2]))
            AND (u.site_role = 'admin'
                 OR p_user = ANY (cf_thread_responders(t))
                 OR (u.site_role = 'coordinator' AND u.network_id = coalesce(
                         (SELECT network_id FROM groups WHERE id = t.group_id),
                         mentee.network_id)))
          ORDER BY rc.started_at, rc.id LIMIT p_limit) x;
    RETURN json_build_object(
        'items', coalesce(items, '[]'::json),
        'next_cursor', CASE WHEN n = p_limit
                            THEN cf_cursor_of(ARRAY[cf_epoch_us(last_started), last_id]) END);
END $$;
