-- Roadmap step 3: the national forum's categories (SPEC sections 1, 3 and 4).
-- Open to every member; admins create and edit them (logged). thread_count and
-- last_post_at are kept by the thread and post writes of the next migration.

CREATE TABLE categories (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug           text NOT NULL UNIQUE
                   CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 40),
    name_en        text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 60),
    name_fr        text NOT NULL CHECK (length(name_fr) BETWEEN 1 AND 60),
    description_en text NOT NULL DEFAULT '' CHECK (length(description_en) <= 500),
    description_fr text NOT NULL DEFAULT '' CHECK (length(description_fr) <= 500),
    position       integer NOT NULL DEFAULT 0 CHECK (position BETWEEN 0 AND 10000),
    thread_count   integer NOT NULL DEFAULT 0,
    last_post_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);

INSERT INTO categories (slug, name_en, name_fr, description_en, description_fr, position) VALUES
('chronic-pain', 'Chronic pain', 'Douleur chronique',
 'Assessment and management of persistent pain: function-focused plans, opioid stewardship and tapering, non-drug care.',
 'Évaluation et prise en charge de la douleur persistante : plans axés sur la fonction, bon usage et réduction des opioïdes, soins non pharmacologiques.',
 10),
('mental-health', 'Mental health', 'Santé mentale',
 'Depression, anxiety, trauma and other mental health concerns seen in primary care.',
 'Dépression, anxiété, trauma et autres enjeux de santé mentale vus en première ligne.',
 20),
('substance-use', 'Substance use', 'Usage de substances',
 'Opioid agonist treatment, alcohol and stimulant use, harm reduction and withdrawal management.',
 'Traitement par agonistes opioïdes, alcool et stimulants, réduction des méfaits et gestion du sevrage.',
 30),
('mentoring-practice', 'Mentoring practice', 'Pratique du mentorat',
 'How we mentor and learn together: group sessions, case presentation, feedback and resources.',
 'Comment nous apprenons ensemble : rencontres de groupe, présentation de cas, rétroaction et ressources.',
 40),
('general', 'General', 'Général',
 'Announcements, introductions and anything that fits nowhere else.',
 'Annonces, présentations et tout ce qui n''a pas sa place ailleurs.',
 50);

CREATE FUNCTION cf_category_json(c categories) RETURNS json LANGUAGE sql STABLE AS $$
    SELECT json_build_object(
        'id', c.id,
        'slug', c.slug,
        'name', json_build_object('en', c.name_en, 'fr', c.name_fr),
        'description', json_build_object('en', c.description_en, 'fr', c.description_fr),
        'position', c.position,
        'thread_count', c.thread_count,
        'last_post_at', cf_time(c.last_post_at))
$$;

-- Creates (p_key NULL) or edits the category whose id or slug is p_key, from the fields present in p_fields
-- (slug, name_en, name_fr, description_en, description_fr, position), and logs it.
-- Answers {"category": …} or {"error": "not_found"|"slug_taken"}.
CREATE FUNCTION cf_category_save(p_actor bigint, p_key text, p_fields jsonb)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    c categories;
    before jsonb;
BEGIN
    IF p_key IS NULL THEN
        INSERT INTO categories (slug, name_en, name_fr, description_en, description_fr, position)
        VALUES (p_fields->>'slug', p_fields->>'name_en', p_fields->>'name_fr',
                coalesce(p_fields->>'description_en', ''), coalesce(p_fields->>'description_fr', ''),
                coalesce((p_fields->>'position')::integer,
                         (SELECT coalesce(max(position), 0) + 10 FROM categories)))
        RETURNING * INTO c;
    ELSE
        SELECT * INTO c FROM categories WHERE id::text = p_key OR slug = p_key FOR UPDATE;
        IF NOT FOUND THEN
            RETURN json_build_object('error', 'not_found');
        END IF;
        before := to_jsonb(cf_category_json(c)) - 'thread_count' - 'last_post_at';
        UPDATE categories SET
            slug = coalesce(p_fields->>'slug', slug),
            name_en = coalesce(p_fields->>'name_en', name_en),
            name_fr = coalesce(p_fields->>'name_fr', name_fr),
            description_en = coalesce(p_fields->>'description_en', description_en),
            description_fr = coalesce(p_fields->>'description_fr', description_fr),
            position = coalesce((p_fields->>'position')::integer, position)
        WHERE id = c.id RETURNING * INTO c;
    END IF;
    INSERT INTO moderation_log (actor_id, action, target_type, target_id, before, after)
    VALUES (p_actor, CASE WHEN p_key IS NULL THEN 'category.create' ELSE 'category.update' END,
            'category', c.id, before,
            to_jsonb(cf_category_json(c)) - 'thread_count' - 'last_post_at');
    RETURN json_build_object('category', cf_category_json(c));
EXCEPTION WHEN unique_violation THEN
    RETURN json_build_object('error', 'slug_taken');
END $$;
