#!/usr/bin/env bash
# Import benchmark (import-django): a generated old-server database (the fixture's schema from
# shared/testdata/old-server, filled by gen_django.sql) imported into a fresh database, without
# images and with one small PNG per entry; entries/s and peak RSS of each run.
#
#   ops/bench/import.sh                          # 10,000 users, 100,000 entries
#   USERS=1000 ENTRIES=10000 ops/bench/import.sh # a quicker run
#
# Environment: USERS (10000), ANIMALS (2000), ENTRIES (100000), IMAGE_ENTRIES (ENTRIES: how many
# entries the run with images has), ADMIN_URL, CARGO_TARGET_DIR (target/bench). Needs psql,
# python3 and /usr/bin/time.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
USERS="${USERS:-10000}"
ANIMALS="${ANIMALS:-2000}"
ENTRIES="${ENTRIES:-100000}"
IMAGE_ENTRIES="${IMAGE_ENTRIES:-$ENTRIES}"
ADMIN_URL="${ADMIN_URL:-${TEST_DATABASE_URL:-postgres://biologidex:biologidex@127.0.0.1:5432/postgres}}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target/bench}"
FIXTURE="$REPO/shared/testdata/old-server/old-server.sql"
WORK="$(mktemp -d /tmp/bdx-import-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

echo "== build (release)"
(cd "$REPO" && nice -n 19 cargo build --release -q -p api --bin biologidex-api)
BIN="$CARGO_TARGET_DIR/release/biologidex-api"

fresh() { psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\""; }
url() { echo "${ADMIN_URL%/*}/$1"; }

# old_db NAME IMAGES ENTRIES: the fixture (schema and its small world) plus the generated one.
old_db() {
    fresh "$1"
    psql "$(url "$1")" -qX -v ON_ERROR_STOP=1 -f "$FIXTURE" >/dev/null
    psql "$(url "$1")" -qX -v ON_ERROR_STOP=1 -v users="$USERS" -v animals="$ANIMALS" \
        -v entries="$3" -v images="$2" -f "$REPO/ops/bench/gen_django.sql" >/dev/null
}

# run LABEL OLD ENTRIES MEDIA
run() {
    local target="bdx_bench_import_new"
    fresh "$target"
    DATABASE_URL="$(url "$target")" RUST_LOG=warn DEBUG=true "$BIN" migrate >/dev/null
    rm -rf "$WORK/new-media"
    local start end
    start=$(date +%s.%N)
    DATABASE_URL="$(url "$target")" MEDIA_ROOT="$WORK/new-media" RUST_LOG=warn DEBUG=true \
        /usr/bin/time -f "%M" -o "$WORK/rss" \
        "$BIN" import-django --from "$(url "$2")" --media-root "$4" >"$WORK/report" 2>&1 ||
        { cat "$WORK/report"; exit 1; }
    end=$(date +%s.%N)
    local total=$(( $3 + 68 ))
    awk -v l="$1" -v n="$total" -v s="$start" -v e="$end" -v rss="$(cat "$WORK/rss")" \
        'BEGIN { printf "%-22s %8d entries in %7.1f s = %8.0f entries/s, peak RSS %6.1f MB\n", l, n, e - s, n / (e - s), rss / 1024 }'
    # A second run over the same data: nothing to write.
    start=$(date +%s.%N)
    DATABASE_URL="$(url "$target")" MEDIA_ROOT="$WORK/new-media" RUST_LOG=warn DEBUG=true \
        /usr/bin/time -f "%M" -o "$WORK/rss" \
        "$BIN" import-django --from "$(url "$2")" --media-root "$4" >"$WORK/report2" 2>&1
    end=$(date +%s.%N)
    awk -v l="$1 (re-run)" -v n="$total" -v s="$start" -v e="$end" -v rss="$(cat "$WORK/rss")" \
        'BEGIN { printf "%-22s %8d entries in %7.1f s = %8.0f entries/s, peak RSS %6.1f MB\n", l, n, e - s, n / (e - s), rss / 1024 }'
    grep -E "^(users|dex_entries) " "$WORK/report" "$WORK/report2" | sed 's/^/  /'
}

echo "== without images: $USERS users, $ANIMALS animals, $ENTRIES entries"
old_db bdx_bench_import_old off "$ENTRIES"
run "without images" bdx_bench_import_old "$ENTRIES" "$REPO/shared/testdata/old-server/media"

echo "== with a 64x48 PNG per entry: $IMAGE_ENTRIES entries"
mkdir -p "$WORK/media"
cp -r "$REPO/shared/testdata/old-server/media/." "$WORK/media/"
nice -n 19 python3 "$REPO/ops/bench/gen_django_media.py" --count "$IMAGE_ENTRIES" --out "$WORK/media"
old_db bdx_bench_import_old on "$IMAGE_ENTRIES"
run "with small images" bdx_bench_import_old "$IMAGE_ENTRIES" "$WORK/media"

psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS bdx_bench_import_old WITH (FORCE)" \
    -c "DROP DATABASE IF EXISTS bdx_bench_import_new WITH (FORCE)"
