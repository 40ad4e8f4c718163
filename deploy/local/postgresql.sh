#!/usr/bin/env bash
# PostgreSQL 15 (Debian package) as a private cluster with project-local data, no system service, for the
# timescale-writer and its tests. Plain PostgreSQL: TimescaleDB is not packaged by Debian (docs/timescale-writer.md).
# Usage: postgresql.sh install|start|stop|status|wait|pid|env
#   wait  also creates (or updates) the role and database `gridstream`, whose password is generated once into
#         $GRIDSTREAM_HOME/postgresql/gridstream.password (never committed; the role may create databases,
#         which the tests do, one per test file).
#   env   prints PG_* variables for the writer: eval "$(deploy/local/postgresql.sh env)"
# A second, private cluster (own data, port and pid file) for a test that stops it:
#   POSTGRES_INSTANCE=outage POSTGRES_PORT=55433 postgresql.sh start
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${POSTGRES_PORT:-55432}"
INSTANCE="${POSTGRES_INSTANCE:-}"
[[ -z $INSTANCE || $INSTANCE =~ ^[a-z0-9-]+$ ]] || die "POSTGRES_INSTANCE must be lower-case letters, digits and -"
BIN=/usr/lib/postgresql/15/bin
PHOME="$GRIDSTREAM_HOME/postgresql${INSTANCE:+-$INSTANCE}"
DATA="$PHOME/data"
# The Unix socket lives in a folder only the server's user can enter: local connections (the superuser's,
# for provisioning) are trusted there, every TCP connection needs a password (scram-sha-256).
SOCKET_DIR="$PHOME/socket"
PIDFILE="$PHOME/postgres.pid"
LOG="$PHOME/postgres.log"
PASSWORD_FILE="$PHOME/gridstream.password"
ROLE=gridstream

# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` system user (made by the
# Debian package). setpriv execs in place (runuser forks), so the pid file names the postmaster itself.
as_pg() {
  if [[ $EUID -eq 0 ]]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi
}
pg_owner() { if [[ $EUID -eq 0 ]]; then echo postgres; else id -un; fi; }

# A checkout under a folder the `postgres` user cannot enter (/root/…) cannot hold the cluster's data: then
# data and socket live under /var/lib/postgresql, one folder per checkout and instance; pid file, log and
# password stay in $PHOME.
if [[ $EUID -eq 0 && -x $BIN/postgres ]] && id postgres >/dev/null 2>&1; then
  mkdir -p "$PHOME"
  if ! as_pg test -x "$PHOME"; then
    ELSEWHERE="/var/lib/postgresql/gridstream-$(sha1sum <<<"$PHOME" | cut -c1-12)"
    DATA="$ELSEWHERE/data"
    SOCKET_DIR="$ELSEWHERE/socket"
  fi
fi
# Our postmaster is the one whose command line names its data folder (lib.sh's pid_alive).
PID_MARKER="$DATA"

install_pg() {
  if [[ ! -x $BIN/postgres ]]; then
    apt_install postgresql-15
    # The package makes and may start a system cluster on 5432: ours is separate, so stop that one.
    disable_system_service postgresql
  fi
}

init_cluster() {
  [[ -s $DATA/PG_VERSION ]] && return 0
  mkdir -p "$PHOME"
  if [[ -n ${ELSEWHERE:-} ]]; then command install -d -m 700 -o postgres "$ELSEWHERE"; fi
  command install -d -m 700 -o "$(pg_owner)" "$DATA" "$SOCKET_DIR"
  log "initdb $DATA"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >>"$LOG" 2>&1 || die "initdb failed (log: $LOG)"
}

start() {
  if pid_alive "$PIDFILE"; then log "already running (pid $(<"$PIDFILE"))"; return 0; fi
  install_pg
  require_free_port 127.0.0.1 "$PORT" postgresql
  init_cluster
  # A postmaster.pid left by a kill -9 of the whole machine names a dead pid; postgres checks it itself.
  log "starting postgres on 127.0.0.1:$PORT (data $DATA)"
  # Settings on the command line, so a changed POSTGRES_PORT takes effect; the log goes to stderr (our log).
  local run_as=()
  if [[ $EUID -eq 0 ]]; then run_as=(setpriv --reuid=postgres --regid=postgres --init-groups --); fi
  start_detached "$PIDFILE" "$LOG" "${run_as[@]}" "$BIN/postgres" -D "$DATA" \
    -c port="$PORT" -c listen_addresses=127.0.0.1 -c unix_socket_directories="$SOCKET_DIR" \
    -c logging_collector=off -c log_line_prefix='%m [%p] %u@%d ' -c max_connections=200
}

superuser_psql() {
  "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PORT" -U postgres -d postgres "$@"
}

ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2; }

provision() {
  if [[ ! -s $PASSWORD_FILE ]]; then
    (umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$PASSWORD_FILE")
  fi
  # psql's :'var' quotes the password as a literal; nothing of it reaches a command line or the log.
  superuser_psql -v role="$ROLE" -v password="$(<"$PASSWORD_FILE")" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" WITH LOGIN CREATEDB PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I', :'role', :'role')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'role') \gexec
SQL
}

wait_ready() {
  wait_until postgresql "$PIDFILE" 60 "$LOG" ready
  provision
  log "ready on 127.0.0.1:$PORT (role and database $ROLE, password in $PASSWORD_FILE)"
}

# Fast shutdown (SIGINT): SIGTERM is PostgreSQL's "smart" mode, which waits for every client to leave.
stop() {
  if ! pid_alive "$PIDFILE"; then rm -f "$PIDFILE"; log "not running"; return 0; fi
  local pid i
  pid="$(<"$PIDFILE")"
  kill -INT "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then log "postgres (pid $pid) still running after 30s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$PIDFILE"
  log "stopped (pid $pid)"
}

status() {
  if pid_alive "$PIDFILE" && ready; then
    echo "postgresql running  pid $(<"$PIDFILE")  127.0.0.1:$PORT  (data $DATA)"
  elif pid_alive "$PIDFILE"; then
    echo "postgresql starting pid $(<"$PIDFILE")  127.0.0.1:$PORT (not accepting connections yet)"
    return 1
  else
    echo "postgresql stopped"
    return 1
  fi
}

case "${1:-}" in
  install) install_pg ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  wait) wait_ready ;;
  pid) pid_alive "$PIDFILE" && cat "$PIDFILE" ;;
  env)
    printf 'export PG_HOST=127.0.0.1 PG_PORT=%s PG_USER=%s PG_DATABASE=%s PG_PASSWORD_FILE=%q\n' \
      "$PORT" "$ROLE" "$ROLE" "$PASSWORD_FILE"
    ;;
  *) die "usage: $0 install|start|stop|status|wait|pid|env" ;;
esac
