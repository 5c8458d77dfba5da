#!/usr/bin/env bash
# Production-topology smoke test (issue 8, docs/decisions.md#d20): Debian's nginx, configured from
# ops/nginx (rendered by ops/nginx/render-local.sh with a self-signed test certificate), in front
# of a locally started api + worker, on PostgreSQL and Redis, with the fake OpenAI-compatible
# provider of ops/bench. Every request of the smoke test goes THROUGH nginx over HTTPS:
#
#   register two users, log in, upload and convert a photo, run a vision job, create a private
#   dex entry, sync, fetch its image through its capability URL (nginx serves the file after the
#   api's X-Accel-Redirect) and compare its sha256, check a stranger cannot list it, a tampered
#   URL and the internal /protected-media/ path are 404, /metrics is refused to a non-allowlisted
#   address, /health/ answers, plain HTTP redirects to HTTPS.
#
#   BIN_DIR=target/debug bash ops/ci/topology.sh
#
# It builds nothing: BIN_DIR (default target/debug, relative to the repository) must hold
# biologidex-api and biologidex-worker. PostgreSQL and Redis must answer (bash ops/dev/services);
# the database bdx_topology_<pid> is created and dropped as the biologidex role
# (docs/decisions.md#d14).
# Environment (optional):
#   BIN_DIR              where the binaries are (default target/debug)
#   TOPOLOGY_PG_URL      server URL without a database (default
#                        postgres://biologidex:biologidex@127.0.0.1:5432)
#   REDIS_URL            default redis://127.0.0.1:6379/0; keys use a fresh prefix, deleted at the end
#   TOPOLOGY_KEEP_LOGS=1 print the logs of every service at the end even on success
# Everything it starts (provider, api, worker, nginx) is stopped by pid, and its temp directory,
# database and Redis keys are removed, on every exit. As root, a missing nginx/openssl/curl is
# installed with apt-get (services kept from starting).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
STARTED=$SECONDS

step() { printf '[topology] %s\n' "$*"; }
die() {
    printf '[topology] FAIL: %s\n' "$*" >&2
    exit 1
}

