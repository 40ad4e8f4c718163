#!/usr/bin/env bash
# A multi-broker Kafka 4.x cluster on loopback (KRaft, every node broker+controller), for the soak and for
# anyone who wants to see replication, leader moves and controller elections happen. Same jars as
# kafka.sh (Maven Central), its own data and ports, so it runs beside the single-node stack.
# Usage: kafka-cluster.sh up|down|status|bootstrap
#        kafka-cluster.sh start N|stop N|kill N|pid N   (one node; kill = SIGKILL, as a crash)
#        kafka-cluster.sh leader TOPIC PARTITION       (node id of the partition's leader)
#        kafka-cluster.sh controller                   (node id of the active controller)
# Settings: KAFKA_CLUSTER_NODES (3), KAFKA_CLUSTER_PORT (29092: node N listens on PORT+N-1 for clients and
# PORT+100+N-1 for the controller quorum), KAFKA_CLUSTER_NAME (cluster: data in .local/kafka-<name>).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"

NODES="${KAFKA_CLUSTER_NODES:-3}"
BASE="${KAFKA_CLUSTER_PORT:-29092}"
NAME="${KAFKA_CLUSTER_NAME:-cluster}"
[[ $NAME =~ ^[a-z0-9-]+$ ]] || die "KAFKA_CLUSTER_NAME must be lower-case letters, digits and -"
CHOME="$GRIDSTREAM_HOME/kafka-$NAME"
LIBS="$GRIDSTREAM_HOME/kafka/libs"
HEAP_OPTS="${KAFKA_CLUSTER_HEAP_OPTS:--Xms128m -Xmx512m}"

client_port() { echo $((BASE + $1 - 1)); }
controller_port() { echo $((BASE + 100 + $1 - 1)); }
node_home() { echo "$CHOME/node-$1"; }
pidfile() { echo "$(node_home "$1")/kafka.pid"; }

bootstrap() {
  local n list=()
  for ((n = 1; n <= NODES; n++)); do list+=("127.0.0.1:$(client_port "$n")"); done
  (IFS=,; echo "${list[*]}")
}

voters() {
  local n list=()
  for ((n = 1; n <= NODES; n++)); do list+=("$n@127.0.0.1:$(controller_port "$n")"); done
  (IFS=,; echo "${list[*]}")
}

