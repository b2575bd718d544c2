-- Registration checks its invitation before the password is hashed.
--
-- POST /users needs no session. It used to hash the password (argon2id, 19 MiB, about
-- 17 ms of a core) and only then ask cf_register whether the invitation code was any
-- good, so a stream of made-up codes filled the hashing queue and sign-ins answered 503
-- until it drained (docs/security.md). cf_register_check answers the same refusals
-- before any hashing: the profession, the invitation (unknown, used, expired, for another
-- address) and an email already in use. cf_register still checks the invitation under its
-- row lock, as two registrations with one code may pass the check together; both read
-- the rules from cf_invitation_problem.

-- NULL when the invitation can be used by p_email; a row of NULLs is a code not found.
CREATE FUNCTION cf_invitation_problem(inv invitations, p_email text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN inv.id IS NULL THEN 'invitation_invalid'
                WHEN inv.used_at IS NOT NULL THEN 'invitation_used'
                WHEN inv.expires_at <= now() THEN 'invitation_expired'
                WHEN lower(inv.email) <> lower(p_email) THEN 'invitation_email_mismatch'
           END
$$;

-- {"ok": true}, or {"error": code} with the code cf_register would give.
CREATE FUNCTION cf_register_check(p_code_hash bytea, p_email text, p_profession text)
RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    inv invitations;
    problem text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM professions WHERE code = p_profession) THEN
        RETURN json_build_object('error', 'profession_unknown');
    END IF;
    SELECT * INTO inv FROM invitations WHERE code_hash = p_code_hash;
    problem := cf_invitation_problem(inv, p_email);
    IF problem IS NULL AND EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(p_email)) THEN
        problem := 'email_taken';
    END IF;
    RETURN CASE WHEN problem IS NULL THEN json_build_object('ok', true)
                ELSE json_build_object('error', problem) END;
END $$;

CREATE OR REPLACE FUNCTION cf_register(p_code_hash bytea, p_email text, p_name text,
                                       p_profession text, p_locale text, p_hash text)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
    inv invitations;
    u users;
    problem text;
BEGIN
    SELECT * INTO inv FROM invitations WHERE code_hash = p_code_hash FOR UPDATE;
    problem := cf_invitation_problem(inv, p_email);
    IF problem IS NOT NULL THEN
        RETURN json_build_object('error', problem);
    END IF;
    INSERT INTO users (email, display_name, profession, network_id, site_role, password_hash, locale)
    VALUES (p_email, p_name, p_profession, inv.network_id, inv.site_role, p_hash, p_locale)
    RETURNING * INTO u;
    UPDATE invitations SET used_at = now(), used_by = u.id WHERE id = inv.id;
    RETURN json_build_object('user', cf_user_json(u, true));
EXCEPTION WHEN unique_violation THEN
    RETURN json_build_object('error', 'email_taken');
END $$;
