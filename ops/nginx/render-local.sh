#!/usr/bin/env bash
# Make a copy of ops/nginx that a locally installed nginx (Debian's package) can load: same
# servers, locations and headers as production, with only the per-deployment includes rewritten
# (upstream, TLS listener and certificate, HTTP listener, media root, web root, maintenance flag).
#
# Used by ops/ci/check-configs.sh (`nginx -t`) and by the production-topology test, e.g.:
#
#   ops/nginx/render-local.sh --out /tmp/bdx-nginx --api 127.0.0.1:8000 \
#       --http-port 8080 --https-port 8443 --media-root "$PWD/media" --web-root /tmp/web
#   nginx -t -p /tmp/bdx-nginx/ -c /tmp/bdx-nginx/nginx.conf
#   nginx    -p /tmp/bdx-nginx/ -c /tmp/bdx-nginx/nginx.conf -g 'pid /tmp/bdx-nginx/nginx.pid;'
#   ...
#   nginx    -p /tmp/bdx-nginx/ -c /tmp/bdx-nginx/nginx.conf -g 'pid /tmp/bdx-nginx/nginx.pid;' -s quit
#
# Without --cert/--key a self-signed certificate for localhost/127.0.0.1 is generated (openssl).
# The printed lines are the two commands above for the rendered directory. As root, nginx's
# workers run as an unprivileged user (Debian: nobody): the media and web roots must be readable
# by it; temp files go to DIR/temp, which render-local.sh makes writable.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: ops/nginx/render-local.sh --out DIR [options]

  --out DIR          directory to write (created; existing *.conf files in it are replaced)
  --api HOST:PORT    api upstream (repeatable; default 127.0.0.1:8000)
  --http-port N      plain-HTTP listen port (default 8080)
  --https-port N     HTTPS listen port (default 8443)
  --listen-addr IP   address to listen on (default 127.0.0.1)
  --media-root DIR   media directory served through /protected-media/ (default DIR/media)
  --web-root DIR     Godot web client directory (default DIR/web)
  --cert FILE        certificate (PEM); with --key. Default: generate a self-signed one
  --key FILE         private key (PEM)
USAGE
}

die() {
    printf 'render-local: %s\n' "$*" >&2
    exit 2
}

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT=""
APIS=()
HTTP_PORT=8080
HTTPS_PORT=8443
LISTEN_ADDR=127.0.0.1
MEDIA_ROOT=""
WEB_ROOT=""
CERT=""
KEY=""

while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT="${2:?--out needs a value}"; shift 2 ;;
        --api) APIS+=("${2:?--api needs a value}"); shift 2 ;;
        --http-port) HTTP_PORT="${2:?}"; shift 2 ;;
        --https-port) HTTPS_PORT="${2:?}"; shift 2 ;;
        --listen-addr) LISTEN_ADDR="${2:?}"; shift 2 ;;
        --media-root) MEDIA_ROOT="${2:?}"; shift 2 ;;
        --web-root) WEB_ROOT="${2:?}"; shift 2 ;;
        --cert) CERT="${2:?}"; shift 2 ;;
        --key) KEY="${2:?}"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

[ -n "$OUT" ] || { usage >&2; die "--out is required"; }
[ ${#APIS[@]} -gt 0 ] || APIS=(127.0.0.1:8000)
if { [ -n "$CERT" ] && [ -z "$KEY" ]; } || { [ -z "$CERT" ] && [ -n "$KEY" ]; }; then
    die "--cert and --key go together"
fi

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
MEDIA_ROOT="${MEDIA_ROOT:-$OUT/media}"
WEB_ROOT="${WEB_ROOT:-$OUT/web}"
mkdir -p "$MEDIA_ROOT" "$WEB_ROOT" "$OUT/logs"
MEDIA_ROOT="$(cd "$MEDIA_ROOT" && pwd)"
WEB_ROOT="$(cd "$WEB_ROOT" && pwd)"

cp "$SRC"/*.conf "$OUT"/

if [ -z "$CERT" ]; then
    command -v openssl >/dev/null 2>&1 || die "openssl is needed to generate a test certificate"
    CERT="$OUT/test-cert.pem"
    KEY="$OUT/test-key.pem"
    if [ ! -s "$CERT" ] || [ ! -s "$KEY" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
            -subj "/CN=localhost" \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -keyout "$KEY" -out "$CERT" >/dev/null 2>&1 ||
            die "openssl could not generate a test certificate"
        chmod 600 "$KEY"
    fi
fi

{
    echo "# Rendered by ops/nginx/render-local.sh for a local test."
    echo "upstream api {"
    for api in "${APIS[@]}"; do
        echo "    server $api max_fails=3 fail_timeout=10s;"
    done
    echo "    keepalive 32;"
    echo "    keepalive_requests 1000;"
    echo "    keepalive_timeout 60s;"
    echo "}"
} >"$OUT/upstream.conf"

cat >"$OUT/tls.conf" <<EOF
# Rendered by ops/nginx/render-local.sh for a local test.
listen $LISTEN_ADDR:$HTTPS_PORT ssl;
ssl_certificate     $CERT;
ssl_certificate_key $KEY;
EOF

cat >"$OUT/listen-http.conf" <<EOF
# Rendered by ops/nginx/render-local.sh for a local test.
listen $LISTEN_ADDR:$HTTP_PORT;
EOF

# Temp files (request bodies above client_body_buffer_size, buffered responses) inside OUT, so a
# non-root nginx, or root's unprivileged workers, can write them.
mkdir -p "$OUT/local.d" "$OUT/temp"
for t in body proxy fastcgi uwsgi scgi; do
    mkdir -p "$OUT/temp/$t"
done
chmod 1777 "$OUT/temp" "$OUT/temp/"*
cat >"$OUT/local.d/temp-paths.conf" <<EOF
# Rendered by ops/nginx/render-local.sh for a local test.
client_body_temp_path $OUT/temp/body;
proxy_temp_path       $OUT/temp/proxy;
fastcgi_temp_path     $OUT/temp/fastcgi;
uwsgi_temp_path       $OUT/temp/uwsgi;
scgi_temp_path        $OUT/temp/scgi;
EOF

cat >"$OUT/media-root.conf" <<EOF
# Rendered by ops/nginx/render-local.sh for a local test.
alias $MEDIA_ROOT/;
EOF

mkdir -p "$OUT/maintenance"
cat >"$OUT/maintenance.conf" <<EOF
# Rendered by ops/nginx/render-local.sh for a local test: touch $OUT/maintenance/on to turn it on.
if (-f $OUT/maintenance/on) {
    return 418;
}
EOF

cat >"$OUT/web-root.conf" <<EOF
# Rendered by ops/nginx/render-local.sh for a local test.
root $WEB_ROOT;
EOF

echo "nginx -t -p $OUT/ -c $OUT/nginx.conf -g 'pid $OUT/nginx.pid;'"
echo "nginx -p $OUT/ -c $OUT/nginx.conf -g 'pid $OUT/nginx.pid;'"
