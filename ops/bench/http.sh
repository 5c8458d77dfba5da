#!/usr/bin/env bash
# Foundation and accounts benchmarks: /health/, /ready/, login (argon2id, OWASP parameters)
# and /users/me/.   ops/bench/http.sh [health|accounts|all]
# shellcheck source=ops/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WHAT="${1:-all}"
start_api

if [ "$WHAT" = health ] || [ "$WHAT" = all ]; then
    run "GET /health/" "$URL/health/"
    run "GET /ready/" "$URL/ready/"
fi

if [ "$WHAT" = accounts ] || [ "$WHAT" = all ]; then
    curl -fs -o /dev/null -H 'content-type: application/json' \
        -d '{"username":"bench","email":"bench@example.com","password":"bench-pass-123","password_confirm":"bench-pass-123"}' \
        "$URL/api/v1/users/"
    TOKEN="$(login bench bench-pass-123)"
    LUA="$(lua_post '{"username":"bench","password":"bench-pass-123"}')"
    # Login is argon2id-bound: a few connections per core saturate it.
    CONNECTIONS=8 run "POST /api/v1/auth/login/" -s "$LUA" "$URL/api/v1/auth/login/"
    run "GET /api/v1/users/me/" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/users/me/"
    rm -f "$LUA"
fi
