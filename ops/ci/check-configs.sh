#!/usr/bin/env bash
# Static checks of the deployment files (Docker cannot run here, so these stand in:
# docs/decisions.md#d20):
#
#   - docker-compose.production.yml: `docker-compose config -q` (Debian's docker-compose) with
#     dummy values for the required variables, and every variable it reads is documented in
#     ops/env.production.example
#   - Dockerfile: every file it COPYs exists, and every workspace member's Cargo.toml is copied
#   - nginx: `nginx -t` on a copy made by ops/nginx/render-local.sh (test certificate, local
#     upstream), and client_max_body_size matches MAX_UPLOAD_SIZE_MB
#   - Prometheus: `promtool check config`, `promtool check rules`, `promtool test rules`
#   - Alertmanager: `amtool check-config`, and every alert of alerts.yml routes to a receiver
#     that sends somewhere (`amtool config routes test`)
#   - the compose services Prometheus and Alertmanager rely on exist: every scrape target and
#     the alertmanager target name a compose service, and every long-running service but the
#     exporters' own targets has a healthcheck or says why not
#   - Grafana: the dashboard is valid JSON, its panel ids are unique, its data source is the
#     provisioned one, and every query parses (promtool)
#   - every YAML file under ops/ parses
#   - systemd units: `systemd-analyze verify` (with the binaries replaced by /bin/true)
#   - shellcheck on ops/**/*.sh and ops/dev/*
#
# Run as root, it installs what is missing from Debian (apt-get update once, then
# docker-compose nginx prometheus prometheus-alertmanager shellcheck openssl jq, without
# recommends), with service
# start-up disabled during the install, so no daemon is left running. Without root, a missing
# tool fails its check.
#
#   bash ops/ci/check-configs.sh
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
STARTED=$SECONDS
FAILED=()

log() { printf '== %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    FAILED+=("$1")
}

TMP="$(mktemp -d /tmp/biologidex-check-configs.XXXXXX)"
cleanup() { rm -rf "$TMP"; }
trap cleanup EXIT

# --- tools -----------------------------------------------------------------------------------------
# command -> Debian package
declare -A PACKAGE_OF=(
    [docker-compose]=docker-compose
    [nginx]=nginx
    [promtool]=prometheus
    [amtool]=prometheus-alertmanager
    [shellcheck]=shellcheck
    [openssl]=openssl
    [jq]=jq
)
missing=()
for tool in docker-compose nginx promtool amtool shellcheck openssl jq; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("${PACKAGE_OF[$tool]}")
done
# docker-compose brings python3-yaml, which the YAML check uses.
if ! /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1; then
    missing+=(python3-yaml)
fi

daemon_pids() {
    # pids of daemons a package install could start (exact process names, not patterns).
    local name
    for name in nginx prometheus prometheus-node-exporter prometheus-node prometheus-alert; do
        pgrep -x "$name" 2>/dev/null || true
    done | sort -u
}

if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing ${missing[*]}"
        before="$(daemon_pids)"
        # Keep maintainer scripts from starting services (nginx, prometheus) during the install.
        policy_added=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod 755 /usr/sbin/policy-rc.d
            policy_added=1
        fi
        install_rc=0
        {
            DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
        } >"$TMP/apt.log" 2>&1 || install_rc=$?
        [ "$policy_added" -eq 0 ] || rm -f /usr/sbin/policy-rc.d
        # Whatever started anyway (a systemd host ignoring policy-rc.d): stop it by pid.
        for pid in $(comm -13 <(printf '%s\n' "$before") <(daemon_pids)); do
            [ -n "$pid" ] || continue
            printf 'stopping daemon %s (%s) started by the install\n' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null || echo '?')"
            kill "$pid" 2>/dev/null || true
        done
        if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            systemctl disable --now nginx prometheus prometheus-node-exporter >/dev/null 2>&1 || true
        fi
        if [ "$install_rc" -ne 0 ]; then
            tail -20 "$TMP/apt.log" >&2
            fail "apt-get install ${missing[*]}"
        fi
    else
        log "missing tools (${missing[*]}); run as root to install them"
    fi
fi

have() { command -v "$1" >/dev/null 2>&1; }

