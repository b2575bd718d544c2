-- tests/bench/forum_data.sql: roadmap step 3's data set, generated in the database.
-- 100,000 threads (60,000 in chronic-pain, so that a cursor 50,000 rows deep exists;
-- 10,000 in each other category) and 1,000,000 posts: every tenth thread has 55 posts,
-- the others 5; every fifth post replies to the one before it (a tree two deep).
-- Step 7 gave the posts varied text, for search: about 24 words each from a vocabulary
-- in four tiers (table bench_vocab, kept for the benchmark's queries): 2 of 10 very
-- common words (each in ~20% of posts), 6 of 100 common clinical words in English and
-- French (~6%), 12 of 1,000 made-up words (~1%) and 4 of 10,000 (~0.04%).
-- 200 authors share the password hash :'hash'. Run on an empty, migrated database:
--   psql -v hash="$HASH" -f tests/bench/forum_data.sql
\set ON_ERROR_STOP on
BEGIN;
INSERT INTO users (email, display_name, profession, network_id, password_hash,
                   guidelines_version, guidelines_accepted_at)
SELECT 'bench' || g || '@bench.example', 'Bench Member ' || g, 'family_physician',
       (SELECT min(id) FROM networks) + g % 6, :'hash', (SELECT max(version) FROM guidelines), now()
FROM generate_series(1, 200) g;

CREATE TABLE bench_vocab (tier integer, n integer, word text, PRIMARY KEY (tier, n));
INSERT INTO bench_vocab
SELECT 1, o, w FROM unnest(ARRAY['patient', 'pain', 'dose', 'taper', 'opioid', 'sleep',
    'anxiety', 'douleur', 'patiente', 'traitement']) WITH ORDINALITY AS x(w, o);
INSERT INTO bench_vocab
SELECT 2, o, w FROM unnest(ARRAY['buprenorphine', 'methadone', 'gabapentin', 'pregabalin',
    'duloxetine', 'naloxone', 'fentanyl', 'morphine', 'hydromorphone', 'oxycodone', 'tramadol',
    'ketamine', 'cannabis', 'alcohol', 'benzodiazepine', 'depression', 'trauma', 'insomnia',
    'fatigue', 'migraine', 'fibromyalgia', 'arthritis', 'neuropathy', 'back', 'knee', 'shoulder',
    'hip', 'injection', 'physiotherapy', 'exercise', 'mindfulness', 'counselling', 'withdrawal',
    'craving', 'relapse', 'overdose', 'urine', 'screening', 'referral', 'psychiatrist',
    'pharmacist', 'nurse', 'family', 'rural', 'remote', 'telehealth', 'appointment', 'follow-up',
    'plan', 'function', 'goals', 'mood', 'suicide', 'risk', 'safety', 'harm', 'reduction',
    'consent', 'capacity', 'elderly', 'adolescent', 'pregnancy', 'liver', 'kidney', 'cardiac',
    'diabetes', 'obesity', 'smoking', 'housing', 'income', 'employment', 'stigma', 'culture',
    'indigenous', 'language', 'interpreter', 'sommeil', 'anxiété', 'dépression', 'sevrage',
    'médicament', 'épaule', 'genou', 'dos', 'hanche', 'infirmière', 'pharmacien', 'psychiatre',
    'famille', 'rendez-vous', 'suivi', 'objectifs', 'humeur', 'risque', 'sécurité', 'grossesse',
    'foie', 'rein', 'tabac', 'logement']) WITH ORDINALITY AS x(w, o);
-- made-up words: a number's hexadecimal digits as letters, behind a tier letter
INSERT INTO bench_vocab
SELECT 3, g, 'q' || translate(to_hex(g * 7919 + 4096), '0123456789', 'ghijklmnop')
FROM generate_series(1, 1000) g;
INSERT INTO bench_vocab
SELECT 4, g, 'x' || translate(to_hex(g * 7919 + 65536), '0123456789', 'ghijklmnop')
FROM generate_series(1, 10000) g;
CREATE TEMP TABLE bench_authors AS SELECT array_agg(id ORDER BY id) AS ids FROM users
WHERE email LIKE 'bench%@bench.example';

INSERT INTO threads (space_type, category_id, title, kind, tags, author_id, created_at,
                     last_post_at, post_count, highest_post_number)
SELECT 'category',
       CASE WHEN g <= 60000 THEN (SELECT id FROM categories WHERE slug = 'chronic-pain')
            ELSE (SELECT id FROM categories ORDER BY position OFFSET 1 + g % 4 LIMIT 1) END,
       'Bench thread ' || g || ': tapering and function',
       (ARRAY['discussion', 'case', 'question'])[1 + g % 3],
       CASE WHEN g % 7 = 0 THEN ARRAY['opioids'] ELSE '{}'::text[] END,
       a.ids[1 + g % 200],
       now() - (100000 - g) * interval '1 minute',
       now() - (100000 - g) * interval '1 minute' + interval '30 seconds',
       CASE WHEN g % 10 = 0 THEN 55 ELSE 5 END,
       CASE WHEN g % 10 = 0 THEN 55 ELSE 5 END
FROM generate_series(1, 100000) g, bench_authors a;

-- Post ids are taken in (thread, number) order, so a reply's parent is id - 1. The live
-- events of a million new posts are not wanted (nobody listens yet).
-- The search index is built once at the end, faster than a million insertions into it.
ALTER TABLE posts DISABLE TRIGGER posts_live_insert;
DROP INDEX posts_search;
INSERT INTO posts (id, thread_id, number, author_id, reply_to, path, body, body_html,
                   created_at)
OVERRIDING SYSTEM VALUE
SELECT p.id, p.thread_id, p.number, p.author_id,
       CASE WHEN p.number % 5 = 0 THEN p.id - 1 END,
       CASE WHEN p.number % 5 = 0 THEN ARRAY[p.id - 1, p.id] ELSE ARRAY[p.id] END,
       p.body, '<p>' || p.body || '</p>' || chr(10), p.created_at
FROM (SELECT (SELECT coalesce(max(id), 0) FROM posts) + row_number() OVER (ORDER BY t.id, n)
                 AS id, t.id AS thread_id, n AS number,
             a.ids[1 + (t.id + n) % 200] AS author_id,
             'Post ' || n || ' of thread ' || t.id || ': ' ||
             (SELECT string_agg(b.word, ' ' ORDER BY r.o)
              FROM generate_series(1, 24 + 0 * n) k
              CROSS JOIN LATERAL (SELECT CASE WHEN k <= 2 THEN 1 WHEN k <= 8 THEN 2
                                              WHEN k <= 20 THEN 3 ELSE 4 END AS tier,
                                         random() AS o, random() AS x) r
              JOIN bench_vocab b ON b.tier = r.tier
                   AND b.n = 1 + floor(r.x * CASE r.tier WHEN 1 THEN 10 WHEN 2 THEN 100
                                                         WHEN 3 THEN 1000 ELSE 10000 END)::int)
                 || '.' AS body,
             t.created_at + n * interval '1 second' AS created_at
      FROM threads t, bench_authors a, generate_series(1, t.highest_post_number) n) p;
ALTER TABLE posts ENABLE TRIGGER posts_live_insert;
SET maintenance_work_mem = '256MB';
CREATE INDEX posts_search ON posts USING gin (search);
SELECT setval(pg_get_serial_sequence('posts', 'id'), (SELECT max(id) FROM posts));

UPDATE categories c SET thread_count = (SELECT count(*) FROM threads t WHERE t.category_id = c.id),
                        last_post_at = (SELECT max(last_post_at) FROM threads t
                                        WHERE t.category_id = c.id);
UPDATE users u SET post_count = (SELECT count(*) FROM posts p WHERE p.author_id = u.id)
WHERE email LIKE 'bench%@bench.example';
COMMIT;
VACUUM ANALYZE;
