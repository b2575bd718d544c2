-- Roadmap step 6, email and webhooks (SPEC section 7): the transactional outbox.
-- An event writes its outbox rows in its own transaction (a notification for a member
-- who wants email at once, one row per webhook that listens to the event); the delivery
-- worker (server/outbox.c) claims due rows with FOR UPDATE SKIP LOCKED, sends them with
-- curl, and records each attempt. A claim leases the row: until the lease ends no other
-- server takes it, and a server killed mid-send leaves it to be claimed again once the
-- lease is over. A row answered 2xx becomes 'delivered' and is never claimed again.
--
-- What leaves the server carries no clinical text beyond a thread's title: an email
-- names the event, the thread's title and a link; a webhook carries ids, kinds, links
-- and the title of a forum or group thread, never a post's body nor a conversation's
-- title. Titles are read when the row is sent, so a title changed or redacted
-- meanwhile is not sent in its old form.

CREATE TABLE webhooks (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url        text NOT NULL CHECK (length(url) BETWEEN 10 AND 2000),
    events     text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 20),
    secret     text NOT NULL CHECK (length(secret) BETWEEN 16 AND 200),
    active     boolean NOT NULL DEFAULT true,
    created_by bigint REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery        uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),  -- X-Confer-Delivery
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    event           text NOT NULL,
    user_id         bigint REFERENCES users (id),          -- an email's recipient
    notification_id bigint REFERENCES notifications (id) ON DELETE SET NULL,
    webhook_id      bigint REFERENCES webhooks (id) ON DELETE CASCADE,
    payload         jsonb NOT NULL DEFAULT '{}',
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts        integer NOT NULL DEFAULT 0,
    -- when it may next be claimed: due, the end of a claim's lease, or a retry's time
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    last_status     integer,   -- HTTP status or SMTP reply code
    last_error      text,
    CHECK ((channel = 'email') = (user_id IS NOT NULL)),
    CHECK ((channel = 'webhook') = (webhook_id IS NOT NULL))
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_webhook ON outbox (webhook_id, id) WHERE webhook_id IS NOT NULL;
CREATE INDEX outbox_user ON outbox (user_id) WHERE user_id IS NOT NULL;

-- Every attempt, for the delivery log.
CREATE TABLE outbox_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id   bigint NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    status      integer,
    error       text,
    duration_ms integer
);
CREATE INDEX outbox_attempts_outbox ON outbox_attempts (outbox_id, id);

-- The daily digest: when the last one was queued. A notification is emailed once, at
-- once or in a digest: emailed_at says it went into an email that was claimed.
ALTER TABLE users ADD COLUMN email_digest_at timestamptz;
ALTER TABLE notifications ADD COLUMN emailed_at timestamptz;
CREATE INDEX notifications_not_emailed ON notifications (user_id, id)
    WHERE read_at IS NULL AND emailed_at IS NULL;

-- Switching to the daily digest starts its day: the first one comes a digest interval later.
CREATE FUNCTION cf_user_digest_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.email_digest_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER users_digest_start BEFORE UPDATE OF email_notifications ON users
    FOR EACH ROW WHEN (NEW.email_notifications = 'daily' AND OLD.email_notifications <> 'daily')
    EXECUTE FUNCTION cf_user_digest_start();

-- A notification for a member who wants email at once: its email, in the same transaction.
CREATE FUNCTION cf_notification_email() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (channel, event, user_id, notification_id)
    SELECT 'email', 'notification', u.id, NEW.id FROM users u
    WHERE u.id = NEW.user_id AND u.email_notifications = 'immediate';
    RETURN NULL;
END $$;

CREATE TRIGGER notifications_email AFTER INSERT ON notifications
    FOR EACH ROW EXECUTE FUNCTION cf_notification_email();

