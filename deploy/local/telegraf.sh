#!/usr/bin/env bash
# Telegraf built from its Go module with only the plugins the bench compares us with (kafka_consumer,
# json_v2, the converter processor that names each reading's measurement, influxdb): the bench runs it on
# the writer's topic in the same run. Cached under .local.
# Usage: telegraf.sh install|path
#   install: `go install` (Go module proxy; ~1–3 min on 2 cores the first time, then cached)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="1.39.3"
TAGS="custom,inputs.kafka_consumer,parsers.json_v2,processors.converter,outputs.influxdb"
THOME="$GRIDSTREAM_HOME/telegraf"
BIN="$THOME/bin/telegraf"
# The build's version and plugin set: a binary built for another one is rebuilt, not trusted.
STAMP="$THOME/bin/.built-for"

install() {
  if [[ -x $BIN && -f $STAMP && "$(cat "$STAMP")" == "$VERSION $TAGS" ]]; then return 0; fi
  if ! command -v go >/dev/null; then apt_install golang-go; fi
  # GOTOOLCHAIN (fetching the Go that Telegraf's go.mod asks for) exists from Go 1.21 on.
  local minor
  minor="$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
  [[ -n $minor && $minor -ge 21 ]] || die "need Go >= 1.21 on PATH to build Telegraf (have $(go env GOVERSION))"
  mkdir -p "$THOME/bin"
  log "building telegraf $VERSION ($TAGS) with $(go version | cut -d' ' -f3) (log: $THOME/build.log)"
  local t0=$SECONDS
  # GOTOOLCHAIN=auto: Telegraf needs a newer Go than Debian's; go fetches it from the module proxy.
  if ! GOBIN="$THOME/bin" GOTOOLCHAIN=auto CGO_ENABLED=0 go install -tags "$TAGS" \
    -ldflags "-X github.com/influxdata/telegraf/internal.Version=$VERSION" \
    "github.com/influxdata/telegraf/cmd/telegraf@v$VERSION" >"$THOME/build.log" 2>&1; then
    tail -n 30 "$THOME/build.log" >&2
    die "go install telegraf@v$VERSION failed"
  fi
  echo "$VERSION $TAGS" >"$STAMP"
  log "built $BIN in $((SECONDS - t0))s"
}

case "${1:-}" in
  install) install ;;
  path) echo "$BIN" ;;
  *) die "usage: $0 install|path" ;;
esac
