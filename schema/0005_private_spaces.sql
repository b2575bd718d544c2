-- Roadmap step 4, private spaces (SPEC sections 1, 2 and 4): mentorship groups and
-- one-to-one conversations. A group belongs to a network; one mentor (and optionally a
-- co-mentor) and up to max_mentees mentees.
-- Coordinators create and staff the groups of their own network, admins anywhere;
-- every change of membership is a role action, written to the moderation log.

CREATE TABLE groups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network_id  integer NOT NULL REFERENCES networks (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 2 AND 100),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    max_mentees integer NOT NULL DEFAULT 4 CHECK (max_mentees BETWEEN 1 AND 20),
    created_by  bigint REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX groups_network ON groups (network_id, id);

CREATE TABLE group_members (
    group_id bigint NOT NULL REFERENCES groups (id),
    user_id  bigint NOT NULL REFERENCES users (id),
    role     text NOT NULL CHECK (role IN ('mentor', 'mentee')),
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id, group_id);

ALTER TABLE threads ADD CONSTRAINT threads_group_fk FOREIGN KEY (group_id) REFERENCES groups (id);
ALTER TABLE threads ADD CONSTRAINT threads_group_space
    CHECK ((space_type = 'group') = (group_id IS NOT NULL));

-- Who runs a group: admins anywhere, coordinators in their own network.
CREATE FUNCTION cf_group_admin(p_user bigint, p_network integer) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM users u WHERE u.id = p_user
                   AND (u.site_role = 'admin'
                        OR (u.site_role = 'coordinator' AND u.network_id = p_network)));
END $$;

-- Who reads a group and its threads (SPEC section 2): its members, the coordinators of
-- its network, moderators and admins.
CREATE FUNCTION cf_group_readable(p_user bigint, p_group bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = p_group AND m.user_id = p_user)
        OR EXISTS (SELECT 1 FROM users u JOIN groups g ON g.id = p_group
                   WHERE u.id = p_user
                     AND (u.site_role IN ('moderator', 'admin')
                          OR (u.site_role = 'coordinator' AND u.network_id = g.network_id)));
END $$;

CREATE FUNCTION cf_group_base_json(g groups, p_user bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT row_to_json(x) FROM (SELECT
        g.id,
        (SELECT n FROM (SELECT nw.id, nw.code, (SELECT l FROM (SELECT nw.name_en AS en,
                                                                  nw.name_fr AS fr) l) AS name
                        FROM networks nw WHERE nw.id = g.network_id) n) AS network,
        g.name, g.description, g.max_mentees,
        coalesce((SELECT json_agg(json_build_object('user', m.author, 'role', m.role,
                                                    'added_at', cf_time(m.added_at))
                                  ORDER BY m.role, m.added_at, m.user_id)
                  FROM (SELECT (SELECT a FROM (SELECT u.id, u.display_name, u.handle,
                                                      u.profession) a) AS author,
                               gm.role, gm.added_at, gm.user_id
                        FROM group_members gm JOIN users u ON u.id = gm.user_id
                        WHERE gm.group_id = g.id) m), '[]'::json) AS members,
        (SELECT gm.role FROM group_members gm
         WHERE gm.group_id = g.id AND gm.user_id = p_user) AS my_role,
        cf_time(g.created_at) AS created_at) x);
END $$;

-- POST (p_id NULL) or PATCH /groups: name, description, max_mentees, and on creation
-- the network (a code or an id). {"group"} or {"error": not_found | forbidden |
-- network_unknown | max_below_mentees}.
CREATE FUNCTION cf_group_save(p_actor bigint, p_id bigint, p_fields jsonb) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    g groups;
    net networks;
    before jsonb;
