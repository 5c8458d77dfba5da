#!/usr/bin/env bash
# HTTP benchmarks of the release api against a scratch database, with wrk on the same machine.
#   ops/bench/http.sh [health|accounts|all]      (default: all)
# Builds the release binaries if needed. Throttles are raised and logs kept at warn
# (DECISIONS 21). Prints one line per endpoint: requests/s, p50/p99 latency, and api RSS.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
WHAT="${1:-all}"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
PORT="${BENCH_PORT:-18080}"
DB="biologidex_bench"
URL="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
bash ops/dev/services >/dev/null
cargo build --release --bin biologidex-api >/dev/null 2>&1 || cargo build --release --bin biologidex-api
BIN="$REPO/target/release/biologidex-api"

ADMIN="postgres://biologidex:biologidex@127.0.0.1:5432/postgres"
psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
export DATABASE_URL="postgres://biologidex:biologidex@127.0.0.1:5432/$DB"
export SECRET_KEY="bench-secret-key-bench-secret-key-0123"
export REDIS_KEY_PREFIX="bench-$$"
export THROTTLE_ANON_RATE=100000000/hour THROTTLE_USER_RATE=100000000/hour THROTTLE_LOGIN_RATE=100000000/hour
export RUST_LOG=warn DB_POOL_SIZE="${DB_POOL_SIZE:-16}"
"$BIN" migrate
"$BIN" serve --bind "127.0.0.1:$PORT" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
for _ in $(seq 100); do curl -fs "$URL/health/" >/dev/null && break; sleep 0.1; done

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$PID/status"; }
echo "api idle RSS: $(rss_mb) MB"

run() { # name, then wrk arguments
    local name="$1"; shift
    local out
    out="$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@")"
    local rps p50 p99
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
    p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
    local errors
    errors="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
    printf '%-28s %10s req/s  p50 %-8s p99 %-8s non-2xx %-6s RSS %s MB\n' "$name" "$rps" "$p50" "$p99" "${errors:-0}" "$(rss_mb)"
}

if [ "$WHAT" = health ] || [ "$WHAT" = all ]; then
    run "GET /health/" "$URL/health/"
    run "GET /ready/" "$URL/ready/"
fi

if [ "$WHAT" = accounts ] || [ "$WHAT" = all ]; then
    curl -fs -o /dev/null -H 'content-type: application/json' \
        -d '{"username":"bench","email":"bench@example.com","password":"bench-pass-123","password_confirm":"bench-pass-123"}' \
        "$URL/api/v1/users/"
    TOKEN="$(curl -fs -H 'content-type: application/json' -d '{"username":"bench","password":"bench-pass-123"}' \
        "$URL/api/v1/auth/login/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access"])')"
    LUA="$(mktemp --suffix=.lua)"
    cat >"$LUA" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"bench","password":"bench-pass-123"}'
LUA
    # Login is argon2id-bound (OWASP parameters): fewer connections than cores x 4 is enough.
    CONNECTIONS=8 run "POST /api/v1/auth/login/" -s "$LUA" "$URL/api/v1/auth/login/"
    run "GET /api/v1/users/me/" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/users/me/"
    rm -f "$LUA"
fi
