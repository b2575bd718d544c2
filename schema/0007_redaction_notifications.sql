-- Roadmap step 5, the rest of moderation (SPEC section 5): redacting a revision for
-- good, re-review of a hidden post its author edits, and the notifications moderation
-- sends (post_hidden to the author, flag_resolved to each flagger). The notifications
-- table is the one step 6 adds the other kinds to (SPEC section 7).

-- ---- revision redaction -------------------------------------------------------------

ALTER TABLE post_revisions
    ADD COLUMN redacted_at timestamptz,
    ADD COLUMN redacted_by bigint REFERENCES users (id),
    ADD COLUMN redaction_reason text;

CREATE FUNCTION cf_revision_json(r post_revisions) RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN json_build_object(
        'version', r.version,
        'body', CASE WHEN r.redacted_at IS NULL THEN r.body END,
        'body_html', CASE WHEN r.redacted_at IS NULL THEN r.body_html END,
        'title', CASE WHEN r.redacted_at IS NULL THEN r.title END,
        'editor', cf_author_json(r.editor_id),
        'created_at', cf_time(r.created_at),
        'redacted', CASE WHEN r.redacted_at IS NOT NULL THEN json_build_object(
                        'at', cf_time(r.redacted_at), 'by', cf_author_json(r.redacted_by),
                        'reason', r.redaction_reason) END);
END $$;

