#!/usr/bin/env bash
# Eclipse Mosquitto from Debian (2.0.x): the MQTT broker of the MQTT collector's tests and demo, its command
# line clients (mosquitto_sub, mosquitto_pub: docs/onboarding-devices.md), plus the independent Sparkplug B
# edge node of the interop test (pysparkplug from PyPI in the project venv,
# test/peers/sparkplug_edge_node.py). Each test starts its own broker on a free port with a generated
# config (services/mqtt-collector/test/mosquitto.ts); `start` runs the demo's broker.
# Usage: mosquitto.sh install|start|stop|status|wait|bin|python|run [port]
#   install   the broker, its clients and the Python peer (make infra-test)
#   start     the demo's broker in the background (`make demo`), installing the broker if missing:
#             127.0.0.1:$MOSQUITTO_PORT (default 1883, what sample/mqtt/collector-local.yaml dials),
#             persistence on, anonymous clients on loopback only; data, config and pid under
#             $GRIDSTREAM_HOME/mosquitto, log in $GRIDSTREAM_HOME/logs/mosquitto.log
#   stop      stop it (by pid; `make infra-down` does), keeping its data (sessions and queued messages)
#   status    whether it runs (exit 1 if not), and what is installed
#   wait      until it accepts connections
#   run       the same broker in the foreground (on [port] when given)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"

BIN=/usr/sbin/mosquitto
# Pinned: the interop test checks exact values, aliases and sequence numbers from this peer.
PEER_REQUIREMENT='pysparkplug==0.6.1'
PY="$GRIDSTREAM_HOME/venv/bin/python"
PORT="${MOSQUITTO_PORT:-1883}"
MHOME="$GRIDSTREAM_HOME/mosquitto"
CONF="$MHOME/demo.conf"
DATA="$MHOME/data"
PIDFILE="$MHOME/mosquitto.pid"
LOG="$GRIDSTREAM_HOME/logs/mosquitto.log"

check_broker() { [[ -x $BIN ]]; }
check_clients() { command -v mosquitto_sub >/dev/null && command -v mosquitto_pub >/dev/null; }
check_peer() { [[ -x $PY ]] && "$PY" -c 'import pysparkplug' 2>/dev/null; }
broker_version() { "$BIN" -h 2>/dev/null | head -1 | sed 's/^mosquitto version //'; }

install_broker() {
  if ! check_broker; then
    apt_install mosquitto
    # The package starts a system-wide broker on 1883 where systemd runs; ours are per test and the demo's.
    disable_system_service mosquitto
  fi
  check_broker || die "mosquitto still not at $BIN after install"
}

# The demo broker's settings: those of deploy/mosquitto/mosquitto.conf (the compose stack's broker), on
# loopback. Anonymous clients, like the demo's InfluxDB: nothing but this machine can reach it.
write_conf() {
  mkdir -p "$DATA"
  cat >"$CONF.new" <<CONF
# Written by deploy/local/mosquitto.sh: edit the script, not this file.
listener $PORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $DATA/
autosave_interval 10
max_queued_messages 100000
persistent_client_expiration 7d
log_dest stdout
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
CONF
  mv "$CONF.new" "$CONF"
  # Started as root, mosquitto drops to its own user (Debian's package makes one), which must be able to
  # write its persistence file; the folders above it are world-traversable as everywhere under .local.
  if [[ $EUID -eq 0 ]] && id mosquitto >/dev/null 2>&1; then chown -R mosquitto: "$DATA"; fi
}

ready() { port_open 127.0.0.1 "$PORT"; }

start() {
  if pid_alive "$PIDFILE"; then log "already running (pid $(<"$PIDFILE"), 127.0.0.1:$PORT)"; return 0; fi
  install_broker
  require_free_port 127.0.0.1 "$PORT" mosquitto
  write_conf
  log "starting mosquitto $(broker_version) on 127.0.0.1:$PORT (data $DATA)"
  start_detached "$PIDFILE" "$LOG" "$BIN" -c "$CONF"
  wait_until mosquitto "$PIDFILE" 30 "$LOG" ready
  log "ready on mqtt://127.0.0.1:$PORT"
}

status() {
  local rc=0
  if pid_alive "$PIDFILE" && ready; then
    echo "mosquitto  running  pid $(<"$PIDFILE")  mqtt://127.0.0.1:$PORT  (data $DATA)"
  elif pid_alive "$PIDFILE"; then
    echo "mosquitto  starting pid $(<"$PIDFILE")  mqtt://127.0.0.1:$PORT (not accepting connections yet)"
    rc=1
  else
    echo "mosquitto  stopped"
    rc=1
  fi
  if check_broker; then log "mosquitto $(broker_version) installed"; else log "mosquitto not installed (run: $0 install)"; fi
  if check_clients; then log "mosquitto_sub and mosquitto_pub installed"; else log "mosquitto clients not installed (run: $0 install)"; fi
  if check_peer; then log "pysparkplug installed ($PY)"; else log "pysparkplug not installed (run: $0 install)"; fi
  return $rc
}

case "${1:-}" in
  install)
    install_broker
    check_clients || apt_install mosquitto-clients
    check_clients || die "mosquitto_sub / mosquitto_pub still not on PATH after install"
    "$HERE/python.sh" install "$PEER_REQUIREMENT" >/dev/null
    check_peer || die "pysparkplug still not importable by $PY after install"
    log "mosquitto $(broker_version), its clients and $PEER_REQUIREMENT ready"
    ;;
  start) start ;;
  stop) stop_pid "$PIDFILE" mosquitto 30 ;;
  status) status ;;
  wait) wait_until mosquitto "$PIDFILE" 30 "$LOG" ready ;;
  bin) echo "$BIN" ;;
  python) echo "$PY" ;;
  run)
    check_broker || die "mosquitto not installed (run: $0 install)"
    PORT="${2:-$PORT}"
    require_free_port 127.0.0.1 "$PORT" mosquitto
    write_conf
    exec "$BIN" -c "$CONF"
    ;;
  *) die "usage: $0 install|start|stop|status|wait|bin|python|run" ;;
esac
