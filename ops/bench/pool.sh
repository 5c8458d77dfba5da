#!/usr/bin/env bash
# The database pool's size against throughput and PostgreSQL's memory: the dex dataset
# (seed_dex.sql), the api restarted with each DB_POOL_SIZE, wrk at 32 connections on the main
# reads; PostgreSQL's backends (count, PSS) after each run beside the api's RSS.
#   POOL_SIZES="2 4 8 16 32" ops/bench/pool.sh
# shellcheck source=ops/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CONNECTIONS=32
POOL_SIZES="${POOL_SIZES:-2 4 8 16 32}"
start_api
seed_prepare
seed_dex
for size in $POOL_SIZES; do
    export DB_POOL_SIZE="$size"
    serve_api
    TOKEN="$(login bench1 bench-pass-123)"
    AUTH="Authorization: Bearer $TOKEN"
    echo "== DB_POOL_SIZE=$size"
    run "GET /users/me/" -H "$AUTH" "$URL/api/v1/users/me/"
    run "GET /animals/" -H "$AUTH" "$URL/api/v1/animals/"
    run "GET /dex/entries/my_entries/" -H "$AUTH" "$URL/api/v1/dex/entries/my_entries/"
    run "GET /dex/entries/sync_entries/" -H "$AUTH" "$URL/api/v1/dex/entries/sync_entries/"
    echo "PostgreSQL: $(pg_memory)"
done