# --- docker-compose --------------------------------------------------------------------------------
log "docker-compose -f docker-compose.production.yml config -q"
if have docker-compose; then
    # Dummy values for the required variables only; an empty env file so a developer's .env
    # cannot change the result.
    : >"$TMP/empty.env"
    if env SECRET_KEY=ci-dummy-secret-key-0123456789abcdef DB_PASSWORD=ci-dummy REDIS_PASSWORD=ci-dummy \
        PUBLIC_BASE_URL=https://ci.invalid GRAFANA_ADMIN_PASSWORD=ci-dummy \
        ALERTMANAGER_WEBHOOK_URL=https://ci.invalid/hook \
        docker-compose --env-file "$TMP/empty.env" -f docker-compose.production.yml config -q; then
        echo "ok"
    else
        fail "docker-compose config"
    fi
    # Without the required variables it must refuse (they are `${VAR:?...}`).
    if env -u SECRET_KEY docker-compose --env-file "$TMP/empty.env" -f docker-compose.production.yml config -q >/dev/null 2>&1; then
        fail "docker-compose config accepts a missing SECRET_KEY"
    fi
else
    fail "docker-compose is not installed"
fi

log "every variable of the compose file is documented in ops/env.production.example"
undocumented=()
# ${VAR...} outside comments, not $${VAR} (which the container's shell expands).
while IFS= read -r var; do
    grep -Eq "^#?${var}=" ops/env.production.example || undocumented+=("$var")
done < <(sed 's/[[:space:]]#.*$//; /^[[:space:]]*#/d' docker-compose.production.yml |
    grep -oE '(^|[^$])\$\{[A-Z_][A-Z0-9_]*' | sed -E 's/.*\$\{//' | sort -u)