-- One outbox row per active webhook listening to the event (or to every event, '*').
CREATE FUNCTION cf_webhook_emit(p_event text, p_data jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (channel, event, webhook_id, payload)
    SELECT 'webhook', p_event, w.id, p_data FROM webhooks w
    WHERE w.active AND (p_event = ANY (w.events) OR '*' = ANY (w.events));
END $$;

-- The ids of a thread as an event's payload keeps them; the title and the link are
-- added when the delivery is sent (cf_webhook_body).
CREATE FUNCTION cf_webhook_thread(t threads) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', t.id, 'space', jsonb_build_object('type', t.space_type, 'id', t.space_id),
        'category', (SELECT slug FROM categories WHERE id = t.category_id),
        'kind', t.kind, 'author_id', t.author_id)
$$;

CREATE FUNCTION cf_webhook_post(p posts) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', p.id, 'thread_id', p.thread_id, 'author_id', p.author_id,
                              'reply_to', p.reply_to, 'number', p.number)
$$;

-- Events. A conversation's threads and posts are not announced: who talks with whom
-- stays between them. Moderation and response events name a conversation by ids only.
CREATE FUNCTION cf_thread_created_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.space_type <> 'conversation' THEN
        PERFORM cf_webhook_emit('thread.created',
                                jsonb_build_object('thread', cf_webhook_thread(NEW)));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER threads_created_webhook AFTER INSERT ON threads
    FOR EACH ROW EXECUTE FUNCTION cf_thread_created_webhook();

CREATE FUNCTION cf_post_created_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    t threads;
BEGIN
    SELECT * INTO t FROM threads WHERE id = NEW.thread_id;
    IF t.space_type <> 'conversation' THEN
        PERFORM cf_webhook_emit('post.created', jsonb_build_object(
            'post', cf_webhook_post(NEW), 'thread', cf_webhook_thread(t)));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER posts_created_webhook AFTER INSERT ON posts
    FOR EACH ROW EXECUTE FUNCTION cf_post_created_webhook();

-- A post hidden: its author's notification (0007) and the webhooks' event, one cause.
CREATE OR REPLACE FUNCTION cf_post_hidden_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- the cause, not the reason: a moderator's note and the flaggers stay with moderators
    cause text := CASE WHEN NEW.hidden_reason LIKE 'flags from %'
                         OR NEW.hidden_reason LIKE 'privacy flag from %' THEN 'flags'
                       ELSE 'moderator' END;
BEGIN
    PERFORM cf_notify(NEW.author_id, 'post_hidden', NEW.id, NULL,
                      jsonb_build_object('cause', cause));
    PERFORM cf_webhook_emit('post.hidden', jsonb_build_object(
        'post', cf_webhook_post(NEW),
        'thread', (SELECT cf_webhook_thread(t) FROM threads t WHERE t.id = NEW.thread_id),
        'cause', cause));
    RETURN NULL;
END $$;

CREATE FUNCTION cf_flag_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cf_webhook_emit(CASE WHEN TG_OP = 'INSERT' THEN 'flag.created' ELSE 'flag.resolved' END,
        (SELECT jsonb_build_object(
             'flag', jsonb_strip_nulls(jsonb_build_object('id', NEW.id, 'reason', NEW.reason,
                                                          'decision', NEW.decision)),
             'post', cf_webhook_post(p), 'thread', cf_webhook_thread(t))
         FROM posts p JOIN threads t ON t.id = p.thread_id WHERE p.id = NEW.post_id));
    RETURN NULL;
END $$;
CREATE TRIGGER flags_created_webhook AFTER INSERT ON flags
    FOR EACH ROW EXECUTE FUNCTION cf_flag_webhook();
CREATE TRIGGER flags_resolved_webhook AFTER UPDATE OF status ON flags
    FOR EACH ROW WHEN (OLD.status = 'open' AND NEW.status = 'resolved')
    EXECUTE FUNCTION cf_flag_webhook();

CREATE FUNCTION cf_answer_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cf_webhook_emit('answer.accepted', (SELECT jsonb_build_object(
        'thread', cf_webhook_thread(NEW), 'post', cf_webhook_post(p))
        FROM posts p WHERE p.id = NEW.accepted_post_id));
    RETURN NULL;
END $$;
CREATE TRIGGER threads_answer_webhook AFTER UPDATE OF accepted_post_id ON threads
    FOR EACH ROW WHEN (NEW.accepted_post_id IS NOT NULL
                       AND NEW.accepted_post_id IS DISTINCT FROM OLD.accepted_post_id)
    EXECUTE FUNCTION cf_answer_webhook();

