#!/usr/bin/env bash
# VictoriaMetrics (single node) built from its Go module: the OpenTSDB-protocol server the opentsdb-writer's
# tests write to (`/api/put` on the OpenTSDB HTTP listener) and read back from (`/api/v1/export` on the
# main HTTP listener). Own ports and data under .local, no system service.
# Usage: victoriametrics.sh install|start|stop|status|wait|pid
#   install: `go install` (Go module proxy; ~30 s on 2 cores with a cold Go cache, then cached)
# A second, private instance (own data, ports and pid file) for a test that stops it:
#   VM_INSTANCE=outage VM_HTTP_PORT=28428 VM_OPENTSDB_PORT=24242 victoriametrics.sh start
# VM_EXTRA_ARGS adds flags to such an instance (word-split), e.g. "-httpAuth.username=u -httpAuth.password=p".
# Deduplication is on (`-dedup.minScrapeInterval=1ms`): of the samples of one series with the same
# millisecond timestamp it keeps one, so a datapoint written again after a crash or a redelivery is stored
# once (docs/opentsdb-writer.md, "Idempotency"). Retention is 100 years so that readings of any age are kept
# (VictoriaMetrics silently drops samples older than the retention period).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="1.151.0"
HTTP_PORT="${VM_HTTP_PORT:-8428}"
OPENTSDB_PORT="${VM_OPENTSDB_PORT:-4242}"
INSTANCE="${VM_INSTANCE:-}"
read -r -a EXTRA_ARGS <<<"${VM_EXTRA_ARGS:-}"
[[ -z $INSTANCE || $INSTANCE =~ ^[a-z0-9-]+$ ]] || die "VM_INSTANCE must be lower-case letters, digits and -"
VHOME="$GRIDSTREAM_HOME/victoriametrics"
BIN="$VHOME/bin/victoria-metrics"
DATA="$VHOME/data${INSTANCE:+-$INSTANCE}"
PIDFILE="$VHOME/victoria-metrics${INSTANCE:+-$INSTANCE}.pid"
LOG="$VHOME/victoria-metrics${INSTANCE:+-$INSTANCE}.log"
URL="http://127.0.0.1:$HTTP_PORT"

install() {
  # The version is stamped into the binary, so a binary of another version is rebuilt, not trusted.
  if [[ -x $BIN ]] && "$BIN" -version 2>/dev/null | grep -q "v$VERSION"; then return 0; fi
  if ! command -v go >/dev/null; then apt_install golang-go; fi
  command -v curl >/dev/null || apt_install curl
  local minor
  minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
  [[ -n $minor && $minor -ge 21 ]] || die "need Go >= 1.21 on PATH to build VictoriaMetrics (have $(go env GOVERSION))"
  mkdir -p "$VHOME/bin"
  log "building victoria-metrics $VERSION with $(go version | cut -d' ' -f3) (log: $VHOME/build.log)"
  local t0=$SECONDS
  # GOTOOLCHAIN=auto: the module asks for a newer Go than Debian's; go fetches it from the module proxy.
  # -mod=mod: let go resolve the module's dependencies from its go.mod (there is no vendor tree in a module zip).
  if ! GOBIN="$VHOME/bin" GOTOOLCHAIN=auto GOFLAGS=-mod=mod CGO_ENABLED=0 go install \
    -ldflags "-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-metrics-v$VERSION" \
    "github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@v$VERSION" >"$VHOME/build.log" 2>&1; then
    tail -n 30 "$VHOME/build.log" >&2
    die "go install victoria-metrics@v$VERSION failed"
  fi
  log "built $BIN in $((SECONDS - t0))s"
}

health() { curl -fs --max-time 2 "$URL/health" | grep -qx OK && port_open 127.0.0.1 "$OPENTSDB_PORT"; }

start() {
  if pid_alive "$PIDFILE"; then log "already running (pid $(<"$PIDFILE"))"; return 0; fi
  install
  require_free_port 127.0.0.1 "$HTTP_PORT" victoriametrics
  require_free_port 127.0.0.1 "$OPENTSDB_PORT" victoriametrics
  mkdir -p "$DATA"
  log "starting victoria-metrics $VERSION on $URL (OpenTSDB HTTP on 127.0.0.1:$OPENTSDB_PORT)"
  start_detached "$PIDFILE" "$LOG" "$BIN" \
    -storageDataPath="$DATA" \
    -retentionPeriod=100y \
    -httpListenAddr="127.0.0.1:$HTTP_PORT" \
    -opentsdbHTTPListenAddr="127.0.0.1:$OPENTSDB_PORT" \
    -dedup.minScrapeInterval=1ms \
    -search.latencyOffset=0s \
    -loggerLevel=WARN \
    "${EXTRA_ARGS[@]}"
}

wait_ready() {
  wait_until victoriametrics "$PIDFILE" 60 "$LOG" health
  log "ready on $URL"
}

status() {
  if pid_alive "$PIDFILE" && health; then
    echo "victoriametrics  running  pid $(<"$PIDFILE")  $URL  opentsdb http://127.0.0.1:$OPENTSDB_PORT  (data $DATA)"
  elif pid_alive "$PIDFILE"; then
    echo "victoriametrics  starting pid $(<"$PIDFILE")  $URL (not healthy yet)"
    return 1
  else
    echo "victoriametrics  stopped"
    return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid "$PIDFILE" victoriametrics 30 ;;
  status) status ;;
  wait) wait_ready ;;
  pid) pid_alive "$PIDFILE" && cat "$PIDFILE" ;;
  *) die "usage: $0 install|start|stop|status|wait|pid" ;;
esac
