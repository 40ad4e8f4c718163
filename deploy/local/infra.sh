#!/usr/bin/env bash
# The whole local stack: Kafka, RabbitMQ, InfluxDB.
# Usage: infra.sh up [test]|down|status   (up = install if missing, start if not running, wait until healthy)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"

SERVICES=(kafka rabbitmq influxdb)
# The tests also need an InfluxDB with the 2.x write API (built from Go modules) and the moto server
# (S3/Glue/Athena emulator, with pyarrow as the independent Parquet reader), PostgreSQL 15 (the
# timescale-writer's database), VictoriaMetrics (built from its Go module: the opentsdb-writer's OpenTSDB
# HTTP API server), and the protocol peers
# (pymodbus, socat): `infra.sh up test`.
# Protocol peers are installed only: each test starts its own (Trino too: test/athena-engine.int.test.ts).
PEERS=()
if [[ ${2:-} == test ]]; then
  SERVICES+=(influxdb2compat moto postgresql victoriametrics)
  PEERS+=(pymodbus asyncua chromium helm podman mosquitto trino)
fi

status_all() {
  local s rc=0
  for s in "${SERVICES[@]}"; do "$HERE/$s.sh" status || rc=1; done
  return $rc
}

case "${1:-}" in
  up)
    # Install and start everything first, then wait: the three boot in parallel
    # (Kafka's JVM dominates), instead of one after the other.
    for s in "${SERVICES[@]}" "${PEERS[@]}"; do "$HERE/$s.sh" install; done
    for s in "${SERVICES[@]}"; do "$HERE/$s.sh" start; done
    for s in "${SERVICES[@]}"; do "$HERE/$s.sh" wait; done
    status_all
    ;;
  down)
    # mosquitto: the demo's MQTT broker (`make demo` starts it; it keeps running like the rest, until here).
    for s in kafka rabbitmq influxdb influxdb2compat moto postgresql victoriametrics trino mosquitto; do "$HERE/$s.sh" stop; done
    ;;
  status) status_all ;;
  *) die "usage: $0 up|down|status" ;;
esac
