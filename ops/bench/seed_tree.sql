-- Run after seed_dex.sql: bench1 and each of its 10 friends catch 25 more distinct animals
-- (a quarter of them private), so bench1's friends-mode tree has about 240 animals.
BEGIN;
WITH me AS (SELECT id FROM users WHERE username = 'bench1'),
circle AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM (
        SELECT id FROM me
        UNION SELECT CASE WHEN f.from_user_id = me.id THEN f.to_user_id ELSE f.from_user_id END
        FROM friendships f, me
        WHERE f.status = 'accepted' AND (f.from_user_id = me.id OR f.to_user_id = me.id)
    ) c
),
numbered AS (SELECT id, row_number() OVER (ORDER BY creation_index) AS n FROM animals)
INSERT INTO dex_entries (owner_id, animal_id, image_id, image_token, image_checksum, catch_date, visibility)
SELECT u.id, a.id, s.id, md5(random()::text || u.n || j), s.checksum,
       now() - (j || ' hours')::interval - interval '1 day',
       (ARRAY['friends', 'public', 'friends', 'private'])[1 + j % 4]
FROM circle u
CROSS JOIN generate_series(0, 24) j
JOIN numbered a ON a.n = 1 + (u.n * 25 + j) % 300
CROSS JOIN (SELECT id, checksum FROM stored_images LIMIT 1) s;
COMMIT;
