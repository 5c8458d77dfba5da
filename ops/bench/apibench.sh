#!/usr/bin/env bash
# The black-box benchmark of the performance issue: the release api on a scratch database
# (throttles raised, logs at warn, lib.sh), seeded and measured by apibench with its defaults
# (50 users, 300 animals, 2,000 entries; wrk -t2 -c32 -d15s), with the api's and PostgreSQL's
# CPU and memory watched. sync_entries and batch_sync are not among apibench's endpoints; they
# are measured with wrk on the same seeded data, as the tool's reads are.
#   APIBENCH=../shared/tools/apibench/apibench.py APIBENCH_PYTHON=venv/bin/python \
#     ops/bench/apibench.sh [apibench bench flags, e.g. --only users_me animals_list]
# shellcheck source=ops/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
APIBENCH="${APIBENCH:-$REPO/../shared/tools/apibench/apibench.py}"
PY="${APIBENCH_PYTHON:-python3}"
[ -f "$APIBENCH" ] || { echo "set APIBENCH to apibench.py" >&2; exit 1; }
"$PY" -c 'import httpx' 2>/dev/null || { echo "apibench needs httpx: set APIBENCH_PYTHON to a venv's python with it" >&2; exit 1; }
start_api
STATE="$(mktemp --suffix=.json)"
OUT="${APIBENCH_OUT:-$(mktemp --suffix=.json)}"
"$PY" "$APIBENCH" --base-url "$URL" --state "$STATE" seed
psql -q "$DATABASE_URL" -c "VACUUM ANALYZE" 2>/dev/null || true
"$PY" "$APIBENCH" --base-url "$URL" --state "$STATE" bench --out "$OUT" \
    --watch "api=biologidex-api serve" --watch "postgres=postgres: 15/main: biologidex" \
    --watch "redis=redis-server" "$@"

# The two sync routes the tool does not have, as bench user u000 (the tool's read user).
TOKEN="$(login "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["users"][0]["username"])' "$STATE")" \
    "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$STATE")")"
AUTH="Authorization: Bearer $TOKEN"
FRIENDS="$(curl -fs -H "$AUTH" "$URL/api/v1/social/friendships/friends/" | "$PY" -c '
import json, sys
body = json.load(sys.stdin)
rows = body["friends"] if isinstance(body, dict) else body
print(",".join(json.dumps({"user_id": f["id"], "last_sync": ""}) for f in rows[:10]))')"
CONNECTIONS=32
DURATION=15s
run "GET sync_entries (full)" -H "$AUTH" "$URL/api/v1/dex/entries/sync_entries/"
LUA="$(lua_post "{\"sync_requests\":[{\"user_id\":\"self\",\"last_sync\":\"\"},$FRIENDS]}")"
run "POST batch_sync (self + 10 friends)" -s "$LUA" -H "$AUTH" "$URL/api/v1/dex/entries/batch_sync/"
rm -f "$LUA" "$STATE"
echo "PostgreSQL after the run: $(pg_memory); api RSS $(rss_mb) MB"
echo "apibench results: $OUT (and ${OUT%.json}.md)"
