# BiologiDex server image: both binaries (biologidex-api, biologidex-worker) in one small runtime
# image. Built by docker-compose.production.yml and ops/scripts/deploy.sh.
#
#   docker build -t biologidex-server:dev .
#
# Works with the classic builder and BuildKit alike (no cache mounts, no syntax directive), so
# Debian's docker-compose 1.x can build it too.

############################ builder ############################
FROM rust:1-bookworm AS builder
WORKDIR /build
ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0

# 1. Dependency layer: only the manifests and the lockfile, with stub sources, so editing the
#    code does not recompile the ~400 dependencies. This layer is rebuilt only when a Cargo.toml
#    or Cargo.lock changes.
COPY Cargo.toml Cargo.lock ./
COPY api/Cargo.toml api/Cargo.toml
COPY worker/Cargo.toml worker/Cargo.toml
COPY shared/core/Cargo.toml shared/core/Cargo.toml
COPY shared/media/Cargo.toml shared/media/Cargo.toml
COPY shared/db/Cargo.toml shared/db/Cargo.toml
COPY shared/tree/Cargo.toml shared/tree/Cargo.toml
COPY shared/taxonomy/Cargo.toml shared/taxonomy/Cargo.toml
COPY shared/import/Cargo.toml shared/import/Cargo.toml
RUN set -eux; \
    for crate in api worker shared/core shared/media shared/db shared/tree shared/taxonomy shared/import; do mkdir -p "$crate/src"; : > "$crate/src/lib.rs"; done; \
    echo 'fn main() {}' > api/src/main.rs; \
    echo 'fn main() {}' > worker/src/main.rs; \
    cargo build --release --locked --bin biologidex-api --bin biologidex-worker; \
    rm -rf api/src worker/src shared

# 2. The real sources. `migrations/` must be present when `shared/db` compiles: diesel's
#    embed_migrations!("../../migrations") reads it at compile time. If a crate starts to
#    include_str!/include_bytes! a file outside these directories, COPY it here as well.
COPY migrations migrations
COPY shared shared
COPY api api
COPY worker worker
# COPY keeps the files' own mtimes, which can be older than the stub build above; touch them so
# cargo's fingerprints see the workspace crates as changed and rebuilds them (and only them).
RUN set -eux; \
    find api worker shared migrations -type f -exec touch {} +; \
    cargo build --release --locked --bin biologidex-api --bin biologidex-worker; \
    install -D -m 0755 target/release/biologidex-api /out/biologidex-api; \
    install -D -m 0755 target/release/biologidex-worker /out/biologidex-worker

############################ runtime ############################
FROM debian:bookworm-slim AS runtime

# ca-certificates: TLS to the OpenAI-compatible endpoint. curl: the container health checks
# (about 1 MB of dependencies; the binaries have no health-check subcommand).
# If the image pipeline starts to link a Debian library (e.g. libturbojpeg,
# docs/decisions.md#d21), add its runtime package here.
# /data/media is 0755: nginx (another uid, read-only mount of the same volume) reads the files
# after the api has checked the capability token; privacy comes from that check, not file modes.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl; \
    rm -rf /var/lib/apt/lists/*; \
    groupadd --system --gid 10001 biologidex; \
    useradd --system --uid 10001 --gid 10001 --home-dir /srv/biologidex --create-home \
        --shell /usr/sbin/nologin biologidex; \
    install -d -o biologidex -g biologidex -m 0755 /data /data/media

COPY --from=builder /out/biologidex-api /out/biologidex-worker /usr/local/bin/

# Container defaults; docker-compose.production.yml and `docker run -e` override them. The binaries
# read a .env in the working directory when there is one; there is none in the image.
ENV MEDIA_ROOT=/data/media \
    BIND_ADDRESS=0.0.0.0:8000 \
    WORKER_METRICS_BIND=0.0.0.0:9464 \
    DEBUG=false \
    RUST_LOG=info

WORKDIR /srv/biologidex
USER 10001:10001
VOLUME ["/data/media"]
EXPOSE 8000 9464

# Readiness of the api (PostgreSQL reachable). Worker services override this with their own
# /health/ on port 9464 (see docker-compose.production.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS --max-time 2 -o /dev/null http://127.0.0.1:8000/ready/ || exit 1

# Stop signal: SIGTERM (the default); both binaries drain in-flight work on it. Give them time
# with `stop_grace_period` / `docker stop -t 40`.
CMD ["biologidex-api", "serve"]
