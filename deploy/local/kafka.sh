#!/usr/bin/env bash
# Apache Kafka in KRaft mode on 127.0.0.1, without Docker: one node, or a cluster of several.
#
#   kafka.sh fetch          resolve the broker's jars from Maven Central (once; offline afterwards)
#   kafka.sh up             fetch if needed, format storage once, start every node, wait until each answers
#   kafka.sh down           stop every node (SIGTERM, then SIGKILL after 30 s)
#   kafka.sh status         exit 0 if every node is running, 3 if not
#   kafka.sh reset          down, then wipe the data
#   kafka.sh start-node N   start node N of a cluster (after a kill, say) and wait until it answers
#   kafka.sh stop-node N    SIGTERM node N (a rolling restart's step)
#   kafka.sh kill-node N    SIGKILL node N (a crash: no flush, no controlled shutdown)
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
# on this machine. SASL listeners are a single broker's (a cluster refuses them).
#
# CIVICWATCH_KAFKA_BROKERS=3 runs a cluster from the same jars: node i (1..3) listens on
# PORT + 2(i-1) with its controller on the port after it, keeps its data in DIR/node-i, and every node
# is both broker and controller (a three-voter KRaft quorum that survives the loss of any one node).
# Combined nodes, not dedicated controllers: six JVMs do not fit a 2-core machine beside the workers,
# and a combined node's death is the harder case (a broker and, maybe, the active controller at once).
# Production clusters should run dedicated controllers (deploy/kubernetes/README.md).
# The cluster's defaults are those of a production cluster: replication 3, min.insync.replicas=2,
# unclean.leader.election.enable=false, and the transaction state log replicated 3 with min ISR 2.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${CIVICWATCH_HOME:-$(cd "$HERE/../.." && pwd)}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml")"
LIBS="$ROOT/.local/kafka/libs"
BROKERS="${CIVICWATCH_KAFKA_BROKERS:-1}"
if [ "$BROKERS" -gt 1 ]; then
  DIR="${CIVICWATCH_KAFKA_DIR:-$ROOT/.local/kafka-cluster}"
  PORT="${CIVICWATCH_KAFKA_PORT:-19292}"
  HEAP="${CIVICWATCH_KAFKA_HEAP:--Xms192m -Xmx512m}"
else
  DIR="${CIVICWATCH_KAFKA_DIR:-$ROOT/.local/kafka}"
  PORT="${CIVICWATCH_KAFKA_PORT:-19092}"
  HEAP="${CIVICWATCH_KAFKA_HEAP:--Xms256m -Xmx768m}"
fi
SASL_PORT="${CIVICWATCH_KAFKA_SASL_PORT:-}"
SASL_SSL_PORT="${CIVICWATCH_KAFKA_SASL_SSL_PORT:-}"

say() { printf 'kafka: %s\n' "$*"; }

external() {
  if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    say "using external cluster $KAFKA_BOOTSTRAP_SERVERS; nothing to $1"
    return 0
  fi
  return 1
}

# node N: its id, directory, ports, pid file and log. A single broker keeps the historical layout
# (everything directly in DIR, controller port CIVICWATCH_KAFKA_CONTROLLER_PORT or PORT + 1).
node() {
  NID="$1"
  if [ "$BROKERS" -gt 1 ]; then
    NDIR="$DIR/node-$NID"
    NPORT=$((PORT + 2 * (NID - 1)))
    NCPORT=$((NPORT + 1))
  else
    NDIR="$DIR"
    NPORT="$PORT"
    NCPORT="${CIVICWATCH_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
  fi
  PIDFILE="$NDIR/broker.pid"
  LOG="$NDIR/broker.log"
}

nodes() { seq 1 "$BROKERS"; }

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
  (exec 3<>"/dev/tcp/127.0.0.1/$NPORT") 2>/dev/null
}

voters() {
  local out="" i
  for i in $(nodes); do
    node "$i"
    out="${out:+$out,}$i@127.0.0.1:$NCPORT"
  done
  echo "$out"
}

write_config() {
  local quorum replication min_isr
  quorum="$(voters)"
  node "$1"
  replication=$((BROKERS < 3 ? BROKERS : 3))
  min_isr=$((replication > 1 ? 2 : 1))
  mkdir -p "$NDIR/data"
  local listeners="PLAINTEXT://127.0.0.1:$NPORT" advertised="PLAINTEXT://127.0.0.1:$NPORT"
  local sasl=""
  if [ -n "$SASL_PORT$SASL_SSL_PORT" ] && [ "$BROKERS" -gt 1 ]; then
    say "SASL listeners are for a single broker; unset CIVICWATCH_KAFKA_SASL_PORT / _SASL_SSL_PORT"
    exit 2
  fi
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
  cat > "$NDIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=$NID
controller.quorum.voters=$quorum
listeners=$listeners,CONTROLLER://127.0.0.1:$NCPORT
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
$sasl
log.dirs=$NDIR/data
num.partitions=4
auto.create.topics.enable=false
default.replication.factor=$replication
offsets.topic.replication.factor=$replication
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_isr
min.insync.replicas=$min_isr
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
log.retention.check.interval.ms=300000
PROPS
  cat > "$NDIR/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$LOG
log4j.appender.file.MaxFileSize=10MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
log4j.logger.org.apache.kafka.raft.QuorumState=INFO
PROPS
}

java_opts() {
  JOPTS=(-cp "$LIBS/*" -Dlog4j.configuration="file:$NDIR/log4j.properties" $HEAP -XX:+UseG1GC)
}

