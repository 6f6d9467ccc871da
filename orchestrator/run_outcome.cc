#include "orchestrator/run_outcome.h"

#include <iomanip>
#include <sstream>

namespace plugbox::orchestrator {

std::vector<HostState> RunOutcome::states() const {
  std::vector<HostState> s;
  for (const auto& h : hosts) s.push_back(h.state);
  return s;
}

std::string render_standings(const RunOutcome& o) {
  std::size_t wh = 4, wl = 4;
  for (const auto& h : o.hosts) wh = std::max(wh, h.host.size()), wl = std::max(wl, h.live.size());
  std::ostringstream s;
  s << std::left << std::setw(int(wh) + 2) << "HOST" << std::setw(int(wl) + 2) << "LIVE" << "STATE\n";
  for (const auto& h : o.hosts) {
    s << std::setw(int(wh) + 2) << h.host << std::setw(int(wl) + 2) << (h.live.empty() ? "-" : h.live)
      << h.describe();
    if (!h.error.empty()) s << ": " << h.error;
    s << "\n";
  }
  return s.str();
}

nlohmann::json outcome_json(const RunOutcome& o) {
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& h : o.hosts)
    hosts.push_back({{"host", h.host},
                     {"live", h.live},
                     {"live_before", h.live_before},
                     {"state", h.describe()},
                     {"state_code", name(h.state)},
                     {"error", h.error},
                     {"needs_attention", needs_attention(h.state)}});
  return {{"event", "result"}, {"exit", code(o.exit)}, {"summary", o.summary}, {"hosts", hosts}};
}

}  // namespace plugbox::orchestrator
