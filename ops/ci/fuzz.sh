#!/usr/bin/env bash
# Fuzz net (issue 12): schemathesis (pinned, from PyPI) generates requests for every operation
# of the served OpenAPI document and sends them to a debug api, once with each of two users'
# access tokens (so authenticated routes are reached, including another user's objects) and
# once anonymously. The run fails on any answer >= 500.
#
#   BIN_DIR=target/debug bash ops/ci/fuzz.sh
#
# It builds nothing: BIN_DIR (default target/debug) must hold biologidex-api. PostgreSQL and
# Redis must answer (bash ops/dev/services); the database bdx_fuzz_<pid> is created and dropped
# as the biologidex role. Environment (optional):
#   BIN_DIR            where the binary is (default target/debug)
#   FUZZ_PG_URL        server URL without a database
#                      (default postgres://biologidex:biologidex@127.0.0.1:5432)
#   REDIS_URL          default redis://127.0.0.1:6379/0; keys use a fresh prefix
#   FUZZ_EXAMPLES      examples per operation and pass (default 25)
#   FUZZ_VENV          where schemathesis is installed (default $TMPDIR/biologidex-fuzz-venv)
# The api is stopped by pid and the database, Redis keys and temp directory removed on exit.
set -euo pipefail

SCHEMATHESIS_VERSION=3.39.16
# Newer Hypothesis releases break this schemathesis ("'many' object has no attribute 'more'").
HYPOTHESIS_VERSION=6.131.14

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"

step() { printf '[fuzz] %s\n' "$*"; }
die() {
    printf '[fuzz] FAIL: %s\n' "$*" >&2
    exit 1
}

