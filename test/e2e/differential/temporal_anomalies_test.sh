#!/usr/bin/env bash
# Wires test/e2e/temporal_anomalies.sh into run-all.sh (which runs differential/*_test.sh).
exec bash "$(dirname "$0")/../temporal_anomalies.sh"