CREATE FUNCTION cf_response_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cf_webhook_emit(
        CASE WHEN OLD.due_notified_at IS NULL AND NEW.due_notified_at IS NOT NULL
             THEN 'response.due' ELSE 'response.overdue' END,
        (SELECT jsonb_build_object('thread', cf_webhook_thread(t),
                                   'post', cf_webhook_post(p),
                                   'started_at', cf_time(NEW.started_at))
         FROM threads t, posts p WHERE t.id = NEW.thread_id AND p.id = NEW.started_post_id));
    RETURN NULL;
END $$;
CREATE TRIGGER response_due_webhook AFTER UPDATE OF due_notified_at ON response_clocks
    FOR EACH ROW WHEN (OLD.due_notified_at IS NULL AND NEW.due_notified_at IS NOT NULL)
    EXECUTE FUNCTION cf_response_webhook();
CREATE TRIGGER response_overdue_webhook AFTER UPDATE OF overdue_notified_at ON response_clocks
    FOR EACH ROW WHEN (OLD.overdue_notified_at IS NULL AND NEW.overdue_notified_at IS NOT NULL)
    EXECUTE FUNCTION cf_response_webhook();

CREATE FUNCTION cf_user_created_webhook() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cf_webhook_emit('user.created', jsonb_build_object('user', jsonb_build_object(
        'id', NEW.id, 'display_name', NEW.display_name, 'profession', NEW.profession,
        'network', (SELECT code FROM networks WHERE id = NEW.network_id),
        'site_role', NEW.site_role)));
    RETURN NULL;
END $$;
CREATE TRIGGER users_created_webhook AFTER INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION cf_user_created_webhook();