BIN_DIR="${BIN_DIR:-target/debug}"
case "$BIN_DIR" in
    /*) ;;
    *) BIN_DIR="$REPO/$BIN_DIR" ;;
esac
API_BIN="$BIN_DIR/biologidex-api"
WORKER_BIN="$BIN_DIR/biologidex-worker"
for bin in "$API_BIN" "$WORKER_BIN"; do
    [ -x "$bin" ] || die "$bin is missing or not executable: build it first (cargo build --bin biologidex-api --bin biologidex-worker) or set BIN_DIR"
done

PG_SERVER="${TOPOLOGY_PG_URL:-postgres://biologidex:biologidex@127.0.0.1:5432}"
PG_SERVER="${PG_SERVER%/}"
ADMIN_URL="$PG_SERVER/postgres"
DB_NAME="bdx_topology_$$"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
REDIS_PREFIX="bdx-topology-$$-$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"

# --- tools -----------------------------------------------------------------------------------------
missing=()
for tool in nginx openssl curl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        step "installing ${missing[*]} (apt-get)"
        policy_added=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            # Keep the package's maintainer scripts from starting a system nginx.
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod 755 /usr/sbin/policy-rc.d
            policy_added=1
        fi
        install_rc=0
        {
            DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
        } >/dev/null 2>&1 || install_rc=$?
        [ "$policy_added" -eq 0 ] || rm -f /usr/sbin/policy-rc.d
        [ "$install_rc" -eq 0 ] || die "apt-get install ${missing[*]} failed"
    else
        die "missing tools: ${missing[*]} (install them, or run as root to have them installed)"
    fi
fi
for tool in psql python3 sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
NGINX="$(command -v nginx)"

# --- cleanup -----------------------------------------------------------------------------------------
umask 022
TMP="$(mktemp -d /tmp/biologidex-topology.XXXXXX)"
# As root, nginx's workers run as an unprivileged user: they must reach the media root.
chmod 755 "$TMP"
PIDS=()
NAMES=()
DB_CREATED=0

stop_all() {
    local i pid
    # Newest first: nginx, worker, api, provider.
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid="${PIDS[$i]}"
        kill -TERM "$pid" 2>/dev/null || true
    done
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid="${PIDS[$i]}"
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            printf '[topology] %s (pid %s) did not stop: killing it\n' "${NAMES[$i]}" "$pid" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    NAMES=()
}

show_logs() {
    local f
    for f in "$TMP"/*.log; do
        [ -s "$f" ] || continue
        printf '\n[topology] ---- last lines of %s ----\n' "$(basename "$f")" >&2
        tail -n 25 "$f" >&2
    done
}

cleanup() {
    local rc=$?
    set +e
    if [ "$rc" -ne 0 ] || [ "${TOPOLOGY_KEEP_LOGS:-0}" = 1 ]; then
        show_logs
    fi
    stop_all
    if [ "$DB_CREATED" -eq 1 ]; then
        psql -X -q -w "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 ||
            printf '[topology] warning: could not drop database %s\n' "$DB_NAME" >&2
    fi
    if command -v redis-cli >/dev/null 2>&1; then
        redis-cli -u "$REDIS_URL" --scan --pattern "$REDIS_PREFIX:*" 2>/dev/null |
            xargs -r -n 100 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1
    fi
    rm -rf "$TMP"
    if [ "$rc" -ne 0 ]; then
        printf '[topology] topology smoke test: FAILED (exit %s) after %s s\n' "$rc" "$((SECONDS - STARTED))" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: run in the background (cwd TMP: no developer .env is read), log to
# TMP/NAME.log (append mode: nginx reopens /dev/stdout for its access log, and both descriptions
# must append rather than overwrite each other), remember the pid.
start() {
    local name="$1"
    shift
    (cd "$TMP" && exec "$@") >>"$TMP/$name.log" 2>&1 &
    PIDS+=("$!")
    NAMES+=("$name")
}

# wait_for NAME PID URL [curl options]: until URL answers 2xx (20 s), or the process dies.
wait_for() {
    local name="$1" pid="$2" url="$3"
    shift 3
    for _ in $(seq 200); do
        if curl -fsS -o /dev/null --max-time 2 "$@" "$url" 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || die "$name exited during start-up (see $name.log below)"
        sleep 0.1
    done
    die "$name did not answer $url within 20 s"
}

# free_ports N: N distinct free TCP ports on 127.0.0.1.
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

# --- services ----------------------------------------------------------------------------------------
psql -X -q -w "$ADMIN_URL" -c 'SELECT 1' >/dev/null 2>&1 ||
    die "PostgreSQL does not answer at ${PG_SERVER%%://*}://...@${PG_SERVER##*@} (start it: bash ops/dev/services)"
if command -v redis-cli >/dev/null 2>&1; then
    [ "$(redis-cli -u "$REDIS_URL" PING 2>/dev/null)" = PONG ] ||
        die "Redis does not answer at $REDIS_URL (start it: bash ops/dev/services)"
fi

read -r API_PORT WORKER_PORT PROVIDER_PORT HTTP_PORT HTTPS_PORT <<<"$(free_ports 5)"
BASE="https://127.0.0.1:$HTTPS_PORT"
MEDIA="$TMP/media"
mkdir -p "$MEDIA" "$TMP/web"
chmod 755 "$MEDIA" "$TMP/web"
printf '<!doctype html><title>BiologiDex web client (topology test)</title>\n' >"$TMP/web/index.html"
step "ports: api $API_PORT, worker $WORKER_PORT, provider $PROVIDER_PORT, nginx http $HTTP_PORT / https $HTTPS_PORT"

psql -X -q -w "$ADMIN_URL" -c "CREATE DATABASE $DB_NAME" >/dev/null || die "cannot create database $DB_NAME as ${PG_SERVER##*://}"
DB_CREATED=1

export DATABASE_URL="$PG_SERVER/$DB_NAME"
export REDIS_URL
export REDIS_KEY_PREFIX="$REDIS_PREFIX"
SECRET_KEY="topology-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
export SECRET_KEY
export MEDIA_ROOT="$MEDIA"
export PUBLIC_BASE_URL="$BASE"
export MEDIA_X_ACCEL_REDIRECT=true
export TRUSTED_PROXIES=127.0.0.1
export OPENAI_API_KEY=sk-topology-test
export OPENAI_BASE_URL="http://127.0.0.1:$PROVIDER_PORT/v1"
export WORKER_METRICS_BIND="127.0.0.1:$WORKER_PORT"
export WORKER_RUN_CRON=true
export DEBUG=false
export RUST_LOG="${RUST_LOG:-warn}"
unset BIND_ADDRESS

(cd "$TMP" && "$API_BIN" migrate) >"$TMP/migrate.log" 2>&1 || {
    cat "$TMP/migrate.log" >&2
    die "biologidex-api migrate failed"
}
step "database $DB_NAME created and migrated"

start provider python3 "$REPO/ops/bench/fake_openai.py" "$PROVIDER_PORT"
wait_for provider "${PIDS[-1]}" "http://127.0.0.1:$PROVIDER_PORT/v1/chat/completions" -X POST -d '{}'
start api "$API_BIN" serve --bind "127.0.0.1:$API_PORT"
wait_for api "${PIDS[-1]}" "http://127.0.0.1:$API_PORT/health/"
start worker "$WORKER_BIN"
wait_for worker "${PIDS[-1]}" "http://127.0.0.1:$WORKER_PORT/health/"
step "fake provider, api and worker are up"

NGX="$TMP/nginx"
bash "$REPO/ops/nginx/render-local.sh" --out "$NGX" --api "127.0.0.1:$API_PORT" \
    --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --media-root "$MEDIA" \
    --web-root "$TMP/web" >/dev/null || die "ops/nginx/render-local.sh failed"
"$NGINX" -t -q -e stderr -p "$NGX/" -c "$NGX/nginx.conf" -g "pid $NGX/nginx.pid;" >"$TMP/nginx-t.log" 2>&1 || {
    cat "$TMP/nginx-t.log" >&2
    die "nginx -t rejects the rendered configuration"
}
start nginx "$NGINX" -e stderr -p "$NGX/" -c "$NGX/nginx.conf" -g "daemon off; pid $NGX/nginx.pid;"
wait_for nginx "${PIDS[-1]}" "$BASE/health/" -k
step "nginx is up (rendered ops/nginx, self-signed certificate)"

# --- smoke test through nginx --------------------------------------------------------------------------
# req METHOD URL [curl args...]: body into TMP/body, headers into TMP/headers; prints the status.
req() {
    local method="$1" url="$2"
    shift 2
    curl -ksS -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' --max-time 20 -X "$method" "$@" "$url" ||
        die "$method $url: curl failed"
}

# expect STATUS ACTUAL WHAT
expect() {
    [ "$2" = "$1" ] || die "$3: expected HTTP $1, got $2: $(head -c 400 "$TMP/body" 2>/dev/null)"
}

# json EXPR: evaluate a Python expression over the last body (as `d`); prints the result.
json() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(v if not isinstance(v, (dict, list, bool)) and v is not None else json.dumps(v))
' "$TMP/body" "$1" 2>/dev/null || die "unexpected response body for $1: $(head -c 400 "$TMP/body")"
}

header() {
    # header NAME: the value of a response header of the last request ("" when absent).
    tr -d '\r' <"$TMP/headers" | awk -v n="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')" \
        'BEGIN { FS = ": " } tolower($1) == n { sub(/^[^:]*: /, ""); v = $0 } END { print v }'
}

status="$(req GET "$BASE/health/")"
expect 200 "$status" "GET /health/ through nginx"
[ "$(header X-Content-Type-Options)" = nosniff ] || die "/health/ through nginx lacks the security headers"
step "GET /health/ through nginx: 200, security headers present"

status="$(req GET "http://127.0.0.1:$HTTP_PORT/health/")"
expect 301 "$status" "plain HTTP"
case "$(header Location)" in https://*) ;; *) die "plain HTTP redirects to '$(header Location)', not https" ;; esac
step "plain HTTP: 301 to HTTPS"

PASSWORD="Topology-pass-$$-x9"
for user in owner stranger; do
    status="$(req POST "$BASE/api/v1/users/" -H 'content-type: application/json' \
        -d "{\"username\":\"topo_$user\",\"email\":\"$user@topology.example\",\"password\":\"$PASSWORD\",\"password_confirm\":\"$PASSWORD\"}")"
    expect 201 "$status" "register $user"
done
step "registered two users (owner, stranger)"

login() {
    local status
    status="$(req POST "$BASE/api/v1/auth/login/" -H 'content-type: application/json' \
        -d "{\"username\":\"topo_$1\",\"password\":\"$PASSWORD\"}")"
    expect 200 "$status" "login $1"
    json 'd["access"]'
}
OWNER="$(login owner)"
STRANGER="$(login stranger)"
if [ -z "$OWNER" ] || [ -z "$STRANGER" ]; then die "login returned no access token"; fi
step "logged in both users"

PHOTO="$TMP/photo.png"
python3 - "$PHOTO" <<'PY'
import struct, sys, zlib
w, h = 96, 64
rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in ((x * 5 + y * 3) % 256, x * 2 % 256, y * 4 % 256))
                for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
PY
AUTH=(-H "Authorization: Bearer $OWNER")
status="$(req POST "$BASE/api/v1/images/convert/" "${AUTH[@]}" -F "image=@$PHOTO;type=image/png")"
expect 201 "$status" "upload and convert a photo"
CONVERSION="$(json 'd["id"]')"
step "uploaded and converted a photo (conversion $CONVERSION)"

status="$(req POST "$BASE/api/v1/vision/jobs/" "${AUTH[@]}" -H 'content-type: application/json' \
    -d "{\"conversion_id\":\"$CONVERSION\"}")"
expect 201 "$status" "create a vision job"
JOB="$(json 'd["id"]')"
step "created vision job $JOB ($(json 'd["status"]'))"

deadline=$((SECONDS + 30))
job_status=""
while :; do
    status="$(req GET "$BASE/api/v1/vision/jobs/$JOB/" "${AUTH[@]}")"
    expect 200 "$status" "poll the vision job"
    job_status="$(json 'd["status"]')"
    case "$job_status" in
        completed) break ;;
        failed) die "the vision job failed: $(json 'd.get("error_message")')" ;;
    esac
    [ "$SECONDS" -lt "$deadline" ] || die "the vision job is still '$job_status' after 30 s"
    sleep 0.3
done
ANIMAL="$(json 'd["detected_animals"][0]["animal_id"]')"
ANIMAL_NAME="$(json 'd["detected_animals"][0].get("scientific_name", "?")')"
JOB_IMAGE_URL="$(json 'd.get("dex_compatible_url") or ""')"
step "vision job completed: detected $ANIMAL_NAME (animal $ANIMAL)"

# The job's own image (/media/j/<token>.png, owner only) through nginx; the stranger cannot
# read the job.
case "$JOB_IMAGE_URL" in
    "$BASE"/media/j/*.png) ;;
    *) die "the job's dex_compatible_url '$JOB_IMAGE_URL' is not a capability URL on $BASE" ;;
esac
status="$(req GET "$JOB_IMAGE_URL")"
expect 200 "$status" "fetch the job's image through nginx"
[ "$(header Content-Type)" = image/png ] || die "the job's image is served as '$(header Content-Type)'"
JOB_IMAGE_SHA="$(sha256sum "$TMP/body" | cut -d' ' -f1)"
status="$(req GET "$BASE/api/v1/vision/jobs/$JOB/" -H "Authorization: Bearer $STRANGER")"
[ "$status" = 404 ] || [ "$status" = 403 ] || die "the stranger can read the owner's vision job (HTTP $status)"
step "job image through nginx: 200 image/png; the stranger cannot read the job ($status)"

status="$(req POST "$BASE/api/v1/dex/entries/" "${AUTH[@]}" -H 'content-type: application/json' \
    -d "{\"animal\":\"$ANIMAL\",\"visibility\":\"private\",\"source_vision_job\":\"$JOB\"}")"
expect 201 "$status" "create a private dex entry"
ENTRY="$(json 'd["id"]')"
step "created private dex entry $ENTRY"

status="$(req GET "$BASE/api/v1/dex/entries/sync_entries/" "${AUTH[@]}")"
expect 200 "$status" "sync_entries"
[ "$(json 'len(d["entries"])')" = 1 ] || die "sync_entries should list 1 entry: $(head -c 400 "$TMP/body")"
IMAGE_URL="$(json 'd["entries"][0]["dex_compatible_url"]')"
CHECKSUM="$(json 'd["entries"][0]["image_checksum"]')"
case "$IMAGE_URL" in
    "$BASE"/media/e/*.png) ;;
    *) die "dex_compatible_url '$IMAGE_URL' is not a capability URL on $BASE" ;;
esac
[[ "$CHECKSUM" =~ ^[0-9a-f]{64}$ ]] || die "image_checksum '$CHECKSUM' is not a sha256"
step "sync: 1 entry, image URL $BASE/media/e/<token>.png"

status="$(req GET "$IMAGE_URL")"
expect 200 "$status" "fetch the entry's image through nginx"
got="$(sha256sum "$TMP/body" | cut -d' ' -f1)"
[ "$got" = "$CHECKSUM" ] || die "the image through nginx has sha256 $got, image_checksum is $CHECKSUM"
[ "$(header Content-Type)" = image/png ] || die "the image is served as '$(header Content-Type)'"
[ "$got" = "$JOB_IMAGE_SHA" ] || die "the entry's image differs from the job's image"
# Only the internal /protected-media/ location adds this header: nginx served the file itself.
[ "$(header Content-Security-Policy)" = "default-src 'none'; sandbox" ] ||
    die "the image was not served by nginx's /protected-media/ location (X-Accel-Redirect)"
step "image through nginx (X-Accel-Redirect): $(wc -c <"$TMP/body") bytes, sha256 matches image_checksum"

token="${IMAGE_URL##*/}"
token="${token%.png}"
case "${token:0:1}" in 0) first=1 ;; *) first=0 ;; esac
status="$(req GET "$BASE/media/e/$first${token:1}.png")"
expect 404 "$status" "a tampered image URL"
step "tampered image URL: 404"

