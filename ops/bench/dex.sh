#!/usr/bin/env bash
# Animals and dex benchmarks on a seeded dataset (50 users with ~10 friends each, 300 animals,
# 2,000 entries): list and detail of animals, my_entries, sync_entries, batch_sync and
# POST /dex/entries/.   ops/bench/dex.sh
# shellcheck source=ops/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
start_api

seed_prepare
seed_dex
echo "seeded: $(psql -qtA "$DATABASE_URL" -c "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM friendships) || ' friendships, ' || (SELECT count(*) FROM animals) || ' animals, ' || (SELECT count(*) FROM dex_entries) || ' entries'")"

TOKEN="$(login bench1 bench-pass-123)"
AUTH="Authorization: Bearer $TOKEN"
ANIMAL="$(psql -qtA "$DATABASE_URL" -c "SELECT id FROM animals ORDER BY creation_index LIMIT 1 OFFSET 42")"
FRIENDS="$(psql -qtA "$DATABASE_URL" -c "SELECT string_agg(format('{\"user_id\":\"%s\",\"last_sync\":\"\"}', CASE WHEN from_user_id = u.id THEN to_user_id ELSE from_user_id END), ',') FROM friendships, (SELECT id FROM users WHERE username = 'bench1') u WHERE from_user_id = u.id OR to_user_id = u.id")"

run "GET /api/v1/animals/" "$URL/api/v1/animals/"
run "GET /api/v1/animals/{id}/" "$URL/api/v1/animals/$ANIMAL/"
run "GET /dex/entries/my_entries/" -H "$AUTH" "$URL/api/v1/dex/entries/my_entries/"
run "GET /dex/entries/sync_entries/" -H "$AUTH" "$URL/api/v1/dex/entries/sync_entries/"
LUA="$(lua_post "{\"sync_requests\":[{\"user_id\":\"self\",\"last_sync\":\"\"},$FRIENDS]}")"
run "POST /dex/entries/batch_sync/ (self+friends)" -s "$LUA" -H "$AUTH" "$URL/api/v1/dex/entries/batch_sync/"
rm -f "$LUA"

# Creates: each request is a new catch of the same animal (catch_date defaults to now).
JOB="$(psql -qtA "$DATABASE_URL" -c "INSERT INTO analysis_jobs (user_id, image_id, image_token, status) SELECT u.id, s.id, md5(random()::text), 'completed' FROM users u, stored_images s WHERE u.username = 'bench1' LIMIT 1 RETURNING id" | head -1)"
LUA="$(lua_post "{\"animal\":\"$ANIMAL\",\"visibility\":\"friends\",\"source_vision_job\":\"$JOB\"}")"
run "POST /dex/entries/" -s "$LUA" -H "$AUTH" "$URL/api/v1/dex/entries/"
rm -f "$LUA"
echo "entries after the create run: $(psql -qtA "$DATABASE_URL" -c 'SELECT count(*) FROM dex_entries')"