-- GET /posts/{id}/revisions: the author and moderators; NULL otherwise (404). A
-- redacted version keeps its place, its editor and its time, without its text.
CREATE OR REPLACE FUNCTION cf_post_revisions(p_user bigint, p_post bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
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
    IF NOT cf_thread_readable(t, p_user, moderator)
       OR NOT (p.author_id = p_user OR moderator) THEN
        RETURN NULL;
    END IF;
    RETURN json_build_object('items', coalesce((
        SELECT json_agg(cf_revision_json(r) ORDER BY r.version)
        FROM post_revisions r WHERE r.post_id = p.id), '[]'::json), 'next_cursor', NULL);
END $$;

-- POST /posts/{id}/revisions/{n}/redact: a moderator of the thread (a moderator
-- reaching a flagged conversation post too) replaces an earlier version's text for
-- good. Logged without the text. {"revision"} or {"error": not_found | forbidden |
-- revision_current | already_redacted}.
CREATE FUNCTION cf_revision_redact(p_user bigint, p_post bigint, p_version integer,
                                   p_reason text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    moderator boolean;
    p posts;
    t threads;
    r post_revisions;
BEGIN
    SELECT * INTO p FROM posts WHERE id = p_post FOR UPDATE;
    IF FOUND THEN
        SELECT * INTO t FROM threads WHERE id = p.thread_id;
    END IF;
    moderator := cf_thread_moderator(t, p_user)
        OR (t.space_type = 'conversation' AND cf_is_moderator(p_user)
            AND EXISTS (SELECT 1 FROM flags WHERE post_id = p.id));
    IF p.id IS NULL OR NOT (moderator OR cf_thread_readable(t, p_user, false)) THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF NOT moderator THEN
        RETURN json_build_object('error', 'forbidden');
    END IF;
    SELECT * INTO r FROM post_revisions WHERE post_id = p.id AND version = p_version FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF r.version = p.version THEN
        RETURN json_build_object('error', 'revision_current');
    ELSIF r.redacted_at IS NOT NULL THEN
        RETURN json_build_object('error', 'already_redacted');
    END IF;
    UPDATE post_revisions
    SET body = '', body_html = '', title = CASE WHEN title IS NOT NULL THEN '' END,
        redacted_at = clock_timestamp(), redacted_by = p_user, redaction_reason = p_reason
    WHERE post_id = p.id AND version = p_version
    RETURNING * INTO r;
    INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason, before, after)
    VALUES (p_user, 'revision.redact', 'post', p.id, p_reason,
            jsonb_build_object('version', r.version, 'redacted', false),
            jsonb_build_object('version', r.version, 'redacted', true));
    RETURN json_build_object('revision', cf_revision_json(r));
END $$;

-- ---- re-review: an author edits a hidden post ---------------------------------------

-- A flag of its own kind: the author asks for another look. The API never raises it.
ALTER TABLE flags DROP CONSTRAINT flags_reason_check;
ALTER TABLE flags ADD CONSTRAINT flags_reason_check
    CHECK (reason IN ('privacy', 'disrespectful', 'clinical_safety', 'spam', 'off_topic',
                      'other', 'review'));

CREATE FUNCTION cf_post_rereview() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- a moderator retitling the thread writes the new version first, under their name
    IF EXISTS (SELECT 1 FROM post_revisions WHERE post_id = NEW.id AND version = NEW.version
                                             AND editor_id <> NEW.author_id) THEN
        RETURN NULL;
    END IF;
    INSERT INTO flags (post_id, user_id, reason, note)
    VALUES (NEW.id, NEW.author_id, 'review', 'edited by its author while hidden')
    ON CONFLICT (post_id, user_id) WHERE status = 'open' DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER posts_rereview AFTER UPDATE OF version ON posts
    FOR EACH ROW WHEN (NEW.state = 'hidden' AND NEW.version > OLD.version)
    EXECUTE FUNCTION cf_post_rereview();

-- Whatever makes a hidden post visible again (a decision, /unhide) settles its author's
-- request for review; a hidden post's reason says who hid it when the statement did not.
CREATE FUNCTION cf_post_state_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'visible' THEN
        NEW.hidden_reason := NULL;
    ELSIF NEW.state = 'hidden' AND NEW.hidden_reason IS NOT DISTINCT FROM OLD.hidden_reason THEN
        NEW.hidden_reason := 'hidden by a moderator or the group''s mentor (see the log)';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER posts_state_change BEFORE UPDATE OF state ON posts
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION cf_post_state_change();

CREATE FUNCTION cf_post_visible_again() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE flags SET status = 'resolved', resolved_at = now(), decision = 'keep'
    WHERE post_id = NEW.id AND reason = 'review' AND status = 'open';
    RETURN NULL;
END $$;

CREATE TRIGGER posts_visible_again AFTER UPDATE OF state ON posts
    FOR EACH ROW WHEN (OLD.state = 'hidden' AND NEW.state = 'visible')
    EXECUTE FUNCTION cf_post_visible_again();

-- The append-only log keeps no title text: a title may be what a moderator is removing an
-- identifier from, and the log can never be redacted. Titles' versions live in the first
-- post's revisions, which can.
CREATE FUNCTION cf_log_without_titles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.before ? 'title' THEN
        NEW.before := jsonb_set(NEW.before, '{title}', '"(see the first post''s revisions)"');
    END IF;
    IF NEW.after ? 'title' THEN
        NEW.after := jsonb_set(NEW.after, '{title}', '"(see the first post''s revisions)"');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER moderation_log_without_titles BEFORE INSERT ON moderation_log
    FOR EACH ROW WHEN (NEW.action = 'thread.update')
    EXECUTE FUNCTION cf_log_without_titles();

-- ---- notifications ------------------------------------------------------------------

CREATE TABLE notifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    kind       text NOT NULL CHECK (kind IN ('reply', 'mention', 'watched', 'group_thread',
                                             'conversation', 'response_due', 'response_overdue',
                                             'post_hidden', 'flag_resolved', 'answer_accepted')),
    thread_id  bigint REFERENCES threads (id),
    post_id    bigint REFERENCES posts (id),
    actor_id   bigint REFERENCES users (id),
    detail     jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz
);
CREATE INDEX notifications_user ON notifications (user_id, id DESC);
CREATE INDEX notifications_unread ON notifications (user_id, id DESC) WHERE read_at IS NULL;

