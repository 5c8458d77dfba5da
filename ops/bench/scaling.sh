#!/usr/bin/env bash
# How cost grows with data: the main reads at 1x, 10x and 100x the dex benchmark dataset
# (seed_dex.sql: 50 users with ~10 friends each; 300 animals and 2,000 entries at 1x, up to
# 30,000 animals and 200,000 entries at 100x; users and friends stay fixed, so each user's dex
# and circle grow with the factor). Prints a markdown table of req/s and p99 per endpoint and
# scale, the answer's size beside it.
#   ops/bench/scaling.sh                      # SCALES="1 10 100" BENCH_DURATION=8s
#   SCALES="1 10" BENCH_PORT=18094 ops/bench/scaling.sh > ops/bench/RESULTS-scaling.md
# shellcheck source=ops/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SCALES="${SCALES:-1 10 100}"
DURATION="${BENCH_DURATION:-8s}"
start_api >&2

seed_prepare
sql() { psql -qtA "$DATABASE_URL" -c "$1"; }

# measure NAME URL [wrk args]: appends "rps|p99|bytes" for NAME at this scale.
declare -A CELL
measure() {
    local name="$1" url="$2"; shift 2
    local out rps p99 bytes
    bytes="$(curl -fs -o /dev/null -w '%{size_download}' -H "$AUTH" "$@" "$url" 2>/dev/null || echo '?')"
    out="$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 30s --latency -H "$AUTH" "${WRK_ARGS[@]}" "$url")"
    rps="$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")"
    p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
    if grep -q "Non-2xx" <<<"$out"; then rps="$rps (errors)"; fi
    CELL["$name|$SCALE"]="$rps | $p99 | $bytes"
    echo "  x$SCALE $name: $rps req/s, p99 $p99, $bytes bytes" >&2
    # Requests wrk gave up on may still be computing; let them finish before the next row.
    sleep "${BENCH_PAUSE:-3}"
}

NAMES=()
for SCALE in $SCALES; do
    sql "TRUNCATE dex_entries, analysis_jobs, friendships, animals, stored_images, user_profiles, users CASCADE"
    SEED_SCALE="$SCALE" seed_dex
    psql -q "$DATABASE_URL" -c "VACUUM ANALYZE" 2>&1 | grep -v "only superuser" || true
    echo "x$SCALE seeded: $(sql "SELECT (SELECT count(*) FROM animals) || ' animals, ' || (SELECT count(*) FROM dex_entries) || ' entries, bench1 has ' || (SELECT count(*) FROM dex_entries e JOIN users u ON u.id = e.owner_id WHERE u.username = 'bench1')")" >&2
    TOKEN="$(login bench1 bench-pass-123)"
    AUTH="Authorization: Bearer $TOKEN"
    FRIENDS="$(sql "SELECT string_agg(format('{\"user_id\":\"%s\",\"last_sync\":\"\"}', CASE WHEN from_user_id = u.id THEN to_user_id ELSE from_user_id END), ',') FROM friendships, (SELECT id FROM users WHERE username = 'bench1') u WHERE from_user_id = u.id OR to_user_id = u.id")"
    sleep 1
    SINCE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    E="$URL/api/v1/dex/entries"
    WRK_ARGS=()
    measure "my_entries" "$E/my_entries/"
    measure "sync_entries (full)" "$E/sync_entries/"
    measure "sync_entries?last_sync=(after seeding)" "$E/sync_entries/?last_sync=$SINCE"
    LUA="$(lua_post "{\"sync_requests\":[{\"user_id\":\"self\",\"last_sync\":\"\"},$FRIENDS]}")"
    WRK_ARGS=(-s "$LUA")
    measure "batch_sync (self + 10 friends)" "$E/batch_sync/" -X POST -H 'content-type: application/json' \
        --data "{\"sync_requests\":[{\"user_id\":\"self\",\"last_sync\":\"\"},$FRIENDS]}"
    rm -f "$LUA"
    WRK_ARGS=()
    measure "animals/?search=species1" "$URL/api/v1/animals/?search=species1"
    measure "graph/tree/ (friends, cached)" "$URL/api/v1/graph/tree/"
    measure "graph/tree/?use_cache=false" "$URL/api/v1/graph/tree/?use_cache=false"
    measure "graph/tree/chunk/0/0/" "$URL/api/v1/graph/tree/chunk/0/0/"
    measure "graph/tree/search/?q=species1" "$URL/api/v1/graph/tree/search/?q=species1"
    NAMES=("my_entries" "sync_entries (full)" "sync_entries?last_sync=(after seeding)" \
        "batch_sync (self + 10 friends)" "animals/?search=species1" "graph/tree/ (friends, cached)" \
        "graph/tree/?use_cache=false" "graph/tree/chunk/0/0/" "graph/tree/search/?q=species1")
done

# The table: one row per endpoint, req/s | p99 | response bytes per scale.
header="| endpoint |"; rule="|---|"
for SCALE in $SCALES; do header="$header x$SCALE req/s | p99 | bytes |"; rule="$rule---|---|---|"; done
echo "$header"
echo "$rule"
for name in "${NAMES[@]}"; do
    row="| \`$name\` |"
    for SCALE in $SCALES; do row="$row ${CELL["$name|$SCALE"]} |"; done
    echo "$row"
done
