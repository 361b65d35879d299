#pragma once
// /metrics: Freshet's state in the Prometheus text exposition format 0.0.4.

#include <string>

namespace freshet::server {

class Coordinator;

// Appends the coordinator's metrics (sources, dataflows, writes, connections).
void append_coordinator_metrics(Coordinator& coordinator, std::string& out);

}  // namespace freshet::server
