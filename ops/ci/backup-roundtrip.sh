#!/usr/bin/env bash
# Backup/restore round trip (issue 8): seed a scratch database and media directory, back them up
# with ops/scripts/backup.sh, restore into a NEW database and media directory with
# ops/scripts/restore.sh (--create-db), and check, independently of restore.sh's own checks:
#   - every table of the public schema has the same row count and the same contents (an md5 of
#     its rows in order) in both databases, and the sequences continue where they were;
#   - the media trees are identical (per-file sha256), and the seeded image matches the
#     checksum its stored_images row records;
#   - `biologidex-api migrate` on the restored database finds nothing to apply;
#   - an age-encrypted backup (BACKUP_AGE_RECIPIENTS, as the compose file passes it) keeps no
#     plaintext, cannot be restored without the identity, and restores with it to the same
#     contents; the backup's metrics file (for the BackupTooOld alert) holds its time.
#
#   BIN_DIR=target/debug bash ops/ci/backup-roundtrip.sh
#
# It builds nothing: BIN_DIR (default target/debug, relative to the repository) must hold
# biologidex-api. PostgreSQL must answer (bash ops/dev/services); both databases
# (bdx_backup_src_<pid>, bdx_backup_dst_<pid>) are created as the biologidex role and dropped on
# every exit, with the temp directory. TOPOLOGY_PG_URL overrides the server URL (default
# postgres://biologidex:biologidex@127.0.0.1:5432, no database).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
STARTED=$SECONDS

step() { printf '[roundtrip] %s\n' "$*"; }
die() {
    printf '[roundtrip] FAIL: %s\n' "$*" >&2
    exit 1
}

