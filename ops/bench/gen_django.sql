-- Fills an old-server (Django) schema with a generated world for the import benchmark.
-- psql variables: users, animals, entries (counts), images ('on' = every entry names
-- dex/bench/<n mod :files>.png, written by gen_django_media.py; 'off' = no image).
-- Passwords are the fixture alice's hash ("Alice-Fixture-Pass-01") for every user.
\set ON_ERROR_STOP 1
BEGIN;
INSERT INTO users (password, last_login, is_superuser, username, first_name, last_name,
    is_staff, is_active, date_joined, id, email, friend_code, bio, avatar, badges, created_at,
    updated_at)
SELECT (SELECT password FROM users WHERE username = 'alice'), now(), false, 'player' || g, '',
    '', false, true, now() - g * interval '1 minute', md5('u' || g)::uuid,
    'player' || g || '@example.com', upper(substr(md5('c' || g), 1, 8)), 'bio ' || g, '',
    '[]', now(), now()
FROM generate_series(1, :users) g;
INSERT INTO user_profiles
SELECT md5('u' || g)::uuid, 0, 0, '{}', CURRENT_DATE, NULL FROM generate_series(1, :users) g;
INSERT INTO animals (id, scientific_name, common_name, kingdom, phylum, class, "order", family,
    genus, species, description, habitat, diet, conservation_status, interesting_facts,
    creation_index, verified, created_at, updated_at, created_by_id, establishment_means,
    last_verified_at, native_regions, subfamily, taxonomy_confidence, taxonomy_id,
    taxonomy_source, taxonomy_source_url, verification_method)
SELECT md5('a' || g)::uuid, 'Genus' || g || ' species' || g, 'Animal ' || g, 'Animalia',
    'Chordata', 'Mammalia', 'Order', 'Family', 'Genus' || g, 'species' || g, '', '', '', 'LC',
    '[]', 1000 + g, g % 3 = 0, now(), now(), md5('u' || (1 + g % :users))::uuid, '', NULL, '{}',
    '', NULL, NULL, '', '', 'cv'
FROM generate_series(1, :animals) g;
-- Each player befriends the next three (accepted), and asks the fourth (pending).
INSERT INTO friendships (id, status, created_at, updated_at, from_user_id, to_user_id)
SELECT md5('f' || g || '-' || k)::uuid, CASE WHEN k < 4 THEN 'accepted' ELSE 'pending' END,
    now(), now(), md5('u' || g)::uuid, md5('u' || (1 + (g + k - 1) % :users))::uuid
FROM generate_series(1, :users) g, generate_series(1, 4) k;
INSERT INTO dex_entries (id, original_image, processed_image, location_lat, location_lon,
    location_name, notes, customizations, catch_date, visibility, is_favorite, created_at,
    updated_at, animal_id, owner_id, source_vision_job_id)
SELECT md5('e' || g)::uuid,
    CASE WHEN :'images' = 'on' THEN 'dex/bench/' || g || '.png' ELSE '' END, '',
    (g % 180) - 90, (g % 360) - 180, 'Place ' || g, 'Notes of catch ' || g, '{}',
    now() - g * interval '1 second', (ARRAY['private', 'friends', 'public'])[1 + g % 3],
    g % 7 = 0, now(), now(), md5('a' || (1 + g % :animals))::uuid,
    md5('u' || (1 + g % :users))::uuid, NULL
FROM generate_series(1, :entries) g;
COMMIT;
ANALYZE users, user_profiles, animals, friendships, dex_entries;
