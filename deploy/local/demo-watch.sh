#!/usr/bin/env bash
# `make demo`'s foreground: says where to look, then prints a live count of what flows, read from the
# services' own /metrics. Ctrl-C stops the demo's services (the infrastructure keeps running).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"

trap 'echo; "$HERE/services.sh" stop; "$HERE/serial-line.sh" stop; exit 0' INT TERM

cat <<INFO

gridstream demo is running.
  InfluxDB     http://127.0.0.1:8086  database "gridstream", e.g.
               curl -sG http://127.0.0.1:8086/query --data-urlencode db=gridstream \\
                 --data-urlencode "q=SELECT last(soc) FROM battery GROUP BY site, device, rack"
  RabbitMQ     amqp://127.0.0.1:5672  exchange "microgrid", queue "gridstream.microgrid"
  Kafka        127.0.0.1:9092  topics telemetry.raw / telemetry.parsed / telemetry.dlq / telemetry.alarms
  Console      http://127.0.0.1:8080  (password in ${CONSOLE_PASSWORD_FILE:-$GRIDSTREAM_HOME/console-password}):
               pipeline, dead letters and replay, file import, archive queries, active alarms
  Alarms       rack 1 of the ESS simulator overheats every 10 min: InfluxDB measurement "alarms",
               e.g. q=SELECT * FROM alarms ORDER BY time DESC LIMIT 5
  Modbus       the ESS simulator on 127.0.0.1:5020 (gridstream modbus probe --host 127.0.0.1 --port 5020 --unit 1 --address 0 --count 10)
  OPC UA       the microgrid simulator on opc.tcp://127.0.0.1:4840 (gridstream opcua browse opc.tcp://127.0.0.1:4840)
  MQTT         mosquitto on mqtt://127.0.0.1:1883: JSON meters on site/mqtt01/meter/m1|m2, a Sparkplug B edge node
               spBv1.0/gridstream/…/sim-edge1 (mosquitto_sub -h 127.0.0.1 -t 'site/#' -v), read by the
               mqtt-collector (sample/mqtt/collector-local.yaml): measurements meter, pv, gateway
  Serial       water meters JM1, JM2 printing lines on .local/serial/meter-sim, a socat pty pair whose other end
               .local/serial/meter the serial-collector reads (sample/serial/collector-demo.yaml): measurement
               water_meter
  Forecasts    the ESS bank's SoC (sample/forecast/demo.yaml), first one ~20 min after the start: InfluxDB
               measurement "forecast", Grafana "gridstream / Forecasts", early warnings predicted_soc_low
  Archive      .local/archive (Parquet): gridstream query "SELECT equipment, count(*) FROM telemetry GROUP BY 1"
  Health       bridge :9101  parser :9102  influx-writer :9103  modbus :9104  opcua :9105  archiver :9106
               console :9107  simulator :9108  forecaster :9109  serial :9112  mqtt :9113
               (/healthz/ready, /metrics)
  Logs         $GRIDSTREAM_HOME/logs/<service>.log
Ctrl-C stops the services and the pty pair; 'make infra-down' stops Kafka, RabbitMQ, InfluxDB and mosquitto.

INFO

# Sum of a Prometheus counter across its label sets, or "-" when the service does not answer.
metric_sum() {
  curl -sf --max-time 1 "http://127.0.0.1:$1/metrics" 2>/dev/null |
    awk -v m="$2" '$1 ~ "^"m"(\\{|$)" { s += $NF; found = 1 } END { if (found) printf "%d", s; else printf "-" }' ||
    printf -- '-'
}

while true; do
  printf '\r%s  forwarded %s  modbus polls %s  mqtt samples %s  serial samples %s  parsed records %s  points written %s  archived rows %s  dead letters %s   ' \
    "$(date +%H:%M:%S)" \
    "$(metric_sum 9101 gridstream_bridge_messages_forwarded_total)" \
    "$(metric_sum 9104 gridstream_modbus_polls_total)" \
    "$(metric_sum 9113 gridstream_source_samples_total)" \
    "$(metric_sum 9112 gridstream_source_samples_total)" \
    "$(metric_sum 9102 gridstream_parser_records_total)" \
    "$(metric_sum 9103 gridstream_sink_points_total)" \
    "$(metric_sum 9106 gridstream_archiver_rows_total)" \
    "$(( $(metric_sum 9102 gridstream_dead_letters_total | tr -d -- -) + 0 ))"
  sleep 2
done