-- The body a webhook delivery sends: the same id and event on every attempt; the
-- thread's current title (none for a conversation or a deleted thread) and links.
CREATE FUNCTION cf_webhook_body(o outbox, p_base text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d jsonb := o.payload;
    t threads;
BEGIN
    IF d ? 'thread' THEN
        SELECT * INTO t FROM threads WHERE id = (d #>> '{thread,id}')::bigint;
        d := jsonb_set(d, '{thread}', (d -> 'thread') || jsonb_build_object(
            'title', CASE WHEN t.space_type <> 'conversation' AND t.deleted_at IS NULL
                          THEN t.title END,
            'url', p_base || '/#/threads/' || t.id));
    END IF;
    IF d ? 'post' THEN
        d := jsonb_set(d, '{post,url}', to_jsonb(p_base || '/#/threads/' ||
                                                 (d #>> '{post,thread_id}') || '?post=' ||
                                                 (d #>> '{post,id}')));
    END IF;
    RETURN json_build_object('id', o.delivery, 'event', o.event,
                             'created_at', cf_time(o.created_at), 'data', d)::text;
END $$;

-- One notification as an email tells it: kind, thread title, who, a link's ids; NULL
-- when the member can no longer read the thread.
CREATE FUNCTION cf_email_item(n notifications) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t threads;
BEGIN
    IF n.thread_id IS NOT NULL THEN
        SELECT * INTO t FROM threads WHERE id = n.thread_id;
        IF t.deleted_at IS NOT NULL
           OR NOT cf_thread_readable(t, n.user_id, cf_thread_moderator(t, n.user_id)) THEN
            RETURN NULL;
        END IF;
    END IF;
    RETURN jsonb_strip_nulls(jsonb_build_object(
        'kind', n.kind, 'thread_id', n.thread_id, 'post_id', n.post_id, 'title', t.title,
        'space', coalesce(t.space_type, n.detail ->> 'space'),
        'actor', (SELECT display_name FROM users WHERE id = n.actor_id),
        'decision', n.detail ->> 'decision', 'cause', n.detail ->> 'cause'));
END $$;

-- What an email row sends now, or {"skip": why}. The notifications it tells are marked
-- emailed; a digest keeps their ids in its payload, so a retry sends the same ones (less
-- those read or no longer readable meanwhile).
CREATE FUNCTION cf_email_job(o outbox) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    u users;
    note notifications;
    ids bigint[];
    items jsonb;
    total integer;
BEGIN
    SELECT * INTO u FROM users WHERE id = o.user_id;
    IF u.email_notifications = 'off' THEN
        RETURN jsonb_build_object('skip', 'email notifications are off');
    END IF;
    IF o.event = 'digest' THEN
        IF o.payload ? 'ids' THEN
            ids := ARRAY(SELECT jsonb_array_elements_text(o.payload -> 'ids')::bigint);
        ELSE
            ids := ARRAY(SELECT id FROM notifications
                         WHERE user_id = u.id AND read_at IS NULL AND emailed_at IS NULL
                         ORDER BY id);
            UPDATE notifications SET emailed_at = now() WHERE id = ANY (ids);
            UPDATE outbox SET payload = payload || jsonb_build_object('ids', to_jsonb(ids))
            WHERE id = o.id;
        END IF;
        SELECT jsonb_agg(x.item ORDER BY x.id), count(*) INTO items, total
        FROM (SELECT n.id, cf_email_item(n) AS item FROM notifications n
              WHERE n.id = ANY (ids) AND n.read_at IS NULL) x
        WHERE x.item IS NOT NULL;
        IF total = 0 THEN
            RETURN jsonb_build_object('skip', 'nothing left unread');
        END IF;
    ELSE
        SELECT * INTO note FROM notifications WHERE id = o.notification_id;
        IF NOT FOUND THEN
            RETURN jsonb_build_object('skip', 'the notification is gone');
        ELSIF note.read_at IS NOT NULL THEN
            RETURN jsonb_build_object('skip', 'read in the app before the email went');
        ELSIF u.email_notifications = 'daily' THEN
            RETURN jsonb_build_object('skip', 'left to the daily digest');
        END IF;
        items := jsonb_build_array(cf_email_item(note));
        IF items -> 0 = 'null'::jsonb THEN
            RETURN jsonb_build_object('skip', 'the thread is no longer readable');
        END IF;
        UPDATE notifications SET emailed_at = coalesce(emailed_at, now()) WHERE id = note.id;
        total := 1;
    END IF;
    RETURN jsonb_build_object('to', u.email, 'locale', u.locale, 'name', u.display_name,
                              'items', items, 'total', total);
END $$;

-- The worker's claim: up to p_limit due rows, leased for p_lease seconds (their
-- attempt counted now, so a server killed mid-send still backs off). Rows with nothing
-- left to send are settled as 'skipped' with the reason. A server without an SMTP server
-- (p_smtp false) leaves emails to one that has one (the prune expires them after a week).
-- {"jobs": [...], "failed": {"email": n, "webhook": n}, "pending": {"email": n,
--  "webhook": n} (when p_count: counting every claim would cost), "next_in": seconds | null}
CREATE FUNCTION cf_outbox_claim(p_limit integer, p_lease integer, p_base text, p_smtp boolean,
                                p_count boolean)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    o outbox;
    hook webhooks;
    job jsonb;
    jobs jsonb := '[]';
    failed_email integer := 0;
    failed_webhook integer := 0;
BEGIN
    FOR o IN SELECT x.* FROM outbox x
             WHERE x.state = 'pending' AND x.next_attempt_at <= now()
               AND ((x.channel = 'email' AND p_smtp)
                    OR EXISTS (SELECT 1 FROM webhooks w WHERE w.id = x.webhook_id AND w.active))
             ORDER BY x.next_attempt_at, x.id LIMIT greatest(p_limit, 0)
             FOR UPDATE OF x SKIP LOCKED
    LOOP
        BEGIN
            IF o.channel = 'webhook' THEN
                SELECT * INTO hook FROM webhooks WHERE id = o.webhook_id;
                job := jsonb_build_object('url', hook.url, 'secret', hook.secret,
                                          'body', cf_webhook_body(o, p_base));
            ELSE
                job := cf_email_job(o);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            -- one row that cannot be written out does not hold back the others
            UPDATE outbox SET state = 'failed', finished_at = now(), attempts = attempts + 1,
                              last_error = 'could not be prepared: ' || SQLERRM
            WHERE id = o.id;
            INSERT INTO outbox_attempts (outbox_id, attempt, error)
            VALUES (o.id, o.attempts + 1, 'could not be prepared: ' || SQLERRM);
            IF o.channel = 'email' THEN
                failed_email := failed_email + 1;
            ELSE
                failed_webhook := failed_webhook + 1;
            END IF;
            CONTINUE;
        END;
        IF job ? 'skip' THEN
            UPDATE outbox SET state = 'skipped', finished_at = now(), last_error = job ->> 'skip'
            WHERE id = o.id;
            CONTINUE;
        END IF;
        UPDATE outbox SET attempts = attempts + 1,
                          next_attempt_at = now() + make_interval(secs => p_lease)
        WHERE id = o.id;
        jobs := jobs || (job || jsonb_build_object(
            'id', o.id, 'delivery', o.delivery, 'channel', o.channel, 'event', o.event,
            'attempt', o.attempts + 1));
    END LOOP;
    RETURN json_build_object(
        'jobs', jobs,
        'failed', json_build_object('email', failed_email, 'webhook', failed_webhook),
        'pending', CASE WHEN p_count THEN (SELECT json_build_object(
                        'email', count(*) FILTER (WHERE channel = 'email'),
                        'webhook', count(*) FILTER (WHERE channel = 'webhook'))
                    FROM outbox WHERE state = 'pending') END,
        'next_in', (SELECT greatest(0, extract(epoch FROM min(x.next_attempt_at) - now()))
                    FROM outbox x
                    WHERE x.state = 'pending'
                      AND ((x.channel = 'email' AND p_smtp)
                           OR EXISTS (SELECT 1 FROM webhooks w
                                      WHERE w.id = x.webhook_id AND w.active))));
END $$;

-- An attempt's outcome: 'delivered' (2xx, or the SMTP server took the message),
-- and the row's state after it (a late answer's, 'stale'):
-- 'retry' (after p_base * 2^(attempt - 1) seconds, at most p_max, until p_attempts
-- attempts) or 'failed' (the receiver refused for good). A delivered row is never
-- claimed again, even when the answer comes after its lease ended; any other late
-- answer (its row claimed again since) changes nothing but the log.
CREATE FUNCTION cf_outbox_finish(p_id bigint, p_attempt integer, p_outcome text,
                                 p_status integer, p_error text, p_ms integer,
                                 p_base integer, p_max integer, p_attempts integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    settled text;
BEGIN
    INSERT INTO outbox_attempts (outbox_id, attempt, status, error, duration_ms)
    SELECT p_id, p_attempt, p_status, p_error, p_ms WHERE EXISTS (SELECT 1 FROM outbox WHERE id = p_id);
    IF p_outcome = 'delivered' THEN
        UPDATE outbox SET state = 'delivered', finished_at = now(), last_status = p_status,
                          last_error = NULL
        WHERE id = p_id AND state = 'pending';
        RETURN 'delivered';
    END IF;
    UPDATE outbox SET
        last_status = p_status, last_error = p_error,
        state = CASE WHEN p_outcome = 'failed' OR attempts >= p_attempts THEN 'failed'
                     ELSE 'pending' END,
        finished_at = CASE WHEN p_outcome = 'failed' OR attempts >= p_attempts THEN now() END,
        next_attempt_at = now() + make_interval(
            secs => least(p_max::double precision,
                          p_base * power(2::double precision, least(attempts, 40) - 1)))
    WHERE id = p_id AND state = 'pending' AND attempts = p_attempt
    RETURNING state INTO settled;
    RETURN coalesce(settled, 'stale');  -- 'pending' means it will be tried again
END $$;

-- The daily digests due: a member on 'daily' whose last digest is p_interval seconds old
-- (or who never had one) and who has unread notifications not yet emailed gets one email
-- row, which gathers them when it is claimed. One server at a time.
CREATE FUNCTION cf_email_digests(p_interval integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    u record;
    queued integer := 0;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('confer:email_digests')) THEN
        RETURN 0;
    END IF;
    FOR u IN SELECT id, email_digest_at FROM users
             WHERE email_notifications = 'daily'
               AND (email_digest_at IS NULL
                    OR email_digest_at <= now() - make_interval(secs => p_interval))
               AND EXISTS (SELECT 1 FROM notifications n
                           WHERE n.user_id = users.id AND n.read_at IS NULL
                             AND n.emailed_at IS NULL)
             FOR UPDATE
    LOOP
        INSERT INTO outbox (channel, event, user_id) VALUES ('email', 'digest', u.id);
        UPDATE users SET email_digest_at = now() WHERE id = u.id;
        queued := queued + 1;
    END LOOP;
    RETURN queued;
END $$;

-- Webhooks, for admins. The secret is never read back.
CREATE FUNCTION cf_webhook_json(w webhooks) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', w.id, 'url', w.url, 'events', w.events, 'active', w.active,
        'created_at', cf_time(w.created_at), 'updated_at', cf_time(w.updated_at),
        'deliveries', (SELECT json_build_object(
                           'pending', count(*) FILTER (WHERE state = 'pending'),
                           'delivered', count(*) FILTER (WHERE state = 'delivered'),
                           'failed', count(*) FILTER (WHERE state = 'failed'),
                           'last_delivered_at', cf_time(max(finished_at)
                                                        FILTER (WHERE state = 'delivered')))
                       FROM outbox WHERE webhook_id = w.id))
$$;

-- Creates (p_id NULL) or edits a webhook from the fields present (url, events, secret,
-- active), and logs it without the secret. {"webhook": …} or {"error": "not_found"}.
CREATE FUNCTION cf_webhook_save(p_actor bigint, p_id bigint, p_fields jsonb) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    w webhooks;
    before jsonb;
BEGIN
    IF p_id IS NULL THEN
        INSERT INTO webhooks (url, events, secret, active, created_by)
        VALUES (p_fields ->> 'url',
                ARRAY(SELECT jsonb_array_elements_text(p_fields -> 'events')),
                p_fields ->> 'secret', coalesce((p_fields ->> 'active')::boolean, true), p_actor)
        RETURNING * INTO w;
    ELSE
        SELECT * INTO w FROM webhooks WHERE id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN json_build_object('error', 'not_found');
        END IF;
        before := jsonb_build_object('url', w.url, 'events', w.events, 'active', w.active);
        UPDATE webhooks SET
            url = coalesce(p_fields ->> 'url', url),
            events = CASE WHEN p_fields ? 'events'
                          THEN ARRAY(SELECT jsonb_array_elements_text(p_fields -> 'events'))
                          ELSE events END,
            secret = coalesce(p_fields ->> 'secret', secret),
            active = coalesce((p_fields ->> 'active')::boolean, active),
            updated_at = now()
        WHERE id = w.id RETURNING * INTO w;
    END IF;
    INSERT INTO moderation_log (actor_id, action, target_type, target_id, before, after)
    VALUES (p_actor, CASE WHEN p_id IS NULL THEN 'webhook.create' ELSE 'webhook.update' END,
            'webhook', w.id, before,
            jsonb_build_object('url', w.url, 'events', w.events, 'active', w.active,
                               'secret_changed', p_fields ? 'secret'));
    RETURN json_build_object('webhook', cf_webhook_json(w));
END $$;

CREATE FUNCTION cf_webhook_delete(p_actor bigint, p_id bigint) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    w webhooks;
BEGIN
    DELETE FROM webhooks WHERE id = p_id RETURNING * INTO w;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    INSERT INTO moderation_log (actor_id, action, target_type, target_id, before)
    VALUES (p_actor, 'webhook.delete', 'webhook', w.id,
            jsonb_build_object('url', w.url, 'events', w.events, 'active', w.active));
    RETURN json_build_object('deleted', w.id);
END $$;

-- POST /webhooks/{id}/ping: a 'ping' delivery to this webhook alone, whatever it listens to.
CREATE FUNCTION cf_webhook_ping(p_id bigint) RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    o outbox;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE id = p_id) THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    INSERT INTO outbox (channel, event, webhook_id, payload)
    VALUES ('webhook', 'ping', p_id, jsonb_build_object('webhook_id', p_id))
    RETURNING * INTO o;
    RETURN json_build_object('delivery', cf_delivery_json(o));
END $$;

CREATE FUNCTION cf_delivery_json(o outbox) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', o.id, 'delivery', o.delivery, 'event', o.event, 'state', o.state,
        'attempts', o.attempts, 'created_at', cf_time(o.created_at),
        'next_attempt_at', CASE WHEN o.state = 'pending' THEN cf_time(o.next_attempt_at) END,
        'finished_at', cf_time(o.finished_at), 'last_status', o.last_status,
        'last_error', o.last_error, 'payload', o.payload,
        'log', (SELECT coalesce(json_agg(json_build_object(
                    'attempt', a.attempt, 'at', cf_time(a.at), 'status', a.status,
                    'error', a.error, 'duration_ms', a.duration_ms) ORDER BY a.id), '[]')
                FROM outbox_attempts a WHERE a.outbox_id = o.id))
$$;

-- GET /webhooks/{id}/deliveries: newest first, by state if asked.
CREATE FUNCTION cf_webhook_deliveries(p_id bigint, p_state text, p_cursor bigint[],
                                      p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    rows outbox[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE id = p_id) THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    SELECT array_agg(o ORDER BY o.id DESC) INTO rows
    FROM (SELECT * FROM outbox
          WHERE webhook_id = p_id AND (p_state IS NULL OR state = p_state)
            AND (p_cursor IS NULL OR id < p_cursor[1])
          ORDER BY id DESC LIMIT p_limit + 1) o;
    RETURN json_build_object('deliveries', json_build_object(
        'items', coalesce((SELECT json_agg(cf_delivery_json(r) ORDER BY r.id DESC)
                           FROM unnest(rows[1:p_limit]) r), '[]'::json),
        'next_cursor', CASE WHEN cardinality(rows) > p_limit
                            THEN cf_cursor_of(ARRAY[rows[p_limit].id]) END));
END $$;

-- POST /webhooks/{id}/deliveries/{delivery_id}/redeliver: a failed delivery, once more
-- (same id, so a receiver that keeps ids still sees it once).
CREATE FUNCTION cf_delivery_redeliver(p_webhook bigint, p_id bigint) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    o outbox;
BEGIN
    SELECT * INTO o FROM outbox WHERE id = p_id AND webhook_id = p_webhook FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF o.state <> 'failed' THEN
        RETURN json_build_object('error', 'not_failed');
    END IF;
    UPDATE outbox SET state = 'pending', next_attempt_at = now(), finished_at = NULL,
                      attempts = 0
    WHERE id = o.id RETURNING * INTO o;
    RETURN json_build_object('delivery', cf_delivery_json(o));
END $$;

-- The delivery log keeps delivered and skipped rows 30 days, failed ones 90; the sweep
-- prunes the older ones, a batch at a time, and gives up emails no server sent in a week.
CREATE INDEX outbox_finished ON outbox (finished_at) WHERE state <> 'pending';

CREATE FUNCTION cf_outbox_prune() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM outbox WHERE id IN (
        SELECT id FROM outbox
        WHERE state <> 'pending' AND finished_at < now() - interval '30 days'
          AND (state <> 'failed' OR finished_at < now() - interval '90 days')
        LIMIT 10000);
    GET DIAGNOSTICS n = ROW_COUNT;
    -- emails no server with SMTP took in a week
    UPDATE outbox SET state = 'skipped', finished_at = now(),
                      last_error = 'no server with an SMTP server sent it within a week'
    WHERE id IN (SELECT id FROM outbox
                 WHERE state = 'pending' AND channel = 'email' AND attempts = 0
                   AND created_at < now() - interval '7 days'
                 LIMIT 10000);
    RETURN n;
END $$;

-- A server stopping before it starts what it claimed gives the rows back at once.
CREATE FUNCTION cf_outbox_release(p_ids bigint[]) RETURNS void LANGUAGE sql AS $$
    UPDATE outbox SET next_attempt_at = now(), attempts = attempts - 1
    WHERE id = ANY (p_ids) AND state = 'pending' AND attempts > 0
$$;
