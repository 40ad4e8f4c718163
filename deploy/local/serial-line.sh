#!/usr/bin/env bash
# The demo's serial line: a socat pty pair standing in for an RS485 bus with a meter on it (`make demo`).
# What is written to one end is read from the other, like two transceivers on one pair of wires:
#   $GRIDSTREAM_HOME/serial/meter-sim   the meters' end: the simulator prints their lines here (SIM_SERIAL_PATH)
#   $GRIDSTREAM_HOME/serial/meter       the collector's end: sample/serial/collector-demo.yaml reads it
# (both symbolic links to /dev/pts/N; with the default GRIDSTREAM_HOME, .local/serial/… from the repository
# root, which is where the demo's services run). Raw mode, no echo: bytes pass unchanged, as on a UART.
# socat is installed from Debian when missing (deploy/local/pymodbus.sh install has it too).
# Usage: serial-line.sh start|stop|status
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR="$GRIDSTREAM_HOME/serial"
METER_END="$DIR/meter-sim"
COLLECTOR_END="$DIR/meter"
PIDFILE="$GRIDSTREAM_HOME/run/serial-line.pid"
LOG="$GRIDSTREAM_HOME/logs/serial-line.log"

linked() { [[ -L $METER_END && -e $METER_END && -L $COLLECTOR_END && -e $COLLECTOR_END ]]; }

start() {
  if pid_alive "$PIDFILE"; then log "already running (pid $(<"$PIDFILE"))"; return 0; fi
  command -v socat >/dev/null || apt_install socat
  mkdir -p "$DIR"
  # Links left by a socat that was killed point at ptys that are gone; socat makes them anew.
  rm -f "$METER_END" "$COLLECTOR_END"
  start_detached "$PIDFILE" "$LOG" socat -d "pty,raw,echo=0,link=$METER_END" "pty,raw,echo=0,link=$COLLECTOR_END"
  wait_until serial-line "$PIDFILE" 10 "$LOG" linked
  log "pty pair ready: the meters print to $METER_END, the collector reads $COLLECTOR_END"
}

status() {
  if pid_alive "$PIDFILE" && linked; then
    echo "serial-line  running  pid $(<"$PIDFILE")  $METER_END <-> $COLLECTOR_END"
  else
    echo "serial-line  stopped"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  # socat removes its links when it ends on SIGTERM.
  stop) stop_pid "$PIDFILE" serial-line 10 ;;
  status) status ;;
  *) die "usage: $0 start|stop|status" ;;
esac
