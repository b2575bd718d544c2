-- Roadmap step 3: threads, posts, revisions, reactions, bookmarks, reading state
-- and subscriptions (SPEC sections 3 and 4, "Threads and posts").
--
-- Every write is one SQL function called in one statement, so its checks and its
-- writes share a transaction; every read builds its JSON here, in one statement.
-- Lists page with keyset cursors, never OFFSET.

CREATE EXTENSION IF NOT EXISTS unaccent;

-- ---- handles: the @name members are mentioned by ------------------------------

ALTER TABLE users ADD COLUMN handle text;
ALTER TABLE users ADD COLUMN last_post_at timestamptz;
ALTER TABLE users ADD COLUMN last_thread_at timestamptz;

-- A handle from a display name: "Dr. Amélie Roy" -> "dr-amelie-roy", made unique
-- with a number ("dr-amelie-roy-2").
CREATE FUNCTION cf_handle_for(p_name text, p_user bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    base text;
    candidate text;
    n integer := 1;
BEGIN
    base := trim(both '-' FROM regexp_replace(lower(unaccent(p_name)), '[^a-z0-9]+', '-', 'g'));
    base := trim(both '-' FROM left(base, 24));
    IF length(base) < 2 THEN
        base := 'member';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('confer.handle:' || base));
    candidate := base;
    WHILE EXISTS (SELECT 1 FROM users WHERE handle = candidate
                  AND id IS DISTINCT FROM p_user) LOOP
        n := n + 1;
        candidate := base || '-' || n;
    END LOOP;
    RETURN candidate;
END $$;

UPDATE users SET handle = cf_handle_for(display_name, id) WHERE handle IS NULL;
ALTER TABLE users ALTER COLUMN handle SET NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_handle_format
    CHECK (handle ~ '^[a-z0-9][a-z0-9_.-]{1,29}$');
CREATE UNIQUE INDEX users_handle_key ON users (handle);

CREATE FUNCTION cf_users_handle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.handle IS NULL THEN
        NEW.handle := cf_handle_for(NEW.display_name, NULL);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER users_handle BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION cf_users_handle();

CREATE OR REPLACE FUNCTION cf_user_json(u users, with_email boolean) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    net json;
BEGIN
    SELECT json_build_object('id', n.id, 'code', n.code,
                             'name', json_build_object('en', n.name_en, 'fr', n.name_fr))
    INTO net FROM networks n WHERE n.id = u.network_id;
    RETURN json_strip_nulls(json_build_object(
        'id', u.id,
        'display_name', u.display_name,
        'handle', u.handle,
        'profession', u.profession,
        'network', net,
        'site_role', u.site_role,
        'joined_at', cf_time(u.joined_at),
        'post_count', u.post_count,
        'bio', u.bio,
        'suspended_until', CASE WHEN u.suspended_until > now() THEN cf_time(u.suspended_until) END,
        'email', CASE WHEN with_email THEN u.email END));
END $$;

-- ---- threads and posts -----------------------------------------------------------

