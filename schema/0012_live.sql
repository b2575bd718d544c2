-- Roadmap step 7: live updates (SPEC section 9).
--
-- Every change a reader may watch writes a row of live_events in its own transaction:
-- post.created, post.updated and post.hidden and thread.updated on the thread's stream,
-- notification.created on the member's. The rows carry ids only; what a subscriber
-- receives is built when it is sent, from the rows as they are then, for that
-- subscriber (schema below, cf_live_fetch), so a hidden post or a redacted text is
-- never sent from an old copy.
--
-- An event's id (seq) is given at commit, by a deferred trigger that first locks the
-- event's streams (in one global order, so that two commits cannot wait for each
-- other) and holds them until the commit is done: within a stream, ids therefore
-- follow commit order, and a subscriber that has seen id N has seen every earlier
-- event of its stream. That is what makes "Last-Event-ID: N" a complete resume point.
-- The same trigger sends NOTIFY confer_live '<t|u> <stream id> <seq>', delivered at
-- commit to every confer process listening.

CREATE SEQUENCE live_event_seq;

CREATE TABLE live_events (
    row_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq             bigint UNIQUE,  -- given at commit
    kind            text NOT NULL CHECK (kind IN ('post.created', 'post.updated', 'post.hidden',
                                                  'thread.updated', 'notification.created')),
    thread_id       bigint,         -- the stream of a thread's events
    user_id         bigint,         -- the stream of a member's notifications
    post_id         bigint,
    notification_id bigint,
    xid             xid8 NOT NULL DEFAULT pg_current_xact_id(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((thread_id IS NULL) <> (user_id IS NULL))
);
CREATE INDEX live_events_thread ON live_events (thread_id, seq) WHERE thread_id IS NOT NULL;
CREATE INDEX live_events_user ON live_events (user_id, seq) WHERE user_id IS NOT NULL;
CREATE INDEX live_events_pending ON live_events (xid) WHERE seq IS NULL;
CREATE INDEX live_events_age ON live_events (created_at);

-- The highest id pruned so far: a resume from before it has lost events (the stream
-- then says "resync").
CREATE TABLE live_horizon (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq   bigint NOT NULL DEFAULT 0
);
INSERT INTO live_horizon DEFAULT VALUES;

-- At commit: the first of the transaction's events to get here numbers them all.
CREATE FUNCTION cf_live_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    k record;
    e record;
    n bigint;
    me xid8 := pg_current_xact_id();
BEGIN
    IF NOT EXISTS (SELECT 1 FROM live_events WHERE xid = me AND seq IS NULL) THEN
        RETURN NULL;
    END IF;
    -- the streams' locks, in one order for every transaction (thread streams: class
    -- 1, member streams: class 2), held until the commit is written. Streams share
    -- 256 locks per class, so that a commit notifying thousands of members takes at
    -- most 256 locks (two streams sharing one are only ordered together).
    FOR k IN SELECT DISTINCT CASE WHEN x.thread_id IS NOT NULL THEN 1 ELSE 2 END AS c,
                             (coalesce(x.thread_id, x.user_id) % 256)::integer AS id
             FROM live_events x WHERE x.xid = me AND x.seq IS NULL ORDER BY 1, 2 LOOP
        PERFORM pg_advisory_xact_lock(k.c + 77000, k.id);
    END LOOP;
    FOR e IN SELECT x.row_id, x.thread_id, x.user_id FROM live_events x
             WHERE x.xid = me AND x.seq IS NULL ORDER BY x.row_id LOOP
        n := nextval('live_event_seq');
        UPDATE live_events SET seq = n WHERE row_id = e.row_id;
        PERFORM pg_notify('confer_live', CASE WHEN e.thread_id IS NOT NULL
                                              THEN 't ' || e.thread_id ELSE 'u ' || e.user_id END
                                         || ' ' || n);
    END LOOP;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER live_events_sequence AFTER INSERT ON live_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION cf_live_sequence();

-- ---- what writes events -------------------------------------------------------------

