#!/usr/bin/env bash
# Deploy a new release of the BiologiDex compose stack (docker-compose.production.yml) without
# downtime:
#
#   1. (--pull) git pull --ff-only
#   2. build the image, tagged with the git commit (BIOLOGIDEX_TAG=<sha>; the previous release's
#      tag is kept, so it can be started again)
#   3. back up the database and media (the `backup` service, ops/scripts/backup.sh) and stop on
#      failure, then run the one-shot `migrate` service (straight to PostgreSQL) and stop on
#      failure
#   4. replace the api replicas one at a time: start one replica of the new image next to the old
#      ones, wait until its container health check (/ready/) says healthy, reload nginx, stop one
#      old replica (SIGTERM, 40 s to drain), reload nginx; repeat
#   5. the same for the workers, then the cron-worker
#   6. if a new replica does not become healthy: roll every rolled service back to the previous tag
#      the same way, and exit 1
#
# The first deployment (nothing running yet) just starts the whole stack.
# Migrations must keep working with the previous release (add columns before using them, drop
# them a release later): a rollback does not undo them.
#
# Usage: ops/scripts/deploy.sh [options]
#   --pull            git pull --ff-only first
#   --dry-run         print the commands instead of running them (nothing is changed)
#   --skip-build      use the image already tagged with the current commit
#   --skip-backup     migrate without taking a backup first
#   --skip-migrate    neither back up nor migrate (the release needs no migration)
#   --maintenance     maintenance mode for the whole deploy: nginx answers every request with a
#                     JSON 503 and Retry-After (for migrations that cannot run under traffic);
#                     turned off when the script ends, whatever happens
#   --rollback        start the previous release again (no build, no migration)
#   --prune           remove images of this project other than the current and previous tags
#   -h, --help        this text
#
# Environment: COMPOSE_FILE (default docker-compose.production.yml), BIOLOGIDEX_IMAGE (default
# biologidex-server), HEALTH_TIMEOUT seconds per replica (default 180), STATE_DIR (default
# .deploy: current and previous tag), DRY_RUN_REPLICAS (replicas assumed per service by
# --dry-run when Docker cannot be asked, default 2; the cron-worker is assumed to have 1). The compose file reads its settings from
# the environment or from .env next to it (ops/env.production.example).
set -euo pipefail

usage() {
    # The comment block at the top of this file.
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

log() { printf '[deploy] %s\n' "$*"; }
die() {
    printf '[deploy] error: %s\n' "$*" >&2
    exit 1
}

PULL=0
DRY_RUN=0
SKIP_BUILD=0
SKIP_BACKUP=0
SKIP_MIGRATE=0
MAINTENANCE=0
ROLLBACK=0
PRUNE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --pull) PULL=1 ;;
        --dry-run) DRY_RUN=1 ;;
        --skip-build) SKIP_BUILD=1 ;;
        --skip-backup) SKIP_BACKUP=1 ;;
        --skip-migrate) SKIP_MIGRATE=1 ;;
        --maintenance) MAINTENANCE=1 ;;
        --rollback) ROLLBACK=1 ;;
        --prune) PRUNE=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            die "unknown argument: $1"
            ;;
    esac
    shift
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"

COMPOSE_FILE="${COMPOSE_FILE:-docker-compose.production.yml}"
export BIOLOGIDEX_IMAGE="${BIOLOGIDEX_IMAGE:-biologidex-server}"
HEALTH_TIMEOUT="${HEALTH_TIMEOUT:-180}"
STATE_DIR="${STATE_DIR:-$REPO/.deploy}"
DRY_RUN_REPLICAS="${DRY_RUN_REPLICAS:-2}"
[[ "$HEALTH_TIMEOUT" =~ ^[0-9]+$ ]] || die "HEALTH_TIMEOUT must be a number of seconds"
[ -f "$COMPOSE_FILE" ] || die "$COMPOSE_FILE not found"

# --- running commands ----------------------------------------------------------------------------

# run CMD...: a command that changes something. Printed; skipped under --dry-run.
run() {
    printf '+ %s\n' "$*"
    if [ "$DRY_RUN" -eq 0 ]; then
        "$@"
    fi
}

# Docker is asked questions (ps, inspect) unless --dry-run finds no daemon to ask.
DOCKER_OK=1
if ! docker info >/dev/null 2>&1; then
    [ "$DRY_RUN" -eq 1 ] || die "cannot reach the Docker daemon"
    DOCKER_OK=0
    log "dry run without a Docker daemon: assuming $DRY_RUN_REPLICAS replica(s) per service"
fi

COMPOSE=()
if docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose -f "$COMPOSE_FILE")
elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose -f "$COMPOSE_FILE")
elif [ "$DRY_RUN" -eq 1 ]; then
    COMPOSE=(docker compose -f "$COMPOSE_FILE")