CREATE TABLE threads (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    space_type              text NOT NULL DEFAULT 'category'
                            CHECK (space_type IN ('category', 'group', 'conversation')),
    category_id             bigint REFERENCES categories (id),
    group_id                bigint,  -- groups arrive with roadmap step 4
    title                   text NOT NULL CHECK (length(title) BETWEEN 3 AND 200),
    kind                    text NOT NULL DEFAULT 'discussion'
                            CHECK (kind IN ('discussion', 'case', 'question')),
    status                  text NOT NULL DEFAULT 'open'
                            CHECK (status IN ('open', 'resolved', 'closed')),
    tags                    text[] NOT NULL DEFAULT '{}'
                            CHECK (cardinality(tags) <= 5),
    pinned                  boolean NOT NULL DEFAULT false,
    locked                  boolean NOT NULL DEFAULT false,
    author_id               bigint NOT NULL REFERENCES users (id),
    created_at              timestamptz NOT NULL DEFAULT now(),
    last_post_at            timestamptz NOT NULL DEFAULT now(),
    post_count              integer NOT NULL DEFAULT 0,   -- visible posts
    highest_post_number     integer NOT NULL DEFAULT 0,   -- every post ever written
    accepted_post_id        bigint,
    awaiting_response_since timestamptz,
    deleted_at              timestamptz,
    -- the category or group the thread lives in (NULL for a conversation)
    space_id                bigint GENERATED ALWAYS AS (coalesce(category_id, group_id)) STORED,
    CHECK ((space_type = 'category') = (category_id IS NOT NULL))
);
-- Lists of one category or group: pinned first, then by the sort; deleted threads are
-- left out.
CREATE INDEX threads_space_latest ON threads
    (space_type, space_id, pinned DESC, last_post_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX threads_space_created ON threads
    (space_type, space_id, pinned DESC, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX threads_space_top ON threads
    (space_type, space_id, pinned DESC, post_count DESC, id DESC) WHERE deleted_at IS NULL;
-- Across categories.
CREATE INDEX threads_latest ON threads (space_type, last_post_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX threads_created ON threads (space_type, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX threads_author ON threads (author_id, last_post_at DESC, id DESC);
CREATE INDEX threads_tags ON threads USING gin (tags);

-- The members of a conversation (a thread whose space is itself): step 4 reads them.
CREATE TABLE conversation_participants (
    thread_id bigint NOT NULL REFERENCES threads (id),
    user_id   bigint NOT NULL REFERENCES users (id),
    added_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (thread_id, user_id)
);
CREATE INDEX conversation_participants_user ON conversation_participants (user_id, thread_id);

CREATE TABLE posts (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id            bigint NOT NULL REFERENCES threads (id),
    number               integer NOT NULL,            -- 1, 2, ... within the thread
    author_id            bigint NOT NULL REFERENCES users (id),
    reply_to             bigint REFERENCES posts (id),
    path                 bigint[] NOT NULL,            -- ids from the top of its reply chain
    body                 text NOT NULL CHECK (length(body) BETWEEN 1 AND 50000),
    body_html            text NOT NULL,
    version              integer NOT NULL DEFAULT 1,
    state                text NOT NULL DEFAULT 'visible'
                         CHECK (state IN ('visible', 'hidden', 'deleted')),
    privacy_acknowledged boolean NOT NULL DEFAULT false,
    helpful_count        integer NOT NULL DEFAULT 0,
    thanks_count         integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    edited_at            timestamptz,
    deleted_at           timestamptz,
    deleted_by           bigint REFERENCES users (id),
    UNIQUE (thread_id, number)
);
CREATE INDEX posts_tree ON posts (thread_id, path);
CREATE INDEX posts_author ON posts (author_id, id DESC);

ALTER TABLE threads ADD CONSTRAINT threads_accepted_post_fk
    FOREIGN KEY (accepted_post_id) REFERENCES posts (id);

-- Every version of every post, the first included; a redaction (moderation,
-- step 5) replaces a version's text for good.
CREATE TABLE post_revisions (
    post_id     bigint NOT NULL REFERENCES posts (id),
    version     integer NOT NULL,
    body        text NOT NULL,
    body_html   text NOT NULL,
    title       text,               -- the thread's title with this version of its first post
    editor_id   bigint NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, version)
);

CREATE TABLE post_mentions (
    post_id bigint NOT NULL REFERENCES posts (id),
    user_id bigint NOT NULL REFERENCES users (id),
    PRIMARY KEY (post_id, user_id)
);

CREATE TABLE reactions (
    post_id    bigint NOT NULL REFERENCES posts (id),
    user_id    bigint NOT NULL REFERENCES users (id),
    kind       text NOT NULL CHECK (kind IN ('helpful', 'thanks')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, user_id, kind)
);

CREATE TABLE bookmarks (
    user_id    bigint NOT NULL REFERENCES users (id),
    post_id    bigint NOT NULL REFERENCES posts (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, post_id)
);
CREATE INDEX bookmarks_recent ON bookmarks (user_id, created_at DESC, post_id DESC);

CREATE TABLE read_state (
    user_id          bigint NOT NULL REFERENCES users (id),
    thread_id        bigint NOT NULL REFERENCES threads (id),
    last_read_number integer NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, thread_id)
);

CREATE TABLE subscriptions (
    user_id    bigint NOT NULL REFERENCES users (id),
    thread_id  bigint NOT NULL REFERENCES threads (id),
    level      text NOT NULL CHECK (level IN ('watching', 'normal', 'muted')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, thread_id)
);

-- ---- who may do what --------------------------------------------------------------

-- PL/pgSQL rather than SQL for the functions below: PostgreSQL 15 plans the body of a
-- SQL function that it cannot inline again at every call, where PL/pgSQL keeps its
-- plans for the session (measured: a page of posts 3x slower as SQL functions).
CREATE FUNCTION cf_is_moderator(p_user bigint) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM users WHERE id = p_user AND site_role IN ('moderator', 'admin'));
END $$;

-- A thread the member may read: every member reads the national forum; groups and
-- conversations arrive with step 4. Deleted threads only for moderators.
CREATE FUNCTION cf_thread_readable(t threads, p_user bigint, p_moderator boolean)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN t.space_type = 'category' AND (t.deleted_at IS NULL OR p_moderator);
END $$;

-- Who moderates a thread (sees deleted and hidden posts, pins, locks, moves, deletes
-- others' posts): moderators and admins here; step 4 adds the coordinators of a
-- group's network.
CREATE FUNCTION cf_thread_moderator(t threads, p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN t.id IS NOT NULL AND cf_is_moderator(p_user);
END $$;

-- Whether the member mentors where the thread lives (accepts answers): nobody before
-- step 4's groups.
CREATE FUNCTION cf_thread_mentor(t threads, p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN false;
END $$;

-- Who may post in a thread the member can read: everyone in the national forum;
-- step 4 restricts groups to their members and conversations to their participants.
CREATE FUNCTION cf_thread_writable(t threads, p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN t.space_type = 'category';
END $$;

-- ---- JSON ---------------------------------------------------------------------------

-- cf_time (0001) was declared IMMUTABLE over the STABLE to_char, which keeps the
-- planner from inlining it: every call ran as a function of its own (about 5 us,
-- 90 of them in a page of 30 posts). Declared STABLE, it inlines into the caller.
CREATE OR REPLACE FUNCTION cf_time(t timestamptz) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');


CREATE FUNCTION cf_author_json(p_user bigint) RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT json_build_object('id', u.id, 'display_name', u.display_name, 'handle', u.handle,
                             'profession', u.profession)
    FROM users u WHERE u.id = p_user);
END $$;

-- Posts and threads as SPEC section 4 describes them. Every post and thread keeps
-- its JSON text, all but the reader's own fields, in json_public: written by a
-- trigger whenever the row changes (and when its author's name changes), so a page
-- of 30 posts is 30 strings joined rather than 30 objects built and escaped (the
-- step-3 benchmark measured the page at 0.27 ms of JSON building before, the
-- bodies' escaping included). The reader's fields are appended at read time.

-- A post's object, without its closing brace and without my_reactions and
-- bookmarked; with body and body_html null unless shown.
CREATE FUNCTION cf_post_public_json(p posts, shown boolean) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN left((SELECT row_to_json(x)::text FROM (SELECT
        p.id, p.thread_id, p.number,
        (SELECT a FROM (SELECT u.id, u.display_name, u.handle, u.profession
                        FROM users u WHERE u.id = p.author_id) a) AS author,
        p.reply_to,
        least(cardinality(p.path) - 1, 8) AS depth,
        CASE WHEN shown THEN p.body END AS body,
        CASE WHEN shown THEN p.body_html END AS body_html,
        p.state,
        cf_time(p.created_at) AS created_at,
        cf_time(p.edited_at) AS edited_at,
        p.version,
        (SELECT r FROM (SELECT p.helpful_count AS helpful, p.thanks_count AS thanks) r)
            AS reactions,
        p.privacy_acknowledged) x), -1);
END $$;

ALTER TABLE posts ADD COLUMN json_public text;

CREATE FUNCTION cf_posts_json_public() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.json_public := cf_post_public_json(NEW, true);
    RETURN NEW;
END $$;
CREATE TRIGGER posts_json_public BEFORE INSERT OR UPDATE ON posts
    FOR EACH ROW EXECUTE FUNCTION cf_posts_json_public();

-- The posts of p_ids, in that order, for p_user, as a JSON array (text). A hidden or
-- deleted post keeps its place with body and body_html null, except for moderators
-- (and for its author while it is hidden: they may edit it for re-review).
-- Generic plans: the custom plan for a one-element array looks cheaper than the
-- generic one made for ten, so without this every call would be planned again.
CREATE FUNCTION cf_posts_text(p_user bigint, p_moderator boolean, p_ids bigint[]) RETURNS text
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN '[' || coalesce((
        SELECT string_agg(
            CASE WHEN p.state = 'visible' OR p_moderator
                      OR (p.state = 'hidden' AND p.author_id = p_user)
                 THEN p.json_public ELSE cf_post_public_json(p, false) END
            || ',"my_reactions":' || coalesce(mr.kinds, '[]')
            || ',"bookmarked":' || (b.post_id IS NOT NULL)::text || '}',
            ',' ORDER BY i.o)
        FROM unnest(p_ids) WITH ORDINALITY AS i(id, o)
        JOIN posts p ON p.id = i.id
        LEFT JOIN (SELECT r.post_id, json_agg(r.kind ORDER BY r.kind)::text AS kinds
                   FROM reactions r WHERE r.user_id = p_user AND r.post_id = ANY (p_ids)
                   GROUP BY r.post_id) mr ON mr.post_id = p.id
        LEFT JOIN bookmarks b ON b.user_id = p_user AND b.post_id = p.id), '') || ']';
END $$;

CREATE FUNCTION cf_posts_json(p_user bigint, p_moderator boolean, p_ids bigint[]) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN cf_posts_text(p_user, p_moderator, p_ids)::json;
END $$;

CREATE FUNCTION cf_post_json(p posts, p_user bigint, p_moderator boolean) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN cf_posts_json(p_user, p_moderator, ARRAY[p.id]) -> 0;
END $$;

-- A thread's object, without its closing brace and without unread_count,
-- last_read_number and subscription.
CREATE FUNCTION cf_thread_public_json(t threads) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN left((SELECT row_to_json(x)::text FROM (SELECT
        t.id,
        (SELECT sp FROM (SELECT t.space_type AS type,
                                coalesce(t.category_id, t.group_id, t.id) AS id) sp) AS space,
        t.title, t.kind, t.status, t.tags, t.pinned, t.locked,
        (SELECT a FROM (SELECT u.id, u.display_name, u.handle, u.profession
                        FROM users u WHERE u.id = t.author_id) a) AS author,
        cf_time(t.created_at) AS created_at,
        cf_time(t.last_post_at) AS last_post_at,
        t.post_count,
        t.accepted_post_id,
        cf_time(t.awaiting_response_since) AS awaiting_response_since,
        t.deleted_at IS NOT NULL AS deleted) x), -1)
        -- conversations add their participants (SPEC section 4)
        || CASE WHEN t.space_type = 'conversation' THEN ',"participants":' || coalesce((
               SELECT json_agg(a ORDER BY a.id)::text
               FROM (SELECT u.id, u.display_name, u.handle, u.profession
                     FROM conversation_participants cp JOIN users u ON u.id = cp.user_id
                     WHERE cp.thread_id = t.id) a), '[]') ELSE '' END;
END $$;

ALTER TABLE threads ADD COLUMN json_public text;

CREATE FUNCTION cf_threads_json_public() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.json_public := cf_thread_public_json(NEW);
    RETURN NEW;
END $$;
CREATE TRIGGER threads_json_public BEFORE INSERT OR UPDATE ON threads
    FOR EACH ROW EXECUTE FUNCTION cf_threads_json_public();

-- A member renamed: their posts and threads show the new name.
CREATE FUNCTION cf_users_json_public() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts SET json_public = NULL WHERE author_id = NEW.id;
    UPDATE threads SET json_public = NULL WHERE author_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER users_json_public AFTER UPDATE OF display_name, handle, profession ON users
    FOR EACH ROW
    WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name OR OLD.handle IS DISTINCT FROM
          NEW.handle OR OLD.profession IS DISTINCT FROM NEW.profession)
    EXECUTE FUNCTION cf_users_json_public();

-- The threads of p_ids, in that order, for p_user, as a JSON array (text).
CREATE FUNCTION cf_threads_text(p_user bigint, p_ids bigint[]) RETURNS text
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN '[' || coalesce((
        SELECT string_agg(
            t.json_public
            || ',"unread_count":'
            || greatest(t.highest_post_number - coalesce(rs.last_read_number, 0), 0)
            || ',"last_read_number":' || coalesce(rs.last_read_number, 0)
            || ',"subscription":"' || coalesce(s.level, 'normal') || '"}',
            ',' ORDER BY i.o)
        FROM unnest(p_ids) WITH ORDINALITY AS i(id, o)
        JOIN threads t ON t.id = i.id
        LEFT JOIN read_state rs ON rs.user_id = p_user AND rs.thread_id = t.id
        LEFT JOIN subscriptions s ON s.user_id = p_user AND s.thread_id = t.id), '') || ']';
END $$;

CREATE FUNCTION cf_thread_text(p_user bigint, p_thread bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    list text := cf_threads_text(p_user, ARRAY[p_thread]);
BEGIN
    RETURN substr(list, 2, length(list) - 2);
END $$;

CREATE FUNCTION cf_thread_json(t threads, p_user bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN cf_thread_text(p_user, t.id)::json;
END $$;

-- ---- cursors ------------------------------------------------------------------------
-- Opaque to clients: base64url, unpadded, of integers joined by dots ("a.b.c"): the
-- last row's sort key and id. confer decodes them (server/cursor.c) and refuses one
-- that is not ours with 400, so these functions receive the integers.

CREATE FUNCTION cf_epoch_us(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM t) * 1000000)::bigint
$$;

-- Exact: interval * bigint multiplies the interval's microseconds by a double, and
-- every count of microseconds below 2^53 (year 2255) is a double exactly.
CREATE FUNCTION cf_from_epoch_us(us bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT to_timestamp(0) + us * interval '1 microsecond'
$$;

CREATE FUNCTION cf_cursor_of(parts bigint[]) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT rtrim(translate(encode(convert_to(array_to_string(parts, '.'), 'UTF8'), 'base64'),
                           '+/' || chr(10), '-_'), '=')
$$;

-- ---- writing --------------------------------------------------------------------------

-- Counts a post by p_user, unless their previous post (p_thread: thread) is younger
-- than p_seconds: then the seconds left, and nothing changes. The users row lock
-- also orders one member's concurrent posts.
CREATE FUNCTION cf_member_posts(p_user bigint, p_seconds integer, p_thread boolean)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    last timestamptz;
BEGIN
    SELECT CASE WHEN p_thread THEN last_thread_at ELSE last_post_at END INTO last
    FROM users WHERE id = p_user FOR UPDATE;
    IF p_seconds > 0 AND last IS NOT NULL
       AND last > clock_timestamp() - make_interval(secs => p_seconds) THEN
        RETURN greatest(1, ceil(extract(epoch FROM last + make_interval(secs => p_seconds)
                                                    - clock_timestamp())))::integer;
    END IF;
    UPDATE users SET post_count = post_count + 1, last_post_at = clock_timestamp(),
                     last_thread_at = CASE WHEN p_thread THEN clock_timestamp()
                                           ELSE last_thread_at END
    WHERE id = p_user;
    RETURN 0;
END $$;

-- Inserts post number p_number of thread p_thread (with its first revision and its
-- mentions) and returns it.
CREATE FUNCTION cf_post_insert(p_thread bigint, p_number integer, p_user bigint,
                               p_parent posts, p_body text, p_html text, p_mentions bigint[],
                               p_ack boolean, p_title text) RETURNS posts
LANGUAGE plpgsql AS $$
DECLARE
    p posts;
    new_id bigint := nextval(pg_get_serial_sequence('posts', 'id'));
BEGIN
    INSERT INTO posts (id, thread_id, number, author_id, reply_to, path, body, body_html,
                       privacy_acknowledged)
    OVERRIDING SYSTEM VALUE
    VALUES (new_id, p_thread, p_number, p_user, p_parent.id,
            CASE WHEN p_parent.id IS NULL THEN ARRAY[new_id]
                 ELSE p_parent.path || new_id END,
            p_body, p_html, p_ack)
    RETURNING * INTO p;
    INSERT INTO post_revisions (post_id, version, body, body_html, title, editor_id)
    VALUES (p.id, 1, p_body, p_html, p_title, p_user);
    INSERT INTO post_mentions (post_id, user_id)
    SELECT p.id, m FROM unnest(coalesce(p_mentions, '{}')) m
    WHERE m <> p_user AND EXISTS (SELECT 1 FROM users WHERE id = m)
    ON CONFLICT DO NOTHING;
    INSERT INTO read_state AS rs (user_id, thread_id, last_read_number)
    VALUES (p_user, p_thread, p_number)
    ON CONFLICT (user_id, thread_id) DO UPDATE
        SET last_read_number = greatest(rs.last_read_number, EXCLUDED.last_read_number),
            updated_at = now();
    RETURN p;
END $$;

-- A category's latest activity, at most once a second: posts in a busy category
-- do not queue on its row.
CREATE FUNCTION cf_category_touch(p_category bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE categories SET last_post_at = clock_timestamp()
    WHERE id = p_category
      AND (last_post_at IS NULL OR last_post_at < clock_timestamp() - interval '1 second')
$$;

-- Whether the member may list a space's threads: every forum category; step 4 adds
-- groups.
CREATE FUNCTION cf_space_readable(p_user bigint, p_type text, p_id bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN p_type = 'category';
END $$;

-- Where a new thread may go: NULL, or the error code. The national forum's categories
-- here; step 4 adds groups.
CREATE FUNCTION cf_space_check(p_user bigint, p_category bigint, p_group bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_group IS NOT NULL THEN
        RETURN 'group_unknown';
    ELSIF NOT EXISTS (SELECT 1 FROM categories WHERE id = p_category) THEN
        RETURN 'category_unknown';
    END IF;
    RETURN NULL;
END $$;

-- POST /threads, in a category or (p_group) a group. {"created": {"thread", "post"}}
-- or {"error": category_unknown | group_unknown | forbidden | rate_limited (with
-- retry_after)}.
CREATE FUNCTION cf_thread_create(p_user bigint, p_category bigint, p_group bigint, p_title text,
                                 p_kind text, p_tags text[], p_body text, p_html text,
                                 p_mentions bigint[], p_ack boolean, p_interval integer)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    t threads;
    p posts;
    wait integer;
    refused text := cf_space_check(p_user, p_category, p_group);
BEGIN
    IF refused IS NOT NULL THEN
        RETURN json_build_object('error', refused);
    END IF;
    wait := cf_member_posts(p_user, p_interval, true);
    IF wait > 0 THEN
        RETURN json_build_object('error', 'rate_limited', 'retry_after', wait);
    END IF;
    INSERT INTO threads (space_type, category_id, group_id, title, kind, tags, author_id,
                         post_count, highest_post_number)
    VALUES (CASE WHEN p_group IS NULL THEN 'category' ELSE 'group' END,
            CASE WHEN p_group IS NULL THEN p_category END, p_group, p_title, p_kind,
            coalesce(p_tags, '{}'), p_user, 1, 1)
    RETURNING * INTO t;
    p := cf_post_insert(t.id, 1, p_user, NULL, p_body, p_html, p_mentions, p_ack, p_title);
    INSERT INTO subscriptions (user_id, thread_id, level) VALUES (p_user, t.id, 'watching');
    UPDATE categories SET thread_count = thread_count + 1, last_post_at = clock_timestamp()
    WHERE id = t.category_id;
    RETURN json_build_object('created', json_build_object('thread', cf_thread_json(t, p_user),
                                                          'post', cf_post_json(p, p_user, false)));
END $$;

-- POST /threads/{id}/posts. {"post"} or {"error": not_found | thread_locked |
-- thread_closed | reply_to_invalid | rate_limited}.
CREATE FUNCTION cf_post_create(p_user bigint, p_thread bigint, p_reply_to bigint, p_body text,
                               p_html text, p_mentions bigint[], p_ack boolean,
                               p_interval integer) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    moderator boolean;
    t threads;
    parent posts;
    p posts;
    wait integer;
BEGIN
    SELECT * INTO t FROM threads WHERE id = p_thread FOR UPDATE;
    moderator := cf_thread_moderator(t, p_user);
    IF NOT FOUND OR NOT cf_thread_readable(t, p_user, moderator) OR t.deleted_at IS NOT NULL THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF NOT cf_thread_writable(t, p_user) THEN
        RETURN json_build_object('error', 'forbidden');
    ELSIF t.locked AND NOT moderator THEN
        RETURN json_build_object('error', 'thread_locked');
    ELSIF t.status = 'closed' AND NOT moderator THEN
        RETURN json_build_object('error', 'thread_closed');
    END IF;
    IF p_reply_to IS NOT NULL THEN
        SELECT * INTO parent FROM posts WHERE id = p_reply_to AND thread_id = p_thread;
        IF NOT FOUND THEN
            RETURN json_build_object('error', 'reply_to_invalid');
        END IF;
    END IF;
    wait := cf_member_posts(p_user, p_interval, false);
    IF wait > 0 THEN
        RETURN json_build_object('error', 'rate_limited', 'retry_after', wait);
    END IF;
    p := cf_post_insert(t.id, t.highest_post_number + 1, p_user, parent, p_body, p_html,
                        p_mentions, p_ack, NULL);
    UPDATE threads SET highest_post_number = p.number, post_count = post_count + 1,
                       last_post_at = p.created_at
    WHERE id = t.id;
    PERFORM cf_category_touch(t.category_id);
    RETURN json_build_object('post', cf_post_json(p, p_user, moderator));
END $$;

-- PATCH /posts/{id}: the author edits, naming the version they edited.
-- {"post"} or {"error": not_found | forbidden | thread_locked | edit_conflict (with
-- the current "post")}.
CREATE FUNCTION cf_post_edit(p_user bigint, p_post bigint, p_version integer, p_body text,
                             p_html text, p_mentions bigint[], p_ack boolean) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    moderator boolean;
    t threads;
    p posts;
BEGIN
    SELECT * INTO p FROM posts WHERE id = p_post FOR UPDATE;
    IF FOUND THEN
        SELECT * INTO t FROM threads WHERE id = p.thread_id;
    END IF;
    moderator := cf_thread_moderator(t, p_user);
    IF p.id IS NULL OR NOT cf_thread_readable(t, p_user, moderator)
       OR (p.state = 'deleted' AND NOT moderator) THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF p.author_id <> p_user THEN
        RETURN json_build_object('error', 'forbidden');
    ELSIF p.state = 'deleted' THEN
        RETURN json_build_object('error', 'post_deleted');
    ELSIF t.locked AND NOT moderator THEN
        RETURN json_build_object('error', 'thread_locked');
    ELSIF p.version <> p_version THEN
        RETURN json_build_object('error', 'edit_conflict',
                                 'post', cf_post_json(p, p_user, moderator));
    END IF;
    UPDATE posts SET body = p_body, body_html = p_html, version = version + 1,
                     edited_at = clock_timestamp(), privacy_acknowledged = p_ack
    WHERE id = p_post RETURNING * INTO p;
    INSERT INTO post_revisions (post_id, version, body, body_html, title, editor_id)
    VALUES (p.id, p.version, p_body, p_html,
            CASE WHEN p.number = 1 THEN t.title END, p_user);
    INSERT INTO post_mentions (post_id, user_id)
    SELECT p.id, m FROM unnest(coalesce(p_mentions, '{}')) m
    WHERE m <> p_user AND EXISTS (SELECT 1 FROM users WHERE id = m)
    ON CONFLICT DO NOTHING;
    RETURN json_build_object('post', cf_post_json(p, p_user, moderator));
END $$;

-- DELETE /posts/{id}: the author, or a moderator (logged). The content is kept for
-- moderators; deleting a thread's first post deletes the thread.
-- {"deleted": true} or {"error": not_found | forbidden}.
CREATE FUNCTION cf_post_delete(p_user bigint, p_post bigint, p_reason text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    moderator boolean;
    t threads;
    p posts;
BEGIN
    SELECT * INTO p FROM posts WHERE id = p_post FOR UPDATE;
    IF FOUND THEN
        SELECT * INTO t FROM threads WHERE id = p.thread_id FOR UPDATE;
    END IF;
    moderator := cf_thread_moderator(t, p_user);
    IF p.id IS NULL OR NOT cf_thread_readable(t, p_user, moderator) OR p.state = 'deleted' THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF p.author_id <> p_user AND NOT moderator THEN
        RETURN json_build_object('error', 'forbidden');
    END IF;
    UPDATE posts SET state = 'deleted', deleted_at = clock_timestamp(), deleted_by = p_user
    WHERE id = p_post;
    UPDATE users SET post_count = greatest(post_count - 1, 0) WHERE id = p.author_id;
    IF p.state = 'visible' THEN
        UPDATE threads SET post_count = greatest(post_count - 1, 0) WHERE id = t.id;
    END IF;
    IF p.number = 1 AND t.deleted_at IS NULL THEN
        UPDATE threads SET deleted_at = clock_timestamp() WHERE id = t.id;
        UPDATE categories SET thread_count = greatest(thread_count - 1, 0)
        WHERE id = t.category_id;
    END IF;
    IF p.author_id <> p_user THEN
        INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason, before,
                                    after)
        VALUES (p_user, CASE WHEN p.number = 1 THEN 'thread.delete' ELSE 'post.delete' END,
                'post', p.id, coalesce(p_reason, ''), jsonb_build_object('state', p.state),
                jsonb_build_object('state', 'deleted'));
    END IF;
    RETURN json_build_object('deleted', true);
END $$;

-- PATCH /threads/{id}. The author (or a moderator) changes title, tags, kind and
-- status; moderators also pinned, locked and category_id (a move). A moderator's
-- change is logged with before and after.
-- {"thread"} or {"error": not_found | forbidden | category_unknown}.
CREATE FUNCTION cf_thread_update(p_user bigint, p_thread bigint, p_fields jsonb, p_reason text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    moderator boolean;
    t threads;
    before jsonb;
    after jsonb;
BEGIN
    SELECT * INTO t FROM threads WHERE id = p_thread FOR UPDATE;
    moderator := cf_thread_moderator(t, p_user);
    IF NOT FOUND OR NOT cf_thread_readable(t, p_user, moderator) THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF t.author_id <> p_user AND NOT moderator THEN
        RETURN json_build_object('error', 'forbidden');
    ELSIF NOT moderator AND (p_fields ?| ARRAY['pinned', 'locked', 'category_id']) THEN
        RETURN json_build_object('error', 'forbidden');
    ELSIF p_fields ? 'category_id' AND t.space_type <> 'category' THEN
        RETURN json_build_object('error', 'forbidden');
    ELSIF p_fields ? 'category_id' AND NOT EXISTS (
        SELECT 1 FROM categories WHERE id = (p_fields->>'category_id')::bigint) THEN
        RETURN json_build_object('error', 'category_unknown');
    END IF;
    before := jsonb_build_object('title', t.title, 'tags', to_jsonb(t.tags), 'kind', t.kind,
                                 'status', t.status, 'pinned', t.pinned, 'locked', t.locked,
                                 'category_id', t.category_id);
    UPDATE threads SET
        title = coalesce(p_fields->>'title', title),
        tags = CASE WHEN p_fields ? 'tags'
                    THEN ARRAY(SELECT jsonb_array_elements_text(p_fields->'tags'))
                    ELSE tags END,
        kind = coalesce(p_fields->>'kind', kind),
        status = coalesce(p_fields->>'status', status),
        pinned = coalesce((p_fields->>'pinned')::boolean, pinned),
        locked = coalesce((p_fields->>'locked')::boolean, locked),
        category_id = coalesce((p_fields->>'category_id')::bigint, category_id)
    WHERE id = p_thread RETURNING * INTO t;
    after := jsonb_build_object('title', t.title, 'tags', to_jsonb(t.tags), 'kind', t.kind,
                                'status', t.status, 'pinned', t.pinned, 'locked', t.locked,
                                'category_id', t.category_id);
    IF t.category_id IS DISTINCT FROM (before->>'category_id')::bigint AND t.deleted_at IS NULL
    THEN
        UPDATE categories SET thread_count = greatest(thread_count - 1, 0)
        WHERE id = (before->>'category_id')::bigint;
        UPDATE categories SET thread_count = thread_count + 1,
                              last_post_at = greatest(last_post_at, t.last_post_at)
        WHERE id = t.category_id;
    END IF;
    IF moderator AND before <> after THEN
        INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason, before,
                                    after)
        SELECT p_user, 'thread.update', 'thread', t.id, coalesce(p_reason, ''),
               jsonb_object_agg(b.key, b.value), jsonb_object_agg(b.key, after->b.key)
        FROM jsonb_each(before) b WHERE b.value <> after->b.key;
    END IF;
    RETURN json_build_object('thread', cf_thread_json(t, p_user));
END $$;

-- POST /threads/{id}/answer (p_post NULL: DELETE, withdraws the answer). Question
-- threads; the author, a moderator, or a mentor where the thread lives.
-- {"thread"} or {"error": not_found | forbidden | not_a_question | post_invalid}.
CREATE FUNCTION cf_thread_answer(p_user bigint, p_thread bigint, p_post bigint) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    moderator boolean;
    t threads;
BEGIN
    SELECT * INTO t FROM threads WHERE id = p_thread FOR UPDATE;
    moderator := cf_thread_moderator(t, p_user);
    IF NOT FOUND OR NOT cf_thread_readable(t, p_user, moderator) OR t.deleted_at IS NOT NULL THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF NOT (t.author_id = p_user OR moderator OR cf_thread_mentor(t, p_user)) THEN
        RETURN json_build_object('error', 'forbidden');
    ELSIF t.kind <> 'question' THEN
        RETURN json_build_object('error', 'not_a_question');
    ELSIF p_post IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM posts WHERE id = p_post AND thread_id = t.id AND number > 1
                              AND state = 'visible') THEN
        RETURN json_build_object('error', 'post_invalid');
    END IF;
    UPDATE threads SET accepted_post_id = p_post,
                       status = CASE WHEN p_post IS NULL THEN 'open' ELSE 'resolved' END
    WHERE id = t.id RETURNING * INTO t;
    RETURN json_build_object('thread', cf_thread_json(t, p_user));
END $$;

-- PUT (p_on) or DELETE /posts/{id}/reactions/{kind}. Not on one's own post.
-- {"post"} or {"error": not_found | own_post}.
CREATE FUNCTION cf_reaction_set(p_user bigint, p_post bigint, p_kind text, p_on boolean)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    moderator boolean;
    t threads;
    p posts;
    changed integer;
BEGIN
    SELECT * INTO p FROM posts WHERE id = p_post;
    IF FOUND THEN
        SELECT * INTO t FROM threads WHERE id = p.thread_id;
    END IF;
    moderator := cf_thread_moderator(t, p_user);
    IF p.id IS NULL OR NOT cf_thread_readable(t, p_user, moderator) OR p.state <> 'visible' THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF NOT cf_thread_writable(t, p_user) THEN
        RETURN json_build_object('error', 'forbidden');
    ELSIF p.author_id = p_user THEN
        RETURN json_build_object('error', 'own_post');
    END IF;
    IF p_on THEN
        INSERT INTO reactions (post_id, user_id, kind) VALUES (p_post, p_user, p_kind)
        ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM reactions WHERE post_id = p_post AND user_id = p_user AND kind = p_kind;
    END IF;
    GET DIAGNOSTICS changed = ROW_COUNT;
    IF changed > 0 THEN
        UPDATE posts SET
            helpful_count = helpful_count + CASE WHEN p_kind = 'helpful'
                                                 THEN CASE WHEN p_on THEN 1 ELSE -1 END ELSE 0 END,
            thanks_count = thanks_count + CASE WHEN p_kind = 'thanks'
                                               THEN CASE WHEN p_on THEN 1 ELSE -1 END ELSE 0 END
        WHERE id = p_post RETURNING * INTO p;
    END IF;
    RETURN json_build_object('post', cf_post_json(p, p_user, moderator));
END $$;

-- PUT (p_on) or DELETE /posts/{id}/bookmark. {"post"} or {"error": "not_found"}.
CREATE FUNCTION cf_bookmark_set(p_user bigint, p_post bigint, p_on boolean) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    moderator boolean;
    t threads;
    p posts;
BEGIN
    SELECT * INTO p FROM posts WHERE id = p_post;
    IF FOUND THEN
        SELECT * INTO t FROM threads WHERE id = p.thread_id;
    END IF;
    moderator := cf_thread_moderator(t, p_user);
    IF p.id IS NULL OR NOT cf_thread_readable(t, p_user, moderator) THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    IF p_on THEN
        INSERT INTO bookmarks (user_id, post_id) VALUES (p_user, p_post) ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM bookmarks WHERE user_id = p_user AND post_id = p_post;
    END IF;
    RETURN json_build_object('post', cf_post_json(p, p_user, moderator));
END $$;

-- POST /threads/{id}/read: read up to post p_post (never moves back).
-- {"thread"} or {"error": not_found | post_invalid}.
CREATE FUNCTION cf_thread_read(p_user bigint, p_thread bigint, p_post bigint) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    t threads;
    n integer;
BEGIN
    SELECT * INTO t FROM threads WHERE id = p_thread;
    IF NOT FOUND OR NOT cf_thread_readable(t, p_user, cf_thread_moderator(t, p_user)) THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    SELECT number INTO n FROM posts WHERE id = p_post AND thread_id = p_thread;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'post_invalid');
    END IF;
    INSERT INTO read_state AS rs (user_id, thread_id, last_read_number)
    VALUES (p_user, p_thread, n)
    ON CONFLICT (user_id, thread_id) DO UPDATE
        SET last_read_number = greatest(rs.last_read_number, EXCLUDED.last_read_number),
            updated_at = now();
    RETURN json_build_object('thread', cf_thread_json(t, p_user));
END $$;

-- PUT /threads/{id}/subscription. {"thread"} or {"error": "not_found"}.
CREATE FUNCTION cf_thread_subscribe(p_user bigint, p_thread bigint, p_level text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    t threads;
BEGIN
    SELECT * INTO t FROM threads WHERE id = p_thread;
    IF NOT FOUND OR NOT cf_thread_readable(t, p_user, cf_thread_moderator(t, p_user)) THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    INSERT INTO subscriptions AS s (user_id, thread_id, level) VALUES (p_user, p_thread, p_level)
    ON CONFLICT (user_id, thread_id) DO UPDATE SET level = EXCLUDED.level, updated_at = now();
    RETURN json_build_object('thread', cf_thread_json(t, p_user));
END $$;

-- ---- reading --------------------------------------------------------------------------

-- GET /threads/{id}: the thread and a page of its posts, in number order
-- (p_tree false; cursor: the last number) or depth-first (cursor: the last path).
-- NULL when the member may not read it (404). JSON text.
CREATE FUNCTION cf_thread_page(p_user bigint, p_thread bigint, p_tree boolean,
                               p_cursor bigint[], p_limit integer) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    moderator boolean;
    t threads;
    cur bigint[];
    ids bigint[];
    last_number integer;
    last_path bigint[];
    more boolean;
BEGIN
    SELECT * INTO t FROM threads WHERE id = p_thread;
    moderator := cf_thread_moderator(t, p_user);
    IF NOT FOUND OR NOT cf_thread_readable(t, p_user, moderator) THEN
        RETURN NULL;
    END IF;
    cur := p_cursor;
    IF p_tree THEN
        -- the first page starts after the empty path, which sorts before every other
        cur := coalesce(cur, '{}');
        SELECT array_agg(q.id ORDER BY q.path) INTO ids
        FROM (SELECT id, path FROM posts WHERE thread_id = t.id AND path > cur
              ORDER BY path LIMIT p_limit) q;
        SELECT path INTO last_path FROM posts WHERE id = ids[cardinality(ids)];
        more := last_path IS NOT NULL AND EXISTS (
            SELECT 1 FROM posts WHERE thread_id = t.id AND path > last_path);
    ELSE
        SELECT array_agg(q.id ORDER BY q.number), max(q.number) INTO ids, last_number
        FROM (SELECT id, number FROM posts WHERE thread_id = t.id
                AND number > coalesce(cur[1], 0)
              ORDER BY number LIMIT p_limit) q;
        more := last_number IS NOT NULL AND last_number < t.highest_post_number;
    END IF;
    RETURN '{"thread":' || cf_thread_text(p_user, t.id)
        || ',"posts":' || cf_posts_text(p_user, moderator, coalesce(ids, '{}'))
        || ',"next_cursor":' || CASE WHEN more THEN to_json(cf_cursor_of(
               CASE WHEN p_tree THEN last_path ELSE ARRAY[last_number::bigint] END))::text
           ELSE 'null' END || '}';
END $$;

-- The ids of a page of threads (keyset: every row before the cursor's key in the
-- order of the sort), for lists without filters: static queries whose cached plans
-- are index range scans, so a page 50,000 rows deep costs what the first does.
CREATE FUNCTION cf_thread_ids(p_space_type text, p_space_id bigint, p_sort text,
                              c_pinned boolean, c_time timestamptz, c_count bigint, c_id bigint,
                              p_limit integer)
RETURNS bigint[] LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_space_id IS NOT NULL AND p_sort = 'latest' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = p_space_type AND t.space_id = p_space_id AND t.deleted_at IS NULL
                AND (t.pinned, t.last_post_at, t.id) < (c_pinned, c_time, c_id)
              ORDER BY t.pinned DESC, t.last_post_at DESC, t.id DESC LIMIT p_limit);
    ELSIF p_space_id IS NOT NULL AND p_sort = 'created' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = p_space_type AND t.space_id = p_space_id AND t.deleted_at IS NULL
                AND (t.pinned, t.created_at, t.id) < (c_pinned, c_time, c_id)
              ORDER BY t.pinned DESC, t.created_at DESC, t.id DESC LIMIT p_limit);
    ELSIF p_space_id IS NOT NULL AND p_sort = 'top' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = p_space_type AND t.space_id = p_space_id AND t.deleted_at IS NULL
                AND (t.pinned, t.post_count, t.id) < (c_pinned, c_count, c_id)
              ORDER BY t.pinned DESC, t.post_count DESC, t.id DESC LIMIT p_limit);
    ELSIF p_space_id IS NULL AND p_sort = 'latest' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = 'category' AND t.deleted_at IS NULL
                AND (t.last_post_at, t.id) < (c_time, c_id)
              ORDER BY t.last_post_at DESC, t.id DESC LIMIT p_limit);
    ELSIF p_space_id IS NULL AND p_sort = 'created' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = 'category' AND t.deleted_at IS NULL
                AND (t.created_at, t.id) < (c_time, c_id)
              ORDER BY t.created_at DESC, t.id DESC LIMIT p_limit);
    ELSIF p_space_id IS NULL AND p_sort = 'top' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = 'category' AND t.deleted_at IS NULL
                AND (t.post_count, t.id) < (c_count, c_id)
              ORDER BY t.post_count DESC, t.id DESC LIMIT p_limit);
    END IF;
    RETURN '{}';
END $$;

-- The same with filters. Their "IS NULL OR" terms need a plan made for the values
-- at hand (a generic plan cannot tell which filters apply), hence custom plans.
CREATE FUNCTION cf_thread_ids_filtered(p_space_type text, p_space_id bigint, p_sort text,
                                       c_pinned boolean, c_time timestamptz, c_count bigint,
                                       c_id bigint,
                                       p_limit integer, p_tag text, p_status text,
                                       p_kind text, p_author bigint)
RETURNS bigint[] LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    IF p_space_id IS NOT NULL AND p_sort = 'latest' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = p_space_type AND t.space_id = p_space_id AND t.deleted_at IS NULL
                AND (t.pinned, t.last_post_at, t.id) < (c_pinned, c_time, c_id)
                AND (p_tag IS NULL OR t.tags @> ARRAY[p_tag])
                AND (p_status IS NULL OR t.status = p_status)
                AND (p_kind IS NULL OR t.kind = p_kind)
                AND (p_author IS NULL OR t.author_id = p_author)
              ORDER BY t.pinned DESC, t.last_post_at DESC, t.id DESC LIMIT p_limit);
    ELSIF p_space_id IS NOT NULL AND p_sort = 'created' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = p_space_type AND t.space_id = p_space_id AND t.deleted_at IS NULL
                AND (t.pinned, t.created_at, t.id) < (c_pinned, c_time, c_id)
                AND (p_tag IS NULL OR t.tags @> ARRAY[p_tag])
                AND (p_status IS NULL OR t.status = p_status)
                AND (p_kind IS NULL OR t.kind = p_kind)
                AND (p_author IS NULL OR t.author_id = p_author)
              ORDER BY t.pinned DESC, t.created_at DESC, t.id DESC LIMIT p_limit);
    ELSIF p_space_id IS NOT NULL AND p_sort = 'top' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = p_space_type AND t.space_id = p_space_id AND t.deleted_at IS NULL
                AND (t.pinned, t.post_count, t.id) < (c_pinned, c_count, c_id)
                AND (p_tag IS NULL OR t.tags @> ARRAY[p_tag])
                AND (p_status IS NULL OR t.status = p_status)
                AND (p_kind IS NULL OR t.kind = p_kind)
                AND (p_author IS NULL OR t.author_id = p_author)
              ORDER BY t.pinned DESC, t.post_count DESC, t.id DESC LIMIT p_limit);
    ELSIF p_space_id IS NULL AND p_sort = 'latest' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = 'category' AND t.deleted_at IS NULL
                AND (t.last_post_at, t.id) < (c_time, c_id)
                AND (p_tag IS NULL OR t.tags @> ARRAY[p_tag])
                AND (p_status IS NULL OR t.status = p_status)
                AND (p_kind IS NULL OR t.kind = p_kind)
                AND (p_author IS NULL OR t.author_id = p_author)
              ORDER BY t.last_post_at DESC, t.id DESC LIMIT p_limit);
    ELSIF p_space_id IS NULL AND p_sort = 'created' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = 'category' AND t.deleted_at IS NULL
                AND (t.created_at, t.id) < (c_time, c_id)
                AND (p_tag IS NULL OR t.tags @> ARRAY[p_tag])
                AND (p_status IS NULL OR t.status = p_status)
                AND (p_kind IS NULL OR t.kind = p_kind)
                AND (p_author IS NULL OR t.author_id = p_author)
              ORDER BY t.created_at DESC, t.id DESC LIMIT p_limit);
    ELSIF p_space_id IS NULL AND p_sort = 'top' THEN
        RETURN ARRAY(SELECT t.id FROM threads t
              WHERE t.space_type = 'category' AND t.deleted_at IS NULL
                AND (t.post_count, t.id) < (c_count, c_id)
                AND (p_tag IS NULL OR t.tags @> ARRAY[p_tag])
                AND (p_status IS NULL OR t.status = p_status)
                AND (p_kind IS NULL OR t.kind = p_kind)
                AND (p_author IS NULL OR t.author_id = p_author)
              ORDER BY t.post_count DESC, t.id DESC LIMIT p_limit);
    END IF;
    RETURN '{}';
