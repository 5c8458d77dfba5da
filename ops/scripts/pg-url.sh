# shellcheck shell=bash
# Helpers shared by backup.sh and restore.sh (sourced, not run).
#
# pg_url_export URL: turn postgres://user:password@host:port/db?sslmode=... into the libpq
# environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE), so the password never
# appears on a command line (ps) or in the scripts' output.
# pg_url_redact URL: the URL without its password, for messages.

pg_url_decode() {
    local s="${1//+/ }"
    printf '%b' "${s//%/\\x}"
}

pg_url_export() {
    local url="$1" rest auth hostport path query user password host port db param key value
    case "$url" in
        postgres://* | postgresql://*) rest="${url#*://}" ;;
        *)
            printf 'not a postgres:// URL\n' >&2
            return 1
            ;;
    esac
    query=""
    if [[ "$rest" == *\?* ]]; then
        query="${rest#*\?}"
        rest="${rest%%\?*}"
    fi
    path=""
    if [[ "$rest" == */* ]]; then
        path="${rest#*/}"
        rest="${rest%%/*}"
    fi
    auth=""
    hostport="$rest"
    if [[ "$rest" == *@* ]]; then
        auth="${rest%@*}"
        hostport="${rest##*@}"
    fi
    user="${auth%%:*}"
    password=""
    [[ "$auth" == *:* ]] && password="${auth#*:}"
    host="$hostport"
    port=""
    if [[ "$hostport" =~ ^\[(.*)\](:([0-9]+))?$ ]]; then
        host="${BASH_REMATCH[1]}"
        port="${BASH_REMATCH[3]}"
    elif [[ "$hostport" == *:* ]]; then
        host="${hostport%%:*}"
        port="${hostport##*:}"
    fi
    db="$path"

    unset PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE
    if [ -n "$host" ]; then
        PGHOST="$(pg_url_decode "$host")"
        export PGHOST
    fi
    if [ -n "$port" ]; then
        export PGPORT="$port"
    fi
    if [ -n "$user" ]; then
        PGUSER="$(pg_url_decode "$user")"
        export PGUSER
    fi
    if [ -n "$password" ]; then
        PGPASSWORD="$(pg_url_decode "$password")"
        export PGPASSWORD
    fi
    if [ -n "$db" ]; then
        PGDATABASE="$(pg_url_decode "$db")"
        export PGDATABASE
    fi
    if [ -n "$query" ]; then
        local IFS='&'
        for param in $query; do
            key="${param%%=*}"
            value="$(pg_url_decode "${param#*=}")"
            case "$key" in
                sslmode) export PGSSLMODE="$value" ;;
                host) export PGHOST="$value" ;;
                port) export PGPORT="$value" ;;
                user) export PGUSER="$value" ;;
                password) export PGPASSWORD="$value" ;;
                dbname) export PGDATABASE="$value" ;;
                *) ;;
            esac
        done
    fi
    return 0
}

pg_url_redact() {
    # user:secret@ -> user:***@ ; also a password= query parameter.
    printf '%s\n' "$1" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#; s#([?&]password=)[^&]*#\1***#'
}
