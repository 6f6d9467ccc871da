#include "orchestrator/status_run.h"

#include <algorithm>
#include <memory>

#include "orchestrator/host_conn.h"
#include "orchestrator/text_table.h"
#include "orchestrator/parallel_for.h"

namespace plugbox::orchestrator {

transport::Awaitable<std::vector<HostStatusRow>> fleet_status(FleetContext ctx) {
  std::vector<std::unique_ptr<HostConn>> conns;
  for (const auto& h : ctx.hosts) conns.push_back(std::make_unique<HostConn>(ctx.transport, h, ctx.journal));
  std::vector<HostStatusRow> rows(conns.size());
  auto look = [&](std::size_t i) -> transport::Awaitable<void> {
    auto& c = *conns[i];
    auto& r = rows[i];
    r.host = c.name();
    if (!co_await c.open(ctx.connect_timeout)) {
      r.reachable = c.connected();  // reached, but its server could not be installed
      r.error = c.error();
      co_return;
    }
    r.reachable = true;
    r.status = co_await c.status(ctx.timeout);
    co_await c.release();
    if (!r.status) r.error = c.error();
  };
  co_await parallel_for(conns.size(), ctx.parallel, look);
  co_return rows;
}

std::string render_status_table(const std::vector<HostStatusRow>& rows) {
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  std::vector<std::vector<std::string>> t{{"HOST", "LIVE", "PREVIOUS", "VERSIONS", "LOCK", "REACHABLE"}};
  for (const auto& r : rows) {
    const HostStatus none;
    const HostStatus& st = r.status ? *r.status : none;
    // A maintenance lock is what holds the host off every deploy: it is
    // said first, whoever holds the deploy lock.
    const std::string lock = st.hold ? "maintenance: " + st.hold->describe() : or_dash(st.lock_owner);
    t.push_back({r.host, or_dash(st.live), or_dash(st.previous), r.status ? std::to_string(st.versions.size()) : "-",
                 lock,
                 r.reachable ? (r.error.empty() ? "yes" : "yes (" + r.error + ")") : "NO (" + r.error + ")"});
  }
  return render_table(t);
}

nlohmann::json status_rows_json(const std::vector<HostStatusRow>& rows) {
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows) {
    const HostStatus none;
    const HostStatus& st = r.status ? *r.status : none;
    std::vector<std::string> versions;
    for (const auto& v : st.versions) versions.push_back(v.name + " (" + v.state + ")");
    a.push_back({{"host", r.host},
                 {"reachable", r.reachable},
                 {"live", or_null(st.live)},
                 {"previous", or_null(st.previous)},
                 {"versions", versions},
                 {"lock", or_null(st.lock_owner)},
                 {"hold", st.hold ? nlohmann::json{{"owner", or_null(st.hold->owner)},
                                                   {"since", or_null(st.hold->since)},
                                                   {"held_s", st.hold->held_s},
                                                   {"message", or_null(st.hold->message)},
                                                   {"problem", or_null(st.hold->problem)}}
                                  : nlohmann::json(nullptr)},
                 {"error", or_null(r.error)},
                 {"status", r.status ? st.raw : nlohmann::json(nullptr)}});
  }
  return a;
}

ExitStatus status_exit(const std::vector<HostStatusRow>& rows) {
  bool all = std::all_of(rows.begin(), rows.end(), [](const auto& r) { return r.reachable && r.error.empty(); });
  return all ? ExitStatus::ok : ExitStatus::failed;
}

}  // namespace plugbox::orchestrator