else
    die "neither \`docker compose\` nor docker-compose is installed"
fi

compose() { run "${COMPOSE[@]}" "$@"; }

# Container ids of a service (one per line).
service_ids() {
    if [ "$DOCKER_OK" -eq 1 ]; then
        "${COMPOSE[@]}" ps -q "$1" 2>/dev/null | sed '/^$/d'
    else
        local i n="$DRY_RUN_REPLICAS"
        [ "$1" != cron-worker ] || n=1
        for ((i = 1; i <= n; i++)); do
            printf '<%s-old-%d>\n' "$1" "$i"
        done
    fi
}

# wait_healthy ID: until its health check says healthy (or, without a health check, running).
wait_healthy() {
    local id="$1" status deadline
    if [ "$DRY_RUN" -eq 1 ]; then
        printf '+ wait until %s is healthy (at most %s s)\n' "$id" "$HEALTH_TIMEOUT"
        return 0
    fi
    deadline=$((SECONDS + HEALTH_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        status="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo gone)"
        case "$status" in
            healthy | running) return 0 ;;
            unhealthy | exited | dead | gone)
                log "$id is $status"
                return 1
                ;;
            *) sleep 2 ;;
        esac
    done
    log "$id did not become healthy within $HEALTH_TIMEOUT s"
    return 1
}

reload_nginx() {
    # nginx resolves `api` when it loads its config: make it see the current replicas.
    if [ "$DRY_RUN" -eq 1 ] || [ -n "$("${COMPOSE[@]}" ps -q nginx 2>/dev/null)" ]; then
        compose exec -T nginx nginx -s reload
    fi
}