# The access log must not hold capability tokens (nginx.conf's $biologidex_log_uri map).
if grep -q "$token" "$TMP/nginx.log"; then
    die "nginx's access log contains an image's capability token (see the \$biologidex_log_uri map in ops/nginx/nginx.conf)"
else
    step "nginx's access log holds no capability token"
fi

MEDIA_FILE="$(cd "$MEDIA" && find . -type f -name '*.png' | head -n 1)"
MEDIA_FILE="${MEDIA_FILE#./}"
[ -n "$MEDIA_FILE" ] || die "no image file under MEDIA_ROOT"
for path in "/protected-media/$MEDIA_FILE" "/media/$MEDIA_FILE"; do
    status="$(req GET "$BASE$path")"
    expect 404 "$status" "GET $path through nginx (the plain storage path)"
done
step "plain storage paths (/protected-media/..., /media/<key>): 404"

status="$(req GET "$BASE/api/v1/dex/entries/" -H "Authorization: Bearer $STRANGER")"
expect 200 "$status" "the stranger's entry list"
[ "$(json 'd["count"]')" = 0 ] || die "the stranger sees entries: $(head -c 400 "$TMP/body")"
status="$(req GET "$BASE/api/v1/dex/entries/$ENTRY/" -H "Authorization: Bearer $STRANGER")"
[ "$status" = 404 ] || [ "$status" = 403 ] || die "the stranger can read the private entry (HTTP $status)"
stranger_status="$status"
status="$(req GET "$BASE/api/v1/dex/entries/" "${AUTH[@]}")"
expect 200 "$status" "the owner's entry list"
[ "$(json 'd["count"]')" = 1 ] || die "the owner should list 1 entry: $(head -c 400 "$TMP/body")"
step "stranger lists 0 entries (the entry itself: $stranger_status); the owner lists 1"

