#!/usr/bin/env bash
# kafkajs + @kafkajs/confluent-schema-registry (npm, test/e2e/kafka/) against src/kafka's test
# server: a 3-member consumer group, Avro decoding through the registry, produce, resume.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/kafka/server.sh"
NAME=kafka_kafkajs
JS="$E2E_LIB_DIR/kafka"
if [[ ! -d "$JS/node_modules/kafkajs" ]]; then
  (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1) ||
    { e2e_fail $NAME "npm ci in test/e2e/kafka failed"; exit 1; }
fi
start_kafka_server || { e2e_fail $NAME "server did not start"; exit 1; }
(cd "$JS" && MODE=group timeout 180 node group.js)
rc=$?
kafka_server_alive || { echo "kafka test server exited"; rc=1; }
if ((rc != 0)); then echo "--- server log:"; tail -n 20 "$KAFKA_LOG"; fi
stop_kafka_server
if ((rc == 0)); then e2e_pass $NAME; else e2e_fail $NAME "kafkajs checks failed"; exit 1; fi
