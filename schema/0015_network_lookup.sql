-- A network named by its code (BC) or its id (2), without casting a code to integer.
--
-- cf_invite, cf_group_save and cf_report_summary looked a network up with
--     WHERE code = upper(p) OR (p ~ '^[0-9]{1,9}$' AND id = p::integer)
-- SQL does not promise to evaluate AND's operands left to right: once PL/pgSQL
-- switches such a statement to a generic plan, the planner may use id = p::integer as
-- the primary key's index condition and cast 'BC' before the regular expression is
-- looked at, failing with 22P02 (found by sqlmap: POST /groups answered 500 after a
-- few hundred requests on one connection). CASE is evaluated in order, so the cast only
-- ever sees digits. The three functions are rewritten in place: the lookup is the only
-- change, and the migration fails if a function no longer contains it.
CREATE FUNCTION cf_network_number(p text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p ~ '^[0-9]{1,9}$' THEN p::integer END
$$;

DO $$
DECLARE
    f regprocedure;
    def text;
    fixed text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'cf_invite(bigint, bytea, text, text, text, integer)'::regprocedure,
        'cf_group_save(bigint, bigint, jsonb)'::regprocedure,
        'cf_report_summary(bigint, text, text, text)'::regprocedure]
    LOOP
        def := pg_get_functiondef(f);
        fixed := replace(def,
            '(p_network ~ ''^[0-9]{1,9}$'' AND id = p_network::integer)',
            'id = cf_network_number(p_network)');
        fixed := replace(fixed,
            '((p_fields->>''network'') ~ ''^[0-9]{1,9}$'' AND id = (p_fields->>''network'')::integer)',
            'id = cf_network_number(p_fields->>''network'')');
        IF fixed = def THEN
            RAISE EXCEPTION 'the network lookup of % is not where it was expected', f;
        END IF;
        EXECUTE fixed;
    END LOOP;
END $$;
