#!/usr/bin/env bash
# Restore a BiologiDex backup made by ops/scripts/backup.sh, then verify it.
#
#   ops/scripts/restore.sh [options] BACKUP TARGET_DATABASE_URL TARGET_MEDIA_DIR
#
#   BACKUP               a backup directory (BACKUP_DIR/<stamp>)
#   TARGET_DATABASE_URL  postgres://user:password@host:port/db to restore into; objects of the
#                        backup that exist there are dropped first (pg_restore --clean --if-exists)
#   TARGET_MEDIA_DIR     where to unpack the media (created; must be empty unless --force)
#
# Options:
#   --create-db    create the target database when it does not exist (createdb, same credentials)
#   --force        unpack the media into a non-empty directory (files of the backup overwrite
#                  theirs; files only the directory has stay, and make the media check FAIL)
#   --skip-media   restore and check the database only
#   --identity F   the age identity (private key) file of an encrypted backup (default:
#                  BACKUP_AGE_IDENTITY_FILE); the files are decrypted into a temporary directory
#
# Steps: verify both files against SHA256SUMS and the manifest; pg_restore --list; restore the dump
# (--clean --if-exists --no-owner --no-privileges, in one transaction, stopping at the first
# error); unpack the media; then compare the row count of every table in the public schema and
# the media tree checksum with the manifest, printing OK or FAIL for each. Exit status 0 only when
# everything matches.
# Stop the api and the workers before restoring over a live database.
# No secret is printed: database URLs are shown without their password.
set -euo pipefail

usage() {
    # The comment block at the top of this file.
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

log() { printf '[restore] %s\n' "$*"; }
die() {
    printf '[restore] error: %s\n' "$*" >&2
    exit 1
}

CREATE_DB=0
IDENTITY="${BACKUP_AGE_IDENTITY_FILE:-}"
FORCE=0
SKIP_MEDIA=0
ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --create-db) CREATE_DB=1 ;;
        --force) FORCE=1 ;;
        --skip-media) SKIP_MEDIA=1 ;;
        --identity)
            shift
            [ $# -gt 0 ] || die "--identity needs a file"
            IDENTITY="$1"
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        --) shift; ARGS+=("$@"); break ;;
        -*)
            usage >&2
            die "unknown option: $1"
            ;;
        *) ARGS+=("$1") ;;
    esac
    shift