# /metrics through nginx: allowlisted for 127.0.0.1 only; another loopback source address
# (127.0.0.2, when the kernel lets us bind it) must be refused.
status="$(req GET "$BASE/metrics")"
expect 200 "$status" "/metrics from 127.0.0.1 (allowlisted)"
m_status="$(curl -ksS -o /dev/null -w '%{http_code}' --max-time 5 --interface 127.0.0.2 "$BASE/metrics" 2>/dev/null || true)"
case "$m_status" in
    403) step "/metrics through nginx: 200 from 127.0.0.1, 403 from 127.0.0.2" ;;
    000 | "") step "/metrics through nginx: 200 from 127.0.0.1 (refusal not checked: cannot bind 127.0.0.2)" ;;
    *) die "/metrics through nginx from 127.0.0.2: expected 403, got $m_status" ;;
esac

# API docs through nginx: the document, and both viewers with exactly one CSP (the api's own;
# nginx adds its default only when the api sends none).
status="$(req GET "$BASE/api/schema/")"
expect 200 "$status" "the OpenAPI document"
[ "$(json 'd["openapi"][:3]')" = "3.1" ] || die "/api/schema/ is not OpenAPI 3.1"
for page in docs redoc; do
    status="$(req GET "$BASE/api/$page/")"
    expect 200 "$status" "/api/$page/"
    csp="$(grep -ci '^content-security-policy:' "$TMP/headers" || true)"
    [ "$csp" = 1 ] || die "/api/$page/ carries $csp Content-Security-Policy headers, expected 1"
