#!/usr/bin/env bash
# Taxonomy benchmark (issue 6): import throughput of a generated Catalogue of Life release, end
# to end including indexes, with peak memory; then matcher latency over 1,000 mixed names and the
# plans of search queries, against the imported data.
#
#   ops/bench/taxonomy.sh                   # 2,000,000 usages
#   USAGES=200000 ops/bench/taxonomy.sh     # a quicker run
#
# Environment: USAGES (2000000), DATA (/tmp/coldp-bench-$USAGES: reused when present),
# GEN (ops/bench/gen_coldp.py), ADMIN_URL (TEST_DATABASE_URL or the local dev role on
# `postgres`), BENCH_DB (bdx_bench_taxonomy, dropped and recreated), CARGO_TARGET_DIR
# (target/bench: its own, so it never blocks another build). Needs python3, psql, /usr/bin/time.
# Targets (docs/decisions.md#d21): >= 50,000 usages/s including indexes, matcher p99 < 20 ms.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
USAGES="${USAGES:-2000000}"
DATA="${DATA:-/tmp/coldp-bench-$USAGES}"
GEN="${GEN:-$REPO/ops/bench/gen_coldp.py}"
ADMIN_URL="${ADMIN_URL:-${TEST_DATABASE_URL:-postgres://biologidex:biologidex@127.0.0.1:5432/postgres}}"
BENCH_DB="${BENCH_DB:-bdx_bench_taxonomy}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target/bench}"
DB_URL="${ADMIN_URL%/*}/$BENCH_DB"
OUT="$(mktemp -d /tmp/bdx-taxonomy-bench.XXXXXX)"

echo "== build (release)"
(cd "$REPO" && nice -n 19 cargo build --release -q -p api --bin biologidex-api --example taxonomy_bench)
BIN="$CARGO_TARGET_DIR/release/biologidex-api"
BENCH="$CARGO_TARGET_DIR/release/examples/taxonomy_bench"

if [ ! -f "$DATA/NameUsage.tsv" ]; then
    echo "== generate $USAGES usages into $DATA"
    nice -n 19 python3 "$GEN" --usages "$USAGES" --out "$DATA"
fi
du -sh "$DATA"

echo "== fresh database $BENCH_DB"
psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS \"$BENCH_DB\" WITH (FORCE)" -c "CREATE DATABASE \"$BENCH_DB\""
export DATABASE_URL="$DB_URL" RUST_LOG=warn
export SECRET_KEY="${SECRET_KEY:-bench-secret-key-that-is-long-enough-0123456789}"
"$BIN" migrate

run_import() {
    local label="$1" log="$OUT/$1.log"
    sync
    /usr/bin/time -v "$BIN" import-col "$DATA" 2>"$log" || { cat "$log"; exit 1; }
    local wall rss secs
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")"
    secs="$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')"
    grep -m1 '^imported' "$log" || true
    awk -v n="$USAGES" -v s="$secs" -v r="$rss" -v l="$label" 'BEGIN {
        printf "%s: %d usages in %.1f s = %.0f usages/s end to end; peak RSS %.1f MB\n", l, n, s, n / s, r / 1024 }'
}

echo "== import (first release)"
run_import first
psql "$DB_URL" -qXAt -c "SELECT 'job timings: ' || (metadata->'timings')::text FROM taxonomy_import_jobs WHERE status = 'completed' ORDER BY completed_at DESC LIMIT 1"
echo "== re-import (same release: every row compared, nothing changes)"
run_import reimport
psql "$DB_URL" -qXAt -c "SELECT 'sizes: taxa ' || pg_size_pretty(pg_total_relation_size('taxa')) || ', common names ' || pg_size_pretty(pg_total_relation_size('taxon_common_names'))"

echo "== matcher and search"
"$BENCH" --database-url "$DB_URL" --names 1000

echo "logs in $OUT; drop the database with: psql \"$ADMIN_URL\" -c 'DROP DATABASE \"$BENCH_DB\"'"