BIN_DIR="${BIN_DIR:-target/debug}"
case "$BIN_DIR" in
    /*) ;;
    *) BIN_DIR="$REPO/$BIN_DIR" ;;
esac
API_BIN="$BIN_DIR/biologidex-api"
[ -x "$API_BIN" ] || die "$API_BIN is missing or not executable: build it first (cargo build --bin biologidex-api) or set BIN_DIR"
for tool in psql pg_dump pg_restore createdb tar gzip sha256sum python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

PG_SERVER="${TOPOLOGY_PG_URL:-postgres://biologidex:biologidex@127.0.0.1:5432}"
PG_SERVER="${PG_SERVER%/}"
ADMIN_URL="$PG_SERVER/postgres"
SRC_DB="bdx_backup_src_$$"
DST_DB="bdx_backup_dst_$$"
ENC_DB="bdx_backup_enc_$$"
SRC_URL="$PG_SERVER/$SRC_DB"
DST_URL="$PG_SERVER/$DST_DB"
ENC_URL="$PG_SERVER/$ENC_DB"

TMP="$(mktemp -d /tmp/biologidex-backup-roundtrip.XXXXXX)"
DBS_TOUCHED=0
cleanup() {
    local rc=$?
    set +e
    if [ "$DBS_TOUCHED" -eq 1 ]; then
        for db in "$SRC_DB" "$DST_DB" "$ENC_DB"; do
            psql -X -q -w "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 ||
                printf '[roundtrip] warning: could not drop database %s\n' "$db" >&2
        done
    fi
    rm -rf "$TMP"
    [ "$rc" -eq 0 ] || printf '[roundtrip] backup/restore round trip: FAILED (exit %s) after %s s\n' "$rc" "$((SECONDS - STARTED))" >&2
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

psql -X -q -w "$ADMIN_URL" -c 'SELECT 1' >/dev/null 2>&1 ||
    die "PostgreSQL does not answer at ${PG_SERVER%%://*}://...@${PG_SERVER##*@} (start it: bash ops/dev/services)"

# --- 1. a seeded database and media directory ------------------------------------------------------
DBS_TOUCHED=1
psql -X -q -w "$ADMIN_URL" -c "CREATE DATABASE $SRC_DB" >/dev/null || die "cannot create database $SRC_DB"
(cd "$TMP" && env DATABASE_URL="$SRC_URL" SECRET_KEY="roundtrip-secret-key-0123456789abcdef" \
    "$API_BIN" migrate) >"$TMP/migrate.log" 2>&1 || {
    cat "$TMP/migrate.log" >&2
    die "biologidex-api migrate failed on $SRC_DB"
}
step "database $SRC_DB created and migrated"

MEDIA="$TMP/media"
mkdir -p "$MEDIA"
# A small PNG (Python standard library), stored under its content address like the api does.
python3 - "$TMP/image.png" <<'PY'
import struct, sys, zlib
w, h = 48, 32
rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 5 % 256, y * 7 % 256, (x + y) * 3 % 256))
                for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))
open(sys.argv[1], "wb").write(png)
PY
IMAGE_SHA="$(sha256sum "$TMP/image.png" | cut -d' ' -f1)"
IMAGE_SIZE="$(wc -c <"$TMP/image.png")"
IMAGE_KEY="images/${IMAGE_SHA:0:2}/$IMAGE_SHA.png"
mkdir -p "$MEDIA/$(dirname "$IMAGE_KEY")" "$MEDIA/avatars"
mv "$TMP/image.png" "$MEDIA/$IMAGE_KEY"
printf 'not really an avatar\n' >"$MEDIA/avatars/roundtrip.txt"

psql -X -q -w -v ON_ERROR_STOP=1 "$SRC_URL" \
    -v image_key="$IMAGE_KEY" -v image_sha="$IMAGE_SHA" -v image_size="$IMAGE_SIZE" >/dev/null <<'SQL' || die "seeding $SRC_DB failed"
BEGIN;
INSERT INTO users (username, email, password_hash, friend_code, bio, badges)
VALUES ('rt_alice', 'alice@roundtrip.example', 'not-a-hash', 'RTAL1CE0', 'Äpfel & 🦊', '["early"]'),
       ('rt_bob', 'bob@roundtrip.example', 'not-a-hash', 'RTB0B000', '', '[]'),
       ('rt_carol', 'carol@roundtrip.example', 'not-a-hash', 'RTCAR0L0', 'line one
line two', '[]');
INSERT INTO user_profiles (user_id, total_catches, unique_species)
SELECT id, 1, 1 FROM users WHERE username LIKE 'rt\_%' AND NOT EXISTS (
    SELECT 1 FROM user_profiles p WHERE p.user_id = users.id);
INSERT INTO friendships (from_user_id, to_user_id, status)
SELECT a.id, b.id, 'accepted' FROM users a, users b WHERE a.username = 'rt_alice' AND b.username = 'rt_bob';
INSERT INTO animals (scientific_name, common_name, genus, species, native_regions, interesting_facts, verified)
VALUES ('Vulpes vulpes', 'Red fox', 'Vulpes', 'vulpes', '{Europe,Asia}', '["clever"]', true),
       ('Erinaceus europaeus', 'European hedgehog', 'Erinaceus', 'europaeus', '{Europe}', '[]', true),
       ('Pica pica', 'Eurasian magpie', 'Pica', 'pica', '{}', '[]', false);
INSERT INTO stored_images (storage_key, checksum, content_type, width, height, byte_size)
VALUES (:'image_key', :'image_sha', 'image/png', 48, 32, :image_size);
INSERT INTO dex_entries (owner_id, animal_id, image_id, image_token, image_checksum, visibility, notes, location_lat, location_lon)
SELECT u.id, a.id, i.id, md5(u.username || a.scientific_name), i.checksum, v.visibility, 'seeded', 48.1, 11.5
FROM users u, animals a, stored_images i,
     (VALUES ('rt_alice', 'Vulpes vulpes', 'private'), ('rt_bob', 'Pica pica', 'friends'),
             ('rt_alice', 'Erinaceus europaeus', 'public')) AS v (username, animal, visibility)
WHERE u.username = v.username AND a.scientific_name = v.animal;
INSERT INTO dex_entry_removals (entry_id, owner_id, reason)
SELECT gen_random_uuid(), id, 'deleted' FROM users WHERE username = 'rt_carol';
COMMIT;
SQL
step "seeded users, profiles, a friendship, animals, a stored image, dex entries and 2 media files"

# --- 2. back up ----------------------------------------------------------------------------------------
BACKUPS="$TMP/backups"
env DATABASE_URL="$SRC_URL" MEDIA_ROOT="$MEDIA" BACKUP_DIR="$BACKUPS" BACKUP_KEEP=2 \
    bash "$REPO/ops/scripts/backup.sh" >"$TMP/backup.log" 2>&1 || {
    cat "$TMP/backup.log" >&2
    die "ops/scripts/backup.sh failed"
}
BACKUP="$(find "$BACKUPS" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*T[0-9]*Z' | head -n 1)"
if [ -z "$BACKUP" ] || [ ! -f "$BACKUP/manifest.txt" ]; then die "backup.sh left no backup in $BACKUPS"; fi
step "backup.sh: $(basename "$BACKUP") ($(grep -c '^table\.' "$BACKUP/manifest.txt") tables, $(grep '^media_files=' "$BACKUP/manifest.txt" | cut -d= -f2) media files)"

# --- 3. restore into a new database and media directory --------------------------------------------------
RESTORED_MEDIA="$TMP/restored-media"
bash "$REPO/ops/scripts/restore.sh" --create-db "$BACKUP" "$DST_URL" "$RESTORED_MEDIA" >"$TMP/restore.log" 2>&1 || {
    cat "$TMP/restore.log" >&2
    die "ops/scripts/restore.sh failed"
}
if grep -q '^FAIL' "$TMP/restore.log"; then
    cat "$TMP/restore.log" >&2
    die "restore.sh reported a failed check"
fi
step "restore.sh --create-db into $DST_DB: $(grep -c '^OK' "$TMP/restore.log") checks OK"

# --- 4. independent comparison ---------------------------------------------------------------------------
# One line per table: name, row count, md5 of its rows in text order; then every sequence's value.
DIGEST_SQL="
SELECT c.relname || ' rows=' || (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
       || ' md5=' || coalesce((xpath('/row/h/text()', query_to_xml(format('SELECT md5(string_agg(t::text, E''\\n'' ORDER BY t::text)) AS h FROM %I.%I t', n.nspname, c.relname), false, true, '')))[1]::text, 'empty')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'sequence ' || sequencename || ' last_value=' || coalesce(last_value::text, 'unset')
FROM pg_sequences WHERE schemaname = 'public'
ORDER BY 1;"
psql -X -q -w -At -v ON_ERROR_STOP=1 "$SRC_URL" -c "$DIGEST_SQL" >"$TMP/src.digest" || die "digesting $SRC_DB failed"
psql -X -q -w -At -v ON_ERROR_STOP=1 "$DST_URL" -c "$DIGEST_SQL" >"$TMP/dst.digest" || die "digesting $DST_DB failed"
if ! diff -u "$TMP/src.digest" "$TMP/dst.digest" >"$TMP/digest.diff"; then
    cat "$TMP/digest.diff" >&2
    die "the restored database differs from the original (above: - original, + restored)"
fi
tables="$(grep -vc '^sequence ' "$TMP/src.digest")"
rows="$(grep -v '^sequence ' "$TMP/src.digest" | sed -E 's/.* rows=([0-9]+) .*/\1/' | awk '{ n += $1 } END { print n + 0 }')"
[ "$tables" -ge 10 ] || die "only $tables tables in the public schema: was the database migrated?"
for t in users:3 animals:3 dex_entries:3 friendships:1 stored_images:1; do
    grep -q "^${t%%:*} rows=${t##*:} " "$TMP/dst.digest" || die "the restored ${t%%:*} should hold ${t##*:} rows: $(grep "^${t%%:*} " "$TMP/dst.digest")"
