-- 0002: accounts. Professions, users with site roles, invitations, sessions,
-- community guidelines, the append-only moderation log, and rate counters
-- (kept in PostgreSQL so that several instances share them).

CREATE TABLE professions (
    code      text PRIMARY KEY CHECK (code ~ '^[a-z_]{2,40}$'),
    name_en   text NOT NULL,
    name_fr   text NOT NULL,
    position  integer NOT NULL
);

INSERT INTO professions (code, name_en, name_fr, position) VALUES
    ('family_physician', 'Family physician', 'Médecin de famille', 1),
    ('nurse_practitioner', 'Nurse practitioner', 'Infirmière praticienne / infirmier praticien', 2),
    ('registered_nurse', 'Registered nurse', 'Infirmière autorisée / infirmier autorisé', 3),
    ('occupational_therapist', 'Occupational therapist', 'Ergothérapeute', 4),
    ('physiotherapist', 'Physiotherapist', 'Physiothérapeute', 5),
    ('social_worker', 'Social worker', 'Travailleuse sociale / travailleur social', 6),
    ('pharmacist', 'Pharmacist', 'Pharmacienne / pharmacien', 7),
    ('psychologist', 'Psychologist', 'Psychologue', 8),
    ('psychiatrist', 'Psychiatrist', 'Psychiatre', 9),
    ('other_physician', 'Other physician', 'Autre médecin', 10),
    ('other', 'Other', 'Autre', 11);

CREATE TABLE users (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email                  text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    display_name           text NOT NULL CHECK (length(display_name) BETWEEN 2 AND 60),
    profession             text NOT NULL REFERENCES professions (code),
    network_id             integer NOT NULL REFERENCES networks (id),
    site_role              text NOT NULL DEFAULT 'member'
                           CHECK (site_role IN ('member', 'coordinator', 'moderator', 'admin')),
    password_hash          text NOT NULL,
    locale                 text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'fr')),
    bio                    text NOT NULL DEFAULT '' CHECK (length(bio) <= 2000),
    email_notifications    text NOT NULL DEFAULT 'immediate'
                           CHECK (email_notifications IN ('immediate', 'daily', 'off')),
    guidelines_version     integer,
    guidelines_accepted_at timestamptz,
    suspended_until        timestamptz,
    suspended_reason       text,
    post_count             integer NOT NULL DEFAULT 0,
    joined_at              timestamptz NOT NULL DEFAULT now(),
    password_changed_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_network_idx ON users (network_id);

CREATE TABLE invitations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_hash   bytea NOT NULL UNIQUE,          -- SHA-256 of the code; the code itself is never stored
    email       text NOT NULL,
    network_id  integer NOT NULL REFERENCES networks (id),
    site_role   text NOT NULL DEFAULT 'member'
                CHECK (site_role IN ('member', 'coordinator', 'moderator', 'admin')),
    invited_by  bigint REFERENCES users (id),   -- NULL: made with `confer invite`
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    used_by     bigint REFERENCES users (id)
);
CREATE INDEX invitations_email_idx ON invitations (lower(email));

CREATE TABLE sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id),
    token_hash    bytea NOT NULL UNIQUE,         -- SHA-256 of the bearer token
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,          -- absolute lifetime
    ended_at      timestamptz,
    user_agent    text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 300),
    ip            inet
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE ended_at IS NULL;

CREATE TABLE guidelines (
    version       integer PRIMARY KEY CHECK (version > 0),
    body_en       text NOT NULL,
    body_fr       text NOT NULL,
    published_at  timestamptz NOT NULL DEFAULT now()
);

-- Every moderation and role action, with actor, target, reason, before and
-- after. Append-only: the trigger below refuses UPDATE and DELETE.
CREATE TABLE moderation_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id     bigint REFERENCES users (id),   -- NULL: the command line
    action       text NOT NULL,
    target_type  text NOT NULL,
    target_id    bigint NOT NULL,
    reason       text NOT NULL DEFAULT '',
    before       jsonb,
    after        jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX moderation_log_target_idx ON moderation_log (target_type, target_id);

