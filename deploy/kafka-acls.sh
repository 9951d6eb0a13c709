#!/usr/bin/env bash
# civicwatch's Kafka users (SCRAM-SHA-512) and what each may do: the README's "Who may write what"
# table, as commands. Idempotent: run it again after changing a password.
#
# Run by the Compose service kafka-setup through the broker's loopback listener; on another
# cluster run it with KAFKA_BIN and KAFKA_ADMIN_BOOTSTRAP (and --command-config for an admin
# log-in), or translate the table into KafkaUser resources (Strimzi).
set -euo pipefail

BIN="${KAFKA_BIN:-/opt/kafka/bin}"
BOOT=(--bootstrap-server "${KAFKA_ADMIN_BOOTSTRAP:-127.0.0.1:9094}")
P="${CIVICWATCH_TOPIC_PREFIX:-}"

user() { # name password
  "$BIN/kafka-configs.sh" "${BOOT[@]}" --alter --entity-type users --entity-name "$1" \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$2]" >/dev/null
}
allow() { # name, then kafka-acls arguments
  local name="$1"; shift
  "$BIN/kafka-acls.sh" "${BOOT[@]}" --add --allow-principal "User:$name" "$@" >/dev/null
}
writes() { local name="$1"; shift; for t in "$@"; do allow "$name" --operation Write --operation Describe --topic "$P$t"; done; }
reads() { local name="$1"; shift; for t in "$@"; do allow "$name" --operation Read --operation Describe --topic "$P$t"; done; }

user civicwatch-admin "$KAFKA_PASSWORD_ADMIN"          # topics create: a super user of the broker
user civicwatch-worker "$KAFKA_PASSWORD_WORKER"
user civicwatch-analytics "$KAFKA_PASSWORD_ANALYTICS"
user civicwatch-review "$KAFKA_PASSWORD_REVIEW"
user civicwatch-connector "$KAFKA_PASSWORD_CONNECTOR"
user civicwatch-actions "$KAFKA_PASSWORD_ACTIONS"

# Worker: classifies comments.raw, carries out decisions; its own tables and transactions.
reads civicwatch-worker comments.raw posts moderation.decisions
writes civicwatch-worker comments.tagged moderation.review posts.review moderation.actions council.forward comments.deadletter audit.log
allow civicwatch-worker --operation All --resource-pattern-type prefixed --topic "${P}civicwatch-"
allow civicwatch-worker --operation All --resource-pattern-type prefixed --group civicwatch
allow civicwatch-worker --operation Write --operation Describe --resource-pattern-type prefixed --transactional-id "civicwatch-"

# Analytics: counts comments.tagged into analytics.aggregates.
reads civicwatch-analytics comments.tagged
writes civicwatch-analytics analytics.aggregates
allow civicwatch-analytics --operation All --resource-pattern-type prefixed --topic "${P}civicwatch-analytics-"
allow civicwatch-analytics --operation All --resource-pattern-type prefixed --group civicwatch-analytics

# Review service: the only writer of moderators' decisions; also agreement per clause and week
# (analytics.aggregates) and brigading alerts (analytics.alerts).
reads civicwatch-review moderation.review comments.tagged moderation.decisions audit.log analytics.aggregates posts posts.review moderation.proposals moderation.actions
writes civicwatch-review moderation.decisions council.forward audit.log comments.deadletter moderation.actions analytics.aggregates analytics.alerts
allow civicwatch-review --operation Write --operation Describe --transactional-id "${P}civicwatch-approve-replies"

# Platform connectors: comments and posts in, nothing else.
writes civicwatch-connector comments.raw posts comments.deadletter connector.state
reads civicwatch-connector connector.state
allow civicwatch-connector --operation Write --operation Describe --resource-pattern-type prefixed --transactional-id "${P}civicwatch-"

# Action executor: reads moderation.actions, records what it did. The council forwarder (5.5) runs
# as the same user: reads council.forward and posts, queues or proposes acknowledgement replies.
reads civicwatch-actions moderation.actions connector.state council.forward posts
writes civicwatch-actions audit.log connector.state comments.deadletter moderation.actions moderation.proposals
allow civicwatch-actions --operation Read --resource-pattern-type prefixed --group civicwatch-actions-
allow civicwatch-actions --operation Read --group civicwatch-forward
allow civicwatch-actions --operation Write --operation Describe --transactional-id "${P}civicwatch-forward"
allow civicwatch-actions --operation Write --operation Describe --resource-pattern-type prefixed --transactional-id "${P}civicwatch-actions"

echo "kafka-setup: users and ACLs in place"