CREATE FUNCTION cf_live_posts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events (kind, thread_id, post_id) VALUES ('post.created', NEW.thread_id, NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER posts_live_insert AFTER INSERT ON posts
    FOR EACH ROW EXECUTE FUNCTION cf_live_posts_insert();

-- An edit, a redaction, a reaction, a deletion, a post shown again: post.updated; a
-- post hidden: post.hidden. (Not the cached JSON's refresh when an author renames.)
CREATE FUNCTION cf_live_posts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events (kind, thread_id, post_id)
    VALUES (CASE WHEN NEW.state = 'hidden' AND OLD.state <> 'hidden' THEN 'post.hidden'
                 ELSE 'post.updated' END, NEW.thread_id, NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER posts_live_update AFTER UPDATE ON posts
    FOR EACH ROW WHEN (OLD.version <> NEW.version OR OLD.state <> NEW.state
                       OR OLD.body_html <> NEW.body_html
                       OR OLD.helpful_count <> NEW.helpful_count
                       OR OLD.thanks_count <> NEW.thanks_count
                       OR OLD.privacy_acknowledged <> NEW.privacy_acknowledged)
    EXECUTE FUNCTION cf_live_posts_update();

-- What readers see of a thread: not its counters, which every new post changes (the
-- post.created event says as much).
CREATE FUNCTION cf_live_threads_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events (kind, thread_id) VALUES ('thread.updated', NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER threads_live_update AFTER UPDATE ON threads
    FOR EACH ROW WHEN (OLD.title <> NEW.title OR OLD.kind <> NEW.kind
                       OR OLD.status <> NEW.status OR OLD.tags <> NEW.tags
                       OR OLD.pinned <> NEW.pinned OR OLD.locked <> NEW.locked
                       OR OLD.category_id IS DISTINCT FROM NEW.category_id
                       OR OLD.accepted_post_id IS DISTINCT FROM NEW.accepted_post_id
                       OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION cf_live_threads_update();

CREATE FUNCTION cf_live_notifications_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO live_events (kind, user_id, notification_id)
    VALUES ('notification.created', NEW.user_id, NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER notifications_live_insert AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION cf_live_notifications_insert();

-- ---- subscribing and reading ---------------------------------------------------------

-- GET /events[?thread=]: NULL when p_user may not read the thread (404); else where the
-- stream is now ("head": its last id; a subscriber without Last-Event-ID starts there),
-- the highest id pruned ("horizon") and the last id given at all ("top").
CREATE FUNCTION cf_live_subscribe(p_user bigint, p_thread bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t threads;
    head bigint;
BEGIN
    IF p_thread IS NOT NULL THEN
        SELECT * INTO t FROM threads WHERE id = p_thread;
        IF NOT FOUND OR NOT cf_thread_readable(t, p_user, cf_thread_moderator(t, p_user)) THEN
            RETURN NULL;
        END IF;
        SELECT max(seq) INTO head FROM live_events WHERE thread_id = p_thread;
    ELSE
        SELECT max(seq) INTO head FROM live_events WHERE user_id = p_user;
    END IF;
    RETURN json_build_object('head', coalesce(head, 0),
                             'horizon', (SELECT seq FROM live_horizon),
                             'top', (SELECT CASE WHEN is_called THEN last_value ELSE 0 END
                                     FROM live_event_seq));
END $$;

-- The events of a stream (p_kind 't': a thread's, 'u': a member's notifications) after
-- p_after, at most p_limit, each with its data as JSON text, built now, and who among
-- p_users may receive it: NULL for all of them. A thread's events go to whoever
-- cf_thread_readable lets read the thread now (every member, for a forum thread that
-- is not deleted).
CREATE FUNCTION cf_live_fetch(p_kind text, p_key bigint, p_after bigint, p_users bigint[],
                              p_limit integer)
RETURNS TABLE (seq bigint, kind text, data text, audience bigint[])
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t threads;
    readers bigint[];
BEGIN
    IF p_kind = 'u' THEN
        RETURN QUERY
            SELECT e.seq, e.kind, cf_notification_json(n)::text, NULL::bigint[]
            FROM live_events e JOIN notifications n ON n.id = e.notification_id
            WHERE e.user_id = p_key AND e.seq > p_after
            ORDER BY e.seq LIMIT p_limit;
        RETURN;
    END IF;
    SELECT * INTO t FROM threads WHERE id = p_key;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF NOT (t.space_type = 'category' AND t.deleted_at IS NULL) THEN
        readers := ARRAY(SELECT u FROM unnest(p_users) u
                         WHERE cf_thread_readable(t, u, cf_thread_moderator(t, u)));
    END IF;
    RETURN QUERY
        SELECT e.seq, e.kind,
               CASE WHEN e.kind = 'thread.updated' THEN t.json_public || '}'
                    WHEN p.state = 'visible' THEN p.json_public || '}'
                    ELSE cf_post_public_json(p, false) || '}' END,
               readers
        FROM live_events e LEFT JOIN posts p ON p.id = e.post_id
        WHERE e.thread_id = p_key AND e.seq > p_after
        ORDER BY e.seq LIMIT p_limit;
END $$;

-- Which of these sessions are still live; those not seen for p_touch seconds are marked
-- seen (a member with a live stream is using confer).
CREATE FUNCTION cf_live_sessions(p_sessions bigint[], p_idle integer, p_touch integer)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    live bigint[];
BEGIN
    SELECT coalesce(array_agg(s.id), '{}') INTO live FROM sessions s
    WHERE s.id = ANY (p_sessions) AND s.ended_at IS NULL AND s.expires_at > now()
      AND s.last_seen_at > now() - make_interval(secs => p_idle);
    -- never waits for a request touching the same session (auth.c's touch does the same)
    UPDATE sessions SET last_seen_at = now()
    WHERE id IN (SELECT id FROM sessions WHERE id = ANY (live)
                   AND last_seen_at < now() - make_interval(secs => p_touch)
                 FOR UPDATE SKIP LOCKED);
    RETURN live;
END $$;

-- Events are kept a day: a client away longer reloads what it shows.
CREATE FUNCTION cf_live_prune() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    gone integer;
    top bigint;
BEGIN
    WITH d AS (DELETE FROM live_events WHERE row_id IN (
                   SELECT row_id FROM live_events
                   WHERE created_at < now() - interval '1 day' AND seq IS NOT NULL
                   ORDER BY created_at LIMIT 50000)
               RETURNING seq)
    SELECT count(*), max(seq) INTO gone, top FROM d;
    IF top IS NOT NULL THEN
        UPDATE live_horizon SET seq = greatest(seq, top);
    END IF;
    RETURN gone;
END $$;
