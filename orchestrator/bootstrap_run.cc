#include "orchestrator/bootstrap_run.h"

#include <algorithm>
#include <memory>

#include "orchestrator/host_conn.h"
#include "orchestrator/text_table.h"

namespace plugbox::orchestrator {

transport::Awaitable<std::vector<BootstrapRow>> fleet_bootstrap(FleetContext ctx) {
  std::function<transport::Awaitable<void>(HostConn&, BootstrapRow&)> one =
      [&](HostConn& c, BootstrapRow& r) -> transport::Awaitable<void> {
    const bool ok = co_await c.open(ctx.connect_timeout, HostConn::OpenMode::bootstrap);
    const ServerReport& s = c.server_report();
    r.arch = s.arch;
    r.server = s.version;
    r.action = !ok && !c.connected() ? "unreachable" : s.action;
    if (!ok) {
      r.error = c.error();
      if (r.action.empty()) r.action = "failed";
    } else {
      // The layout, so the host's status says it is ready (initialised).
      Step init{"init", server_cmd::init(c.ctx()), ctx.timeout};
      if (!(co_await c.run(init)).ok()) {
        r.action = "failed";
        r.error = c.error();
      }
    }
    ctx.reporter.event(Event{"bootstrap", c.name(), r.error.empty() ? r.action : r.error,
                             r.error.empty() ? Event::Level::ok : Event::Level::fail, {}});
    co_await c.release();
  };
  co_return co_await rows_for_each_host(ctx, one);
}

std::string render_bootstrap_table(const std::vector<BootstrapRow>& rows) {
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  std::vector<std::vector<std::string>> t{{"HOST", "ARCH", "SERVER", "ACTION"}};
  for (const auto& r : rows)
    t.push_back({r.host, or_dash(r.arch), or_dash(r.server), r.error.empty() ? r.action : r.action + ": " + r.error});
  return render_table(t);
}

nlohmann::json bootstrap_rows_json(const std::vector<BootstrapRow>& rows) {
  auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows)
    a.push_back({{"host", r.host}, {"arch", or_null(r.arch)}, {"server", or_null(r.server)}, {"action", r.action},
                 {"error", or_null(r.error)}});
  return a;
}

ExitStatus bootstrap_exit(const std::vector<BootstrapRow>& rows) {
  const bool all = std::all_of(rows.begin(), rows.end(), [](const BootstrapRow& r) { return r.error.empty(); });
  return all ? ExitStatus::ok : ExitStatus::failed;
}

}  // namespace plugbox::orchestrator