END $$;

-- GET /threads: threads the member may read, newest activity first (or created,
-- or most posts), pinned first within a category; keyset pages.
-- {"items", "next_cursor"} (JSON text).
CREATE FUNCTION cf_thread_list(p_user bigint, p_category bigint, p_group bigint, p_tag text,
                               p_status text, p_kind text, p_author bigint, p_sort text,
                               p_cursor bigint[], p_limit integer) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    -- the first page starts after a key greater than any row's
    c_pinned boolean := true;
    c_time timestamptz := 'infinity';
    c_count bigint := 9223372036854775807;
    c_id bigint := 9223372036854775807;
    ids bigint[];
    last threads;
    space_type text := CASE WHEN p_group IS NULL THEN 'category' ELSE 'group' END;
    space_id bigint := coalesce(p_group, p_category);
BEGIN
    IF p_group IS NOT NULL AND NOT cf_space_readable(p_user, 'group', p_group) THEN
        RETURN NULL;
    END IF;
    IF cardinality(p_cursor) = 3 THEN
        c_pinned := p_cursor[1] = 1;
        c_time := cf_from_epoch_us(p_cursor[2]);
        c_count := p_cursor[2];
        c_id := p_cursor[3];
    END IF;
    IF p_tag IS NULL AND p_status IS NULL AND p_kind IS NULL AND p_author IS NULL THEN
        ids := cf_thread_ids(space_type, space_id, p_sort, c_pinned, c_time, c_count, c_id,
                             p_limit + 1);
    ELSE
        ids := cf_thread_ids_filtered(space_type, space_id, p_sort, c_pinned, c_time, c_count, c_id,
                                      p_limit + 1, p_tag, p_status, p_kind, p_author);
    END IF;
    IF cardinality(ids) > p_limit THEN
        SELECT * INTO last FROM threads WHERE id = ids[p_limit];
    END IF;
    RETURN '{"items":' || cf_threads_text(p_user, ids[1:p_limit]) || ',"next_cursor":'
        || CASE WHEN last.id IS NOT NULL THEN to_json(cf_cursor_of(ARRAY[
            CASE WHEN space_id IS NOT NULL AND last.pinned THEN 1 ELSE 0 END,
            CASE p_sort WHEN 'latest' THEN cf_epoch_us(last.last_post_at)
                        WHEN 'created' THEN cf_epoch_us(last.created_at)
                        ELSE last.post_count END,
            last.id]))::text ELSE 'null' END || '}';
