#!/usr/bin/env bash
# Production-topology smoke test (issues 8 and 15, docs/decisions.md#d20): Debian's nginx,
# configured from ops/nginx (rendered by ops/nginx/render-local.sh with a self-signed test
# certificate), in front of locally started api and worker processes, on PostgreSQL and Redis,
# with the fake OpenAI-compatible provider of ops/bench. Every request of the client flow goes
# THROUGH nginx over HTTPS. Two modes:
#
# TOPOLOGY_MEDIA=s3 (the default): the multi-host layout. Two api processes (nginx balances
#   both) and a worker that share NO directory: each has its own empty MEDIA_ROOT and working
#   directory, media live in a bucket of the S3-compatible server (moto, `ops/dev/s3`), and reads
#   go to a real streaming replica (a second PostgreSQL cluster made here with pg_basebackup from
#   the running primary, DATABASE_REPLICA_URLS). Checked on top of the client flow below:
#     - the photo uploaded through one api is fetched through each api directly and through
#       nginx with the same sha256, which is also the object's in the bucket;
#     - every MEDIA_ROOT is still empty at the end; the bucket holds the images;
#     - a third api with MEDIA_SIGNED_URL_SECONDS answers the capability URL with a 302 to a
#       pre-signed URL of the bucket that serves the same bytes;
#     - /ready/ says storage healthy and /api/v1/health/ reports the s3 backend;
#     - both apis report the replica usable (their lag watcher), and reads are seen on it: over a
#       burst of GET /api/v1/animals/ the apis count a replica checkout per request
#       (biologidex_api_db_reads_total) and the replica's own transaction count for the test
#       database grows as much; a write lands on the primary at once and reaches the replica
#       through streaming (pg_last_wal_replay_lsn).
# TOPOLOGY_MEDIA=local: one api and a worker on one MEDIA_ROOT that nginx reads too; the api
#   answers X-Accel-Redirect and nginx sends the file from its internal /protected-media/ (whose
#   plain paths must be 404). No replica.
#
# The client flow, both modes: register two users, log in, upload and convert a photo, run a
# vision job, create a private dex entry, sync, fetch its image through its capability URL and
# compare its sha256, check a stranger cannot list it, a tampered URL is 404, the access log holds
# no token, /metrics is refused to a non-allowlisted address, the API docs, the operators' console
# and a CLI deactivation, maintenance mode, the web client fallback, /health/ answers, plain HTTP
# redirects to HTTPS.
#
#   BIN_DIR=target/debug bash ops/ci/topology.sh
#   TOPOLOGY_MEDIA=local BIN_DIR=target/debug bash ops/ci/topology.sh
#
# It builds nothing: BIN_DIR (default target/debug, relative to the repository) must hold
# biologidex-api and biologidex-worker. PostgreSQL and Redis must answer (bash ops/dev/services);
# the database bdx_topology_<pid> is created and dropped as the biologidex role
# (docs/decisions.md#d14). The replica needs root (commands run as the postgres OS user through
# runuser) or running as the cluster's owner, and local replication connections on the primary:
# when pg_hba.conf has no `local replication` line, one (`local replication postgres peer`) is
# added and the configuration reloaded for the run, and removed again at the end (as root only).
# Environment (optional):
#   BIN_DIR              where the binaries are (default target/debug)
#   TOPOLOGY_MEDIA       s3 (default) or local
#   TOPOLOGY_PG_URL      server URL without a database (default
#                        postgres://biologidex:biologidex@127.0.0.1:5432)
#   TOPOLOGY_PG_SOCKET   the primary's socket directory for pg_basebackup (default
#                        /var/run/postgresql)
#   S3_PORT              port of the S3-compatible server ops/dev/s3 uses or starts (default 9010)
#   REDIS_URL            default redis://127.0.0.1:6379/0; keys use a fresh prefix, deleted at the end
#   TOPOLOGY_KEEP_LOGS=1 print the logs of every service at the end even on success
# Everything it starts (provider, apis, worker, nginx, the replica) is stopped by pid (the replica
# by pg_ctl), and its temp directory, database, bucket and Redis keys are removed, on every exit.
# The moto server is shared (ops/dev/s3 leaves it running for the next user). As root, a missing
# nginx/openssl/curl is installed with apt-get (services kept from starting).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
STARTED=$SECONDS

step() { printf '[topology] %s\n' "$*"; }
die() {
    printf '[topology] FAIL: %s\n' "$*" >&2
    exit 1
}

MODE="${TOPOLOGY_MEDIA:-s3}"
case "$MODE" in
    s3 | local) ;;
    *) die "TOPOLOGY_MEDIA must be s3 or local, not '$MODE'" ;;
esac

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
PG_SOCKET="${TOPOLOGY_PG_SOCKET:-/var/run/postgresql}"
DB_NAME="bdx_topology_$$"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
REDIS_PREFIX="bdx-topology-$$-$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
BUCKET="bdx-topology-$$"

# --- tools -----------------------------------------------------------------------------------------
install_tools() {
    local missing=() tool policy_added=0 install_rc=0
    for tool in nginx openssl curl; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            step "installing ${missing[*]} (apt-get)"
            if [ ! -e /usr/sbin/policy-rc.d ]; then
                # Keep the package's maintainer scripts from starting a system nginx.
                printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
                chmod 755 /usr/sbin/policy-rc.d
                policy_added=1
            fi
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
}