-- Notifies p_user of something about p_post, if they may read its thread; nobody is
-- notified of their own action. Moderation notices (post_hidden, flag_resolved) are
-- about the member's own post or flag: muting a thread does not silence them.
CREATE FUNCTION cf_notify(p_user bigint, p_kind text, p_post bigint, p_actor bigint,
                          p_detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    p posts;
    t threads;
BEGIN
    IF p_user IS NULL OR p_user IS NOT DISTINCT FROM p_actor THEN
        RETURN;
    END IF;
    SELECT * INTO p FROM posts WHERE id = p_post;
    SELECT * INTO t FROM threads WHERE id = p.thread_id;
    IF NOT cf_thread_readable(t, p_user, cf_thread_moderator(t, p_user)) THEN
        RETURN;
    END IF;
    IF p_kind NOT IN ('post_hidden', 'flag_resolved') AND EXISTS (
        SELECT 1 FROM subscriptions WHERE user_id = p_user AND thread_id = t.id
                                      AND level = 'muted') THEN
        RETURN;
    END IF;
    INSERT INTO notifications (user_id, kind, thread_id, post_id, actor_id, detail)
    VALUES (p_user, p_kind, t.id, p.id, p_actor, p_detail);
END $$;

-- A post that becomes hidden (flags, a moderator, a decision) tells its author, in
-- the same transaction. The moderators act as one: no actor is named.
CREATE FUNCTION cf_post_hidden_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- the cause, not the reason: a moderator's note and the flaggers stay with moderators
    PERFORM cf_notify(NEW.author_id, 'post_hidden', NEW.id, NULL,
                      jsonb_build_object('cause', CASE
                          WHEN NEW.hidden_reason LIKE 'flags from %'
                            OR NEW.hidden_reason LIKE 'privacy flag from %' THEN 'flags'
                          ELSE 'moderator' END));
    RETURN NULL;
END $$;

CREATE TRIGGER posts_hidden_notify AFTER UPDATE OF state ON posts
    FOR EACH ROW WHEN (OLD.state <> 'hidden' AND NEW.state = 'hidden')
    EXECUTE FUNCTION cf_post_hidden_notify();

-- A flag resolved by a decision tells its flagger what was decided.
CREATE FUNCTION cf_flag_resolved_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cf_notify(NEW.user_id, 'flag_resolved', NEW.post_id, NULL,
                      jsonb_build_object('decision', NEW.decision, 'reason', NEW.reason));
    RETURN NULL;
END $$;

CREATE TRIGGER flags_resolved_notify AFTER UPDATE OF status ON flags
    FOR EACH ROW WHEN (OLD.status = 'open' AND NEW.status = 'resolved')
    EXECUTE FUNCTION cf_flag_resolved_notify();

CREATE FUNCTION cf_notification_json(n notifications) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN json_build_object(
        'id', n.id, 'kind', n.kind, 'thread_id', n.thread_id, 'post_id', n.post_id,
        'actor', CASE WHEN n.actor_id IS NOT NULL THEN (
                     SELECT json_build_object('id', u.id, 'display_name', u.display_name)
                     FROM users u WHERE u.id = n.actor_id) END,
        -- the title as it is now, to whoever may still read the thread
        'thread_title', (SELECT t.title FROM threads t WHERE t.id = n.thread_id
                           AND cf_thread_readable(t, n.user_id,
                                                  cf_thread_moderator(t, n.user_id))),
        'detail', n.detail,
        'created_at', cf_time(n.created_at), 'read_at', cf_time(n.read_at));
END $$;

-- GET /notifications[?unread=true]: newest first; keyset on id.
CREATE FUNCTION cf_notification_list(p_user bigint, p_unread boolean, p_cursor bigint[],
                                     p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    rows notifications[];
BEGIN
    SELECT array_agg(n ORDER BY n.id DESC) INTO rows
    FROM (SELECT * FROM notifications
          WHERE user_id = p_user AND (NOT p_unread OR read_at IS NULL)
            AND (p_cursor IS NULL OR id < p_cursor[1])
          ORDER BY id DESC LIMIT p_limit + 1) n;
    RETURN json_build_object(
        'items', coalesce((SELECT json_agg(cf_notification_json(r) ORDER BY r.id DESC)
                           FROM unnest(rows[1:p_limit]) r), '[]'::json),
        'unread', (SELECT count(*) FROM notifications WHERE user_id = p_user AND read_at IS NULL),
        'next_cursor', CASE WHEN cardinality(rows) > p_limit
                            THEN cf_cursor_of(ARRAY[rows[p_limit].id]) END);
END $$;

-- POST /notifications/read {ids | all}: marks the member's own; {"unread": n}.
CREATE FUNCTION cf_notification_read(p_user bigint, p_ids bigint[], p_all boolean) RETURNS json
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE notifications SET read_at = now()
    WHERE user_id = p_user AND read_at IS NULL AND (p_all OR id = ANY (p_ids));
    RETURN json_build_object('unread', (SELECT count(*) FROM notifications
                                        WHERE user_id = p_user AND read_at IS NULL));
END $$;

-- GET /me counts the unread notifications.
ALTER FUNCTION cf_me_json(users, bigint) RENAME TO cf_me_json_without_notifications;
CREATE FUNCTION cf_me_json(u users, session_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (cf_me_json_without_notifications(u, session_id)::jsonb || jsonb_build_object(
        'unread_notifications', (SELECT count(*) FROM notifications
                                 WHERE user_id = u.id AND read_at IS NULL)))::json;
END $$;

-- PATCH /threads/{id}: a new title is a new version of the first post (so an old title
-- can be redacted like any version), and a title whose privacy warnings the author
-- acknowledged is recorded on the first post, as a new post's would be.
CREATE FUNCTION cf_thread_update_acknowledged(p_user bigint, p_thread bigint, p_fields jsonb,
                                              p_reason text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    old_title text := (SELECT title FROM threads WHERE id = p_thread);
    out json := cf_thread_update(p_user, p_thread, p_fields - 'privacy_acknowledged', p_reason);
    p posts;
BEGIN
    IF out->>'error' IS NOT NULL THEN
        RETURN out;
    END IF;
    SELECT * INTO p FROM posts WHERE thread_id = p_thread AND number = 1 FOR UPDATE;
    IF p_fields ? 'title' AND p_fields->>'title' IS DISTINCT FROM old_title THEN
        INSERT INTO post_revisions (post_id, version, body, body_html, title, editor_id)
        VALUES (p.id, p.version + 1, p.body, p.body_html, p_fields->>'title', p_user);
        UPDATE posts SET version = version + 1,
                         privacy_acknowledged = privacy_acknowledged
                             OR coalesce((p_fields->>'privacy_acknowledged')::boolean, false)
        WHERE id = p.id;
    END IF;
    RETURN out;
END $$;

-- GET /me/export adds the member's flags, notifications and which of their versions were
-- redacted (their text is gone; the export shows them empty).
ALTER FUNCTION cf_export_forum(bigint) RENAME TO cf_export_forum_writing;
CREATE FUNCTION cf_export_forum(p_user bigint) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT (cf_export_forum_writing(p_user)::jsonb || jsonb_build_object(
        'flags', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                      'id', f.id, 'post_id', f.post_id, 'reason', f.reason, 'note', f.note,
                      'status', f.status, 'decision', f.decision,
                      'created_at', cf_time(f.created_at),
                      'resolved_at', cf_time(f.resolved_at)) ORDER BY f.id), '[]'::jsonb)
                  FROM flags f WHERE f.user_id = p_user),
        'notifications', (SELECT coalesce(jsonb_agg(cf_notification_json(n)::jsonb
                                                    ORDER BY n.id), '[]'::jsonb)
                          FROM notifications n WHERE n.user_id = p_user),
        'redacted_revisions', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                   'post_id', r.post_id, 'version', r.version,
                                   'redacted_at', cf_time(r.redacted_at),
                                   'reason', r.redaction_reason)
                                   ORDER BY r.post_id, r.version), '[]'::jsonb)
                               FROM post_revisions r JOIN posts p ON p.id = r.post_id
                               WHERE p.author_id = p_user AND r.redacted_at IS NOT NULL)))::json
$$;