done
step "databases identical: $tables tables ($rows rows, same row counts and contents), $(grep -c '^sequence ' "$TMP/src.digest") sequences"

tree_sums() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); }
tree_sums "$MEDIA" >"$TMP/src.media"
tree_sums "$RESTORED_MEDIA" >"$TMP/dst.media"
if ! diff -u "$TMP/src.media" "$TMP/dst.media" >"$TMP/media.diff"; then
    cat "$TMP/media.diff" >&2
    die "the restored media differ from the original"
fi
restored_sha="$(sha256sum "$RESTORED_MEDIA/$IMAGE_KEY" | cut -d' ' -f1)"
db_sha="$(psql -X -q -w -At "$DST_URL" -c "SELECT checksum FROM stored_images WHERE storage_key = '$IMAGE_KEY'")"
[ "$restored_sha" = "$db_sha" ] || die "restored image sha256 $restored_sha, its restored stored_images row says '$db_sha'"
step "media identical: $(grep -c . "$TMP/dst.media") files, tree sha256 $(sha256sum <"$TMP/dst.media" | cut -c1-16)..., image matches stored_images.checksum"

(cd "$TMP" && env DATABASE_URL="$DST_URL" SECRET_KEY="roundtrip-secret-key-0123456789abcdef" \
    "$API_BIN" migrate) >"$TMP/migrate-restored.log" 2>&1 || {
    cat "$TMP/migrate-restored.log" >&2
    die "biologidex-api migrate fails on the restored database"
}
psql -X -q -w -At "$DST_URL" -c "$DIGEST_SQL" | diff -q - "$TMP/dst.digest" >/dev/null ||
    die "biologidex-api migrate changed the restored database (its migration history was not restored?)"