# --- cleanup -----------------------------------------------------------------------------------------
umask 022
TMP="$(mktemp -d /tmp/biologidex-topology.XXXXXX)"
# As root, nginx's workers (and the replica's postgres user) run unprivileged: they must reach
# their directories under TMP.
chmod 755 "$TMP"
PIDS=()
NAMES=()
DB_CREATED=0
REPLICA_DIR=""
HBA_ADDED=""
S3=""

stop_all() {
    local i pid
    # Newest first: nginx, worker, apis, provider.
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
    stop_replica
    if [ "$DB_CREATED" -eq 1 ]; then
        psql -X -q -w "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 ||
            printf '[topology] warning: could not drop database %s\n' "$DB_NAME" >&2
    fi
    remove_replication_hba
    [ -z "$S3" ] || delete_bucket
    if command -v redis-cli >/dev/null 2>&1; then
        redis-cli -u "$REDIS_URL" --scan --pattern "$REDIS_PREFIX:*" 2>/dev/null |
            xargs -r -n 100 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1
    fi
    rm -rf "$TMP"
    if [ "$rc" -ne 0 ]; then
        printf '[topology] topology smoke test (%s): FAILED (exit %s) after %s s\n' "$MODE" "$rc" "$((SECONDS - STARTED))" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: run in the background in its own directory TMP/NAME (no developer .env
# is read, and no two processes share a working directory), log to TMP/NAME.log (append mode:
# nginx reopens /dev/stdout for its access log, and both descriptions must append rather than
# overwrite each other), remember the pid.
start() {
    local name="$1"
    shift
    mkdir -p "$TMP/$name"
    (cd "$TMP/$name" && exec "$@") >>"$TMP/$name.log" 2>&1 &
    PIDS+=("$!")
    NAMES+=("$name")
}

# cli NAME COMMAND...: a one-off command of the api binary in TMP/cli; its output goes to
# TMP/NAME.log and is shown if it fails.
cli() {
    local name="$1"
    shift
    mkdir -p "$TMP/cli"
    (cd "$TMP/cli" && "$@") >"$TMP/$name.log" 2>&1 || {
        cat "$TMP/$name.log" >&2
        die "$name failed"
    }
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

# with_host_port URL HOST:PORT: URL (a server URL, no path) with another host and port.
with_host_port() {
    python3 - "$1" "$2" <<'PY'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
cred = u.netloc.rsplit("@", 1)[0] + "@" if "@" in u.netloc else ""
print(urllib.parse.urlunsplit((u.scheme, cred + sys.argv[2], u.path, u.query, u.fragment)))
PY
}

# primary_sql DB SQL / replica_sql DB SQL: one value, as the biologidex role.
primary_sql() { psql -X -q -w -At "$PG_SERVER/$1" -c "$2"; }
replica_sql() { psql -X -q -w -At "$REPLICA_SERVER/$1" -c "$2"; }

# --- PostgreSQL and Redis ------------------------------------------------------------------------
check_services() {
    psql -X -q -w "$ADMIN_URL" -c 'SELECT 1' >/dev/null 2>&1 ||
        die "PostgreSQL does not answer at ${PG_SERVER%%://*}://...@${PG_SERVER##*@} (start it: bash ops/dev/services)"
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -u "$REDIS_URL" PING 2>/dev/null)" = PONG ] ||
            die "Redis does not answer at $REDIS_URL (start it: bash ops/dev/services)"
    fi
}

create_database() {
    psql -X -q -w "$ADMIN_URL" -c "CREATE DATABASE $DB_NAME" >/dev/null || die "cannot create database $DB_NAME as ${PG_SERVER##*://}"
    DB_CREATED=1
    export DATABASE_URL="$PG_SERVER/$DB_NAME"
    cli migrate "$API_BIN" migrate
    step "database $DB_NAME created and migrated (on the primary)"
}

# --- the streaming replica (s3 mode) ----------------------------------------------------------------
# as_postgres COMMAND...: as the postgres OS user (PostgreSQL refuses to run as root).
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# primary_super SQL: one value, as the postgres superuser over the primary's socket.
primary_super() {
    as_postgres psql -X -q -w -At -h "$PG_SOCKET" -p "$PRIMARY_PORT" -U postgres -d postgres -c "$1"
}

# replica_super SQL: the same on the replica (the WAL receiver's state is for superusers).
replica_super() {
    as_postgres psql -X -q -w -At -h "$TMP/replica-sock" -p "$REPLICA_PORT" -U postgres -d postgres -c "$1"
}

# The standby streams over a local replication connection; Debian's default pg_hba.conf allows
# one (`local replication all peer`), a hand-made one may not.
ensure_replication_hba() {
    local rules hba
    rules="$(primary_super "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'local' AND 'replication' = ANY(database) AND error IS NULL")" ||
        die "cannot read the primary's pg_hba rules as postgres over $PG_SOCKET (set TOPOLOGY_PG_SOCKET)"
    [ "$rules" = 0 ] || return 0
    hba="$(primary_super 'SHOW hba_file')"
    if [ "$(id -u)" -ne 0 ] || [ ! -w "$hba" ]; then
        die "the primary's $hba allows no local replication connections: add 'local replication all peer' and reload, or run as root"
    fi
    printf 'local replication postgres peer  # %s\n' "$BUCKET" >>"$hba"
    HBA_ADDED="$hba"
    primary_super 'SELECT pg_reload_conf()' >/dev/null
    step "added 'local replication postgres peer' to $hba for this run (removed at the end)"
}

remove_replication_hba() {
    [ -n "$HBA_ADDED" ] || return 0
    # Rewritten in place (same file, owner and mode), without only the line added above.
    if grep -v "  # $BUCKET\$" "$HBA_ADDED" >"$TMP/pg_hba.conf" && cat "$TMP/pg_hba.conf" >"$HBA_ADDED" &&
        primary_super 'SELECT pg_reload_conf()' >/dev/null; then
        :
    else
        printf '[topology] warning: could not remove the replication line from %s\n' "$HBA_ADDED" >&2
    fi
    HBA_ADDED=""
}

start_replica() {
    local major pg_bin sock setting value
    PRIMARY_PORT="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.urlsplit(sys.argv[1]).port or 5432)' "$PG_SERVER")"
    if [ "$(id -u)" -ne 0 ] && [ "$(id -un)" != postgres ]; then
        die "the replica needs root (to run PostgreSQL as the postgres user) or the postgres user"
    fi
    major="$(primary_super 'SHOW server_version_num')" || die "cannot connect to the primary as postgres over $PG_SOCKET"
    major=$((major / 10000))
    pg_bin="/usr/lib/postgresql/$major/bin"
    [ -x "$pg_bin/pg_basebackup" ] || pg_bin="$(dirname "$(command -v pg_ctl)")"
    PG_CTL="$pg_bin/pg_ctl"
    ensure_replication_hba

    REPLICA_DIR="$TMP/replica-data"
    sock="$TMP/replica-sock"
    mkdir -p "$REPLICA_DIR" "$sock"
    : >"$TMP/replica.log"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$REPLICA_DIR" "$sock" "$TMP/replica.log"
    fi
    chmod 700 "$REPLICA_DIR"
    as_postgres "$pg_bin/pg_basebackup" -h "$PG_SOCKET" -p "$PRIMARY_PORT" -U postgres -D "$REPLICA_DIR" \
        -R -X stream -c fast --no-sync >"$TMP/basebackup.log" 2>&1 || {
        cat "$TMP/basebackup.log" >&2
        die "pg_basebackup from the primary failed"
    }
    # Debian keeps the configuration outside the data directory: the replica gets its own,
    # with the primary's access rules and the settings a hot standby must not set lower.
    as_postgres cp "$(primary_super 'SHOW hba_file')" "$REPLICA_DIR/pg_hba.conf"
    as_postgres cp "$(primary_super 'SHOW ident_file')" "$REPLICA_DIR/pg_ident.conf"
    {
        echo "# Written by ops/ci/topology.sh: a hot standby of the primary on port $REPLICA_PORT."
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $REPLICA_PORT"
        echo "unix_socket_directories = '$sock'"
        echo "hot_standby = on"
        echo "shared_buffers = 32MB"
        echo "fsync = off"
        for setting in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
            value="$(primary_super "SHOW $setting")"
            echo "$setting = $value"
        done
    } | as_postgres tee "$REPLICA_DIR/postgresql.conf" >/dev/null
    as_postgres "$PG_CTL" -D "$REPLICA_DIR" -l "$TMP/replica.log" -w -t 60 start >/dev/null ||
        die "the replica did not start (see replica.log below)"
    REPLICA_SERVER="$(with_host_port "$PG_SERVER" "127.0.0.1:$REPLICA_PORT")"
    for _ in $(seq 100); do
        [ "$(replica_sql postgres 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ] &&
            [ "$(replica_super 'SELECT status FROM pg_stat_wal_receiver' 2>/dev/null)" = streaming ] && break
        sleep 0.2
    done
    [ "$(replica_sql postgres 'SELECT pg_is_in_recovery()')" = t ] || die "the replica is not in recovery"
    [ "$(replica_super 'SELECT status FROM pg_stat_wal_receiver')" = streaming ] ||
        die "the replica does not stream from the primary"
    step "streaming replica on 127.0.0.1:$REPLICA_PORT (pg_basebackup of the primary, in recovery, streaming)"
}

stop_replica() {
    [ -n "$REPLICA_DIR" ] && [ -f "$REPLICA_DIR/postmaster.pid" ] || return 0
    as_postgres "$PG_CTL" -D "$REPLICA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1 ||
        printf '[topology] warning: could not stop the replica in %s\n' "$REPLICA_DIR" >&2
}

# The test database (created on the primary after the base backup) must arrive by streaming.
wait_database_on_replica() {
    for _ in $(seq 100); do
        [ "$(replica_sql postgres "SELECT count(*) FROM pg_database WHERE datname = '$DB_NAME'")" = 1 ] &&
            [ "$(replica_sql "$DB_NAME" "SELECT to_regclass('public.dex_entries') IS NOT NULL" 2>/dev/null)" = t ] && return 0
        sleep 0.2
    done
    die "the migrated database $DB_NAME did not reach the replica within 20 s"
}

# --- the object store (s3 mode) ----------------------------------------------------------------------
# s3curl CURL-ARGS...: a request to the S3-compatible server signed with the test's key (curl's
# own SigV4; moto refuses anonymous object reads and deletes).
s3curl() {
    curl -sS --max-time 10 --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@"
}

start_object_store() {
    export AWS_ACCESS_KEY_ID=topology AWS_SECRET_ACCESS_KEY=topology AWS_REGION=us-east-1
    S3="$(bash "$REPO/ops/dev/s3" 2>"$TMP/s3.log")" || {
        cat "$TMP/s3.log" >&2
        die "ops/dev/s3 could not start the S3-compatible server"
    }
    status="$(s3curl -o "$TMP/body" -w '%{http_code}' -X PUT "$S3/$BUCKET")" || die "PUT $S3/$BUCKET failed"
    expect 200 "$status" "create the bucket $BUCKET"
    export MEDIA_STORAGE_URL="s3://$BUCKET/media"
    export AWS_ENDPOINT="$S3" AWS_ALLOW_HTTP=true
    step "bucket $BUCKET on the S3-compatible server $S3 (MEDIA_STORAGE_URL=$MEDIA_STORAGE_URL)"
}

# bucket_keys PREFIX: the keys of the bucket under PREFIX, one a line (ListObjectsV2).
bucket_keys() {
    s3curl "$S3/$BUCKET?list-type=2&max-keys=1000&prefix=$1" | python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
for el in root.iter():
    if el.tag.endswith("}Key") or el.tag == "Key":
        print(el.text)
'
}

delete_bucket() {
    local key
    while IFS= read -r key; do
        [ -n "$key" ] && s3curl -o /dev/null -X DELETE "$S3/$BUCKET/$key"
    done < <(bucket_keys "" 2>/dev/null)
    [ "$(s3curl -o /dev/null -w '%{http_code}' -X DELETE "$S3/$BUCKET" 2>/dev/null)" = 204 ] ||
        printf '[topology] warning: could not delete the bucket %s\n' "$BUCKET" >&2
}

# --- api, worker, provider, nginx ------------------------------------------------------------------
configure() {
    local n=5
    [ "$MODE" = local ] || n=8
    read -r API_PORT WORKER_PORT PROVIDER_PORT HTTP_PORT HTTPS_PORT API2_PORT REPLICA_PORT SIGNED_PORT <<<"$(free_ports "$n")"
    BASE="https://127.0.0.1:$HTTPS_PORT"
    mkdir -p "$TMP/web"
    chmod 755 "$TMP/web"
    printf '<!doctype html><title>BiologiDex web client (topology test)</title>\n' >"$TMP/web/index.html"
    if [ "$MODE" = local ]; then
        step "ports: api $API_PORT, worker $WORKER_PORT, provider $PROVIDER_PORT, nginx http $HTTP_PORT / https $HTTPS_PORT"
    else
        step "ports: apis $API_PORT and $API2_PORT, worker $WORKER_PORT, provider $PROVIDER_PORT, nginx http $HTTP_PORT / https $HTTPS_PORT, replica $REPLICA_PORT"
    fi

    export REDIS_URL
    export REDIS_KEY_PREFIX="$REDIS_PREFIX"
    SECRET_KEY="topology-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
    export SECRET_KEY
    export PUBLIC_BASE_URL="$BASE"
    export TRUSTED_PROXIES=127.0.0.1
    export OPENAI_API_KEY=sk-topology-test
    export OPENAI_BASE_URL="http://127.0.0.1:$PROVIDER_PORT/v1"
    export WORKER_METRICS_BIND="127.0.0.1:$WORKER_PORT"
    export WORKER_RUN_CRON=true
    export DEBUG=false
    export RUST_LOG="${RUST_LOG:-warn}"
    unset BIND_ADDRESS MEDIA_STORAGE_URL GCS_BUCKET_NAME MEDIA_SIGNED_URL_SECONDS DATABASE_REPLICA_URLS
    if [ "$MODE" = local ]; then
        # One directory for the api, the worker, the command line and nginx.
        MEDIA="$TMP/media"
        mkdir -p "$MEDIA"
        chmod 755 "$MEDIA"
        export MEDIA_ROOT="$MEDIA"
        export MEDIA_X_ACCEL_REDIRECT=true
    else
        # Each process gets a MEDIA_ROOT of its own (set where it starts); this one is the
        # command line's. nginx's media root is an empty directory nothing writes to.
        MEDIA_ROOTS=("$TMP/cli/media" "$TMP/api1/media" "$TMP/api2/media" "$TMP/worker/media" "$TMP/nginx-media" "$TMP/api-signed/media")
        mkdir -p "${MEDIA_ROOTS[@]}"
        chmod 755 "${MEDIA_ROOTS[@]}"
        MEDIA="$TMP/nginx-media"
        export MEDIA_ROOT="$TMP/cli/media"
        export MEDIA_X_ACCEL_REDIRECT=false
    fi
}

start_app() {
    start provider python3 "$REPO/ops/bench/fake_openai.py" "$PROVIDER_PORT"
    wait_for provider "${PIDS[-1]}" "http://127.0.0.1:$PROVIDER_PORT/v1/chat/completions" -X POST -d '{}'
    if [ "$MODE" = local ]; then
        start api "$API_BIN" serve --bind "127.0.0.1:$API_PORT"
        wait_for api "${PIDS[-1]}" "http://127.0.0.1:$API_PORT/health/"
        start worker "$WORKER_BIN"
        wait_for worker "${PIDS[-1]}" "http://127.0.0.1:$WORKER_PORT/health/"
        step "fake provider, api and worker are up"
    else
        export DATABASE_REPLICA_URLS="$REPLICA_SERVER/$DB_NAME"
        start api1 env MEDIA_ROOT="$TMP/api1/media" "$API_BIN" serve --bind "127.0.0.1:$API_PORT"
        wait_for api1 "${PIDS[-1]}" "http://127.0.0.1:$API_PORT/health/"
        start api2 env MEDIA_ROOT="$TMP/api2/media" "$API_BIN" serve --bind "127.0.0.1:$API2_PORT"
        wait_for api2 "${PIDS[-1]}" "http://127.0.0.1:$API2_PORT/health/"
        start worker env MEDIA_ROOT="$TMP/worker/media" "$WORKER_BIN"
        wait_for worker "${PIDS[-1]}" "http://127.0.0.1:$WORKER_PORT/health/"
        step "fake provider, two apis and a worker are up (own MEDIA_ROOTs, media in s3, reads on the replica)"
    fi
}

start_nginx() {
    local apis=(--api "127.0.0.1:$API_PORT")
    [ "$MODE" = local ] || apis+=(--api "127.0.0.1:$API2_PORT")
    NGX="$TMP/nginx"
    bash "$REPO/ops/nginx/render-local.sh" --out "$NGX" "${apis[@]}" \
        --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" --media-root "$MEDIA" \
        --web-root "$TMP/web" >/dev/null || die "ops/nginx/render-local.sh failed"
    "$NGINX" -t -q -e stderr -p "$NGX/" -c "$NGX/nginx.conf" -g "pid $NGX/nginx.pid;" >"$TMP/nginx-t.log" 2>&1 || {
        cat "$TMP/nginx-t.log" >&2
        die "nginx -t rejects the rendered configuration"
    }
    start nginx "$NGINX" -e stderr -p "$NGX/" -c "$NGX/nginx.conf" -g "daemon off; pid $NGX/nginx.pid;"
    wait_for nginx "${PIDS[-1]}" "$BASE/health/" -k
    step "nginx is up (rendered ops/nginx, self-signed certificate, upstream: ${apis[*]//--api /})"
}

# --- request helpers ---------------------------------------------------------------------------------
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

body_sha() { sha256sum "$TMP/body" | cut -d' ' -f1; }

# --- the client flow through nginx -------------------------------------------------------------------
check_edge() {
    status="$(req GET "$BASE/health/")"
    expect 200 "$status" "GET /health/ through nginx"
    [ "$(header X-Content-Type-Options)" = nosniff ] || die "/health/ through nginx lacks the security headers"
    step "GET /health/ through nginx: 200, security headers present"

    status="$(req GET "http://127.0.0.1:$HTTP_PORT/health/")"
    expect 301 "$status" "plain HTTP"
    case "$(header Location)" in https://*) ;; *) die "plain HTTP redirects to '$(header Location)', not https" ;; esac
    step "plain HTTP: 301 to HTTPS"
}

login() {
    local status
    status="$(req POST "$BASE/api/v1/auth/login/" -H 'content-type: application/json' \
        -d "{\"username\":\"topo_$1\",\"password\":\"$PASSWORD\"}")"
    expect 200 "$status" "login $1"
    json 'd["access"]'
}

register_and_login() {
    PASSWORD="Topology-pass-$$-x9"
    for user in owner stranger; do
        status="$(req POST "$BASE/api/v1/users/" -H 'content-type: application/json' \
            -d "{\"username\":\"topo_$user\",\"email\":\"$user@topology.example\",\"password\":\"$PASSWORD\",\"password_confirm\":\"$PASSWORD\"}")"
        expect 201 "$status" "register $user"
    done
    step "registered two users (owner, stranger)"
    OWNER="$(login owner)"
    STRANGER="$(login stranger)"
    if [ -z "$OWNER" ] || [ -z "$STRANGER" ]; then die "login returned no access token"; fi
    AUTH=(-H "Authorization: Bearer $OWNER")
    step "logged in both users"
}

upload_and_identify() {
    local deadline job_status
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
    JOB_IMAGE_SHA="$(body_sha)"
    status="$(req GET "$BASE/api/v1/vision/jobs/$JOB/" -H "Authorization: Bearer $STRANGER")"
    [ "$status" = 404 ] || [ "$status" = 403 ] || die "the stranger can read the owner's vision job (HTTP $status)"
    step "job image through nginx: 200 image/png; the stranger cannot read the job ($status)"
}

create_entry_and_sync() {
    status="$(req POST "$BASE/api/v1/dex/entries/" "${AUTH[@]}" -H 'content-type: application/json' \
        -d "{\"animal\":\"$ANIMAL\",\"visibility\":\"private\",\"source_vision_job\":\"$JOB\"}")"
    expect 201 "$status" "create a private dex entry"
    ENTRY="$(json 'd["id"]')"
    step "created private dex entry $ENTRY"

    # Right after the write, from whichever api nginx picks: the owner's own sync must see it.
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
}

fetch_image() {
    local got
    status="$(req GET "$IMAGE_URL")"
    expect 200 "$status" "fetch the entry's image through nginx"
    got="$(body_sha)"
    [ "$got" = "$CHECKSUM" ] || die "the image through nginx has sha256 $got, image_checksum is $CHECKSUM"
    [ "$(header Content-Type)" = image/png ] || die "the image is served as '$(header Content-Type)'"
    [ "$got" = "$JOB_IMAGE_SHA" ] || die "the entry's image differs from the job's image"
    if [ "$MODE" = local ]; then
        # Only the internal /protected-media/ location adds this header: nginx served the file itself.
        [ "$(header Content-Security-Policy)" = "default-src 'none'; sandbox" ] ||
            die "the image was not served by nginx's /protected-media/ location (X-Accel-Redirect)"
        step "image through nginx (X-Accel-Redirect): $(wc -c <"$TMP/body") bytes, sha256 matches image_checksum"
    else
        [ -z "$(header X-Accel-Redirect)" ] || die "the api answered X-Accel-Redirect with media in s3"
        step "image through nginx (bytes from the api, read from s3): $(wc -c <"$TMP/body") bytes, sha256 matches image_checksum"
    fi

    TOKEN="${IMAGE_URL##*/}"
    TOKEN="${TOKEN%.png}"
    case "${TOKEN:0:1}" in 0) first_tampered=1 ;; *) first_tampered=0 ;; esac
    first_tampered="$first_tampered${TOKEN:1}"
    status="$(req GET "$BASE/media/e/$first_tampered.png")"
    expect 404 "$status" "a tampered image URL"
    step "tampered image URL: 404"

    # The access log must not hold capability tokens (nginx.conf's $biologidex_log_uri map).
    if grep -q "$TOKEN" "$TMP/nginx.log"; then
        die "nginx's access log contains an image's capability token (see the \$biologidex_log_uri map in ops/nginx/nginx.conf)"
    else
        step "nginx's access log holds no capability token"
    fi
}

# local mode: the plain storage paths of a file nginx could serve are 404.
check_protected_media() {
    local media_file path
    media_file="$(cd "$MEDIA" && find . -type f -name '*.png' | head -n 1)"
    media_file="${media_file#./}"
    [ -n "$media_file" ] || die "no image file under MEDIA_ROOT"
    for path in "/protected-media/$media_file" "/media/$media_file"; do
        status="$(req GET "$BASE$path")"
        expect 404 "$status" "GET $path through nginx (the plain storage path)"
    done
    step "plain storage paths (/protected-media/..., /media/<key>): 404"
}

check_stranger() {
    local stranger_status
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
}

# --- s3 mode: no shared directory ----------------------------------------------------------------
check_shared_media() {
    local port got key n root files
    # The same capability URL through each api directly (nginx picks one or the other).
    for port in "$API_PORT" "$API2_PORT"; do
        status="$(req GET "http://127.0.0.1:$port/media/e/$TOKEN.png")"
        expect 200 "$status" "the entry's image from the api on port $port"
        got="$(body_sha)"
        [ "$got" = "$CHECKSUM" ] || die "the api on port $port serves the image with sha256 $got, image_checksum is $CHECKSUM"
        status="$(req GET "http://127.0.0.1:$port/media/j/${JOB_IMAGE_URL##*/media/j/}")"
        expect 200 "$status" "the job's image from the api on port $port"
        [ "$(body_sha)" = "$JOB_IMAGE_SHA" ] || die "the api on port $port serves another job image"
    done
    step "the image through api 1 ($API_PORT) and api 2 ($API2_PORT) directly: both sha256 $CHECKSUM"

    # The bytes are the bucket's object, content-addressed under its sha256.
    key="$(bucket_keys media/images/ | grep -F "$CHECKSUM" | head -n 1 || true)"
    [ -n "$key" ] || die "the bucket has no object for $CHECKSUM: $(bucket_keys media/ | head -n 20 | tr '\n' ' ')"
    s3curl -o "$TMP/body" "$S3/$BUCKET/$key" || die "GET $S3/$BUCKET/$key failed"
    [ "$(body_sha)" = "$CHECKSUM" ] || die "the bucket's object $key has another sha256"
    n="$(bucket_keys media/ | grep -c . || true)"
    step "the bucket holds the image as $key ($n objects under media/)"

    for root in "${MEDIA_ROOTS[@]}"; do
        files="$(find "$root" -type f | head -n 5)"
        [ -z "$files" ] || die "$root is not empty: ${files//$'\n'/ }"
    done
    step "every MEDIA_ROOT (command line, api 1, api 2, worker, nginx) is empty: no shared directory"
}

# A third api with MEDIA_SIGNED_URL_SECONDS (not behind nginx): after the token check it
# redirects to a URL pre-signed for the store, which serves the same bytes.
check_signed_urls() {
    local location
    start api-signed env MEDIA_ROOT="$TMP/api-signed/media" MEDIA_SIGNED_URL_SECONDS=60 \
        "$API_BIN" serve --bind "127.0.0.1:$SIGNED_PORT"
    wait_for api-signed "${PIDS[-1]}" "http://127.0.0.1:$SIGNED_PORT/health/"
    status="$(req GET "http://127.0.0.1:$SIGNED_PORT/media/e/$TOKEN.png")"
    expect 302 "$status" "the entry's image from the api with MEDIA_SIGNED_URL_SECONDS"
    location="$(header Location)"
    case "$location" in
        "$S3/$BUCKET/"*X-Amz-Signature=*) ;;
        *) die "the api with MEDIA_SIGNED_URL_SECONDS redirects to '$location', not a pre-signed URL of $S3/$BUCKET" ;;
    esac
    status="$(req GET "$location")"
    expect 200 "$status" "the pre-signed URL"
    [ "$(body_sha)" = "$CHECKSUM" ] || die "the pre-signed URL serves sha256 $(body_sha), image_checksum is $CHECKSUM"
    status="$(req GET "http://127.0.0.1:$SIGNED_PORT/media/e/$first_tampered.png")"
    expect 404 "$status" "a tampered image URL on the api with MEDIA_SIGNED_URL_SECONDS"
    step "MEDIA_SIGNED_URL_SECONDS: 302 to a pre-signed URL of the bucket with the same sha256; a tampered token is still 404"
}