CREATE FUNCTION cf_moderation_log_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'moderation_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER moderation_log_append_only BEFORE UPDATE OR DELETE ON moderation_log
    FOR EACH ROW EXECUTE FUNCTION cf_moderation_log_immutable();
CREATE TRIGGER moderation_log_no_truncate BEFORE TRUNCATE ON moderation_log
    FOR EACH STATEMENT EXECUTE FUNCTION cf_moderation_log_immutable();

-- Fixed-window counters for rate limits, shared by every instance.
CREATE TABLE rate_counters (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         integer NOT NULL,
    PRIMARY KEY (key, window_start)
);

-- Counts one hit of key in the current window of p_window seconds. Returns 0
-- when the hit is within p_limit, else the seconds until the window ends.
CREATE FUNCTION cf_rate_hit(p_key text, p_window integer, p_limit integer) RETURNS integer
LANGUAGE sql AS $$
    INSERT INTO rate_counters AS r (key, window_start, count)
    VALUES (p_key, to_timestamp(floor(extract(epoch FROM now()) / p_window) * p_window), 1)
    ON CONFLICT (key, window_start) DO UPDATE SET count = r.count + 1
    RETURNING CASE WHEN r.count > p_limit
        THEN greatest(1, ceil(extract(epoch FROM r.window_start
                                      + make_interval(secs => p_window) - now())))::integer
        ELSE 0 END
$$;

-- Seconds until the window ends when key has already reached p_limit, else 0.
CREATE FUNCTION cf_rate_peek(p_key text, p_window integer, p_limit integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT coalesce((
        SELECT greatest(1, ceil(extract(epoch FROM r.window_start
                                        + make_interval(secs => p_window) - now())))::integer
        FROM rate_counters r
        WHERE r.key = p_key
          AND r.window_start = to_timestamp(floor(extract(epoch FROM now()) / p_window) * p_window)
          AND r.count >= p_limit), 0)
$$;

-- The JSON objects of SPEC section 4 ("user" and "me"), in one place. PL/pgSQL
-- rather than SQL functions: their plans are cached per connection, where a
-- non-inlined SQL function is planned again on every call.
CREATE FUNCTION cf_user_json(u users, with_email boolean) RETURNS json
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
        'profession', u.profession,
        'network', net,
        'site_role', u.site_role,
        'joined_at', cf_time(u.joined_at),
        'post_count', u.post_count,
        'bio', u.bio,
        'suspended_until', CASE WHEN u.suspended_until > now() THEN cf_time(u.suspended_until) END,
        'email', CASE WHEN with_email THEN u.email END));
END $$;

CREATE FUNCTION cf_me_json(u users, session_id bigint) RETURNS json
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
        'groups', '[]'::jsonb,
        'unread_notifications', 0,
        'session_id', session_id))::json;
END $$;