step "biologidex-api migrate on the restored database: nothing to apply"

# --- 6. an encrypted backup ------------------------------------------------------------------------------
if ! command -v age >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age >/dev/null 2>&1 ||
        { apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age >/dev/null; }
fi
command -v age-keygen >/dev/null 2>&1 || die "age is not installed (apt-get install age)"
age-keygen -o "$TMP/backup-key.txt" 2>/dev/null
age-keygen -y "$TMP/backup-key.txt" >"$TMP/backup-recipients.txt"
ENC_BACKUPS="$TMP/encrypted-backups"
env DATABASE_URL="$SRC_URL" MEDIA_ROOT="$MEDIA" BACKUP_DIR="$ENC_BACKUPS" \
    BACKUP_AGE_RECIPIENTS="$(cat "$TMP/backup-recipients.txt")" BACKUP_METRICS_FILE="$TMP/backup.prom" \
    bash "$REPO/ops/scripts/backup.sh" >"$TMP/backup-enc.log" 2>&1 || {
    cat "$TMP/backup-enc.log" >&2
    die "ops/scripts/backup.sh with BACKUP_AGE_RECIPIENTS failed"
}
ENC_BACKUP="$(find "$ENC_BACKUPS" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*T[0-9]*Z' | head -n 1)"
for f in db.dump.age media.tar.gz.age; do
    [ -f "$ENC_BACKUP/$f" ] || die "the encrypted backup lacks $f"
done
for f in db.dump media.tar.gz; do
    [ ! -e "$ENC_BACKUP/$f" ] || die "the encrypted backup kept the plaintext $f"
done
if grep -a -q 'topology\|example.com' "$ENC_BACKUP/db.dump.age"; then die "db.dump.age holds plaintext"; fi
grep -q '^biologidex_backup_last_success_timestamp_seconds [0-9]\{10\}$' "$TMP/backup.prom" ||
    die "BACKUP_METRICS_FILE does not hold the backup's time: $(cat "$TMP/backup.prom" 2>/dev/null)"
if bash "$REPO/ops/scripts/restore.sh" --create-db "$ENC_BACKUP" "$ENC_URL" "$TMP/enc-media-noid" >"$TMP/restore-noid.log" 2>&1; then
    die "an encrypted backup was restored without its identity"
fi
grep -q 'identity' "$TMP/restore-noid.log" || die "restore.sh did not ask for the identity: $(cat "$TMP/restore-noid.log")"
bash "$REPO/ops/scripts/restore.sh" --create-db --identity "$TMP/backup-key.txt" "$ENC_BACKUP" "$ENC_URL" \
    "$TMP/enc-media" >"$TMP/restore-enc.log" 2>&1 || {
    cat "$TMP/restore-enc.log" >&2
    die "restore.sh --identity of the encrypted backup failed"
}
psql -X -q -w -At -v ON_ERROR_STOP=1 "$ENC_URL" -c "$DIGEST_SQL" >"$TMP/enc.digest" || die "digesting $ENC_DB failed"
diff -u "$TMP/src.digest" "$TMP/enc.digest" >&2 || die "the database restored from the encrypted backup differs"
tree_sums "$TMP/enc-media" >"$TMP/enc.media"
diff -u "$TMP/src.media" "$TMP/enc.media" >&2 || die "the media restored from the encrypted backup differ"
step "age-encrypted backup: no plaintext kept, refused without the identity, restored with it to identical contents; metrics file written"

printf 'backup/restore round trip: OK (%s s)\n' "$((SECONDS - STARTED))"
