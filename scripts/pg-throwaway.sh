#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests and CI.
#   pg-throwaway.sh start DIR   → prints the database URL on stdout
#   pg-throwaway.sh stop DIR
#   pg-throwaway.sh halt DIR [MODE]  → stops the server, keeps its data (fault tests; MODE fast|immediate|smart)
#   pg-throwaway.sh resume DIR       → starts it again on the same port
# initdb refuses to run as root, so as root the server runs as the `postgres` user
# (or `nobody` when that user does not exist).
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?start|stop}
dir=${2:?folder}

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $1 -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c synchronous_commit=on" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
}

case "$cmd" in
  start)
    [ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL server binaries at $PGBIN" >&2; exit 3; }
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      user=postgres; id "$user" >/dev/null 2>&1 || user=nobody
      chown "$user" "$dir"
    fi
    port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    as_owner "$PGBIN/initdb" -D "$dir/data" -U jaga -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    pg_start "$port"
    echo "postgres://jaga@127.0.0.1:$port/postgres"
    ;;
  halt)
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m "${3:-fast}" -w stop >/dev/null
    ;;
  resume)
    pg_start "$(cat "$dir/port")"
    ;;
  stop)
    [ -d "$dir/data" ] && as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start|stop|halt|resume DIR" >&2; exit 2 ;;
esac
