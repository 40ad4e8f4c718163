#!/usr/bin/env bash
# moto server (PyPI `moto[server]`): S3, Glue and Athena emulated in one process, for the archive tests and
# the demo; pyarrow in the same venv is the tests' independent Parquet reader.
# Usage: moto.sh install|start|stop|status|wait
# moto keeps everything in memory: after a restart every bucket, Glue database and Athena query is gone.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_VERSION="5.2.5"
PYARROW_VERSION="26.0.1"
PORT="${MOTO_PORT:-5055}"
# A second, private server (own port, pid and log) for tests that stop and restart it without disturbing
# anyone else's tests: MOTO_INSTANCE=outage MOTO_PORT=5056 moto.sh start
INSTANCE="${MOTO_INSTANCE:-}"
[[ -z $INSTANCE || $INSTANCE =~ ^[a-z0-9-]+$ ]] || die "MOTO_INSTANCE must be lower-case letters, digits and -"
MHOME="$GRIDSTREAM_HOME/moto${INSTANCE:+-$INSTANCE}"
PIDFILE="$MHOME/moto.pid"
LOG="$MHOME/moto.log"
URL="http://127.0.0.1:$PORT"

# python.sh is idempotent (a stamp per requirement) and prints the venv's python.
venv_python() { "$(dirname "${BASH_SOURCE[0]}")/python.sh" install "moto[server]==$MOTO_VERSION" "pyarrow==$PYARROW_VERSION"; }

install() {
  venv_python >/dev/null
  command -v curl >/dev/null || apt_install curl # for the readiness check
}

# An S3 ListBuckets answer says "an S3 server", not just "a port". (Not /moto-api/data.json: it answers
# 500 once some Glue/Athena state is in memory.)
healthy() { curl -fs --max-time 5 "$URL/" | grep -q ListAllMyBucketsResult; }

start() {
  if pid_alive "$PIDFILE"; then log "already running (pid $(<"$PIDFILE"))"; return 0; fi
  local py
  py="$(venv_python)"
  require_free_port 127.0.0.1 "$PORT" moto
  log "starting moto server on $URL"
  # The venv path (under $GRIDSTREAM_HOME) is in the command line: pid_alive relies on it to recognise
  # our process, so run the module with the venv's python rather than the `moto_server` shim.
  start_detached "$PIDFILE" "$LOG" "$py" -m moto.server -H 127.0.0.1 -p "$PORT"
}

wait_ready() {
  wait_until moto "$PIDFILE" 60 "$LOG" healthy
  log "ready on $URL"
}

status() {
  if pid_alive "$PIDFILE" && healthy; then
    echo "moto      running  pid $(<"$PIDFILE")  $URL"
  elif pid_alive "$PIDFILE"; then
    echo "moto      starting pid $(<"$PIDFILE")  $URL (not answering yet)"
    return 1
  else
    echo "moto      stopped"
    return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid "$PIDFILE" moto 15 ;;
  status) status ;;
  wait) wait_ready ;;
  pid) pid_alive "$PIDFILE" && cat "$PIDFILE" ;;
  *) die "usage: $0 install|start|stop|status|wait|pid" ;;
esac
