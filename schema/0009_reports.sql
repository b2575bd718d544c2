-- Roadmap step 6, reports (SPEC section 10): what a coordinator tells a funder about a
-- period. Everything is counted by network: a member's, a group's, a thread's author's,
-- a clock's mentee's. Coordinators see their own network, admins any or all.

CREATE INDEX posts_created ON posts (created_at);
CREATE INDEX response_clocks_started ON response_clocks (started_at);
CREATE INDEX flags_created ON flags (created_at);
CREATE INDEX meetings_starts ON meetings (starts_at);

-- A time from a client is a date or an RFC 3339 time, nothing else PostgreSQL reads
-- ("yesterday", "epoch", "infinity"): NULL otherwise, as before (meetings, suspensions,
-- reports).
CREATE OR REPLACE FUNCTION cf_parse_time(p_text text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_text !~ ('^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?'
                  '([Zz]|[+-]\d{2}(:?\d{2})?)?)?$') THEN
        RETURN NULL;
    END IF;
    RETURN p_text::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

-- GET /reports/summary. p_network: a code or an id, NULL for all (admins) or one's own
-- (coordinators). The period [from, to): RFC 3339 times or dates; to defaults to now,
-- from to 30 days before to; at most 5 years.
-- {"report"} or {"error": forbidden | network_unknown | period_invalid}.
CREATE FUNCTION cf_report_summary(p_user bigint, p_network text, p_from_text text,
                                  p_to_text text) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    u users;
    net networks;
    nets integer[];
    p_to timestamptz := coalesce(cf_parse_time(p_to_text), now());
    p_from timestamptz := coalesce(cf_parse_time(p_from_text), p_to - interval '30 days');
BEGIN
    IF (p_to_text IS NOT NULL AND cf_parse_time(p_to_text) IS NULL)
       OR (p_from_text IS NOT NULL AND cf_parse_time(p_from_text) IS NULL)
       OR p_from >= p_to OR p_to - p_from > interval '5 years 2 days' THEN
        RETURN json_build_object('error', 'period_invalid');
    END IF;
    SELECT * INTO u FROM users WHERE id = p_user;
    IF u.site_role NOT IN ('coordinator', 'admin') THEN
        RETURN json_build_object('error', 'forbidden');
    END IF;
    IF p_network IS NOT NULL THEN
        SELECT * INTO net FROM networks
        WHERE code = upper(p_network) OR (p_network ~ '^[0-9]{1,9}$' AND id = p_network::integer);
        IF NOT FOUND THEN
            RETURN json_build_object('error', 'network_unknown');
        END IF;
    ELSIF u.site_role = 'coordinator' THEN
        SELECT * INTO net FROM networks WHERE id = u.network_id;
    END IF;
    IF u.site_role = 'coordinator' AND net.id <> u.network_id THEN
        RETURN json_build_object('error', 'forbidden');
    END IF;
    nets := CASE WHEN net.id IS NULL THEN ARRAY(SELECT id FROM networks) ELSE ARRAY[net.id] END;
    RETURN json_build_object('report', json_build_object(
        'network', CASE WHEN net.id IS NOT NULL THEN net.code END,
        'from', cf_time(p_from), 'to', cf_time(p_to),
        -- members who signed in or wrote in the period
        'active_members', (
            SELECT coalesce(json_agg(json_build_object('network', x.code,
                                                       'profession', x.profession,
                                                       'members', x.n)
                                     ORDER BY x.code, x.profession), '[]'::json)
            FROM (SELECT n.code, m.profession, count(*) AS n
                  FROM users m JOIN networks n ON n.id = m.network_id
                  WHERE m.network_id = ANY (nets)
                    AND (EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = m.id
                                   AND s.last_seen_at >= p_from AND s.created_at < p_to)
                         OR EXISTS (SELECT 1 FROM posts p WHERE p.author_id = m.id
                                      AND p.created_at >= p_from AND p.created_at < p_to))
                  GROUP BY n.code, m.profession) x),
        -- threads started and posts written in the period, by where they live
        'activity', (
            SELECT coalesce(json_agg(json_build_object('space', x.space_type,
                                                       'category', x.slug,
                                                       'threads', x.threads,
                                                       'posts', x.posts)
                                     ORDER BY x.space_type, x.slug NULLS FIRST), '[]'::json)
            FROM (SELECT t.space_type, c.slug,
                         count(DISTINCT t.id) FILTER (WHERE p.number = 1) AS threads,
                         count(*) AS posts
                  FROM posts p JOIN threads t ON t.id = p.thread_id
                  JOIN users a ON a.id = p.author_id
                  LEFT JOIN categories c ON c.id = t.category_id
                  WHERE p.created_at >= p_from AND p.created_at < p_to
                    AND p.state <> 'deleted' AND a.network_id = ANY (nets)
                  GROUP BY t.space_type, c.slug) x),
        -- clocks started in the period: answered, how fast, and the share within 72 h
        -- of those that were answered or have waited 72 h
        'first_response', (
            SELECT json_build_object(
                'clocks', count(*),
                'answered', count(*) FILTER (WHERE rc.stopped_at IS NOT NULL),
                'median_seconds', percentile_disc(0.5) WITHIN GROUP (ORDER BY rc.response_seconds)
                                  FILTER (WHERE rc.stopped_at IS NOT NULL),
                'p90_seconds', percentile_disc(0.9) WITHIN GROUP (ORDER BY rc.response_seconds)
                               FILTER (WHERE rc.stopped_at IS NOT NULL),
                'within_72h_share', round(
                    (count(*) FILTER (WHERE rc.response_seconds <= 259200))::numeric
                    / nullif(count(*) FILTER (WHERE rc.stopped_at IS NOT NULL
                                                 OR rc.started_at <= now() - interval '72 hours'),
                             0), 4),
                'waiting', count(*) FILTER (WHERE rc.stopped_at IS NULL))
            FROM response_clocks rc JOIN users m ON m.id = rc.mentee_id
            WHERE rc.started_at >= p_from AND rc.started_at < p_to
              AND m.network_id = ANY (nets)),
        -- flags raised in the period on the network's members' posts, and those resolved
        'flags', (
            SELECT json_build_object(
                'raised', count(*) FILTER (WHERE f.created_at >= p_from AND f.created_at < p_to),
                'resolved', count(*) FILTER (WHERE f.resolved_at >= p_from
                                               AND f.resolved_at < p_to),
                'by_reason', (SELECT coalesce(json_object_agg(r.reason, r.n), '{}'::json)
                              FROM (SELECT f2.reason, count(*) AS n FROM flags f2
                                    JOIN posts p2 ON p2.id = f2.post_id
                                    JOIN users a2 ON a2.id = p2.author_id
                                    WHERE f2.created_at >= p_from AND f2.created_at < p_to
                                      AND a2.network_id = ANY (nets)
                                    GROUP BY f2.reason) r))
            FROM flags f JOIN posts p ON p.id = f.post_id JOIN users a ON a.id = p.author_id
            WHERE a.network_id = ANY (nets)
              AND ((f.created_at >= p_from AND f.created_at < p_to)
                   OR (f.resolved_at >= p_from AND f.resolved_at < p_to))),
        -- meetings of the network's groups held in the period (not cancelled, begun)
        'meetings', (
            SELECT json_build_object('held', count(*),
                                     'groups', count(DISTINCT mt.group_id),
                                     'minutes', coalesce(sum(mt.duration_minutes), 0))
            FROM meetings mt JOIN groups g ON g.id = mt.group_id
            WHERE mt.starts_at >= p_from AND mt.starts_at < least(p_to, now())
              AND mt.cancelled_at IS NULL AND g.network_id = ANY (nets))));
END $$;
