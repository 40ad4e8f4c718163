#!/usr/bin/env bash
# Single-node Kafka 4.x (KRaft, broker+controller in one JVM) from Maven Central jars, no Docker.
# Usage: kafka.sh install|start|stop|status|wait|tool <MainClass> [args...]
#   e.g. kafka.sh tool org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:9092 --list
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib.sh"

PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
# A second listener with TLS and client certificates required, for the tests of KAFKA_SSL_* (the
# certificates are made once, under $KHOME/tls, by a throw-away CA: never use them for anything else).
TLS_PORT="${KAFKA_TLS_PORT:-9094}"
BOOTSTRAP="127.0.0.1:$PORT"
KHOME="$GRIDSTREAM_HOME/kafka"
LIBS="$KHOME/libs"
DATA="$KHOME/data"
LOGS="$KHOME/logs"
PIDFILE="$KHOME/kafka.pid"
TLS="$KHOME/tls"
OUTLOG="$LOGS/kafka.out" # JVM stdout/stderr (crashes, GC warnings); broker log is $LOGS/server.log
POM="$HERE/kafka-pom.xml"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"

install() {
  # The stamp names the version, so bumping it in the pom re-downloads.
  [[ -f $LIBS/.installed-$VERSION ]] && return 0
  command -v java >/dev/null || die "java (17+) not on PATH"
  command -v mvn >/dev/null || die "mvn not on PATH"
  log "fetching Kafka $VERSION jars from Maven Central into $LIBS"
  rm -rf "$LIBS" && mkdir -p "$KHOME"
  if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIBS" >"$KHOME/install.log" 2>&1; then
    cat "$KHOME/install.log" >&2
    die "maven could not fetch the Kafka jars"
  fi
  touch "$LIBS/.installed-$VERSION"
}

# Broker logs go to a rolling file (server.log); kafka.out gets only errors and JVM-level output.
write_log4j() {
  mkdir -p "$LOGS"
  cat >"$KHOME/log4j2.properties" <<'CONF'
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
appender.file.strategy.max = 3
# errors also to stdout (kafka.out), next to JVM-level failures, which is what `wait` shows on failure
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
appender.out.filter.threshold.type = ThresholdFilter
appender.out.filter.threshold.level = ERROR
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
rootLogger.appenderRef.out.ref = OUT
CONF
  # CLI tools (`kafka.sh tool ...`): warnings only, on stderr, so their stdout stays parseable.
  cat >"$KHOME/tools-log4j2.properties" <<'CONF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
CONF
}

# Regenerated on every start so KAFKA_PORT / KAFKA_CONTROLLER_PORT changes take effect.
# Static quorum (controller.quorum.voters) rather than `format --standalone`: the voter set then
# comes from this file, not from the metadata log, so changing the controller port just works.
# ca.pem, broker.pem (PKCS#8 key + certificate for 127.0.0.1/localhost, the broker's PEM keystore) and
# client.pem/client.key, all signed by ca.key; made once.
write_tls() {
  [[ -s $TLS/broker.pem ]] && return 0
  make_test_certs "$TLS"
  # Kafka's PEM keystore: the unencrypted PKCS#8 key followed by the certificate, in one file.
  openssl pkcs8 -topk8 -nocrypt -in "$TLS/server.key" -out "$TLS/broker.pk8"
  cat "$TLS/broker.pk8" "$TLS/server.crt" >"$TLS/broker.pem"
  rm -f "$TLS/broker.pk8"
}

write_config() {
  cat >"$KHOME/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT,SSL://127.0.0.1:$TLS_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,SSL://127.0.0.1:$TLS_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=$TLS/broker.pem
listener.name.ssl.ssl.truststore.type=PEM
listener.name.ssl.ssl.truststore.location=$TLS/ca.pem
listener.name.ssl.ssl.client.auth=required
log.dirs=$DATA
num.partitions=3
# one broker: internal topics cannot have more than one replica
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# consumers in tests join at once; don't make the first rebalance wait 3 s
group.initial.rebalance.delay.ms=0
# topics are created explicitly by our code, so a typo fails instead of creating a stray topic
auto.create.topics.enable=false
CONF
}

java_run() { # java_run LOG4J_CONF MainClass args...
  local conf=$1; shift
  java -Dlog4j2.configurationFile="$conf" -Dkafka.logs.dir="$LOGS" -cp "$LIBS/*" "$@"
}

format_once() {
  [[ -f $DATA/meta.properties ]] && return 0
  local id
  [[ -s $KHOME/cluster.id ]] || java_run "$KHOME/tools-log4j2.properties" kafka.tools.StorageTool random-uuid >"$KHOME/cluster.id"
  id="$(<"$KHOME/cluster.id")"
  log "formatting storage (cluster id $id)"
  java_run "$KHOME/tools-log4j2.properties" kafka.tools.StorageTool format \
    -t "$id" -c "$KHOME/server.properties" >"$LOGS/format.log" 2>&1 ||
    { cat "$LOGS/format.log" >&2; die "storage format failed"; }
}

start() {
  if pid_alive "$PIDFILE"; then log "already running (pid $(<"$PIDFILE"))"; return 0; fi
  install
  require_free_port 127.0.0.1 "$PORT" kafka
  require_free_port 127.0.0.1 "$CONTROLLER_PORT" kafka
  require_free_port 127.0.0.1 "$TLS_PORT" kafka
  write_log4j
  write_tls
  write_config
  format_once
  log "starting broker on $BOOTSTRAP (controller 127.0.0.1:$CONTROLLER_PORT)"
  # shellcheck disable=SC2086 # HEAP_OPTS is a list of JVM flags
  start_detached "$PIDFILE" "$OUTLOG" java $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$KHOME/log4j2.properties" \
    -Dkafka.logs.dir="$LOGS" -cp "$LIBS/*" kafka.Kafka "$KHOME/server.properties"
}

# Ready = the port accepts connections AND the broker answers a metadata request.
wait_ready() {
  wait_until kafka "$PIDFILE" 90 "$OUTLOG" port_open 127.0.0.1 "$PORT"
  wait_until kafka "$PIDFILE" 60 "$OUTLOG" \
    tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" --list
  log "ready on $BOOTSTRAP"
}

tool() {
  [[ $# -ge 1 ]] || die "usage: kafka.sh tool <MainClass> [args...]"
  install
  [[ -f $KHOME/tools-log4j2.properties ]] || write_log4j
  java_run "$KHOME/tools-log4j2.properties" "$@"
}

status() {
  if pid_alive "$PIDFILE" && port_open 127.0.0.1 "$PORT"; then
    echo "kafka     running  pid $(<"$PIDFILE")  bootstrap $BOOTSTRAP, TLS 127.0.0.1:$TLS_PORT  (Kafka $VERSION, data $DATA)"
  elif pid_alive "$PIDFILE"; then
    echo "kafka     starting pid $(<"$PIDFILE")  bootstrap $BOOTSTRAP (not accepting connections yet)"
    return 1
  else
    echo "kafka     stopped"
    return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pid "$PIDFILE" kafka 60 ;; # broker does a controlled shutdown on SIGTERM
  status) status ;;
  wait) wait_ready ;;
  tool) shift; tool "$@" ;;
  *) die "usage: $0 install|start|stop|status|wait|tool <MainClass> [args...]" ;;
esac