if [ ${#undocumented[@]} -eq 0 ]; then
    echo "ok"
else
    fail "not in ops/env.production.example: ${undocumented[*]}"
fi

# --- Dockerfile ------------------------------------------------------------------------------------
log "Dockerfile copies existing files and every workspace member"
dockerfile_ok=1
while read -r src; do
    [ -e "$src" ] || {
        fail "Dockerfile: COPY $src: no such file"
        dockerfile_ok=0
    }
done < <(grep -E '^COPY ' Dockerfile | grep -v -- '--from' | awk '{ for (i = 2; i < NF; i++) print $i }')
# The members list spans several lines (crates under shared/): read it as TOML.
members="$(python3 -c 'import tomllib; print("\n".join(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["members"]))')"
for member in $members; do
    grep -Eq "^COPY $member/Cargo.toml " Dockerfile || {
        fail "Dockerfile: member $member: its Cargo.toml is not copied for the dependency layer"
        dockerfile_ok=0
    }
    # Its sources: the member's own folder, or the top folder holding it (`COPY shared shared`).
    top="${member%%/*}"
    grep -Eq "^COPY ($member $member|$top $top)\$" Dockerfile || {
        fail "Dockerfile: member $member: its sources are not copied"
        dockerfile_ok=0
    }
done
grep -q '^COPY migrations migrations' Dockerfile || {
    fail "Dockerfile: migrations/ must be copied (embed_migrations!)"
    dockerfile_ok=0
}
[ "$dockerfile_ok" -eq 0 ] || echo "ok (members: $(echo "$members" | tr '\n' ' '))"

# --- nginx -----------------------------------------------------------------------------------------
log "nginx -t (ops/nginx rendered with a test certificate and a local upstream)"
if have nginx && have openssl; then
    if bash ops/nginx/render-local.sh --out "$TMP/nginx" --api 127.0.0.1:8000 >/dev/null &&
        nginx -t -q -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -g "pid $TMP/nginx/nginx.pid;" 2>"$TMP/nginx.err"; then
        cat "$TMP/nginx.err"
        echo "ok"
    else
        cat "$TMP/nginx.err" >&2
        fail "nginx -t"
    fi
else
    fail "nginx or openssl is not installed"
fi

log "client_max_body_size matches MAX_UPLOAD_SIZE_MB"
body_mb="$(grep -E '^[[:space:]]*client_max_body_size' ops/nginx/nginx.conf | grep -oE '[0-9]+' | head -n1)"
upload_mb="$(grep -oE 'MAX_UPLOAD_SIZE_MB:-[0-9]+' docker-compose.production.yml | grep -oE '[0-9]+$' | head -n1)"
if [ -n "$body_mb" ] && [ "$body_mb" = "$upload_mb" ]; then
    echo "ok (${body_mb} MB)"
else
    fail "client_max_body_size ${body_mb:-?}m but MAX_UPLOAD_SIZE_MB defaults to ${upload_mb:-?}"
fi

# --- Prometheus ------------------------------------------------------------------------------------
if have promtool; then
    log "promtool check config ops/prometheus/prometheus.yml"
    promtool check config ops/prometheus/prometheus.yml || fail "promtool check config"
    log "promtool check rules ops/prometheus/alerts.yml"
    promtool check rules ops/prometheus/alerts.yml || fail "promtool check rules"
    log "promtool test rules ops/prometheus/alerts.test.yml"
    (cd ops/prometheus && promtool test rules alerts.test.yml) || fail "promtool test rules"
else
    fail "promtool is not installed"
fi

# --- Alertmanager ----------------------------------------------------------------------------------
AM_CONFIG=ops/alertmanager/alertmanager.yml
if have amtool; then
    log "amtool check-config $AM_CONFIG"
    amtool check-config "$AM_CONFIG" || fail "amtool check-config"
    log "every alert of ops/prometheus/alerts.yml routes to the operators receiver"
    unrouted=()
    while IFS=' ' read -r alert severity; do
        receiver="$(amtool config routes test --config.file="$AM_CONFIG" "alertname=$alert" "severity=$severity" 2>/dev/null || true)"
        [ "$receiver" = "operators" ] || unrouted+=("$alert($severity)->${receiver:-none}")
    done < <(/usr/bin/python3 -c '
import yaml
for g in yaml.safe_load(open("ops/prometheus/alerts.yml"))["groups"]:
    for r in g["rules"]:
        if "alert" in r:
            print(r["alert"], r.get("labels", {}).get("severity", ""))
')
    if [ ${#unrouted[@]} -eq 0 ]; then
        echo "ok ($(grep -c '^ *- alert:' ops/prometheus/alerts.yml) alerts)"
    else
        fail "alerts not routed to operators: ${unrouted[*]}"
    fi
else
    fail "amtool is not installed"
fi

log "Prometheus targets and the Alertmanager are compose services"
if ! /usr/bin/python3 - <<'PY'; then
import sys, yaml
compose = yaml.safe_load(open("docker-compose.production.yml"))
services = set(compose["services"])
prom = yaml.safe_load(open("ops/prometheus/prometheus.yml"))
problems = []
hosts = []
for am in prom.get("alerting", {}).get("alertmanagers", []):
    for sc in am.get("static_configs", []):
        hosts += [t.split(":")[0] for t in sc["targets"]]
if "alertmanager" not in hosts:
    problems.append("prometheus.yml sends alerts to no alertmanager")
for job in prom["scrape_configs"]:
    for sc in job.get("static_configs", []):
        hosts += [t.split(":")[0] for t in sc["targets"]]
    for dns in job.get("dns_sd_configs", []):
        hosts += dns["names"]
for h in hosts:
    if h != "localhost" and h not in services:
        problems.append(f"target host {h} is not a compose service")
for name in ("alertmanager", "backup-cron"):
    if name not in services:
        problems.append(f"compose service {name} is missing")
am = compose["services"].get("alertmanager", {})
if "ALERTMANAGER_WEBHOOK_URL" not in str(am.get("environment", "")):
    problems.append("the alertmanager service gets no ALERTMANAGER_WEBHOOK_URL")
if "alertmanager-webhook.invalid" not in open("ops/alertmanager/alertmanager.yml").read() or \
        "alertmanager-webhook.invalid" not in str(am.get("command", "")):
    problems.append("the webhook placeholder of alertmanager.yml and the service's command disagree")
node = compose["services"].get("node-exporter", {})
if "--collector.textfile.directory=/textfile" not in node.get("command", []):
    problems.append("node-exporter does not read the backup metrics (textfile collector)")
cron = compose["services"].get("backup-cron", {})
if cron.get("environment", {}).get("BACKUP_METRICS_FILE", "").rsplit("/", 1)[0] != "/textfile":
    problems.append("backup-cron does not write its metrics where node-exporter reads them")
for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
    fail "compose services for Prometheus/Alertmanager"
else
    echo "ok"
fi

# --- Grafana ---------------------------------------------------------------------------------------
DASHBOARD=ops/grafana/dashboards/biologidex.json
log "Grafana dashboard $DASHBOARD"
if have jq; then
    if jq empty "$DASHBOARD"; then
        panels="$(jq '[.panels[] | select(.type != "row")] | length' "$DASHBOARD")"
        dupes="$(jq -r '[.panels[].id] | group_by(.) | map(select(length > 1) | .[0]) | .[]' "$DASHBOARD")"
        [ -z "$dupes" ] || fail "dashboard: duplicate panel ids: $dupes"
        ds_uid="$(jq -r '.templating.list[] | select(.type == "datasource") | .current.value' "$DASHBOARD")"
        grep -q "uid: $ds_uid\$" ops/grafana/provisioning/datasources/prometheus.yml ||
            fail "dashboard: data source uid $ds_uid is not provisioned"
        # Every query must parse: turn them into recording rules for promtool.
        {
            echo "groups:"
            echo "  - name: dashboard-queries"
            echo "    rules:"
            n=0
            while IFS= read -r expr; do
                n=$((n + 1))
                expr="${expr//\$__rate_interval/5m}"
                expr="${expr//\'/\'\'}"
                printf "      - record: dashboard:query_%d\n        expr: '%s'\n" "$n" "$expr"
            done < <(jq -r '.panels[].targets[]?.expr' "$DASHBOARD")
        } >"$TMP/dashboard-rules.yml"
        if have promtool && promtool check rules "$TMP/dashboard-rules.yml" >"$TMP/promtool.out" 2>&1; then
            echo "ok ($panels panels, $(grep -c 'record:' "$TMP/dashboard-rules.yml") queries parse)"
        else
            cat "$TMP/promtool.out" >&2
            fail "dashboard queries"
        fi
    else
        fail "dashboard is not valid JSON"
    fi
else
    fail "jq is not installed"
fi

log "YAML files under ops/ parse"
if /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1; then
    if find ops -type f \( -name '*.yml' -o -name '*.yaml' \) -print0 | sort -z |
        xargs -0 /usr/bin/python3 -c '
import sys, yaml
for path in sys.argv[1:]:
    with open(path) as f:
        yaml.safe_load(f)
    print("  " + path)
'; then
        echo "ok"
    else
        fail "YAML"
    fi
else
    fail "python3-yaml is not installed"
fi

# --- systemd ---------------------------------------------------------------------------------------
log "systemd-analyze verify ops/systemd (binaries replaced by /bin/true)"
if have systemd-analyze; then
    mkdir -p "$TMP/systemd"
    for unit in ops/systemd/*; do
        sed 's#/usr/local/bin/biologidex-[a-z]*#/bin/true#g' "$unit" >"$TMP/systemd/$(basename "$unit")"
    done
    cp "$TMP/systemd/biologidex-worker@.service" "$TMP/systemd/biologidex-worker@9465.service"
    if (cd "$TMP/systemd" && systemd-analyze verify --man=no ./biologidex-api.service \
        ./biologidex-cron-worker.service ./biologidex-worker@9465.service ./biologidex.target); then
        echo "ok"
    else
        fail "systemd-analyze verify"
    fi
else
    echo "skipped: systemd-analyze is not installed"
fi

# --- shell -----------------------------------------------------------------------------------------
log "shellcheck"
if have shellcheck; then
    mapfile -t scripts < <({
        find ops -type f -name '*.sh'
        find ops/dev -maxdepth 1 -type f 2>/dev/null
    } | sort -u)
    if shellcheck -x "${scripts[@]}"; then
        echo "ok (${#scripts[@]} files)"
    else
        fail "shellcheck"
    fi
else
    fail "shellcheck is not installed"
fi

# --- done ------------------------------------------------------------------------------------------
leftover="$(daemon_pids | tr '\n' ' ')"
[ -z "${leftover// /}" ] || log "note: nginx/prometheus processes running (not started by this script): $leftover"

if [ ${#FAILED[@]} -eq 0 ]; then
    log "all deployment config checks passed in $((SECONDS - STARTED)) s"
else
    log "${#FAILED[@]} check(s) failed in $((SECONDS - STARTED)) s: ${FAILED[*]}"
    exit 1
fi
