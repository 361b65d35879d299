#pragma once
// /metrics: Freshet's state in the Prometheus text exposition format 0.0.4 (README.md
// "Metrics" lists every family). What is counted on a hot path is a relaxed atomic
// (WriteMetrics, the Kafka and HTTP servers' counters) or a field updated inside a critical
// section that exists anyway (TableData::rows_written under State::mu); everything else is
// read when scraped, from the same sources as the mz_* introspection relations.

#include <atomic>
#include <cstdint>
#include <string>

#include "common/metrics.hpp"

namespace freshet::server {

class Coordinator;

// Every write transaction through the write path (write_path.hpp): committed (durable and
// published) or failed, and the time from staging to publication (the acknowledgement).
struct WriteMetrics {
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> failed{0};
  metrics::Histogram latency_seconds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  // Where a session's write spends its time (freshet_write_phase_seconds{phase}): waiting for
  // write_mu; holding it (evaluation after begin_write, key checks, records, staging); the
  // staging's critical section under mu exclusively (applying the rows to the tables); staged
  // to durable (the group commit); durable to published (its acknowledgement).
  metrics::Histogram lock_wait_seconds{0.00001, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  metrics::Histogram locked_seconds{0.00001, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  metrics::Histogram apply_seconds{0.00001, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  metrics::Histogram durable_seconds{0.00001, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
  metrics::Histogram publish_seconds{0.00001, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5};
};
WriteMetrics& write_metrics();

// Appends the coordinator's metrics: sources, tables, dataflows, arrangements, writes.
// Takes the catalog lock shared (REQUIRES: the caller holds none) and waits for the compute
// thread to be idle for the arrangement sizes, as SELECT FROM mz_arrangement_sizes does.
void append_coordinator_metrics(Coordinator& coordinator, std::string& out);

}  // namespace freshet::server
