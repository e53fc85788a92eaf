#!/usr/bin/env bash
# One-shot init job: turn topic auto-creation off and create every topic the tickwise flows read or
# write (the names of dataflows/config.py KafkaSection and sinks/topics.py; tests/unit/deploy checks
# them). `tickwise run` creates any that is missing too. Idempotent: an existing topic is left as it is.
# rpk reads RPK_BROKERS / RPK_ADMIN_HOSTS.
set -euo pipefail

rpk cluster config set auto_create_topics_enabled false

create_topic() {
  local name=$1 partitions=$2
  shift 2
  local output
  if output=$(rpk topic create "$name" --partitions "$partitions" --replicas 1 "$@" 2>&1); then
    echo "$output"
  elif grep -q TOPIC_ALREADY_EXISTS <<<"$output"; then
    echo "topic $name already exists"
  else
    echo "$output" >&2
    exit 1
  fi
}

# ticks: partitions >= total Bytewax workers (the signals service's 2 processes x 1 worker).
create_topic ticks 4
create_topic signals 4
# What the signals flow publishes for the history flow (sinks/topics.py), keyed by symbol.
create_topic ticks.features 4
create_topic ticks.decisions 4
create_topic ticks.dlq 1 --topic-config retention.ms=1209600000
create_topic model-events 1
# The kill switch (tickwise's HALT / REDUCE / RESUME commands): one partition keeps commands in order.
create_topic control 1

rpk topic list