check_storage_health() {
    local port
    for port in "$API_PORT" "$API2_PORT"; do
        status="$(req GET "http://127.0.0.1:$port/ready/")"
        expect 200 "$status" "/ready/ of the api on port $port"
        [ "$(json 'd["storage"]')" = healthy ] || die "/ready/ of the api on port $port: $(head -c 400 "$TMP/body")"
    done
    status="$(req GET "$BASE/api/v1/health/")"
    expect 200 "$status" "/api/v1/health/ through nginx"
    if [ "$(json 'd["checks"]["storage"]["status"]')" != healthy ] ||
        [ "$(json 'd["checks"]["storage"]["backend"]')" != s3 ]; then
        die "/api/v1/health/ does not report a healthy s3 store: $(json 'd["checks"]["storage"]')"
    fi
    step "/ready/ of both apis: storage healthy; /api/v1/health/: storage healthy, backend s3"
}

# --- s3 mode: reads on the replica, writes on the primary ------------------------------------------
# metric PORT SERIES: the value of one series (`name{label="value"}`) of an api's /metrics; 0
# when absent.
metric() {
    curl -sS --max-time 5 "http://127.0.0.1:$1/metrics" | awk -v series="$2" '
        $1 == series { v = $2 } END { printf "%d\n", v }'
}

