#!/usr/bin/env bash
# Back up BiologiDex: the PostgreSQL database (pg_dump custom format) and the media directory
# (tar.gz), into a new timestamped directory under BACKUP_DIR, with a manifest; then check the
# backup and rotate old ones. Restore with ops/scripts/restore.sh.
#
# Environment:
#   DATABASE_URL   postgres://user:password@host:port/db   (required; connect to PostgreSQL
#                  directly, not through pgbouncer)
#   MEDIA_ROOT     the media directory (required)
#   BACKUP_DIR     where backups go (required); each run writes BACKUP_DIR/<UTC stamp>/
#   BACKUP_KEEP    how many backups to keep, newest first (default 14)
#   BACKUP_AGE_RECIPIENTS_FILE
#                  optional: a file of age public keys (`age-keygen -y key.txt`); both files are
#                  then encrypted to them (db.dump.age, media.tar.gz.age) and no plaintext copy
#                  is kept. Restore needs the matching identity (restore.sh --identity).
#   BACKUP_AGE_RECIPIENTS
#                  the same with the public keys themselves (age1..., separated by spaces or
#                  commas); public keys are no secret, so the compose file passes them directly
#   BACKUP_METRICS_FILE
#                  optional: after a good backup, write biologidex_backup_last_success_timestamp_seconds
#                  there (node_exporter's textfile collector; the BackupTooOld alert reads it)
#
# Each backup directory holds:
#   db.dump        pg_dump --format=custom
#   media.tar.gz   tar of MEDIA_ROOT (owners and modes kept)
#   manifest.txt   key=value: checksums of both files, the media file count and tree checksum,
#                  versions, and the row count of every table in the public schema
#   SHA256SUMS     for `sha256sum -c`
#
# The row counts and the dump come from the same snapshot (pg_dump --snapshot), so restore.sh can
# compare them exactly even when the database was in use during the backup.
# Needs: pg_dump, pg_restore and psql of the server's major version or newer, GNU tar, gzip,
# sha256sum. In the compose stack: `docker-compose ... --profile tools run --rm backup`.
# No secret is printed: the database URL is shown without its password.
set -euo pipefail

usage() {
    # The comment block at the top of this file.
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

log() { printf '[backup] %s\n' "$*"; }
die() {
    printf '[backup] error: %s\n' "$*" >&2
    exit 1
}

case "${1:-}" in
    -h | --help)
        usage
        exit 0
        ;;
    "") ;;
    *)
        usage >&2
        exit 2
        ;;
esac

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=pg-url.sh
. "$SCRIPT_DIR/pg-url.sh"

[ -n "${DATABASE_URL:-}" ] || { usage >&2; die "DATABASE_URL is not set"; }
[ -n "${MEDIA_ROOT:-}" ] || { usage >&2; die "MEDIA_ROOT is not set"; }
[ -n "${BACKUP_DIR:-}" ] || { usage >&2; die "BACKUP_DIR is not set"; }
BACKUP_KEEP="${BACKUP_KEEP:-14}"
[[ "$BACKUP_KEEP" =~ ^[1-9][0-9]*$ ]] || die "BACKUP_KEEP must be a positive integer"
[ -d "$MEDIA_ROOT" ] || die "MEDIA_ROOT ($MEDIA_ROOT) is not a directory"

for tool in pg_dump pg_restore psql tar gzip sha256sum find sort xargs; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

pg_url_export "$DATABASE_URL" || die "DATABASE_URL is not a postgres:// URL"
export PGAPPNAME=biologidex-backup PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}"
DB_SHOWN="$(pg_url_redact "$DATABASE_URL")"

umask 077
mkdir -p "$BACKUP_DIR"
BACKUP_DIR="$(cd "$BACKUP_DIR" && pwd)"
MEDIA_ROOT="$(cd "$MEDIA_ROOT" && pwd)"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
FINAL="$BACKUP_DIR/$STAMP"
WORK="$BACKUP_DIR/.$STAMP.partial"
[ ! -e "$FINAL" ] || die "$FINAL already exists"
mkdir "$WORK"

PSQL_BG=""
cleanup() {
    local rc=$?
    if [ -n "${PSQL_BG:-}" ]; then
        kill "$PSQL_BG" 2>/dev/null || true
    fi
    rm -rf "$WORK"
    [ "$rc" -eq 0 ] || printf '[backup] failed; nothing was kept\n' >&2
}
trap cleanup EXIT