cluster_id() {
  # Every node of a cluster is formatted with the same id; a single broker draws its own.
  local file="$DIR/cluster.id"
  if [ "$BROKERS" -gt 1 ] && [ -f "$file" ]; then
    cat "$file"
    return
  fi
  local cid
  cid="$(java "${JOPTS[@]}" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  if [ "$BROKERS" -gt 1 ]; then
    mkdir -p "$DIR" && echo "$cid" > "$file"
  fi
  echo "$cid"
}

# Launch node N in the background (no wait); returns at once if it is already running.
launch() {
  write_config "$1"
  if pid_alive; then
    return 0
  fi
  if port_open; then
    say "port $NPORT is in use by another process; set CIVICWATCH_KAFKA_PORT"
    exit 1
  fi
  java_opts
  if [ ! -f "$NDIR/data/meta.properties" ]; then
    local scram=() user users
    if [ -n "${CIVICWATCH_KAFKA_SCRAM_USERS:-}" ]; then
      IFS=',' read -r -a users <<< "$CIVICWATCH_KAFKA_SCRAM_USERS"
      for user in "${users[@]}"; do
        scram+=(--add-scram "SCRAM-SHA-512=[name=${user%%=*},password=${user#*=}]")
      done
    fi
    java "${JOPTS[@]}" kafka.tools.StorageTool format -t "$(cluster_id)" -c "$NDIR/server.properties" "${scram[@]}" >/dev/null
  fi
  : > "$LOG"
  nohup java "${JOPTS[@]}" kafka.Kafka "$NDIR/server.properties" >>"$NDIR/stdout.log" 2>&1 &
  echo $! > "$PIDFILE"
}

# Wait until node N answers and has started (a combined node starts once the quorum has a leader).
await() {
  node "$1"
  local deadline=$((SECONDS + ${CIVICWATCH_KAFKA_START_TIMEOUT:-90} * (BROKERS > 1 ? 2 : 1)))
  until port_open && grep -q "to STARTED" "$LOG" 2>/dev/null; do
    if ! pid_alive; then
      say "node $NID exited during start-up; last lines of its logs:"
      tail -n 20 "$LOG" "$NDIR/stdout.log" >&2 || true
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "node $NID did not answer within the time limit; last lines of its log:"
      tail -n 20 "$LOG" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
}

up() {
  external "start" && return 0
  fetch
  local i
  for i in $(nodes); do
    node "$i"
    if pid_alive; then
      say "node $i already running on 127.0.0.1:$NPORT (pid $(cat "$PIDFILE"))"
    fi
    launch "$i"
  done
  for i in $(nodes); do
    await "$i"
  done
  if [ "$BROKERS" -gt 1 ]; then
    say "cluster of $BROKERS running on 127.0.0.1:$PORT..$NPORT (data in $DIR)"
  else
    say "running on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"), data in $DIR)"
  fi
}

start_node() {
  external "start" && return 0
  launch "$1"
  await "$1"
  say "node $1 running on 127.0.0.1:$NPORT (pid $(cat "$PIDFILE"))"
}

stop_node() {
  node "$1"
  if ! pid_alive; then
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
    say "node $NID did not stop within 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

kill_node() {
  node "$1"
  if pid_alive; then
    local pid; pid="$(cat "$PIDFILE")"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  say "node $1 killed"
}

down() {
  external "stop" && return 0
  local i pids=()
  for i in $(nodes); do
    node "$i"
    if pid_alive; then
      pids+=("$(cat "$PIDFILE")")
    fi
    rm -f "$PIDFILE"
  done
  if [ ${#pids[@]} -eq 0 ]; then
    say "not running"
    return 0
  fi
  # All at once: a combined node's controlled shutdown needs the quorum, so the last of a cluster
  # stopped one by one would wait for voters that are already gone.
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local alive
  for _ in $(seq 1 60); do
    alive=0
    for i in "${pids[@]}"; do
      kill -0 "$i" 2>/dev/null && alive=1
    done
    [ $alive -eq 1 ] || break
    sleep 0.5
  done
  for i in "${pids[@]}"; do
    if kill -0 "$i" 2>/dev/null; then
      say "pid $i did not stop within 30 s; killing it"
      kill -KILL "$i" 2>/dev/null || true
    fi
  done
  say "stopped"
}

status() {
  if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    say "external cluster $KAFKA_BOOTSTRAP_SERVERS"
    return 0
  fi
  local i
  for i in $(nodes); do
    node "$i"
    if ! { pid_alive && port_open; }; then
      say "stopped"
      return 3
    fi
  done
  say "running on 127.0.0.1:$PORT${BROKERS:+ ($BROKERS node(s))}"
}

wipe() {
  external "wipe" && return 0
  local i
  for i in $(nodes); do
    node "$i"
    rm -rf "$NDIR/data" "$NDIR/server.properties"
  done
  rm -f "$DIR/cluster.id"
}

case "${1:-}" in
  fetch) fetch ;;
  up) up ;;
  down) down ;;
  status) status ;;
  reset) down; wipe ;;
  start-node) start_node "${2:?node number}" ;;
  stop-node) external "stop" || { stop_node "${2:?node number}"; say "node $2 stopped"; } ;;
  kill-node) external "kill" || kill_node "${2:?node number}" ;;
  *) echo "usage: $0 fetch|up|down|status|reset|start-node N|stop-node N|kill-node N" >&2; exit 2 ;;
esac