# replica_reads: read checkouts both apis sent to the replica (their routing counters).
replica_reads() {
    echo "$(($(metric "$API_PORT" "$REPLICA_READS") + $(metric "$API2_PORT" "$REPLICA_READS")))"
}

check_replica() {
    local before after i burst=40 deadline lsn m_before m_after port label="127.0.0.1:$REPLICA_PORT"
    REPLICA_READS="biologidex_api_db_reads_total{target=\"$label\"}"
    # Each api's watcher measures the replica's lag every second and uses it once it is
    # streaming and within DATABASE_REPLICA_MAX_LAG_SECONDS.
    for port in "$API_PORT" "$API2_PORT"; do
        deadline=$((SECONDS + 15))
        until [ "$(metric "$port" "biologidex_api_db_replica_usable{replica=\"$label\"}")" = 1 ]; do
            if [ "$SECONDS" -ge "$deadline" ]; then
                printf '[topology] the replica as the postgres superuser sees it: WAL receiver %s; as the apis'"'"' role: %s\n' \
                    "$(replica_super 'SELECT status FROM pg_stat_wal_receiver')" \
                    "$(replica_sql postgres "SELECT coalesce(status, 'NULL (no pg_read_all_stats)') FROM pg_stat_wal_receiver")" >&2
                die "the api on port $port does not use the replica: $(curl -sS --max-time 5 "http://127.0.0.1:$port/metrics" | grep -E '^biologidex_api_db_(replica|reads)' | tr '\n' ' ')"
            fi
            sleep 0.3
        done
    done
    step "both apis report the replica usable (biologidex_api_db_replica_usable)"

    # Stats of the test database, read from the replica's `postgres` database so that these
    # queries do not count themselves. A backend publishes its counts within about a second
    # (up to 10 s when it goes idle), so the growth is polled for.
    before="$(replica_sql postgres "SELECT coalesce(sum(xact_commit), 0) FROM pg_stat_database WHERE datname = '$DB_NAME'")"
    m_before="$(replica_reads)"
    for ((i = 0; i < burst; i++)); do
        status="$(req GET "$BASE/api/v1/animals/" "${AUTH[@]}")"
        expect 200 "$status" "GET /api/v1/animals/ (burst)"
    done
    m_after="$(replica_reads)"
    [ "$((m_after - m_before))" -ge "$burst" ] ||
        die "the apis sent $((m_after - m_before)) reads to the replica over $burst GET /api/v1/animals/ ($REPLICA_READS)"
    deadline=$((SECONDS + 15))
    while :; do
        after="$(replica_sql postgres "SELECT coalesce(sum(xact_commit), 0) FROM pg_stat_database WHERE datname = '$DB_NAME'")"
        [ "$((after - before))" -lt "$burst" ] || break
        [ "$SECONDS" -lt "$deadline" ] ||
            die "the replica committed $((after - before)) transactions in $DB_NAME over $burst GET /api/v1/animals/: reads do not reach it"
        sleep 0.5
    done
    step "reads on the replica: $((m_after - m_before)) replica checkouts counted by the apis, $((after - before)) transactions in $DB_NAME on the replica itself, over $burst GET /api/v1/animals/"

    # A write lands on the primary at once, and reaches the replica by streaming.
    status="$(req PATCH "$BASE/api/v1/dex/entries/$ENTRY/" "${AUTH[@]}" -H 'content-type: application/json' \
        -d '{"notes":"written through the topology test"}')"
    expect 200 "$status" "PATCH the dex entry"
    [ "$(primary_sql "$DB_NAME" "SELECT notes FROM dex_entries WHERE id = '$ENTRY'")" = "written through the topology test" ] ||
        die "the write is not on the primary right after its 200"
    lsn="$(primary_sql "$DB_NAME" 'SELECT pg_current_wal_lsn()')"
    for _ in $(seq 100); do
        [ "$(replica_sql postgres "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && break
        sleep 0.1
    done
    [ "$(replica_sql postgres "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] ||
        die "the replica has not replayed the primary's WAL up to $lsn within 10 s"
    [ "$(replica_sql "$DB_NAME" "SELECT notes FROM dex_entries WHERE id = '$ENTRY'")" = "written through the topology test" ] ||
        die "the write replayed on the replica is not there"
    [ "$(replica_sql postgres 'SELECT pg_is_in_recovery()')" = t ] || die "the replica left recovery"
    step "write on the primary (PATCH the entry), replayed on the replica up to $lsn"
}

# --- the rest of the edge: metrics, docs, console, maintenance, web client ---------------------------
check_metrics_refusal() {
    local m_status
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
}

check_docs() {
    local page csp
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
}

check_console() {
    local jar csp csrf ops_password
    # The operators' console through nginx: anonymous visitors go to the login form, which sets a
    # Secure cookie behind TLS; a staff member (created with create-superuser) signs in and reads
    # the system page; a deactivation from the CLI stops that user's API login.
    status="$(req GET "$BASE/admin/")"
    expect 303 "$status" "/admin/ anonymously"
    grep -qi '^location: /admin/login/' "$TMP/headers" || die "/admin/ did not redirect to the login form"
    jar="$TMP/console-cookies"
    status="$(req GET "$BASE/admin/login/" -c "$jar")"
    expect 200 "$status" "the console's login form"
    csp="$(grep -ci '^content-security-policy:' "$TMP/headers" || true)"
    [ "$csp" = 1 ] || die "/admin/login/ carries $csp Content-Security-Policy headers, expected 1"
    grep -qi '^set-cookie: bdx_admin_login=.*secure' "$TMP/headers" || die "the login cookie is not Secure behind TLS"
    csrf="$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$TMP/body" | head -n 1)"
    ops_password="ops-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
    BIOLOGIDEX_SUPERUSER_PASSWORD="$ops_password" cli create-superuser "$API_BIN" create-superuser \
        --username ops --email ops@example.com
    status="$(req POST "$BASE/admin/login/" -b "$jar" -c "$jar" --data-urlencode "csrf=$csrf" \
        --data-urlencode username=ops --data-urlencode "password=$ops_password")"
    expect 303 "$status" "the console login"
    status="$(req GET "$BASE/admin/system/" -b "$jar")"
    expect 200 "$status" "/admin/system/ as staff"
    grep -q 'Cron schedule' "$TMP/body" || die "/admin/system/ does not list the cron schedule"
    cli set-active "$API_BIN" user set-active topo_stranger false
    status="$(req POST "$BASE/api/v1/auth/login/" -H 'Content-Type: application/json' \
        -d "{\"username\":\"topo_stranger\",\"password\":\"$PASSWORD\"}")"
    expect 401 "$status" "the stranger's API login after set-active false"
    step "console through nginx: login form (one CSP, Secure cookie), staff login, system page; CLI deactivation stops API logins"
}

check_maintenance_and_web() {
    local path
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
}

# --- main --------------------------------------------------------------------------------------------
install_tools
check_services
configure
if [ "$MODE" = s3 ]; then
    start_object_store
    start_replica
fi
create_database
[ "$MODE" = local ] || wait_database_on_replica
start_app
start_nginx

check_edge
register_and_login
upload_and_identify
create_entry_and_sync
fetch_image
if [ "$MODE" = local ]; then
    check_protected_media
fi
check_stranger
if [ "$MODE" = s3 ]; then
    check_shared_media
    check_signed_urls
    check_storage_health
    check_replica
fi
check_metrics_refusal
check_docs
check_console
check_maintenance_and_web
if [ "$MODE" = s3 ]; then
    # Nothing since (console, CLI, maintenance) wrote into a local directory either.
    for root in "${MEDIA_ROOTS[@]}"; do
        [ -z "$(find "$root" -type f | head -n 1)" ] || die "$root is not empty at the end"
    done
fi

stop_all
step "stopped nginx, worker, apis and provider"
printf 'topology smoke test (%s): OK (%s s)\n' "$MODE" "$((SECONDS - STARTED))"
