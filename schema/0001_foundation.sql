-- 0001: the foundation. Provincial mentorship networks, which every member
-- belongs to (SPEC section 1). Later migrations add accounts, spaces and
-- content. schema_migrations itself is created by `confer migrate`.

CREATE TABLE networks (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Z]{2,8}$'),
    name_en     text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 100),
    name_fr     text NOT NULL CHECK (length(name_fr) BETWEEN 1 AND 100),
    position    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO networks (code, name_en, name_fr, position) VALUES
    ('BC', 'British Columbia', 'Colombie-Britannique', 1),
    ('ON', 'Ontario', 'Ontario', 2),
    ('NS', 'Nova Scotia', 'Nouvelle-Écosse', 3),
    ('NB', 'New Brunswick', 'Nouveau-Brunswick', 4),
    ('NL', 'Newfoundland and Labrador', 'Terre-Neuve-et-Labrador', 5),
    ('PE', 'Prince Edward Island', 'Île-du-Prince-Édouard', 6);

-- Times leave the database as RFC 3339 UTC with milliseconds (SPEC section 4).
CREATE FUNCTION cf_time(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