INSERT INTO guidelines (version, body_en, body_fr) VALUES (1,
$en$# Community guidelines

confer is a community of practice for clinicians across Canada. Family physicians, nurse
practitioners, nurses, therapists, social workers and pharmacists bring cases to mentors in
chronic pain, mental health and substance use. These guidelines keep it safe and useful.

## A safe, non-judgmental space
- Assume good intent. Ask before you advise, and say what you do not know.
- Critique ideas and plans, never people: colleagues, patients or their communities.
- Use person-first, non-stigmatizing language ("a person who uses drugs", not "an addict").
- Disagreement is welcome; contempt is not. Moderators remove posts that demean anyone.

## Patients are never identifiable
- De-identify every case. Never post a name, initials, health card number (PHN, OHIP, MSI,
  MCP, Medicare), SIN, date of birth, address, phone number, email, chart or MRN number,
  or a photo or document that shows any of them.
- Change or leave out details that could identify someone in a small community: exact ages
  ("in her 60s"), rare occupations, towns, dates of events.
- confer checks every post for identifiers and will refuse or question some of them. It
  cannot catch everything: you remain responsible for what you post.
- If you see an identifier in anyone's post, flag it for privacy. It is hidden at once when
  a mentor, coordinator or moderator flags it.

## Clinical responsibility
- Advice here is peer consultation, not a transfer of care. The treating clinician decides.
- In an emergency, do not wait for the forum: use your local urgent pathways.
- Share evidence and say how strong it is. Declare any conflict of interest.

## Responding within 48 to 72 hours
- Mentors commit to answer their mentees' posts in their group or in a one-to-one
  conversation within 48 to 72 hours. confer reminds mentors at 48 hours and tells the
  network's coordinator at 72 hours.
- If you will be away, tell your group and your coordinator so that a co-mentor can cover.

## Confidentiality of the community
- What is discussed in a group or a conversation stays there. Do not copy it elsewhere.
- Your own account is yours alone: do not share it.

By accepting, you agree to follow these guidelines. Moderators may hide posts, and suspend
accounts, that break them.
$en$,
$fr$# Lignes directrices de la communauté

confer est une communauté de pratique pour les cliniciennes et cliniciens de partout au
Canada. Médecins de famille, infirmières praticiennes, infirmières, thérapeutes, travailleuses
sociales et pharmaciennes y présentent des cas à des mentors en douleur chronique, en santé
mentale et en usage de substances. Ces lignes directrices en font un lieu sûr et utile.

## Un espace sûr et sans jugement
- Présumez la bonne foi. Posez des questions avant de conseiller et dites ce que vous ignorez.
- Critiquez les idées et les plans, jamais les personnes : collègues, patients ou leurs
  communautés.
- Employez un langage centré sur la personne et non stigmatisant (« une personne qui utilise
  des drogues », et non « un toxicomane »).
- Le désaccord est bienvenu; le mépris ne l'est pas. Les modérateurs retirent les messages qui
  dénigrent qui que ce soit.

## Les patients ne sont jamais identifiables
- Dépersonnalisez chaque cas. Ne publiez jamais de nom, d'initiales, de numéro de carte santé
  (NAM, RAMQ, PHN, OHIP, MSI, MCP, Medicare), de NAS, de date de naissance, d'adresse, de
  numéro de téléphone, de courriel, de numéro de dossier, ni de photo ou de document qui en
  montre.
- Modifiez ou omettez les détails qui pourraient identifier une personne dans une petite
  communauté : âge exact (« dans la soixantaine »), métier rare, localité, dates d'événements.
- confer vérifie chaque message et en refusera ou en questionnera certains. Il ne peut tout
  détecter : vous demeurez responsable de ce que vous publiez.
- Si vous voyez un identifiant dans un message, signalez-le pour confidentialité. Il est
  masqué aussitôt lorsqu'un mentor, une coordonnatrice ou un modérateur le signale.

## Responsabilité clinique
- Les avis donnés ici sont une consultation entre pairs, non un transfert de soins. La
  clinicienne ou le clinicien traitant décide.
- En cas d'urgence, n'attendez pas le forum : utilisez vos corridors de soins urgents.
- Partagez les données probantes en précisant leur solidité. Déclarez tout conflit d'intérêts.

## Répondre dans un délai de 48 à 72 heures
- Les mentors s'engagent à répondre aux messages de leurs mentorés, dans leur groupe ou en
  conversation individuelle, dans un délai de 48 à 72 heures. confer le rappelle aux mentors
  après 48 heures et en informe la coordonnatrice ou le coordonnateur du réseau après 72 heures.
- Si vous vous absentez, prévenez votre groupe et votre coordonnatrice afin qu'un co-mentor
  prenne le relais.

## Confidentialité de la communauté
- Ce qui se dit dans un groupe ou une conversation y reste. Ne le copiez pas ailleurs.
- Votre compte n'appartient qu'à vous : ne le partagez pas.

En acceptant, vous vous engagez à respecter ces lignes directrices. Les modérateurs peuvent
masquer les messages, et suspendre les comptes, qui y contreviennent.
$fr$);

