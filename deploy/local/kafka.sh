#!/usr/bin/env bash
# A single-node Apache Kafka broker in KRaft mode on 127.0.0.1, without Docker.
#
#   kafka.sh fetch    resolve the broker's jars from Maven Central (once; offline afterwards)
#   kafka.sh up       fetch if needed, format storage once, start, wait until it answers
#   kafka.sh down     stop (SIGTERM, then SIGKILL after 30 s)
#   kafka.sh status   exit 0 if running, 3 if not
#   kafka.sh reset    down, then wipe the data
#
# KAFKA_BOOTSTRAP_SERVERS set: an external cluster is in use and nothing is provisioned or stopped.
# CIVICWATCH_KAFKA_PORT / CIVICWATCH_KAFKA_CONTROLLER_PORT / CIVICWATCH_KAFKA_DIR let a test harness run
# a second broker beside the development one.
#
# CIVICWATCH_KAFKA_SASL_PORT adds a SASL_PLAINTEXT listener (SCRAM-SHA-512) on 127.0.0.1, and
# CIVICWATCH_KAFKA_SCRAM_USERS ("name=password,name=password") creates its users when the storage is
# first formatted (KRaft: kafka-storage format --add-scram). CIVICWATCH_KAFKA_SASL_SSL_PORT adds the same
# over TLS (SASL_SSL, as Compose and Kubernetes run it) with the PKCS12 keystore CIVICWATCH_KAFKA_SSL_KEYSTORE
# (password CIVICWATCH_KAFKA_SSL_KEYSTORE_PASSWORD). The PLAINTEXT listener stays for the development tools
# on this machine.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${CIVICWATCH_HOME:-$(cd "$HERE/../.." && pwd)}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml")"
LIBS="$ROOT/.local/kafka/libs"
DIR="${CIVICWATCH_KAFKA_DIR:-$ROOT/.local/kafka}"
PORT="${CIVICWATCH_KAFKA_PORT:-19092}"
CPORT="${CIVICWATCH_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
SASL_PORT="${CIVICWATCH_KAFKA_SASL_PORT:-}"
SASL_SSL_PORT="${CIVICWATCH_KAFKA_SASL_SSL_PORT:-}"
PIDFILE="$DIR/broker.pid"
LOG="$DIR/broker.log"
HEAP="${CIVICWATCH_KAFKA_HEAP:--Xms256m -Xmx768m}"

say() { printf 'kafka: %s\n' "$*"; }

external() {
  if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    say "using external cluster $KAFKA_BOOTSTRAP_SERVERS; nothing to $1"
    return 0
  fi
  return 1
}

fetch() {
  local stamp="$LIBS/.version"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$KAFKA_VERSION" ]; then
    return 0
  fi
  command -v mvn >/dev/null || { say "Maven (mvn) is required to fetch the broker"; exit 1; }
  command -v java >/dev/null || { say "Java 17+ is required to run the broker"; exit 1; }
  say "resolving Apache Kafka $KAFKA_VERSION from Maven Central"
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime
  echo "$KAFKA_VERSION" > "$stamp"
}

pid_alive() {
  [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

write_config() {
  mkdir -p "$DIR/data"
  local listeners="PLAINTEXT://127.0.0.1:$PORT" advertised="PLAINTEXT://127.0.0.1:$PORT"
  local sasl=""
  if [ -n "$SASL_PORT" ]; then
    listeners="$listeners,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT"
    advertised="$advertised,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT"
    sasl="sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
  fi
  if [ -n "$SASL_SSL_PORT" ]; then
    listeners="$listeners,SASL_SSL://127.0.0.1:$SASL_SSL_PORT"
    advertised="$advertised,SASL_SSL://127.0.0.1:$SASL_SSL_PORT"
    sasl="$sasl
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=${CIVICWATCH_KAFKA_SSL_KEYSTORE:?the SASL_SSL listener needs a keystore}
listener.name.sasl_ssl.ssl.keystore.password=${CIVICWATCH_KAFKA_SSL_KEYSTORE_PASSWORD:-}
listener.name.sasl_ssl.ssl.key.password=${CIVICWATCH_KAFKA_SSL_KEYSTORE_PASSWORD:-}"
  fi
  cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=$listeners,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
$sasl
log.dirs=$DIR/data
num.partitions=4
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=300000
PROPS
  cat > "$DIR/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$LOG
log4j.appender.file.MaxFileSize=10MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
}

up() {
  external "start" && return 0
  if pid_alive; then
    say "already running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
    return 0
  fi
  if port_open; then
    say "port $PORT is in use by another process; set CIVICWATCH_KAFKA_PORT"
    exit 1
  fi
  fetch
  write_config
  local jopts=(-cp "$LIBS/*" -Dlog4j.configuration="file:$DIR/log4j.properties" $HEAP -XX:+UseG1GC)
  if [ ! -f "$DIR/data/meta.properties" ]; then
    local cid
    cid="$(java "${jopts[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    local scram=() user
    if [ -n "${CIVICWATCH_KAFKA_SCRAM_USERS:-}" ]; then
      IFS=',' read -r -a users <<< "$CIVICWATCH_KAFKA_SCRAM_USERS"
      for user in "${users[@]}"; do
        scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%=*},password=${user#*=}]")
      done
    fi
    java "${jopts[@]}" kafka.tools.StorageTool format -t "$cid" -c "$DIR/server.properties" "${scram[@]}" >/dev/null
  fi
  : > "$LOG"
  nohup java "${jopts[@]}" kafka.Kafka "$DIR/server.properties" >>"$DIR/stdout.log" 2>&1 &
  echo $! > "$PIDFILE"
  local deadline=$((SECONDS + ${CIVICWATCH_KAFKA_START_TIMEOUT:-90}))
  until port_open && grep -q "to STARTED" "$LOG" 2>/dev/null; do
    if ! pid_alive; then
      say "broker exited during start-up; last lines of its logs:"
      tail -n 20 "$LOG" "$DIR/stdout.log" >&2 || true
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "broker did not answer within the time limit; last lines of its log:"
      tail -n 20 "$LOG" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  say "running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), data in $DIR)"
}

down() {
  external "stop" && return 0
  if ! pid_alive; then
    say "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  local pid; pid="$(cat "$PIDFILE")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "broker did not stop within 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  say "stopped"
}

status() {
  if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    say "external cluster $KAFKA_BOOTSTRAP_SERVERS"
    return 0
  fi
  if pid_alive && port_open; then
    say "running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"
    return 0
  fi
  say "stopped"
  return 3
}

case "${1:-}" in
  fetch) fetch ;;
  up) up ;;
  down) down ;;
  status) status ;;
  reset) down; external "wipe" || rm -rf "$DIR/data" "$DIR/server.properties" ;;
  *) echo "usage: $0 fetch|up|down|status|reset" >&2; exit 2 ;;
esac
