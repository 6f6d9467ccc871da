#include "orchestrator/run_outcome.h"

#include "orchestrator/text_table.h"

namespace plugbox::orchestrator {

std::vector<HostState> RunOutcome::states() const {
  std::vector<HostState> s;
  for (const auto& h : hosts) s.push_back(h.state);
  return s;
}

std::string render_standings(const RunOutcome& o) {
  std::vector<std::vector<std::string>> t{{"HOST", "LIVE", "STATE"}};
  for (const auto& h : o.hosts)
    t.push_back({h.host, h.live.empty() ? "-" : h.live, h.error.empty() ? h.describe() : h.describe() + ": " + h.error});
  return render_table(t);
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
