#!/usr/bin/env bash
# Scheduled backups: run ops/scripts/backup.sh every day at BACKUP_AT (UTC, default 02:00, the
# old server's time), forever; the compose service `backup-cron` runs this. A failed run is
# logged and retried at the next slot; the BackupTooOld alert (ops/prometheus/alerts.yml) fires
# when no run succeeded for 26 hours (BACKUP_METRICS_FILE feeds it).
#
#   BACKUP_AT=02:00 bash ops/scripts/backup-loop.sh          # forever
#   bash ops/scripts/backup-loop.sh --next                   # print the next run time and exit
#
# Every variable of backup.sh is passed through (DATABASE_URL, MEDIA_ROOT, BACKUP_DIR,
# BACKUP_KEEP, BACKUP_AGE_RECIPIENTS_FILE, BACKUP_METRICS_FILE).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BACKUP_AT="${BACKUP_AT:-02:00}"
[[ "$BACKUP_AT" =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]] || {
    printf '[backup-loop] error: BACKUP_AT must be HH:MM (UTC), got %s\n' "$BACKUP_AT" >&2
    exit 2
}

# Seconds from now until the next BACKUP_AT (UTC).
seconds_until_next() {
    local now target
    now="$(date -u +%s)"
    target="$(date -u -d "today $BACKUP_AT" +%s)"
    if [ "$target" -le "$now" ]; then
        target="$(date -u -d "tomorrow $BACKUP_AT" +%s)"
    fi
    echo $((target - now))
}

if [ "${1:-}" = "--next" ]; then
    date -u -d "@$(($(date -u +%s) + $(seconds_until_next)))" +%Y-%m-%dT%H:%M:%SZ
    exit 0
fi

# The postgres image has no age: install it from Debian when encryption is asked for.
if [ -n "${BACKUP_AGE_RECIPIENTS:-}${BACKUP_AGE_RECIPIENTS_FILE:-}" ] && ! command -v age >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        printf '[backup-loop] installing age\n'
        apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq age >/dev/null
    fi
    command -v age >/dev/null 2>&1 || {
        printf '[backup-loop] error: encryption is asked for but age cannot be installed\n' >&2
        exit 1
    }
fi

trap 'exit 0' TERM INT
while true; do
    wait_s="$(seconds_until_next)"
    printf '[backup-loop] next backup at %s UTC (in %s s)\n' "$BACKUP_AT" "$wait_s"
    # Sleep in the background so a TERM (docker stop) ends the loop at once.
    sleep "$wait_s" &
    wait $! || true
    if bash "$SCRIPT_DIR/backup.sh"; then
        printf '[backup-loop] backup done\n'
    else
        printf '[backup-loop] backup FAILED (exit %s); next try at the next slot\n' "$?" >&2
    fi
done
