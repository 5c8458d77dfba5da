#!/usr/bin/env bash
# Shared by the HTTP benchmarks: build the release api, start it on a scratch database with
# throttles raised and logs at warn (docs/decisions.md#d21), and run wrk with one summary line.
# Source it; then call start_api and run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
PORT="${BENCH_PORT:-18080}"
URL="http://127.0.0.1:$PORT"
ADMIN="postgres://biologidex:biologidex@127.0.0.1:5432/postgres"
BENCH_DB="biologidex_bench_$$"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }

start_api() {
    bash ops/dev/services >/dev/null
    cargo build --release --bin biologidex-api >/dev/null 2>&1 || cargo build --release --bin biologidex-api
    BIN="${CARGO_TARGET_DIR:-$REPO/target}/release/biologidex-api"
    psql -q "$ADMIN" -c "CREATE DATABASE $BENCH_DB"
    export DATABASE_URL="postgres://biologidex:biologidex@127.0.0.1:5432/$BENCH_DB"
    export SECRET_KEY="bench-secret-key-bench-secret-key-0123"
    export REDIS_KEY_PREFIX="bench-$$"
    export THROTTLE_ANON_RATE=100000000/hour THROTTLE_USER_RATE=100000000/hour THROTTLE_LOGIN_RATE=100000000/hour
    export THROTTLE_UPLOAD_RATE=100000000/hour
    export RUST_LOG=warn DB_POOL_SIZE="${DB_POOL_SIZE:-16}"
    MEDIA_ROOT="$(mktemp -d)"
    export MEDIA_ROOT
    "$BIN" migrate
    serve_api
    trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)"; rm -rf "$MEDIA_ROOT"' EXIT
    echo "api idle RSS: $(rss_mb) MB"
}

# serve_api: (re)starts the api on the scratch database with the current environment.
serve_api() {
    if [ -n "${PID:-}" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; fi
    "$BIN" serve --bind "127.0.0.1:$PORT" &
    PID=$!
    for _ in $(seq 100); do curl -fs "$URL/health/" >/dev/null && break; sleep 0.1; done
}

# pg_memory: the scratch database's PostgreSQL backends, "<count> backends, <PSS> MB" (PSS
# shares the shared buffers out among the processes, so the sum is what they really use).
pg_memory() {
    local n=0 kb=0 pid pss
    for pid in $(pgrep -f "postgres: .*$BENCH_DB" || true); do
        pss="$(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)"
        n=$((n + 1)); kb=$((kb + ${pss:-0}))
    done
    printf '%d backends, %.1f MB' "$n" "$(echo "$kb / 1024" | bc -l)"
}

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }

# run NAME wrk-arguments...: one line with req/s, latency percentiles, errors and RSS.
run() {
    local name="$1"; shift
    local out rps p50 p99 errors
    out="$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@")"
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
    p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
    errors="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    printf '%-34s %10s req/s  p50 %-8s p99 %-8s non-2xx %-6s RSS %s MB\n' "$name" "$rps" "$p50" "$p99" "${errors:-0}" "$(rss_mb)"
}

# lua_post BODY: a wrk script that POSTs BODY as JSON (path from the URL).
lua_post() {
    local f
    f="$(mktemp --suffix=.lua)"
    printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1")" >"$f"
    echo "$f"
}

# login USER PASSWORD: prints an access token.
login() {
    curl -fs -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}" \
        "$URL/api/v1/auth/login/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access"])'
}

# seed_prepare: what seed_dex.sql needs: HASH (the hash of a real account's password
# bench-pass-123, which every seeded user shares) and KEY (a stored image file in MEDIA_ROOT).
seed_prepare() {
    curl -fs -o /dev/null -H 'content-type: application/json' \
        -d '{"username":"seedhash","email":"seed@example.com","password":"bench-pass-123","password_confirm":"bench-pass-123"}' \
        "$URL/api/v1/users/"
    HASH="$(psql -qtA "$DATABASE_URL" -c "SELECT password_hash FROM users WHERE username = 'seedhash'")"
    KEY="images/ab/abababababababababababababababababababababababababababababababab.png"
    mkdir -p "$MEDIA_ROOT/images/ab"
    cp "$REPO/shared/testdata/bench.png" "$MEDIA_ROOT/$KEY"
}

# seed_dex: seeds the dex dataset (seed_dex.sql) after seed_prepare, SEED_SCALE times its
# animals and entries (default 1).
seed_dex() {
    local scale="${SEED_SCALE:-1}"
    psql -q "$DATABASE_URL" -v hash="$HASH" -v key="$KEY" \
        -v animals=$((300 * scale)) -v entries=$((2000 * scale)) -f ops/bench/seed_dex.sql 2>&1 \
        | grep -v "only superuser can analyze" || true
}

