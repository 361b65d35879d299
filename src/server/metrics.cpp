#include "server/metrics.hpp"

#include "server/coordinator.hpp"

namespace freshet::server {

void append_coordinator_metrics(Coordinator& coordinator, std::string& out) {
  (void)coordinator;
  out += "# HELP freshet_up 1 while the server is serving.\n# TYPE freshet_up gauge\nfreshet_up 1\n";
}

}  // namespace freshet::server