BEGIN
    IF p_id IS NULL THEN
        SELECT * INTO net FROM networks
        WHERE code = upper(p_fields->>'network')
           OR ((p_fields->>'network') ~ '^[0-9]{1,9}$' AND id = (p_fields->>'network')::integer);
        IF NOT FOUND THEN
            RETURN json_build_object('error', 'network_unknown');
        ELSIF NOT cf_group_admin(p_actor, net.id) THEN
            RETURN json_build_object('error', 'forbidden');
        END IF;
        INSERT INTO groups (network_id, name, description, max_mentees, created_by)
        VALUES (net.id, p_fields->>'name', coalesce(p_fields->>'description', ''),
                coalesce((p_fields->>'max_mentees')::integer, 4), p_actor)
        RETURNING * INTO g;
    ELSE
        SELECT * INTO g FROM groups WHERE id = p_id FOR UPDATE;
        IF NOT FOUND OR NOT cf_group_readable(p_actor, g.id) THEN
            RETURN json_build_object('error', 'not_found');
        ELSIF NOT cf_group_admin(p_actor, g.network_id) THEN
            RETURN json_build_object('error', 'forbidden');
        ELSIF (p_fields->>'max_mentees')::integer < (SELECT count(*) FROM group_members
                                                      WHERE group_id = g.id AND role = 'mentee')
        THEN
            RETURN json_build_object('error', 'max_below_mentees');
        END IF;
        before := jsonb_build_object('name', g.name, 'description', g.description,
                                     'max_mentees', g.max_mentees);
        UPDATE groups SET
            name = coalesce(p_fields->>'name', name),
            description = coalesce(p_fields->>'description', description),
            max_mentees = coalesce((p_fields->>'max_mentees')::integer, max_mentees)
        WHERE id = g.id RETURNING * INTO g;
    END IF;
    INSERT INTO moderation_log (actor_id, action, target_type, target_id, before, after)
    VALUES (p_actor, CASE WHEN p_id IS NULL THEN 'group.create' ELSE 'group.update' END,
            'group', g.id, before,
            jsonb_build_object('name', g.name, 'description', g.description,
                               'max_mentees', g.max_mentees, 'network_id', g.network_id));
    RETURN json_build_object('group', cf_group_json(g, p_actor));
END $$;

-- PUT /groups/{id}/members/{user_id} (p_role) or DELETE (p_role NULL). The group's
-- row lock orders concurrent changes, so max_mentees and the two mentors hold.
-- {"group"} or {"error": not_found | forbidden | user_unknown | group_full |
-- mentors_full | not_a_member}.
CREATE FUNCTION cf_group_member_set(p_actor bigint, p_group bigint, p_user bigint, p_role text,
                                    p_reason text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    g groups;
    old_role text;
BEGIN
    SELECT * INTO g FROM groups WHERE id = p_group FOR UPDATE;
    IF NOT FOUND OR NOT cf_group_readable(p_actor, g.id) THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF NOT cf_group_admin(p_actor, g.network_id) THEN
        RETURN json_build_object('error', 'forbidden');
    ELSIF NOT EXISTS (SELECT 1 FROM users WHERE id = p_user) THEN
        RETURN json_build_object('error', 'user_unknown');
    END IF;
    SELECT role INTO old_role FROM group_members WHERE group_id = g.id AND user_id = p_user;
    IF p_role IS NULL THEN
        IF old_role IS NULL THEN
            RETURN json_build_object('error', 'not_a_member');
        END IF;
        DELETE FROM group_members WHERE group_id = g.id AND user_id = p_user;
    ELSIF old_role IS DISTINCT FROM p_role THEN
        IF p_role = 'mentee' AND (SELECT count(*) FROM group_members
                                  WHERE group_id = g.id AND role = 'mentee') >= g.max_mentees THEN
            RETURN json_build_object('error', 'group_full');
        ELSIF p_role = 'mentor' AND (SELECT count(*) FROM group_members
                                     WHERE group_id = g.id AND role = 'mentor') >= 2 THEN
            RETURN json_build_object('error', 'mentors_full');
        END IF;
        INSERT INTO group_members (group_id, user_id, role) VALUES (g.id, p_user, p_role)
        ON CONFLICT (group_id, user_id) DO UPDATE SET role = EXCLUDED.role;
    END IF;
    IF old_role IS DISTINCT FROM p_role THEN
        INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason, before,
                                    after)
        VALUES (p_actor, CASE WHEN p_role IS NULL THEN 'group.member.remove'
                              ELSE 'group.member.set' END,
                'group', g.id, coalesce(p_reason, ''),
                jsonb_build_object('user_id', p_user, 'role', old_role),
                jsonb_build_object('user_id', p_user, 'role', p_role));
    END IF;
    RETURN json_build_object('group', cf_group_json(g, p_actor));