BIN_DIR="${BIN_DIR:-target/debug}"
case "$BIN_DIR" in
    /*) ;;
    *) BIN_DIR="$REPO/$BIN_DIR" ;;
esac
API_BIN="$BIN_DIR/biologidex-api"
[ -x "$API_BIN" ] || die "$API_BIN is missing: build it first (cargo build --bin biologidex-api) or set BIN_DIR"
for tool in psql python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done

PG_SERVER="${FUZZ_PG_URL:-postgres://biologidex:biologidex@127.0.0.1:5432}"
PG_SERVER="${PG_SERVER%/}"
ADMIN_URL="$PG_SERVER/postgres"
DB_NAME="bdx_fuzz_$$"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
REDIS_PREFIX="bdx-fuzz-$$-$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
EXAMPLES="${FUZZ_EXAMPLES:-25}"
VENV="${FUZZ_VENV:-${TMPDIR:-/tmp}/biologidex-fuzz-venv}"
TMP="$(mktemp -d)"
API_PID=""

cleanup() {
    local rc=$?
    if [ -n "$API_PID" ] && kill -0 "$API_PID" 2>/dev/null; then
        kill "$API_PID" 2>/dev/null || true
        wait "$API_PID" 2>/dev/null || true
    fi
    if [ "$rc" -ne 0 ] && [ -f "$TMP/api.log" ]; then
        echo "--- api log (last 80 lines)" >&2
        tail -n 80 "$TMP/api.log" >&2 || true
    fi
    psql -X -q -w "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 || true
    if command -v redis-cli >/dev/null 2>&1; then
        redis-cli -u "$REDIS_URL" --scan --pattern "$REDIS_PREFIX*" 2>/dev/null |
            xargs -r redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

have_st="$("$VENV/bin/st" --version 2>/dev/null || true)"
have_hypothesis="$("$VENV/bin/pip" show hypothesis 2>/dev/null || true)"
if [[ "$have_st" != *"$SCHEMATHESIS_VERSION"* ]] ||
    [[ "$have_hypothesis" != *"Version: $HYPOTHESIS_VERSION"* ]]; then
    step "installing schemathesis $SCHEMATHESIS_VERSION (hypothesis $HYPOTHESIS_VERSION) into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        "schemathesis==$SCHEMATHESIS_VERSION" "hypothesis==$HYPOTHESIS_VERSION"
fi

psql -X -q -w "$ADMIN_URL" -c "CREATE DATABASE $DB_NAME" >/dev/null
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"

step "starting the api on $BASE"
(
    cd "$TMP"
    exec env -i PATH="$PATH" HOME="$TMP" \
        DEBUG=true RUST_LOG=warn \
        DATABASE_URL="$PG_SERVER/$DB_NAME" REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX="$REDIS_PREFIX" \
        MEDIA_ROOT="$TMP/media" HTTP_WORKERS=2 \
        THROTTLE_ANON_RATE=1000000/hour THROTTLE_USER_RATE=1000000/hour \
        THROTTLE_LOGIN_RATE=1000000/hour THROTTLE_UPLOAD_RATE=1000000/hour \
        "$API_BIN" serve --bind "127.0.0.1:$PORT" --migrate
) >"$TMP/api.log" 2>&1 &
API_PID=$!
for _ in $(seq 1 200); do
    curl -fsS "$BASE/ready/" >/dev/null 2>&1 && break
    kill -0 "$API_PID" 2>/dev/null || die "the api exited"
    sleep 0.1
done
curl -fsS "$BASE/ready/" >/dev/null || die "the api did not become ready"

# token USERNAME: registers USERNAME and prints its access token.
token() {
    local body
    body="{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"fuzz-horse-9271\",\"password_confirm\":\"fuzz-horse-9271\"}"
    curl -fsS -H 'Content-Type: application/json' -d "$body" "$BASE/api/v1/users/" >/dev/null
    curl -fsS -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"fuzz-horse-9271\"}" "$BASE/api/v1/auth/login/" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])'
}
ASH="$(token fuzz_ash)"
GARY="$(token fuzz_gary)"

total=0
failed=0
# pass NAME [schemathesis options]: one run over every operation.
pass() {
    local name=$1
    shift
    step "pass '$name' ($EXAMPLES examples per operation)"
    local rc=0
    "$VENV/bin/st" run "$BASE/api/schema/" \
        --experimental=openapi-3.1 \
        --checks not_a_server_error \
        --hypothesis-max-examples "$EXAMPLES" \
        --hypothesis-derandomize \
        --hypothesis-suppress-health-check all \
        --workers 2 \
        --request-timeout 20000 \
        --no-color \
        --cassette-path "$TMP/$name.yaml" \
        "$@" >"$TMP/$name.out" 2>&1 || rc=$?
    local sent
    sent=0
    [ -f "$TMP/$name.yaml" ] && sent="$(grep -c '^- id:' "$TMP/$name.yaml" || true)"
    total=$((total + sent))
    grep -a -A3 'Performed checks' "$TMP/$name.out" || true
    grep -a 'passed\|failed\|errored' "$TMP/$name.out" | tail -n 1 || true
    if grep -a -q 'not_a_server_error.*FAILED' "$TMP/$name.out"; then
        failed=$((failed + 1))
        sed -n '/FAILURES/,/SUMMARY/p' "$TMP/$name.out" | head -n 150 >&2
    elif [ "$rc" -ne 0 ]; then
        # Errors are requests schemathesis could not complete (e.g. a generated header value
        # the server's HTTP parser refuses and answers by closing): shown, not a 5xx.
        sed -n '/ERRORS/,/SUMMARY/p' "$TMP/$name.out" | head -n 60
    fi
    step "pass '$name': $sent requests, exit $rc"
}

pass ash -H "Authorization: Bearer $ASH"
pass gary -H "Authorization: Bearer $GARY"
pass anonymous

step "$total requests sent in all"
[ "$failed" -eq 0 ] || die "$failed pass(es) found answers >= 500 (see above)"
# The server's own view: no internal error was logged either.
if grep -q 'internal error\|database pool unavailable' "$TMP/api.log"; then
    grep 'internal error\|database pool unavailable' "$TMP/api.log" | head -n 20 >&2
    die "the api logged internal errors"
fi
step "ok: 0 answers >= 500"
