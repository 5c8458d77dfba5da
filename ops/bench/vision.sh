#!/usr/bin/env bash
# Photo pipeline benchmarks: (1) one 12-megapixel JPEG through the converter, single thread;
# (2) upload (conversion) throughput of the api; (3) vision jobs end to end through the api,
# Redis, a real worker and a fake OpenAI-compatible provider, with enqueue-to-start latency.
#   ops/bench/vision.sh [N=200]
# shellcheck source=ops/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
N="${1:-200}"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}/release"
cargo build --release -p biologidex-media --example convert_bench >/dev/null 2>&1 || cargo build --release -p biologidex-media --example convert_bench
cargo build --release --bin biologidex-worker >/dev/null 2>&1 || cargo build --release --bin biologidex-worker

echo "== 1. converter, 12 MP JPEG, single thread"
"$TARGET/examples/convert_bench" 7

PROVIDER_PORT=$((PORT + 1))
python3 ops/bench/fake_openai.py "$PROVIDER_PORT" &
PROVIDER=$!
export THROTTLE_UPLOAD_RATE=100000000/hour OPENAI_API_KEY=sk-bench OPENAI_BASE_URL="http://127.0.0.1:$PROVIDER_PORT/v1"
export WORKER_RUN_CRON=false WORKER_METRICS_BIND="127.0.0.1:$((PORT + 2))" WORKER_CONCURRENCY="${WORKER_CONCURRENCY:-8}"
start_api
"$TARGET/biologidex-worker" &
WORKER=$!
trap 'kill $PID $WORKER $PROVIDER 2>/dev/null; wait $PID $WORKER 2>/dev/null; psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)"; rm -rf "$MEDIA_ROOT"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$((PORT + 2))/health/" >/dev/null && break; sleep 0.1; done

curl -fs -o /dev/null -H 'content-type: application/json' \
    -d '{"username":"bench","email":"bench@example.com","password":"bench-pass-123","password_confirm":"bench-pass-123"}' \
    "$URL/api/v1/users/"
TOKEN="$(login bench bench-pass-123)"
PHOTO="$(mktemp --suffix=.jpg)"
python3 - "$PHOTO" <<'PY'
import random, struct, sys, zlib
# A noisy 1-megapixel (1155x866) PNG; the driver labels it image/jpeg as a phone would
# mislabel, and the api detects the real format from the bytes.
w, h = 1155, 866
rnd = random.Random(7)
rows = b"".join(b"\x00" + bytes((x // 5 + rnd.randrange(24)) % 256 for x in range(w * 3)) for _ in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
wait_jobs() {
    for _ in $(seq 600); do
        [ "$(psql -qtA "$DATABASE_URL" -c "SELECT count(*) FROM analysis_jobs WHERE status IN ('pending', 'processing')")" = 0 ] && return
        sleep 0.2
    done
}
# report WHERE: throughput and enqueue-to-start latency of the jobs matching WHERE.
report() {
    psql -qtA "$DATABASE_URL" -c "
      SELECT count(*) FILTER (WHERE status = 'completed') || ' completed, ' || count(*) FILTER (WHERE status = 'failed') || ' failed; '
          || round((count(*) / EXTRACT(EPOCH FROM max(completed_at) - min(created_at)))::numeric, 1) || ' jobs/s; '
          || 'enqueue-to-start p50 ' || round((percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started_at - created_at)) * 1000)::numeric) || ' ms, '
          || 'p95 ' || round((percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM started_at - created_at)) * 1000)::numeric) || ' ms'
      FROM analysis_jobs WHERE $1"
}
echo "== 2./3. burst: $N one-megapixel uploads, then $N jobs at once (throughput)"
OUT="$(python3 ops/bench/vision_driver.py "$URL" "$TOKEN" "$PHOTO" "$N" 8)"
head -2 <<<"$OUT"
wait_jobs
echo "jobs: $(report true)"
MARK="$(psql -qtA "$DATABASE_URL" -c 'SELECT now()')"
echo "== 4. steady: 60 jobs at 15/s (pickup latency without a backlog)"
OUT="$(python3 ops/bench/vision_driver.py "$URL" "$TOKEN" "$PHOTO" 60 8 15)"
sed -n 2p <<<"$OUT"
wait_jobs
echo "jobs: $(report "created_at > '$MARK'")"
echo "api RSS $(rss_mb) MB, worker RSS $(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$WORKER/status") MB"
rm -f "$PHOTO"