write_config() {
  local n=$1 home
  home="$(node_home "$n")"
  mkdir -p "$home/logs"
  cat >"$home/server.properties" <<CONF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:$(client_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(client_port "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$home/data
num.partitions=3
default.replication.factor=$((NODES < 3 ? NODES : 3))
# Acknowledged (acks=all) means on two brokers at least: one broker can die at any moment without loss.
min.insync.replicas=$((NODES < 2 ? 1 : 2))
offsets.topic.replication.factor=$((NODES < 3 ? NODES : 3))
transaction.state.log.replication.factor=$((NODES < 3 ? NODES : 3))
transaction.state.log.min.isr=$((NODES < 2 ? 1 : 2))
share.coordinator.state.topic.replication.factor=$((NODES < 3 ? NODES : 3))
share.coordinator.state.topic.min.isr=$((NODES < 2 ? 1 : 2))
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
CONF
  cat >"$home/log4j2.properties" <<'CONF'
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
CONF
}

# CLI tools: warnings only, on stderr, so their stdout stays parseable.
java_tool() {
  mkdir -p "$CHOME"
  [[ -f $CHOME/tools-log4j2.properties ]] || cat >"$CHOME/tools-log4j2.properties" <<'CONF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
CONF
  java -Dlog4j2.configurationFile="$CHOME/tools-log4j2.properties" -cp "$LIBS/*" "$@"
}

format_all() {
  local n id
  [[ -s $CHOME/cluster.id ]] || { mkdir -p "$CHOME"; java_tool kafka.tools.StorageTool random-uuid >"$CHOME/cluster.id"; }
  id="$(<"$CHOME/cluster.id")"
  for ((n = 1; n <= NODES; n++)); do
    [[ -f $(node_home "$n")/data/meta.properties ]] && continue
    java_tool kafka.tools.StorageTool format -t "$id" -c "$(node_home "$n")/server.properties" \
      >"$(node_home "$n")/logs/format.log" 2>&1 || { cat "$(node_home "$n")/logs/format.log" >&2; die "format of node $n failed"; }
  done
}

start_node() {
  local n=$1 home
  home="$(node_home "$n")"
  if pid_alive "$(pidfile "$n")"; then return 0; fi
  require_free_port 127.0.0.1 "$(client_port "$n")" "kafka node $n"
  require_free_port 127.0.0.1 "$(controller_port "$n")" "kafka node $n"
  # shellcheck disable=SC2086 # HEAP_OPTS is a list of JVM flags
  start_detached "$(pidfile "$n")" "$home/logs/kafka.out" java $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$home/log4j2.properties" \
    -Dkafka.logs.dir="$home/logs" -cp "$LIBS/*" kafka.Kafka "$home/server.properties"
  log "node $n started on 127.0.0.1:$(client_port "$n") (pid $(<"$(pidfile "$n")"))"
}

wait_up() {
  local n
  for ((n = 1; n <= NODES; n++)); do
    wait_until "kafka node $n" "$(pidfile "$n")" 120 "$(node_home "$n")/logs/kafka.out" port_open 127.0.0.1 "$(client_port "$n")"
  done
  # The cluster answers metadata (a controller is elected and every broker registered).
  local deadline=$((SECONDS + 120))
  until java_tool org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "$(bootstrap)" 2>/dev/null |
    grep -c '^127.0.0.1' | grep -qx "$NODES"; do
    ((SECONDS < deadline)) || die "the cluster did not report $NODES brokers within 120 s"
    sleep 1
  done
  log "cluster ready: $(bootstrap)"
}

up() {
  "$HERE/kafka.sh" install
  local n
  for ((n = 1; n <= NODES; n++)); do write_config "$n"; done
  format_all
  for ((n = 1; n <= NODES; n++)); do start_node "$n"; done
  wait_up
}

stop_node() { stop_pid "$(pidfile "$1")" "kafka node $1" 60; }

kill_node() {
  local pf
  pf="$(pidfile "$1")"
  if pid_alive "$pf"; then
    kill -KILL "$(<"$pf")"
    log "node $1 killed (pid $(<"$pf"))"
  fi
  rm -f "$pf"
}

describe_leader() {
  java_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(bootstrap)" --describe --topic "$1" 2>/dev/null |
    awk -v p="$2" '$0 ~ "Partition: "p"\t" || $0 ~ "Partition: "p" " { for (i = 1; i <= NF; i++) if ($i == "Leader:") print $(i + 1) }' | head -1
}

controller() {
  java_tool org.apache.kafka.tools.MetadataQuorumCommand --bootstrap-server "$(bootstrap)" describe --status 2>/dev/null |
    awk -F: '/^LeaderId/ { gsub(/[ \t]/, "", $2); print $2 }'
}

status() {
  local n rc=0
  for ((n = 1; n <= NODES; n++)); do
    if pid_alive "$(pidfile "$n")"; then
      echo "kafka node $n  running  pid $(<"$(pidfile "$n")")  127.0.0.1:$(client_port "$n")"
    else
      echo "kafka node $n  stopped"
      rc=1
    fi
  done
  return $rc
}

case "${1:-}" in
  up) up ;;
  down) for ((n = 1; n <= NODES; n++)); do stop_node "$n"; done ;;
  status) status ;;
  bootstrap) bootstrap ;;
  start) [[ -n ${2:-} ]] || die "usage: $0 start N"; write_config "$2"; start_node "$2" ;;
  stop) [[ -n ${2:-} ]] || die "usage: $0 stop N"; stop_node "$2" ;;
  kill) [[ -n ${2:-} ]] || die "usage: $0 kill N"; kill_node "$2" ;;
  pid) pid_alive "$(pidfile "$2")" && cat "$(pidfile "$2")" ;;
  leader) describe_leader "$2" "$3" ;;
  controller) controller ;;
  wipe) for ((n = 1; n <= NODES; n++)); do kill_node "$n"; done; rm -rf "$CHOME" ;;
  *) die "usage: $0 up|down|status|bootstrap|start N|stop N|kill N|pid N|leader TOPIC PARTITION|controller|wipe" ;;
esac
