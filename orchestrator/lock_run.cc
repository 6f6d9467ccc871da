#include "orchestrator/lock_run.h"

#include <algorithm>
#include <functional>
#include <sstream>

#include "orchestrator/host_conn.h"

namespace plugbox::orchestrator {

namespace {

// Which of its two successes a step's output says it was (the row's action).
using Interpret = std::string (*)(const std::string& out);
using MakeStep = std::function<Step(const HostContext&)>;

// Each host opened as a run opens it (its server installed where plugbox
// may), then, after `init` when `init_first`, the step `make_step` builds.
transport::Awaitable<std::vector<LockRow>> on_each_host(FleetContext ctx, std::string phase, bool init_first,
                                                        MakeStep make_step, Interpret interpret) {
  std::function<transport::Awaitable<void>(HostConn&, LockRow&)> one =
      [&](HostConn& c, LockRow& r) -> transport::Awaitable<void> {
    const bool opened = co_await c.open(ctx.connect_timeout);
    if (!opened) {
      r.action = c.connected() ? "failed" : "unreachable";
      r.error = c.error();
      co_return;
    }
    bool ok = true;
    if (init_first) {
      Step init{"init", server_cmd::init(c.ctx()), ctx.timeout};
      ok = (co_await c.run(init)).ok();
    }
    if (ok) {
      const Step step = make_step(c.ctx());
      auto res = co_await c.run(step);
      ok = res.ok();
      if (ok) r.action = interpret(res.out);
    }
    if (!ok) {
      r.action = "failed";
      r.error = c.error();
    }
    ctx.reporter.event(Event{phase, c.name(), ok ? r.action : r.error, ok ? Event::Level::ok : Event::Level::fail, {}});
    co_await c.release();
  };
  co_return co_await rows_for_each_host(ctx, one);
}

std::string hold_action(const std::string& out) {
  // `hold` says "held by ..." or, when this operator held it already, "still held by ...".
  return out.rfind("still ", 0) == 0 ? "still locked" : "locked";
}

std::string release_action(const std::string& out) {
  // `release` says "released ..." or "not locked for maintenance: nothing to release".
  return out.rfind("not locked", 0) == 0 ? "not locked" : "unlocked";
}

}  // namespace

transport::Awaitable<std::vector<LockRow>> fleet_lock(FleetContext ctx, std::string message) {
  // Named, not temporaries in the co_await expression (g++ 12 destroys those twice).
  MakeStep make = [message, t = ctx.timeout](const HostContext& h) {
    return Step{"hold", server_cmd::hold(h, message), t};
  };
  std::string phase = "lock";
  co_return co_await on_each_host(ctx, phase, /*init_first=*/true, make, hold_action);
}

transport::Awaitable<std::vector<LockRow>> fleet_unlock(FleetContext ctx, bool force) {
  MakeStep make = [force, t = ctx.timeout](const HostContext& h) {
    return Step{"release", server_cmd::release(h, force), t};
  };
  std::string phase = "unlock";
  co_return co_await on_each_host(ctx, phase, /*init_first=*/false, make, release_action);
}

std::string render_lock_table(const std::vector<LockRow>& rows) {
  std::size_t w = 4;
  for (const auto& r : rows) w = std::max(w, r.host.size());
  std::ostringstream o;
  o << "HOST" << std::string(w - 4 + 2, ' ') << "ACTION\n";
  for (const auto& r : rows)
    o << r.host << std::string(w - r.host.size() + 2, ' ') << (r.error.empty() ? r.action : r.action + ": " + r.error)
      << "\n";
  return o.str();
}

nlohmann::json lock_rows_json(const std::vector<LockRow>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows)
    a.push_back({{"host", r.host}, {"action", r.action},
                 {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)}});
  return a;
}

ExitStatus lock_exit(const std::vector<LockRow>& rows) {
  const bool all = std::all_of(rows.begin(), rows.end(), [](const LockRow& r) { return r.error.empty(); });
  return all ? ExitStatus::ok : ExitStatus::failed;
}

}  // namespace plugbox::orchestrator