# roll SERVICE: replace every running container of SERVICE, one at a time, by one made from the
# image BIOLOGIDEX_TAG names. Returns 1 (leaving the failed new container removed) on failure.
roll() {
    local svc="$1" old=() id count new
    mapfile -t old < <(service_ids "$svc")
    count=${#old[@]}
    if [ "$count" -eq 0 ]; then
        log "$svc: not running; starting it"
        compose up -d --no-deps "$svc"
        for id in $(service_ids "$svc"); do
            wait_healthy "$id" || return 1
        done
        [ "$svc" != api ] || reload_nginx
        return 0
    fi
    log "$svc: replacing $count replica(s) with $BIOLOGIDEX_IMAGE:$BIOLOGIDEX_TAG"
    local i=0
    for id in "${old[@]}"; do
        i=$((i + 1))
        local before=()
        mapfile -t before < <(service_ids "$svc")
        compose up -d --no-deps --no-recreate --scale "$svc=$((count + 1))" "$svc"
        new="$(new_container "$svc" "$i" "${before[@]}")"
        [ -n "$new" ] || {
            log "$svc: no new container appeared"
            return 1
        }
        if ! wait_healthy "$new"; then
            run docker logs --tail 50 "$new" || true
            run docker rm -f "$new" || true
            [ "$svc" != api ] || reload_nginx
            return 1
        fi
        [ "$svc" != api ] || reload_nginx
        run docker stop -t 40 "$id"
        run docker rm "$id"
        [ "$svc" != api ] || reload_nginx
    done
    log "$svc: done"
}

# new_container SERVICE N BEFORE...: the container of SERVICE that is not in BEFORE.
new_container() {
    local svc="$1" n="$2" id known
    shift 2
    if [ "$DOCKER_OK" -eq 0 ]; then
        printf '<%s-new-%d>\n' "$svc" "$n"
        return 0
    fi
    for id in $(service_ids "$svc"); do
        known=0
        for b in "$@"; do
            [ "$id" != "$b" ] || known=1
        done
        if [ "$known" -eq 0 ]; then
            printf '%s\n' "$id"
            return 0
        fi
    done
}

# --- the release -----------------------------------------------------------------------------------

if [ "$DRY_RUN" -eq 0 ]; then
    mkdir -p "$STATE_DIR"
    exec 9>"$STATE_DIR/deploy.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -n 9 || die "another deploy is running"
    fi
fi

CURRENT_TAG="$(cat "$STATE_DIR/current_tag" 2>/dev/null || true)"
PREVIOUS_TAG="$(cat "$STATE_DIR/previous_tag" 2>/dev/null || true)"

if [ "$ROLLBACK" -eq 1 ]; then
    [ -n "$PREVIOUS_TAG" ] || die "no previous release recorded in $STATE_DIR"
    NEW_TAG="$PREVIOUS_TAG"
    log "rolling back from ${CURRENT_TAG:-unknown} to $NEW_TAG"
else
    if [ "$PULL" -eq 1 ]; then
        run git pull --ff-only
    fi
    NEW_TAG="$(git rev-parse --short=12 HEAD)"
    if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
        NEW_TAG="$NEW_TAG-dirty"
        log "warning: the work tree has uncommitted changes; tagging $NEW_TAG"
    fi
    log "releasing $NEW_TAG (running: ${CURRENT_TAG:-nothing recorded})"
fi

export BIOLOGIDEX_TAG="$NEW_TAG" APP_VERSION="$NEW_TAG"

# nginx reads this flag (ops/nginx/maintenance.conf; the compose file mounts the directory).
MAINTENANCE_FLAG="$REPO/.deploy/maintenance/on"
if [ "$MAINTENANCE" -eq 1 ]; then
    if [ "$DRY_RUN" -eq 1 ]; then
        log "would turn maintenance mode on ($MAINTENANCE_FLAG) until the end of the deploy"
    else
        mkdir -p "$(dirname "$MAINTENANCE_FLAG")"
        : >"$MAINTENANCE_FLAG"
        trap 'rm -f "$MAINTENANCE_FLAG"; log "maintenance mode off"' EXIT
        log "maintenance mode on: nginx answers 503 until the deploy ends"
    fi
fi

if [ "$ROLLBACK" -eq 0 ]; then
    if [ "$SKIP_BUILD" -eq 0 ]; then
        compose build api
    fi
    # The first release: bring the whole stack up (migrate runs before api and workers start).
    if [ -z "$(service_ids api | head -n1)" ]; then
        compose up -d
        for svc in api worker cron-worker; do
            for id in $(service_ids "$svc"); do
                wait_healthy "$id" || die "$svc did not become healthy"
            done
        done
        reload_nginx
        if [ "$DRY_RUN" -eq 0 ]; then
            printf '%s\n' "$NEW_TAG" >"$STATE_DIR/current_tag"
        fi
        log "started $NEW_TAG"
        exit 0
    fi
    if [ "$SKIP_MIGRATE" -eq 0 ]; then
        # A backup right before the schema changes: the way back if a migration goes wrong.
        if [ "$SKIP_BACKUP" -eq 0 ]; then
            compose --profile tools run --rm backup ||
                die "the pre-migration backup failed; nothing was migrated or restarted (--skip-backup to go on without one)"
        fi
        compose run --rm migrate || die "migrations failed; nothing was restarted"
    else
        log "--skip-migrate: no backup, no migration"
    fi
fi

ROLLED=()
failed=""
for svc in api worker cron-worker; do
    ROLLED+=("$svc")
    if ! roll "$svc"; then
        failed="$svc"
        break
    fi
done

if [ -n "$failed" ]; then
    if [ "$ROLLBACK" -eq 1 ] || [ -z "$CURRENT_TAG" ]; then
        die "$failed did not become healthy and there is no release to roll back to"
    fi
    log "$failed did not become healthy: rolling back to $CURRENT_TAG"
    export BIOLOGIDEX_TAG="$CURRENT_TAG" APP_VERSION="$CURRENT_TAG"
    for svc in "${ROLLED[@]}"; do
        roll "$svc" || log "rollback of $svc failed too: check it by hand"
    done
    die "release $NEW_TAG failed; running $CURRENT_TAG again (its migrations stay applied)"
fi

if [ "$DRY_RUN" -eq 0 ]; then
    if [ "$ROLLBACK" -eq 1 ]; then
        printf '%s\n' "$CURRENT_TAG" >"$STATE_DIR/previous_tag"
    elif [ -n "$CURRENT_TAG" ] && [ "$CURRENT_TAG" != "$NEW_TAG" ]; then
        printf '%s\n' "$CURRENT_TAG" >"$STATE_DIR/previous_tag"
    fi
    printf '%s\n' "$NEW_TAG" >"$STATE_DIR/current_tag"
fi

if [ "$PRUNE" -eq 1 ] && [ "$DOCKER_OK" -eq 1 ]; then
    keep_previous="$(cat "$STATE_DIR/previous_tag" 2>/dev/null || true)"
    docker images "$BIOLOGIDEX_IMAGE" --format '{{.Tag}}' | while read -r tag; do
        if [ "$tag" != "$NEW_TAG" ] && [ "$tag" != "$keep_previous" ] && [ "$tag" != "<none>" ]; then
            run docker rmi "$BIOLOGIDEX_IMAGE:$tag" || true
        fi
    done
fi

log "released $NEW_TAG (previous: $(cat "$STATE_DIR/previous_tag" 2>/dev/null || echo none))"
log "nginx, postgres, pgbouncer, redis and monitoring were not restarted; apply changes to them with"
log "  ${COMPOSE[*]} up -d <service>   (nginx config only: ${COMPOSE[*]} exec nginx nginx -s reload)"