END $$;

-- GET /posts/{id}: NULL when the member may not read it.
CREATE FUNCTION cf_post_get(p_user bigint, p_post bigint) RETURNS json
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
    IF NOT cf_thread_readable(t, p_user, moderator) THEN
        RETURN NULL;
    END IF;
    RETURN cf_post_json(p, p_user, moderator);
END $$;

-- GET /posts/{id}/revisions: the author and moderators; NULL otherwise (404).
CREATE FUNCTION cf_post_revisions(p_user bigint, p_post bigint) RETURNS json
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
        SELECT json_agg(json_build_object(
                   'version', r.version, 'body', r.body, 'body_html', r.body_html,
                   'title', r.title, 'editor', cf_author_json(r.editor_id),
                   'created_at', cf_time(r.created_at)) ORDER BY r.version)
        FROM post_revisions r WHERE r.post_id = p.id), '[]'::json), 'next_cursor', NULL);
END $$;

-- GET /me/bookmarks: newest first; keyset on (created_at, post_id).
CREATE FUNCTION cf_bookmark_list(p_user bigint, p_cursor bigint[], p_limit integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    cur bigint[] := p_cursor;
    items json;
    last_at timestamptz;
    last_post bigint;
    n integer;
BEGIN
    -- only what the member may still read (a bookmark outlives a group membership)
    SELECT json_agg(json_build_object(
               'post', cf_post_json(b.p, p_user, b.moderator),
               'thread', json_build_object('id', (b.t).id, 'title', (b.t).title),
               'bookmarked_at', cf_time(b.created_at)) ORDER BY b.created_at DESC, b.post_id DESC),
           count(*),
           (array_agg(b.created_at ORDER BY b.created_at, b.post_id))[1],
           (array_agg(b.post_id ORDER BY b.created_at, b.post_id))[1]
    INTO items, n, last_at, last_post
    FROM (SELECT bm.created_at, bm.post_id, p, t, m.moderator
          FROM bookmarks bm
          JOIN posts p ON p.id = bm.post_id
          JOIN threads t ON t.id = p.thread_id
          CROSS JOIN LATERAL (SELECT cf_thread_moderator(t, p_user) AS moderator) m
          WHERE bm.user_id = p_user
            AND (cur IS NULL OR (bm.created_at, bm.post_id) < (cf_from_epoch_us(cur[1]), cur[2]))
            AND cf_thread_readable(t, p_user, m.moderator)
          ORDER BY bm.created_at DESC, bm.post_id DESC LIMIT p_limit) b;
    RETURN json_build_object(
        'items', coalesce(items, '[]'::json),
        'next_cursor', CASE WHEN n = p_limit AND EXISTS (
            SELECT 1 FROM bookmarks WHERE user_id = p_user
              AND (created_at, post_id) < (last_at, last_post))
            THEN cf_cursor_of(ARRAY[cf_epoch_us(last_at), last_post]) END);
END $$;

-- The forum part of GET /me/export: everything this member wrote or set.
CREATE FUNCTION cf_export_forum(p_user bigint) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'threads', (SELECT coalesce(json_agg(json_build_object(
                        'id', t.id, 'category_id', t.category_id, 'title', t.title,
                        'kind', t.kind, 'status', t.status, 'tags', to_json(t.tags),
                        'created_at', cf_time(t.created_at),
                        'deleted_at', cf_time(t.deleted_at)) ORDER BY t.id), '[]'::json)
                    FROM threads t WHERE t.author_id = p_user),
        'posts', (SELECT coalesce(json_agg(json_build_object(
                      'id', p.id, 'thread_id', p.thread_id, 'reply_to', p.reply_to,
                      'state', p.state, 'created_at', cf_time(p.created_at),
                      'revisions', (SELECT json_agg(json_build_object(
                                        'version', r.version, 'body', r.body,
                                        'created_at', cf_time(r.created_at)) ORDER BY r.version)
                                    FROM post_revisions r WHERE r.post_id = p.id))
                      ORDER BY p.id), '[]'::json)
                  FROM posts p WHERE p.author_id = p_user),
        'reactions', (SELECT coalesce(json_agg(json_build_object(
                          'post_id', r.post_id, 'kind', r.kind,
                          'created_at', cf_time(r.created_at)) ORDER BY r.created_at), '[]'::json)
                      FROM reactions r WHERE r.user_id = p_user),
        'bookmarks', (SELECT coalesce(json_agg(json_build_object(
                          'post_id', b.post_id, 'created_at', cf_time(b.created_at))
                          ORDER BY b.created_at), '[]'::json)
                      FROM bookmarks b WHERE b.user_id = p_user),
        'subscriptions', (SELECT coalesce(json_agg(json_build_object(
                              'thread_id', s.thread_id, 'level', s.level) ORDER BY s.thread_id),
                              '[]'::json)
                          FROM subscriptions s WHERE s.user_id = p_user),
        'read_state', (SELECT coalesce(json_agg(json_build_object(
                           'thread_id', rs.thread_id, 'last_read_number', rs.last_read_number)
                           ORDER BY rs.thread_id), '[]'::json)
                       FROM read_state rs WHERE rs.user_id = p_user))
$$;