END $$;

-- GET /groups: mine; a coordinator's network's; every group for moderators and admins.
-- Newest first, keyset on id. JSON text.
CREATE FUNCTION cf_group_list(p_user bigint, p_cursor bigint[], p_limit integer) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u users;
    ids bigint[];
    last_id bigint := coalesce(p_cursor[1], 9223372036854775807);
BEGIN
    SELECT * INTO u FROM users WHERE id = p_user;
    SELECT array_agg(g.id ORDER BY g.id DESC) INTO ids FROM (
        SELECT g.id FROM groups g
        WHERE g.id < last_id
          AND (u.site_role IN ('moderator', 'admin')
               OR (u.site_role = 'coordinator' AND g.network_id = u.network_id)
               OR EXISTS (SELECT 1 FROM group_members m
                          WHERE m.group_id = g.id AND m.user_id = p_user))
        ORDER BY g.id DESC LIMIT p_limit + 1) g;
    RETURN json_build_object(
        'items', coalesce((SELECT json_agg(cf_group_json(g, p_user) ORDER BY g.id DESC)
                           FROM groups g WHERE g.id = ANY (ids[1:p_limit])), '[]'::json),
        'next_cursor', CASE WHEN cardinality(ids) > p_limit
                            THEN cf_cursor_of(ARRAY[ids[p_limit]]) END)::text;
END $$;