-- Registration: the invitation is checked and spent in the same transaction as
-- the new account, so a code can never be used twice. Returns {"user": ...} or
-- {"error": code}.
CREATE FUNCTION cf_register(p_code_hash bytea, p_email text, p_name text, p_profession text,
                            p_locale text, p_hash text) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    inv invitations;
    u users;
BEGIN
    SELECT * INTO inv FROM invitations WHERE code_hash = p_code_hash FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'invitation_invalid');
    ELSIF inv.used_at IS NOT NULL THEN
        RETURN json_build_object('error', 'invitation_used');
    ELSIF inv.expires_at <= now() THEN
        RETURN json_build_object('error', 'invitation_expired');
    ELSIF lower(inv.email) <> lower(p_email) THEN
        RETURN json_build_object('error', 'invitation_email_mismatch');
    END IF;
    INSERT INTO users (email, display_name, profession, network_id, site_role, password_hash, locale)
    VALUES (p_email, p_name, p_profession, inv.network_id, inv.site_role, p_hash, p_locale)
    RETURNING * INTO u;
    UPDATE invitations SET used_at = now(), used_by = u.id WHERE id = inv.id;
    RETURN json_build_object('user', cf_user_json(u, true));
EXCEPTION WHEN unique_violation THEN
    RETURN json_build_object('error', 'email_taken');
END $$;

-- Invitations: coordinators invite members into their own network; admins
-- invite anyone anywhere; p_actor NULL is the command line. Returns
-- {"invitation": ...} or {"error": code}.
CREATE FUNCTION cf_invite(p_actor bigint, p_code_hash bytea, p_email text, p_network text,
                          p_role text, p_days integer) RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    actor users;
    net networks;
    inv invitations;
BEGIN
    SELECT * INTO net FROM networks
    WHERE code = upper(p_network) OR (p_network ~ '^[0-9]{1,9}$' AND id = p_network::integer);
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'network_unknown');
    END IF;
    IF p_actor IS NOT NULL THEN
        SELECT * INTO actor FROM users WHERE id = p_actor;
        IF actor.site_role = 'coordinator' THEN
            IF actor.network_id <> net.id THEN
                RETURN json_build_object('error', 'forbidden_network');
            ELSIF p_role <> 'member' THEN
                RETURN json_build_object('error', 'forbidden_role');
            END IF;
        ELSIF actor.site_role <> 'admin' THEN
            RETURN json_build_object('error', 'forbidden');
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(p_email)) THEN
        RETURN json_build_object('error', 'email_taken');
    END IF;
    INSERT INTO invitations (code_hash, email, network_id, site_role, invited_by, expires_at)
    VALUES (p_code_hash, p_email, net.id, p_role, p_actor, now() + make_interval(days => p_days))
    RETURNING * INTO inv;
    RETURN json_build_object('invitation', json_build_object(
        'id', inv.id, 'email', inv.email, 'site_role', inv.site_role,
        'network', json_build_object('id', net.id, 'code', net.code,
                                     'name', json_build_object('en', net.name_en, 'fr', net.name_fr)),
        'expires_at', cf_time(inv.expires_at)));
END $$;

-- An admin changes a member's site role; logged with before and after.
CREATE FUNCTION cf_set_role(p_actor bigint, p_target bigint, p_role text, p_reason text)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    u users;
    before text;
BEGIN
    SELECT * INTO u FROM users WHERE id = p_target FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('error', 'not_found');
    END IF;
    before := u.site_role;
    UPDATE users SET site_role = p_role WHERE id = p_target RETURNING * INTO u;
    INSERT INTO moderation_log (actor_id, action, target_type, target_id, reason, before, after)
    VALUES (p_actor, 'user.site_role', 'user', p_target, p_reason,
            jsonb_build_object('site_role', before), jsonb_build_object('site_role', p_role));
    RETURN json_build_object('user', cf_user_json(u, true));
END $$;

-- Old rate-limit windows are of no use; sign-in removes them now and then.
CREATE FUNCTION cf_rate_prune() RETURNS void LANGUAGE sql AS $$
    DELETE FROM rate_counters WHERE window_start < now() - interval '1 day'
$$;