done
step "API docs through nginx: /api/schema/ (OpenAPI 3.1), /api/docs/ and /api/redoc/ with one CSP each"

# The operators' console through nginx: anonymous visitors go to the login form, which sets a
# Secure cookie behind TLS; a staff member (created with create-superuser) signs in and reads
# the system page; a deactivation from the CLI stops that user's API login.
status="$(req GET "$BASE/admin/")"
expect 303 "$status" "/admin/ anonymously"
grep -qi '^location: /admin/login/' "$TMP/headers" || die "/admin/ did not redirect to the login form"
JAR="$TMP/console-cookies"
status="$(req GET "$BASE/admin/login/" -c "$JAR")"
expect 200 "$status" "the console's login form"
csp="$(grep -ci '^content-security-policy:' "$TMP/headers" || true)"
[ "$csp" = 1 ] || die "/admin/login/ carries $csp Content-Security-Policy headers, expected 1"
grep -qi '^set-cookie: bdx_admin_login=.*secure' "$TMP/headers" || die "the login cookie is not Secure behind TLS"
csrf="$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$TMP/body" | head -n 1)"
OPS_PASSWORD="ops-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
(cd "$TMP" && BIOLOGIDEX_SUPERUSER_PASSWORD="$OPS_PASSWORD" "$API_BIN" create-superuser \
    --username ops --email ops@example.com) >"$TMP/superuser.log" 2>&1 || {
    cat "$TMP/superuser.log" >&2
    die "create-superuser failed"
}
status="$(req POST "$BASE/admin/login/" -b "$JAR" -c "$JAR" --data-urlencode "csrf=$csrf" \
    --data-urlencode username=ops --data-urlencode "password=$OPS_PASSWORD")"