done
[ ${#ARGS[@]} -eq 3 ] || { usage >&2; exit 2; }
BACKUP="${ARGS[0]}"
TARGET_URL="${ARGS[1]}"
TARGET_MEDIA="${ARGS[2]}"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=pg-url.sh
. "$SCRIPT_DIR/pg-url.sh"

for tool in pg_restore psql createdb tar gzip sha256sum find sort xargs; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

[ -d "$BACKUP" ] || die "$BACKUP is not a directory"
BACKUP="$(cd "$BACKUP" && pwd)"
manifest() {
    # The value of one key of the manifest ("" when absent).
    local line
    line="$(grep -m1 -E "^$1=" "$BACKUP/manifest.txt" || true)"
    printf '%s' "${line#*=}"
}

[ -f "$BACKUP/manifest.txt" ] || die "$BACKUP/manifest.txt is missing"
[ "$(manifest format)" = "biologidex-backup-1" ] || die "$BACKUP/manifest.txt is not a biologidex-backup-1 manifest"
ENCRYPTED=0
SUFFIX=""
if [ "$(manifest encryption)" = "age" ]; then
    ENCRYPTED=1
    SUFFIX=".age"
fi
for f in SHA256SUMS "db.dump$SUFFIX" "media.tar.gz$SUFFIX"; do
    [ -f "$BACKUP/$f" ] || die "$BACKUP/$f is missing"
done
DB_FILE="$BACKUP/db.dump"
MEDIA_ARCHIVE="$BACKUP/media.tar.gz"

FAILURES=0
check() {
    # check LABEL EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        printf 'OK    %-44s %s\n' "$1" "$3"
    else
        printf 'FAIL  %-44s expected %s, found %s\n' "$1" "$2" "$3"
        FAILURES=$((FAILURES + 1))
    fi
}

started=$SECONDS
log "backup $BACKUP (created $(manifest created_at), server $(manifest server_version))"

# --- 1. the files ----------------------------------------------------------------------------------
(cd "$BACKUP" && sha256sum --quiet -c SHA256SUMS) || die "checksums in SHA256SUMS do not match: the backup is damaged"
if [ "$ENCRYPTED" -eq 1 ]; then
    command -v age >/dev/null 2>&1 || die "the backup is encrypted and age is not installed (apt-get install age)"
    [ -n "$IDENTITY" ] || die "the backup is encrypted: pass --identity FILE (or BACKUP_AGE_IDENTITY_FILE)"
    [ -r "$IDENTITY" ] || die "cannot read the identity file"
    PLAIN="$(mktemp -d "${TMPDIR:-/tmp}/biologidex-restore.XXXXXX")"
    chmod 700 "$PLAIN"
    trap 'rm -rf "$PLAIN"' EXIT
    for f in db.dump media.tar.gz; do
        age --decrypt -i "$IDENTITY" -o "$PLAIN/$f" "$BACKUP/$f.age" || die "age could not decrypt $f.age (wrong identity?)"
    done
    DB_FILE="$PLAIN/db.dump"
    MEDIA_ARCHIVE="$PLAIN/media.tar.gz"
    log "decrypted with age"
fi
check "db.dump sha256" "$(manifest db_sha256)" "$(sha256sum "$DB_FILE" | cut -d' ' -f1)"
check "media.tar.gz sha256" "$(manifest media_sha256)" "$(sha256sum "$MEDIA_ARCHIVE" | cut -d' ' -f1)"
[ "$FAILURES" -eq 0 ] || die "the files do not match the manifest"
pg_restore --list "$DB_FILE" >/dev/null || die "pg_restore cannot read db.dump"

# --- 2. the database -------------------------------------------------------------------------------
pg_url_export "$TARGET_URL" || die "TARGET_DATABASE_URL is not a postgres:// URL"
export PGAPPNAME=biologidex-restore PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-10}"
[ -n "${PGDATABASE:-}" ] || die "TARGET_DATABASE_URL names no database"
log "database $(pg_url_redact "$TARGET_URL")"

if ! psql -X -w -q -At -c 'SELECT 1' >/dev/null 2>&1; then
    if [ "$CREATE_DB" -eq 1 ]; then
        log "creating database $PGDATABASE"
        createdb -w "$PGDATABASE" || die "createdb failed"
    else
        die "cannot connect to the target database (use --create-db to create it)"
    fi
fi

pg_restore -w --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
    --dbname="$PGDATABASE" "$DB_FILE" || die "pg_restore failed (nothing was changed: it runs in one transaction)"
log "database restored"

# --- 3. the media ----------------------------------------------------------------------------------
if [ "$SKIP_MEDIA" -eq 0 ]; then
    mkdir -p "$TARGET_MEDIA"
    TARGET_MEDIA="$(cd "$TARGET_MEDIA" && pwd)"
    if [ -n "$(find "$TARGET_MEDIA" -mindepth 1 -maxdepth 1 -print -quit)" ] && [ "$FORCE" -eq 0 ]; then
        die "$TARGET_MEDIA is not empty (use --force to unpack over it)"
    fi
    log "media into $TARGET_MEDIA"
    tar -xzf "$MEDIA_ARCHIVE" -C "$TARGET_MEDIA" --numeric-owner || die "unpacking the media failed"
fi

# --- 4. verify -------------------------------------------------------------------------------------
COUNT_SQL="SELECT c.relname || '=' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname;"
declare -A FOUND=()
while IFS= read -r line; do
    [ -n "$line" ] || continue
    FOUND["${line%=*}"]="${line##*=}"
done < <(psql -X -w -q -At -v ON_ERROR_STOP=1 -c "$COUNT_SQL") || die "counting rows failed"

check "tables" "$(manifest tables)" "${#FOUND[@]}"
declare -A EXPECTED=()
while IFS= read -r line; do
    entry="${line#table.}"
    EXPECTED["${entry%=*}"]="${entry##*=}"
done < <(grep -E '^table\.' "$BACKUP/manifest.txt")
while IFS= read -r table; do
    [ -n "$table" ] || continue
    check "rows in $table" "${EXPECTED[$table]}" "${FOUND[$table]:-missing}"
done < <(printf '%s\n' "${!EXPECTED[@]}" | LC_ALL=C sort)
while IFS= read -r table; do
    [ -n "$table" ] || continue
    [ -n "${EXPECTED[$table]+x}" ] || check "table $table (not in the backup)" "absent" "${FOUND[$table]} rows"
done < <(printf '%s\n' "${!FOUND[@]}" | LC_ALL=C sort)

if [ "$SKIP_MEDIA" -eq 0 ]; then
    sums="$(cd "$TARGET_MEDIA" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)"
    if [ -n "$sums" ]; then
        files="$(printf '%s\n' "$sums" | grep -c .)"
        tree="$(printf '%s\n' "$sums" | sha256sum | cut -d' ' -f1)"
    else
        files=0
        tree="$(printf '' | sha256sum | cut -d' ' -f1)"
    fi
    check "media files" "$(manifest media_files)" "$files"
    check "media tree sha256" "$(manifest media_tree_sha256)" "$tree"
fi

if [ "$FAILURES" -eq 0 ]; then
    log "OK: restore verified in $((SECONDS - started)) s"
else
    log "FAIL: $FAILURES check(s) did not match (see above)"
    exit 1
fi