-- GET /me lists my groups with my role.
CREATE OR REPLACE FUNCTION cf_me_json(u users, session_id bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    current_version integer;
BEGIN
    SELECT max(version) INTO current_version FROM guidelines;
    RETURN (cf_user_json(u, true)::jsonb || jsonb_build_object(
        'email', u.email,
        'locale', u.locale,
        'email_notifications', u.email_notifications,
        'guidelines_accepted', u.guidelines_version IS NOT DISTINCT FROM current_version,
        'guidelines_version', u.guidelines_version,
        'groups', coalesce((SELECT jsonb_agg(jsonb_build_object('id', g.id, 'name', g.name,
                                                                'role', m.role)
                                             ORDER BY g.name, g.id)
                            FROM group_members m JOIN groups g ON g.id = m.group_id
                            WHERE m.user_id = u.id), '[]'::jsonb),
        'unread_notifications', 0,
        'session_id', session_id))::json;
END $$;

-- ---- group threads: the forum's machinery, with the access of SPEC section 2 --------

CREATE INDEX threads_group ON threads (group_id) WHERE group_id IS NOT NULL;

-- Whether the member is in the group, or takes part in the conversation.
CREATE FUNCTION cf_group_member(p_group bigint, p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM group_members WHERE group_id = p_group AND user_id = p_user);
END $$;

CREATE FUNCTION cf_participant(p_thread bigint, p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM conversation_participants
                   WHERE thread_id = p_thread AND user_id = p_user);
END $$;

-- Read: a category thread, every member; a group thread, those who read the group; a
-- conversation, its participants only (moderators read a conversation's post only
-- when it is flagged, through the moderation queue of step 5). Deleted threads only
-- for those who moderate them.
CREATE OR REPLACE FUNCTION cf_thread_readable(t threads, p_user bigint, p_moderator boolean)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF t.id IS NULL OR (t.deleted_at IS NOT NULL AND NOT p_moderator) THEN
        RETURN false;
    ELSIF t.space_type = 'category' THEN
        RETURN true;
    ELSIF t.space_type = 'group' THEN
        RETURN cf_group_readable(p_user, t.group_id);
    ELSIF t.space_type = 'conversation' THEN
        RETURN cf_participant(t.id, p_user);
    END IF;
    RETURN false;
END $$;

-- Moderate: moderators and admins in the forum and in groups; coordinators in their
-- network's groups; nobody in a conversation (its participants flag instead).
CREATE OR REPLACE FUNCTION cf_thread_moderator(t threads, p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF t.id IS NULL OR t.space_type = 'conversation' THEN
        RETURN false;
    ELSIF cf_is_moderator(p_user) THEN
        RETURN true;
    ELSIF t.space_type = 'group' THEN
        RETURN EXISTS (SELECT 1 FROM users u JOIN groups g ON g.id = t.group_id
                       WHERE u.id = p_user AND u.site_role = 'coordinator'
                         AND u.network_id = g.network_id);
    END IF;
    RETURN false;
END $$;

-- Write (start threads, reply, react): every member in the forum; a group's members
-- (not the coordinators, moderators and admins who read it) in a group.
CREATE OR REPLACE FUNCTION cf_thread_writable(t threads, p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF t.space_type = 'category' THEN
        RETURN true;
    ELSIF t.space_type = 'group' THEN
        RETURN cf_group_member(t.group_id, p_user);
    ELSIF t.space_type = 'conversation' THEN
        RETURN cf_participant(t.id, p_user);
    END IF;
    RETURN false;
END $$;

-- A mentor accepts answers: a group's mentor in its threads; in the national forum,
-- anyone who mentors a group.
CREATE OR REPLACE FUNCTION cf_thread_mentor(t threads, p_user bigint) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF t.space_type = 'group' THEN
        RETURN EXISTS (SELECT 1 FROM group_members
                       WHERE group_id = t.group_id AND user_id = p_user AND role = 'mentor');
    END IF;
    RETURN EXISTS (SELECT 1 FROM group_members WHERE user_id = p_user AND role = 'mentor');
END $$;

CREATE OR REPLACE FUNCTION cf_space_readable(p_user bigint, p_type text, p_id bigint)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_type = 'group' THEN
        RETURN cf_group_readable(p_user, p_id);
    END IF;
    RETURN p_type = 'category';
END $$;

-- A new thread in a group: the group must be one the member reads (else it does not
-- exist for them) and they must be in it.
CREATE OR REPLACE FUNCTION cf_space_check(p_user bigint, p_category bigint, p_group bigint)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_group IS NOT NULL THEN
        IF NOT EXISTS (SELECT 1 FROM groups WHERE id = p_group)
           OR NOT cf_group_readable(p_user, p_group) THEN
            RETURN 'group_unknown';
        ELSIF NOT cf_group_member(p_group, p_user) THEN
            RETURN 'forbidden';
        END IF;
        RETURN NULL;
    ELSIF NOT EXISTS (SELECT 1 FROM categories WHERE id = p_category) THEN
        RETURN 'category_unknown';
    END IF;
    RETURN NULL;
END $$;

-- ---- conversations --------------------------------------------------------------------

-- POST /conversations: a private thread between the member and p_participants (other
-- members; the starter is added). {"thread"} (SPEC: 201 thread) or {"error":
-- participants_unknown | rate_limited (with retry_after)}.
CREATE FUNCTION cf_conversation_create(p_user bigint, p_participants bigint[], p_title text,
                                       p_body text, p_html text, p_mentions bigint[],
                                       p_ack boolean, p_interval integer) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    t threads;
    p posts;
    wait integer;
    others bigint[] := ARRAY(SELECT DISTINCT x FROM unnest(p_participants) x WHERE x <> p_user);
BEGIN
    IF cardinality(others) = 0
       OR (SELECT count(*) FROM users WHERE id = ANY (others)) <> cardinality(others) THEN
        RETURN json_build_object('error', 'participants_unknown');
    END IF;
    wait := cf_member_posts(p_user, p_interval, true);
    IF wait > 0 THEN
        RETURN json_build_object('error', 'rate_limited', 'retry_after', wait);
    END IF;
    INSERT INTO threads (space_type, title, author_id, post_count, highest_post_number)
    VALUES ('conversation', p_title, p_user, 1, 1)
    RETURNING * INTO t;
    INSERT INTO conversation_participants (thread_id, user_id)
    SELECT t.id, x FROM unnest(others || p_user) x;
    -- the thread's JSON names its participants, who exist only now
    UPDATE threads SET json_public = NULL WHERE id = t.id RETURNING * INTO t;
    p := cf_post_insert(t.id, 1, p_user, NULL, p_body, p_html, p_mentions, p_ack, p_title);
    -- every participant watches: a message is for all of them
    INSERT INTO subscriptions (user_id, thread_id, level)
    SELECT x, t.id, 'watching' FROM unnest(others || p_user) x
    ON CONFLICT DO NOTHING;
    RETURN json_build_object('thread', cf_thread_json(t, p_user));
END $$;

-- GET /conversations: mine, latest activity first; keyset on (last_post_at, id). JSON text.
CREATE FUNCTION cf_conversation_list(p_user bigint, p_cursor bigint[], p_limit integer)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    c_time timestamptz := 'infinity';
    c_id bigint := 9223372036854775807;
    ids bigint[];
    last threads;
BEGIN
    IF cardinality(p_cursor) = 2 THEN
        c_time := cf_from_epoch_us(p_cursor[1]);
        c_id := p_cursor[2];
    END IF;
    ids := ARRAY(SELECT t.id FROM conversation_participants cp
                 JOIN threads t ON t.id = cp.thread_id
                 WHERE cp.user_id = p_user AND t.deleted_at IS NULL
                   AND (t.last_post_at, t.id) < (c_time, c_id)
                 ORDER BY t.last_post_at DESC, t.id DESC LIMIT p_limit + 1);
    IF cardinality(ids) > p_limit THEN
        SELECT * INTO last FROM threads WHERE id = ids[p_limit];
    END IF;
    RETURN '{"items":' || cf_threads_text(p_user, ids[1:p_limit]) || ',"next_cursor":'
        || CASE WHEN last.id IS NOT NULL
                THEN to_json(cf_cursor_of(ARRAY[cf_epoch_us(last.last_post_at), last.id]))::text
                ELSE 'null' END || '}';
END $$;

-- ---- meetings ---------------------------------------------------------------------------

-- A group's meetings, about monthly. Cancelling keeps the row (reports count meetings
-- held; calendars need to hear of the cancellation): cancelled_at is set.
CREATE TABLE meetings (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id         bigint NOT NULL REFERENCES groups (id),
    starts_at        timestamptz NOT NULL,
    duration_minutes integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 600),
    mode             text NOT NULL CHECK (mode IN ('video', 'phone', 'in_person')),
    location         text NOT NULL DEFAULT '' CHECK (length(location) <= 500),
    agenda           text NOT NULL DEFAULT '' CHECK (length(agenda) <= 5000),
    created_by       bigint NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    sequence         integer NOT NULL DEFAULT 0,   -- RFC 5545 SEQUENCE: bumped by each change
    cancelled_at     timestamptz
);
CREATE INDEX meetings_group ON meetings (group_id, starts_at, id);

CREATE FUNCTION cf_meeting_json(m meetings) RETURNS json LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN json_build_object(
        'id', m.id, 'group_id', m.group_id, 'starts_at', cf_time(m.starts_at),
        'ends_at', cf_time(m.starts_at + make_interval(mins => m.duration_minutes)),
        'duration_minutes', m.duration_minutes, 'mode', m.mode, 'where', m.location,
        'agenda', m.agenda, 'cancelled', m.cancelled_at IS NOT NULL,
        'sequence', m.sequence, 'updated_at', cf_time(m.updated_at));
END $$;

-- Who schedules a group's meetings: its mentors, and those who run the group.
CREATE FUNCTION cf_meeting_organiser(p_user bigint, g groups) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN cf_group_admin(p_user, g.network_id)
        OR EXISTS (SELECT 1 FROM group_members
                   WHERE group_id = g.id AND user_id = p_user AND role = 'mentor');
END $$;

-- POST (p_meeting NULL), PATCH or DELETE (p_cancel) a meeting. {"meeting"} or
-- {"error": not_found | forbidden | starts_at_invalid}.
-- A time from a client: NULL when PostgreSQL cannot read it (the caller answers 422).
CREATE FUNCTION cf_parse_time(p_text text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN p_text::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

CREATE FUNCTION cf_meeting_save(p_user bigint, p_group bigint, p_meeting bigint, p_fields jsonb,
                                p_cancel boolean) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    g groups;
    m meetings;
BEGIN
    SELECT * INTO g FROM groups WHERE id = p_group;
    IF NOT FOUND OR NOT cf_group_readable(p_user, g.id) THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    IF p_meeting IS NOT NULL THEN
        SELECT * INTO m FROM meetings WHERE id = p_meeting AND group_id = g.id FOR UPDATE;
        IF NOT FOUND THEN
            RETURN json_build_object('error', 'not_found');
        END IF;
    END IF;
    IF NOT cf_meeting_organiser(p_user, g) THEN
        RETURN json_build_object('error', 'forbidden');
    ELSIF p_fields ? 'starts_at' AND cf_parse_time(p_fields->>'starts_at') IS NULL THEN
        RETURN json_build_object('error', 'starts_at_invalid');
    END IF;
    IF p_meeting IS NULL THEN
        INSERT INTO meetings (group_id, starts_at, duration_minutes, mode, location, agenda,
                              created_by)
        VALUES (g.id, (p_fields->>'starts_at')::timestamptz,
                (p_fields->>'duration_minutes')::integer, p_fields->>'mode',
                coalesce(p_fields->>'where', ''), coalesce(p_fields->>'agenda', ''), p_user)
        RETURNING * INTO m;
    ELSIF p_cancel THEN
        UPDATE meetings SET cancelled_at = coalesce(cancelled_at, now()), updated_at = now(),
                            sequence = sequence + 1
        WHERE id = m.id RETURNING * INTO m;
    ELSE
        UPDATE meetings SET
            starts_at = coalesce((p_fields->>'starts_at')::timestamptz, starts_at),
            duration_minutes = coalesce((p_fields->>'duration_minutes')::integer,
                                        duration_minutes),
            mode = coalesce(p_fields->>'mode', mode),
            location = coalesce(p_fields->>'where', location),
            agenda = coalesce(p_fields->>'agenda', agenda),
            updated_at = now(), sequence = sequence + 1
        WHERE id = m.id RETURNING * INTO m;
    END IF;
    RETURN json_build_object('meeting', cf_meeting_json(m));
END $$;

-- GET /groups/{id}/meetings: upcoming (not ended) first by start, or past (ended) most
-- recent first; keyset on (starts_at, id). NULL when the group is not the caller's to
-- read. JSON text.
CREATE FUNCTION cf_meeting_list(p_user bigint, p_group bigint, p_past boolean,
                                p_cursor bigint[], p_limit integer) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    ids bigint[];
    last meetings;
    c_time timestamptz;
    c_id bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM groups WHERE id = p_group)
       OR NOT cf_group_readable(p_user, p_group) THEN
        RETURN NULL;
    END IF;
    IF cardinality(p_cursor) = 2 THEN
        c_time := cf_from_epoch_us(p_cursor[1]);
        c_id := p_cursor[2];
    END IF;
    IF p_past THEN
        ids := ARRAY(SELECT id FROM meetings
                     WHERE group_id = p_group
                       AND starts_at + make_interval(mins => duration_minutes) <= now()
                       AND (starts_at, id) < (coalesce(c_time, 'infinity'),
                                              coalesce(c_id, 9223372036854775807))
                     ORDER BY starts_at DESC, id DESC LIMIT p_limit + 1);
    ELSE
        ids := ARRAY(SELECT id FROM meetings
                     WHERE group_id = p_group
                       AND starts_at + make_interval(mins => duration_minutes) > now()
                       AND (starts_at, id) > (coalesce(c_time, '-infinity'), coalesce(c_id, 0))
                     ORDER BY starts_at, id LIMIT p_limit + 1);
    END IF;
    IF cardinality(ids) > p_limit THEN
        SELECT * INTO last FROM meetings WHERE id = ids[p_limit];
    END IF;
    RETURN json_build_object(
        'items', coalesce((SELECT json_agg(cf_meeting_json(m) ORDER BY array_position(ids, m.id))
                           FROM meetings m WHERE m.id = ANY (ids[1:p_limit])), '[]'::json),
        'next_cursor', CASE WHEN last.id IS NOT NULL
                            THEN cf_cursor_of(ARRAY[cf_epoch_us(last.starts_at), last.id]) END)::text;
END $$;

-- The .ics feed: the group and every meeting (cancelled ones included, so calendars
-- remove them). NULL when the group is not the caller's to read.
CREATE FUNCTION cf_meeting_calendar(p_user bigint, p_group bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM groups WHERE id = p_group)
       OR NOT cf_group_readable(p_user, p_group) THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT json_build_object(
        'group', g.name,
        'meetings', coalesce((SELECT json_agg(json_build_object(
                        'id', m.id,
                        'start', to_char(m.starts_at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"'),
                        'end', to_char((m.starts_at + make_interval(mins => m.duration_minutes))
                                       AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"'),
                        'stamp', to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"'),
                        'mode', m.mode, 'where', m.location, 'agenda', m.agenda,
                        'sequence', m.sequence, 'cancelled', m.cancelled_at IS NOT NULL)
                        ORDER BY m.starts_at, m.id)
                    FROM meetings m WHERE m.group_id = g.id), '[]'::json))
        FROM groups g WHERE g.id = p_group);
END $$;

-- A group's JSON names its next meeting and its upcoming ones (not cancelled, not
-- ended; the first five).
CREATE FUNCTION cf_group_json(g groups, p_user bigint) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    base jsonb := cf_group_base_json(g, p_user)::jsonb;
    upcoming jsonb;
BEGIN
    SELECT coalesce(jsonb_agg(cf_meeting_json(m)::jsonb ORDER BY m.starts_at, m.id), '[]')
    INTO upcoming
    FROM (SELECT * FROM meetings
          WHERE group_id = g.id AND cancelled_at IS NULL
            AND starts_at + make_interval(mins => duration_minutes) > now()
          ORDER BY starts_at, id LIMIT 5) m;
    RETURN (base || jsonb_build_object('next_meeting', upcoming -> 0,
                                       'upcoming_meetings', upcoming))::json;
END $$;

-- ---- hiding posts ------------------------------------------------------------------------

-- POST /posts/{id}/hide and /unhide: those who moderate the thread, and in a group its
-- mentors (SPEC section 2: "+ the group's mentor (hide only)"; they may also undo their
-- own call). Readers then see the post's place without its text; its author and those
-- who moderate still see it, and the author may edit it for re-review. Logged with the
-- reason. {"post"} or {"error": not_found | forbidden | post_deleted}.
CREATE FUNCTION cf_post_hide(p_user bigint, p_post bigint, p_hide boolean, p_reason text)
RETURNS json LANGUAGE plpgsql AS $$
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
    IF p.id IS NULL OR NOT cf_thread_readable(t, p_user, moderator) THEN
        RETURN json_build_object('error', 'not_found');
    ELSIF NOT (moderator OR (t.space_type = 'group' AND EXISTS (
                   SELECT 1 FROM group_members WHERE group_id = t.group_id
                   AND user_id = p_user AND role = 'mentor'))) THEN
        RETURN json_build_object('error', 'forbidden');
    ELSIF p.state = 'deleted' THEN
        RETURN json_build_object('error', 'post_deleted');
    END IF;
    IF p.state = (CASE WHEN p_hide THEN 'visible' ELSE 'hidden' END) THEN
        UPDATE posts SET state = CASE WHEN p_hide THEN 'hidden' ELSE 'visible' END
        WHERE id = p.id RETURNING * INTO p;
        UPDATE threads
        SET post_count = greatest(post_count + (CASE WHEN p_hide THEN -1 ELSE 1 END), 0)
        WHERE id = t.id;
        INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason, before,
                                    after)
        VALUES (p_user, CASE WHEN p_hide THEN 'post.hide' ELSE 'post.unhide' END, 'post', p.id,
                p_reason,
                jsonb_build_object('state', CASE WHEN p_hide THEN 'visible' ELSE 'hidden' END),
                jsonb_build_object('state', p.state));
    END IF;
    RETURN json_build_object('post', cf_post_json(p, p_user, moderator));
END $$;