started=$SECONDS
log "database $DB_SHOWN"
log "media    $MEDIA_ROOT"
log "into     $FINAL"

# --- 1. database: one REPEATABLE READ snapshot for the dump and the row counts -------------------
coproc PSQL { exec psql -X -q -w -A -t -v ON_ERROR_STOP=1 2>"$WORK/psql.err"; }
# bash unsets PSQL_PID and PSQL[] when the coprocess ends: keep copies.
PSQL_BG=$PSQL_PID
PSQL_IN=${PSQL[1]}
PSQL_OUT=${PSQL[0]}

printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;" "SELECT pg_export_snapshot();" >&"$PSQL_IN"
SNAPSHOT=""
if ! read -r -t 60 SNAPSHOT <&"$PSQL_OUT" || [ -z "$SNAPSHOT" ]; then
    die "cannot open a snapshot: $(head -c 500 "$WORK/psql.err" 2>/dev/null)"
fi

pg_dump -w --format=custom --compress=6 --snapshot="$SNAPSHOT" --file="$WORK/db.dump" ||
    die "pg_dump failed"

COUNT_SQL="SELECT c.relname || '=' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname;"
printf '%s\n' "$COUNT_SQL" "SELECT 'server_version=' || current_setting('server_version');" "SELECT '__end__';" >&"$PSQL_IN"
COUNTS=()
SERVER_VERSION=""
while true; do
    line=""
    read -r -t 3600 line <&"$PSQL_OUT" || die "counting rows failed: $(head -c 500 "$WORK/psql.err" 2>/dev/null)"
    case "$line" in
        __end__) break ;;
        server_version=*) SERVER_VERSION="${line#server_version=}" ;;
        *) COUNTS+=("$line") ;;
    esac
done
printf '%s\n' "COMMIT;" '\q' >&"$PSQL_IN"
wait "$PSQL_BG" || die "psql failed: $(head -c 500 "$WORK/psql.err" 2>/dev/null)"
PSQL_BG=""
rm -f "$WORK/psql.err"
log "database dumped: ${#COUNTS[@]} tables, $(du -h "$WORK/db.dump" | cut -f1)"

# --- 2. media --------------------------------------------------------------------------------------
# Per-file checksums first (fast, batched), then the archive. If the set of files changed in
# between (a file added or deleted while we ran), the tree checksum is recomputed from the
# archive itself, so the manifest always describes what the archive holds.
(cd "$MEDIA_ROOT" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) >"$WORK/media.sha256"
LC_ALL=C sed -E 's/^\\?[0-9a-f]{64}  //' "$WORK/media.sha256" >"$WORK/media.files"

tar_rc=0
tar -C "$MEDIA_ROOT" --numeric-owner -czf "$WORK/media.tar.gz" . || tar_rc=$?
if [ "$tar_rc" -eq 1 ]; then
    log "warning: media changed while it was archived (tar exit 1); the manifest follows the archive"
elif [ "$tar_rc" -ne 0 ]; then
    die "tar failed (exit $tar_rc)"
fi

# --- 3. integrity ----------------------------------------------------------------------------------
pg_restore --list "$WORK/db.dump" >/dev/null || die "pg_restore --list cannot read the dump"
tar -tzf "$WORK/media.tar.gz" >"$WORK/media.list" || die "tar -tzf cannot read the media archive"
# Regular files in the archive = entries that are not directories (media holds no links).
grep -v '/$' "$WORK/media.list" | grep -vx '\.' | LC_ALL=C sort >"$WORK/media.archived" || true
LC_ALL=C sort "$WORK/media.files" >"$WORK/media.hashed"
if ! cmp -s "$WORK/media.archived" "$WORK/media.hashed"; then
    log "media changed during the backup: checksumming the archive's files instead"
    # shellcheck disable=SC2016 # expanded by the shell tar starts for each file
    tar -xzf "$WORK/media.tar.gz" --to-command \
        'printf "%s  %s\n" "$(sha256sum | cut -d" " -f1)" "$TAR_FILENAME"' >"$WORK/media.sha256.unsorted"
    LC_ALL=C sort -k2 "$WORK/media.sha256.unsorted" >"$WORK/media.sha256"
    rm -f "$WORK/media.sha256.unsorted"