expect 303 "$status" "the console login"
status="$(req GET "$BASE/admin/system/" -b "$JAR")"
expect 200 "$status" "/admin/system/ as staff"
grep -q 'Cron schedule' "$TMP/body" || die "/admin/system/ does not list the cron schedule"
(cd "$TMP" && "$API_BIN" user set-active topo_stranger false) >"$TMP/set-active.log" 2>&1 || {
    cat "$TMP/set-active.log" >&2
    die "biologidex-api user set-active failed"
}
status="$(req POST "$BASE/api/v1/auth/login/" -H 'Content-Type: application/json' \
    -d "{\"username\":\"topo_stranger\",\"password\":\"$PASSWORD\"}")"
expect 401 "$status" "the stranger's API login after set-active false"
step "console through nginx: login form (one CSP, Secure cookie), staff login, system page; CLI deactivation stops API logins"

# Maintenance mode: the flag file of ops/nginx/maintenance.conf turns every answer into a JSON
# 503 with Retry-After, at once (no reload), and removing it brings the service back.
: >"$NGX/maintenance/on"
for path in /api/v1/health/ /admin/ /some/client/route; do
    status="$(req GET "$BASE$path")"
    expect 503 "$status" "GET $path in maintenance mode"
    grep -qi '^retry-after: 120' "$TMP/headers" || die "GET $path in maintenance mode: no Retry-After"
    grep -q '"detail":"The server is down for maintenance' "$TMP/body" || die "GET $path in maintenance mode: not the JSON body"
done
rm -f "$NGX/maintenance/on"
status="$(req GET "$BASE/api/v1/health/")"
expect 200 "$status" "GET /api/v1/health/ after maintenance mode"
step "maintenance mode: JSON 503 with Retry-After on every path while the flag exists, back to normal without it"

status="$(req GET "$BASE/some/client/route")"
expect 200 "$status" "the web client fallback"
grep -q 'topology test' "$TMP/body" || die "the web client fallback did not serve index.html"
step "web client: unknown paths serve index.html"

stop_all
step "stopped nginx, worker, api and provider"
printf 'topology smoke test: OK (%s s)\n' "$((SECONDS - STARTED))"
