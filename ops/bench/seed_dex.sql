-- Seeds the dex benchmark dataset: 50 users with ~10 friends each, 300 animals and 2,000
-- entries spread over the users, all visibilities, every entry with an image (one shared
-- content-addressed file). Expects psql variables :hash (a password hash) and :key (storage key);
-- :animals and :entries (default 300 and 2,000) scale it (ops/bench/scaling.sh).
\if :{?animals}
\else
\set animals 300
\endif
\if :{?entries}
\else
\set entries 2000
\endif
BEGIN;
INSERT INTO users (username, email, password_hash, friend_code)
SELECT 'bench' || i, 'bench' || i || '@example.com', :'hash', 'BN' || lpad(i::text, 6, '0')
FROM generate_series(1, 50) i;
INSERT INTO user_profiles (user_id) SELECT id FROM users WHERE username LIKE 'bench%';
-- Each user befriends the next ten (wrapping), one row per pair.
INSERT INTO friendships (from_user_id, to_user_id, status)
SELECT DISTINCT ON (LEAST(a.id, b.id), GREATEST(a.id, b.id)) a.id, b.id, 'accepted'
FROM (SELECT id, row_number() OVER (ORDER BY username) AS n FROM users WHERE username LIKE 'bench%') a
JOIN (SELECT id, row_number() OVER (ORDER BY username) AS n FROM users WHERE username LIKE 'bench%') b
  ON b.n IN (SELECT ((a.n - 1 + k) % 50) + 1 FROM generate_series(1, 5) k);
INSERT INTO animals (scientific_name, common_name, genus, species, class_name, verified)
SELECT 'Benchus species' || i, 'Bench critter ' || i, 'Benchus', 'species' || i,
       (ARRAY['Mammalia', 'Aves', 'Reptilia', 'Insecta'])[1 + i % 4], i % 3 = 0
FROM generate_series(1, :animals) i;
INSERT INTO stored_images (storage_key, checksum, content_type, width, height, byte_size)
VALUES (:'key', split_part(split_part(:'key', '/', 3), '.', 1), 'image/png', 32, 24, 100);
INSERT INTO dex_entries (owner_id, animal_id, image_id, image_token, image_checksum, catch_date, visibility)
SELECT u.id, a.id, s.id, md5(random()::text || i), s.checksum,
       now() - (i || ' minutes')::interval, (ARRAY['private', 'friends', 'public'])[1 + i % 3]
FROM generate_series(1, :entries) i
JOIN (SELECT id, row_number() OVER (ORDER BY username) AS n FROM users WHERE username LIKE 'bench%') u ON u.n = 1 + i % 50
JOIN (SELECT id, row_number() OVER (ORDER BY creation_index) AS n FROM animals) a ON a.n = 1 + (i * 7) % :animals
CROSS JOIN (SELECT id, checksum FROM stored_images LIMIT 1) s;
UPDATE user_profiles p SET total_catches = c.n, unique_species = c.u
FROM (SELECT owner_id, count(*) n, count(DISTINCT animal_id) u FROM dex_entries GROUP BY owner_id) c
WHERE c.owner_id = p.user_id;
COMMIT;
ANALYZE;
