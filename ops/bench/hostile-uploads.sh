#!/usr/bin/env bash
# Peak RSS (VmHWM) of the api while four hostile photo conversions run at once (issue 12):
# four 16-bit RGBA 8000x8000 PNGs (about 500 KB each on the wire) and then four 8-bit RGBA
# 6500x6500 PNGs (the largest kind the decode budget accepts), all with rotation 90.
#   BIN=target/release/biologidex-api bash ops/bench/hostile-uploads.sh
# BIN defaults to target/debug/biologidex-api. PostgreSQL and Redis must answer.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${BIN:-$REPO/target/debug/biologidex-api}"
[ -x "$BIN" ] || { echo "$BIN is missing: build it or set BIN" >&2; exit 1; }
ADMIN="postgres://biologidex:biologidex@127.0.0.1:5432/postgres"
DB="bdx_hostile_$$"
TMP="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
URL="http://127.0.0.1:$PORT"
PID=""
cleanup() {
    [ -z "$PID" ] || { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
    psql -X -q "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

python3 - "$TMP" <<'PY'
import struct, sys, zlib
def png(path, w, h, depth, bpp):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    comp, row, parts = zlib.compressobj(9), b"\x00" + bytes([90]) * (w * bpp), []
    for _ in range(h):
        parts.append(comp.compress(row))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", w, h, depth, 6, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
png(sys.argv[1] + "/rgba16.png", 8000, 8000, 16, 8)
png(sys.argv[1] + "/rgba8.png", 6500, 6500, 8, 4)
PY

psql -X -q "$ADMIN" -c "CREATE DATABASE $DB" >/dev/null
(
    cd "$TMP"
    exec env -i PATH="$PATH" HOME="$TMP" DEBUG=true RUST_LOG=warn \
        DATABASE_URL="postgres://biologidex:biologidex@127.0.0.1:5432/$DB" \
        REDIS_KEY_PREFIX="hostile-$$" MEDIA_ROOT="$TMP/media" \
        THROTTLE_UPLOAD_RATE=1000/hour THROTTLE_LOGIN_RATE=1000/hour \
        "$BIN" serve --bind "127.0.0.1:$PORT" --migrate
) >"$TMP/api.log" 2>&1 &
PID=$!
for _ in $(seq 200); do curl -fs "$URL/ready/" >/dev/null && break; sleep 0.1; done
curl -fsS -H 'Content-Type: application/json' \
    -d '{"username":"hostile","email":"hostile@example.com","password":"hostile-horse-9271","password_confirm":"hostile-horse-9271"}' \
    "$URL/api/v1/users/" >/dev/null
TOKEN="$(curl -fsS -H 'Content-Type: application/json' \
    -d '{"username":"hostile","password":"hostile-horse-9271"}' "$URL/api/v1/auth/login/" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])')"
peak() { awk '/VmHWM/ {printf "%.0f MB", $2/1024}' "/proc/$PID/status"; }
echo "idle peak RSS: $(peak)"
for f in rgba16.png rgba8.png; do
    pids=()
    for i in 1 2 3 4; do
        curl -s -o /dev/null -w "$f #$i: %{http_code} in %{time_total} s\n" \
            -H "Authorization: Bearer $TOKEN" -F "image=@$TMP/$f" \
            -F 'transformations={"rotation":90}' "$URL/api/v1/images/convert/" &
        pids+=($!)
    done
    wait "${pids[@]}"
    echo "after four $f at once: peak RSS $(peak)"
done
