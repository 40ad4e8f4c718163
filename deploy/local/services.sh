#!/usr/bin/env bash
# Runs gridstream's own services (built into services/*/dist) in the background, for `make demo`.
# Usage: services.sh start [<service>...] | stop [<service>...] | status
#   logs: $GRIDSTREAM_HOME/logs/<service>.log   pids: $GRIDSTREAM_HOME/run/<service>.pid
# Each service reads its configuration from the environment (docs/configuration.md); this script
# only adds the defaults the demo needs on top of what the caller exported.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Our services' command lines are `node <repo>/services/<name>/dist/main.js`: that is how a pid file's pid
# is recognised as ours (lib.sh's pid_alive), never a process found by name.
PID_MARKER="$GS_REPO_ROOT/services/"

RUN="$GRIDSTREAM_HOME/run"
LOGS="$GRIDSTREAM_HOME/logs"
# Start order: sinks first, then the pipeline, the simulators, and the sources that read them.
# The MQTT and serial collectors read what the simulator publishes to the demo's broker and prints on its pty
# pair (`make demo` starts both first: deploy/local/mosquitto.sh, serial-line.sh).
ALL=(influx-writer archiver parser bridge simulator modbus-collector opcua-collector mqtt-collector serial-collector forecaster console)
# Optional sinks: started only when named (`services.sh start timescale-writer`), since the demo runs neither
# PostgreSQL nor VictoriaMetrics (deploy/local/postgresql.sh, victoriametrics.sh; docs/sinks.md). A plain
# `stop` stops them too (last: they drain what is in Kafka), and `status` lists them.
OPTIONAL=(timescale-writer opentsdb-writer)

start_one() {
  local svc=$1 main="$GS_REPO_ROOT/services/$1/dist/main.js"
  [[ -f $main ]] || die "$svc is not built ($main missing): run make build"
  if pid_alive "$RUN/$svc.pid"; then log "$svc already running (pid $(<"$RUN/$svc.pid"))"; return 0; fi
  if [[ -s $RUN/$svc.pid ]]; then log "$svc: pid $(<"$RUN/$svc.pid") in its pid file is gone (killed?); starting it again"; fi
  if [[ $svc == console && -z "${CONSOLE_PASSWORD:-}${CONSOLE_PASSWORD_FILE:-}${CONSOLE_TOKEN:-}${CONSOLE_TOKEN_FILE:-}" ]]; then
    # The console never runs without a password: the demo gets a random one, kept outside the repo.
    local pwfile="$GRIDSTREAM_HOME/console-password"
    [[ -s $pwfile ]] || (umask 077 && head -c 18 /dev/urandom | base64 >"$pwfile")
    export CONSOLE_PASSWORD_FILE="$pwfile"
    log "console password: in $pwfile"
  fi
  start_detached "$RUN/$svc.pid" "$LOGS/$svc.log" node "$main"
  log "$svc started (pid $(<"$RUN/$svc.pid"), log $LOGS/$svc.log)"
}

case "${1:-}" in
  start)
    shift
    if (($#)); then targets=("$@"); else targets=("${ALL[@]}"); fi
    for svc in "${targets[@]}"; do start_one "$svc"; done
    ;;
  stop)
    shift
    # Reverse order: sources first, so the downstream services drain what is already in Kafka.
    if (($#)); then targets=("$@"); else
      targets=(console forecaster serial-collector mqtt-collector opcua-collector modbus-collector simulator bridge parser archiver influx-writer "${OPTIONAL[@]}")
    fi
    for svc in "${targets[@]}"; do stop_pid "$RUN/$svc.pid" "$svc" 30; done
    ;;
  status)
    for svc in "${ALL[@]}" "${OPTIONAL[@]}"; do
      if pid_alive "$RUN/$svc.pid"; then echo "$svc: running (pid $(<"$RUN/$svc.pid"))"; else echo "$svc: stopped"; fi
    done
    ;;
  *) die "usage: $0 start [service...] | stop [service...] | status" ;;
esac