fi
MEDIA_FILES="$(grep -c . "$WORK/media.sha256" || true)"
MEDIA_TREE_SHA256="$(sha256sum <"$WORK/media.sha256" | cut -d' ' -f1)"
rm -f "$WORK/media.list" "$WORK/media.archived" "$WORK/media.hashed" "$WORK/media.files" "$WORK/media.sha256"

DB_SHA256="$(sha256sum "$WORK/db.dump" | cut -d' ' -f1)"
MEDIA_SHA256="$(sha256sum "$WORK/media.tar.gz" | cut -d' ' -f1)"
(cd "$WORK" && sha256sum db.dump media.tar.gz >SHA256SUMS)

{
    echo "format=biologidex-backup-1"
    echo "created_at=$STAMP"
    echo "database=${PGDATABASE:-}"
    echo "server_version=$SERVER_VERSION"
    echo "pg_dump_version=$(pg_dump --version | sed -n 1p)"
    echo "db_file=db.dump"
    echo "db_sha256=$DB_SHA256"
    echo "media_file=media.tar.gz"
    echo "media_sha256=$MEDIA_SHA256"
    echo "media_files=$MEDIA_FILES"
    echo "media_tree_sha256=$MEDIA_TREE_SHA256"
    echo "tables=${#COUNTS[@]}"
    for entry in "${COUNTS[@]}"; do
        echo "table.$entry"
    done
} >"$WORK/manifest.txt"

(cd "$WORK" && sha256sum --quiet -c SHA256SUMS) || die "checksums do not match right after writing"

# --- 3b. optional encryption: the manifest keeps the plaintext checksums ------------------------
AGE_ARGS=()
if [ -n "${BACKUP_AGE_RECIPIENTS_FILE:-}" ]; then
    [ -r "$BACKUP_AGE_RECIPIENTS_FILE" ] || die "cannot read BACKUP_AGE_RECIPIENTS_FILE"
    AGE_ARGS+=(-R "$BACKUP_AGE_RECIPIENTS_FILE")
fi
RECIPIENT_KEYS="${BACKUP_AGE_RECIPIENTS:-}"
for key in ${RECIPIENT_KEYS//,/ }; do
    AGE_ARGS+=(-r "$key")
done
if [ ${#AGE_ARGS[@]} -gt 0 ]; then
    command -v age >/dev/null 2>&1 || die "encryption is asked for but age is not installed (apt-get install age)"
    for f in db.dump media.tar.gz; do
        age --encrypt "${AGE_ARGS[@]}" -o "$WORK/$f.age" "$WORK/$f" || die "age could not encrypt $f"
        rm -f "$WORK/$f"
    done
    (cd "$WORK" && sha256sum db.dump.age media.tar.gz.age >SHA256SUMS)
    echo "encryption=age" >>"$WORK/manifest.txt"
    log "encrypted with age ($((${#AGE_ARGS[@]} / 2)) recipient argument(s))"
fi

mv "$WORK" "$FINAL"
trap - EXIT
log "ok: $FINAL ($(du -sh "$FINAL" | cut -f1), $MEDIA_FILES media files, $((SECONDS - started)) s)"

if [ -n "${BACKUP_METRICS_FILE:-}" ]; then
    {
        echo "# HELP biologidex_backup_last_success_timestamp_seconds When the last good backup finished."
        echo "# TYPE biologidex_backup_last_success_timestamp_seconds gauge"
        echo "biologidex_backup_last_success_timestamp_seconds $(date +%s)"
    } >"$BACKUP_METRICS_FILE.tmp" || log "warning: could not write $BACKUP_METRICS_FILE"
    mv -f "$BACKUP_METRICS_FILE.tmp" "$BACKUP_METRICS_FILE" 2>/dev/null || log "warning: could not write $BACKUP_METRICS_FILE"
fi

# --- 4. rotation: keep the newest BACKUP_KEEP complete backups ---------------------------------
mapfile -t backups < <(find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*T[0-9]*Z' \
    -exec test -f '{}/manifest.txt' ';' -print | LC_ALL=C sort -r)
for ((i = BACKUP_KEEP; i < ${#backups[@]}; i++)); do
    log "rotating out ${backups[$i]}"
    rm -rf "${backups[$i]}"
done
# Leftovers of runs that were killed hard (the EXIT trap did not run), older than a day.
find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '.*.partial' -mmin +1440 -exec rm -rf '{}' + 2>/dev/null || true
