#!/usr/bin/env bash
# Media and replica benchmarks (issue 15), release build, throttles raised, logs at warn:
#   - image downloads (GET /media/e/<token>.png, a 640x480 photo, or PHOTO_SIZE=WxH) and photo uploads
#     (POST /api/v1/dex/entries/ multipart, 8 at once) with media in MEDIA_ROOT and in the
#     S3-compatible server of ops/dev/s3 (moto, on this machine);
#   - GET /api/v1/animals/ with no replica and with DATABASE_REPLICA_URLS naming the primary
#     itself, so the difference is the routing's own cost.
#   ops/bench/media.sh    (PHOTO_SIZE=1155x866 for 1-megapixel photos)
# shellcheck source=ops/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

S3="$(bash ops/dev/s3)"
BUCKET="bdx-bench-$$"
curl -fs -X PUT -o /dev/null "$S3/$BUCKET"
WORK="$(mktemp -d)"
PID=""

stop_api() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
        PID=""
    fi
    psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)"
}
trap 'stop_api; rm -rf "$WORK"' EXIT

# start NAME [VAR=value ...]: the release api on a fresh database, with the given environment.
start() {
    local name="$1"; shift
    stop_api
    psql -q "$ADMIN" -c "CREATE DATABASE $BENCH_DB"
    mkdir -p "$WORK/$name"
    env "$@" MEDIA_ROOT="$WORK/$name" "$BIN" migrate >/dev/null
    env "$@" MEDIA_ROOT="$WORK/$name" "$BIN" serve --bind "127.0.0.1:$PORT" &
    PID=$!
    for _ in $(seq 100); do curl -fs "$URL/health/" >/dev/null && break; sleep 0.1; done
}

bash ops/dev/services >/dev/null
cargo build --release --bin biologidex-api >/dev/null 2>&1 || cargo build --release --bin biologidex-api
BIN="${CARGO_TARGET_DIR:-$REPO/target}/release/biologidex-api"
export DATABASE_URL="postgres://biologidex:biologidex@127.0.0.1:5432/$BENCH_DB"
export SECRET_KEY="bench-secret-key-bench-secret-key-0123"
export REDIS_KEY_PREFIX="bench-$$"
export THROTTLE_ANON_RATE=100000000/hour THROTTLE_USER_RATE=100000000/hour
export THROTTLE_LOGIN_RATE=100000000/hour THROTTLE_UPLOAD_RATE=100000000/hour
export RUST_LOG=warn DB_POOL_SIZE="${DB_POOL_SIZE:-16}"

PHOTO_SIZE="${PHOTO_SIZE:-640x480}"
# The photo (noise and gradients, so PNG cannot shrink it to nothing).
python3 - "$WORK/photo.png" "${PHOTO_SIZE%x*}" "${PHOTO_SIZE#*x}" <<'PY'
import random, struct, sys, zlib
w, h = int(sys.argv[2]), int(sys.argv[3])
random.seed(15)
rows = b"".join(b"\0" + bytes((x * 255 // w + random.randrange(40)) % 256 if c == 0 else
                               (y * 255 // h + random.randrange(40)) % 256 if c == 1 else random.randrange(256)
                               for x in range(w) for c in range(3)) for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY

# upload_lua TOKEN ANIMAL: a wrk script posting the photo as the client's multipart form.
upload_lua() {
    python3 - "$WORK/photo.png" "$1" "$2" >"$WORK/upload.lua" <<'PY'
import sys
photo, token, animal = open(sys.argv[1], "rb").read(), sys.argv[2], sys.argv[3]
b = "BenchBoundary"
body = (f"--{b}\r\nContent-Disposition: form-data; name=\"animal\"\r\n\r\n{animal}\r\n"
        f"--{b}\r\nContent-Disposition: form-data; name=\"original_image\"; filename=\"p.png\"\r\n"
        f"Content-Type: image/png\r\n\r\n").encode() + photo + f"\r\n--{b}--\r\n".encode()
lit = "".join("\\%d" % c for c in body)
print('wrk.method = "POST"')
print(f'wrk.headers["Authorization"] = "Bearer {token}"')
print(f'wrk.headers["Content-Type"] = "multipart/form-data; boundary={b}"')
print(f'wrk.body = "{lit}"')
PY
}

# world: a user, an animal and one entry with the photo; sets TOKEN, ANIMAL, IMAGE.
world() {
    curl -fs -o /dev/null -H 'content-type: application/json' \
        -d '{"username":"bench","email":"bench@example.com","password":"bench-pass-123","password_confirm":"bench-pass-123"}' \
        "$URL/api/v1/users/"
    TOKEN="$(login bench bench-pass-123)"
    ANIMAL="$(curl -fs -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
        -d '{"scientific_name":"Vulpes vulpes","common_name":"Red fox"}' "$URL/api/v1/animals/" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
    IMAGE="$(curl -fs -H "Authorization: Bearer $TOKEN" -F "animal=$ANIMAL" -F "original_image=@$WORK/photo.png" \
        "$URL/api/v1/dex/entries/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["original_image"])')"
}

SIZE_KB="$(du -k "$WORK/photo.png" | cut -f1)"
echo "photo: $PHOTO_SIZE PNG, ${SIZE_KB} KB per upload"
for mode in local s3; do
    if [ "$mode" = local ]; then
        start local
    else
        start s3 MEDIA_STORAGE_URL="s3://$BUCKET/bench" AWS_ENDPOINT="$S3" AWS_ALLOW_HTTP=true \
            AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
    fi
    world
    BYTES="$(curl -fs -o /dev/null -w '%{size_download}' "$IMAGE")"
    echo "== $mode: image of $BYTES bytes"
    run "GET image ($mode)" "$IMAGE"
    upload_lua "$TOKEN" "$ANIMAL"
    CONNECTIONS=8 run "POST entry with photo ($mode, c=8)" -s "$WORK/upload.lua" "$URL/api/v1/dex/entries/"
done

echo "== replica routing on GET /api/v1/animals/"
start plain
world
run "GET /animals/ (no replica)" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/animals/"
start routed DATABASE_REPLICA_URLS="$DATABASE_URL"
world
sleep 1.5
run "GET /animals/ (routed to a replica)" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/animals/"
curl -fs "$URL/metrics" | grep -E '^biologidex_api_db_(reads_total|replica_usable)' || true
