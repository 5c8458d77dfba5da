#!/usr/bin/env bash
# Taxonomic tree benchmarks:
#   1. layout of a synthetic 100,000-animal tree (release example, no I/O);
#   2. GET /graph/tree/ in friends mode for a user with 10 friends, cached and uncached
#      (use_cache=false), plus chunk and search, on the dex benchmark dataset (seed_dex.sql:
#      50 users with ~10 friends each, 300 animals, 2,000 entries of all visibilities).
#   BENCH_PORT=18093 CARGO_TARGET_DIR=/work/target-tree ops/bench/tree.sh
# shellcheck source=ops/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

echo "== layout (release example)"
nice -n 19 cargo run --release -q -p biologidex-tree --example layout_bench

start_api

seed_prepare
seed_dex
echo "seeded: $(psql -qtA "$DATABASE_URL" -c "SELECT (SELECT count(*) FROM users) || ' users, ' || (SELECT count(*) FROM friendships) || ' friendships, ' || (SELECT count(*) FROM animals) || ' animals, ' || (SELECT count(*) FROM dex_entries) || ' entries'")"

run_tree_benchmarks() {
TOKEN="$(login bench1 bench-pass-123)"
AUTH="Authorization: Bearer $TOKEN"
TREE="$(mktemp)"
curl -fs -H "$AUTH" "$URL/api/v1/graph/tree/?use_cache=false" >"$TREE"
python3 - "$TREE" <<'PY'
import json, os, sys
raw = open(sys.argv[1]).read()
t = json.loads(raw)
print("bench1 friends tree: %d animals, %d nodes, %d edges, %d users in scope, %d chunks, %d bytes"
      % (t["stats"]["total_animals"], t["metadata"]["total_nodes"], t["metadata"]["total_edges"],
         t["metadata"]["scoped_users"], t["layout"]["chunk_metadata"]["total_chunks"], len(raw)))
PY
rm -f "$TREE"

if [ "${1:-}" = count ]; then
# Statements per uncached request: autocommit transactions counted by PostgreSQL (backends
# flush their counters lazily, hence the pauses; only meaningful on a quiet database, so
# measured once, before any load).
sleep 11
before="$(psql -qtA "$DATABASE_URL" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")"
for _ in $(seq 20); do curl -fs -o /dev/null -H "$AUTH" "$URL/api/v1/graph/tree/?use_cache=false"; done
sleep 11
after="$(psql -qtA "$DATABASE_URL" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")"
echo "statements per uncached request (autocommit transactions, pool checkout pings included): $(( (after - before - 1) / 20 ))"
fi

run "GET /graph/tree/ (friends, cached)" -H "$AUTH" "$URL/api/v1/graph/tree/"
run "GET /graph/tree/ (friends, uncached)" -H "$AUTH" "$URL/api/v1/graph/tree/?use_cache=false"
run "GET /graph/tree/chunk/0/0/ (cached)" -H "$AUTH" "$URL/api/v1/graph/tree/chunk/0/0/"
run "GET /graph/tree/search/?q=species1 (cached)" -H "$AUTH" "$URL/api/v1/graph/tree/search/?q=species1"
}

echo "== the dex dataset as seeded"
run_tree_benchmarks count
echo "== plus seed_tree.sql (bench1's circle catches more species)"
psql -q "$DATABASE_URL" -f ops/bench/seed_tree.sql
psql -q "$DATABASE_URL" -c "VACUUM ANALYZE dex_entries" 2>/dev/null
run_tree_benchmarks
