#include "orchestrator/fleet_ops.h"

#include <algorithm>
#include <iomanip>
#include <memory>
#include <sstream>

#include "orchestrator/host_conn.h"
#include "orchestrator/parallel_for.h"
#include "transport/notifier.h"

namespace plugbox::orchestrator {

namespace asio = transport::asio;

namespace {

std::string str_or(const nlohmann::json& j, const char* key, std::string def = "") {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return def;
  return j[key].get<std::string>();
}

}  // namespace

transport::Awaitable<DeployOutcome> fleet_rollback(FleetContext ctx, RollbackOptions opts) {
  std::vector<std::unique_ptr<HostConn>> conns;
  for (const auto& h : ctx.hosts) conns.push_back(std::make_unique<HostConn>(ctx.transport, h, ctx.journal));
  std::vector<nlohmann::json> status(conns.size());
  std::vector<bool> ok(conns.size(), false);
  // Read where every host stands; take the lock unless this is a dry run.
  std::vector<bool> reached(conns.size(), false);
  auto look = [&](std::size_t i) -> transport::Awaitable<void> {
    auto& c = *conns[i];
    if (!co_await c.open(30)) co_return;
    reached[i] = true;
    if (!opts.dry_run && !co_await c.lock(ctx.timeout)) {
      // No layout to lock: nothing was ever deployed there, so nothing to undo.
      std::string why = c.error();
      auto has = co_await c.has_layout(ctx.timeout);
      if (has && !*has) {
        status[i] = status_of_fresh_home(c.plan().ctx.home);
        ok[i] = true;
      } else {
        c.set_error(why);
      }
      co_return;
    }
    auto st = co_await c.status(ctx.timeout);
    if (!st) co_return;
    status[i] = *st;
    ok[i] = true;
  };
  co_await parallel_for(conns.size(), ctx.parallel, look);

  std::string from = opts.from.value_or("");
  if (from.empty())
    for (std::size_t i = 0; i < conns.size(); ++i)
      if (ok[i]) from = std::max(from, str_or(status[i], "live"));
  DeployOutcome out;
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < conns.size(); ++i) {
    HostStanding s;
    s.host = conns[i]->name();
    if (!ok[i]) {
      s.state = reached[i] ? "not rolled back" : "not reached";
      s.error = conns[i]->error();
      s.needs_attention = true;
    } else {
      s.live = s.live_before = str_or(status[i], "live");
      if (!from.empty() && s.live == from) {
        std::string prev = str_or(status[i], "previous");
        if (prev.empty()) {
          s.state = "no previous version: stays on " + from;
          s.needs_attention = true;
        } else {
          s.state = opts.dry_run ? "would go back to " + prev : "pending";
          todo.push_back(i);
        }
      } else {
        s.state = "unchanged (live is not " + (from.empty() ? std::string("any version") : from) + ")";
      }
    }
    out.hosts.push_back(std::move(s));
  }
  if (from.empty()) {
    out.exit_code = 0;
    out.summary = "no selected host has a live version: nothing to roll back";
  } else if (opts.from && todo.empty() &&
             std::none_of(out.hosts.begin(), out.hosts.end(), [](const HostStanding& s) { return s.needs_attention; })) {
    out.exit_code = 2;
    out.summary = "no selected host has " + from + " live: nothing to roll back (see `plugbox fleet status`)";
  }

  if (opts.dry_run) {
    for (auto i : todo) {
      std::string prev = str_or(status[i], "previous");
      const auto& hctx = conns[i]->plan().ctx;
      ServiceEnv env{opts.service, prev, from};
      std::ostringstream plan;
      for (const auto& l : opts.stop) plan << "\n    " << service_command(hctx, env, l, hctx.home).render();
      plan << "\n    " << server_command(hctx, {"rollback-to", prev}).render();
      for (const auto& l : opts.start) plan << "\n    " << service_command(hctx, env, l, hctx.home).render();
      ctx.reporter.event(Event{"rollback", conns[i]->name(), "would run:" + plan.str(), Event::Level::info, {}});
    }
  } else {
    auto back = [&](std::size_t k) -> transport::Awaitable<void> {
      std::size_t i = todo[k];
      auto& c = *conns[i];
      auto& s = out.hosts[i];
      if (ctx.stop_requested()) {
        s.state = "not rolled back (interrupted before it began)";
        s.needs_attention = true;
        co_return;
      }
      std::string prev = str_or(status[i], "previous");
      // PLUGBOX_VERSION is what goes live; PLUGBOX_PREVIOUS what was live.
      ServiceEnv env{opts.service, prev, from};
      const auto& hctx = c.plan().ctx;
      for (const auto& l : opts.stop) {
        auto cmd = service_command(hctx, env, l, hctx.home);
        co_await c.run("stop", std::move(cmd), ctx.timeout);  // a failing stop must not keep the old version away
      }
      std::vector<std::string> args{"rollback-to", prev};
      if (!(co_await c.server("rollback-to", args, ctx.timeout)).ok()) {
        s.state = "ROLLBACK FAILED";
        s.error = c.error();
        s.needs_attention = true;
        ctx.reporter.event(Event{"rollback", c.name(), c.error(), Event::Level::fail, {}});
        co_return;
      }
      s.live = prev;
      for (const auto& l : opts.start) {
        auto cmd = service_command(hctx, env, l, hctx.home);
        if (!(co_await c.run("start", std::move(cmd), ctx.timeout)).ok()) {
          s.state = "back on " + prev + " but START FAILED";
          s.error = c.error();
          s.needs_attention = true;
          ctx.reporter.event(Event{"rollback", c.name(), s.state + ": " + c.error(), Event::Level::fail, {}});
          co_return;
        }
      }
      s.state = "rolled back";
      ctx.reporter.event(Event{"rollback", c.name(), "back on " + prev + " (was " + from + ")", Event::Level::ok, {}});
    };
    co_await parallel_for(todo.size(), ctx.parallel, back);
  }
  auto rel = [&](std::size_t i) -> transport::Awaitable<void> { co_await conns[i]->release(); };
  co_await parallel_for(conns.size(), int(conns.size()), rel);

  if (out.summary.empty()) {
    std::size_t bad = std::count_if(out.hosts.begin(), out.hosts.end(), [](const HostStanding& s) { return s.needs_attention; });
    std::size_t back_n = std::count_if(out.hosts.begin(), out.hosts.end(), [](const HostStanding& s) { return s.state == "rolled back"; });
    bool half = std::any_of(out.hosts.begin(), out.hosts.end(), [](const HostStanding& s) {
      return s.state == "ROLLBACK FAILED" || s.state.find("START FAILED") != std::string::npos;
    });
    out.exit_code = ctx.stop_requested() ? (half ? 3 : 130) : (bad ? 3 : 0);
    out.summary = opts.dry_run ? "dry run: " + std::to_string(todo.size()) + " host(s) would go back from " + from
                               : std::to_string(back_n) + " of " + std::to_string(todo.size()) +
                                     " host(s) went back from " + from;
    if (bad) out.summary += "; " + std::to_string(bad) + " host(s) need attention";
    if (ctx.stop_requested()) out.summary += " (interrupted)";
  }
  co_return out;
}

transport::Awaitable<DeployOutcome> fleet_gc(FleetContext ctx, int keep, bool dry_run) {
  std::vector<std::unique_ptr<HostConn>> conns;
  for (const auto& h : ctx.hosts) conns.push_back(std::make_unique<HostConn>(ctx.transport, h, ctx.journal));
  DeployOutcome out;
  out.hosts.resize(conns.size());
  auto gc = [&](std::size_t i) -> transport::Awaitable<void> {
    auto& c = *conns[i];
    auto& s = out.hosts[i];
    s.host = c.name();
    if (ctx.stop_requested()) {
      s.state = "skipped (interrupted)";
      co_return;
    }
    if (!co_await c.open(30)) {
      s.state = "not reached";
      s.error = c.error();
      s.needs_attention = true;
      co_return;
    }
    std::vector<std::string> args{"gc", "--keep", std::to_string(keep)};
    if (dry_run) args.push_back("--dry-run");
    auto r = co_await c.server("gc", args, ctx.timeout);
    std::string said = r.out;
    while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
    bool fresh = false;  // nothing ever deployed here: nothing to collect
    if (!r.ok() && !r.error && r.exit_status == 2) {
      std::string why = c.error();
      auto has = co_await c.has_layout(ctx.timeout);
      fresh = has && !*has;
      if (!fresh) c.set_error(why);
    }
    if (fresh) {
      s.state = "nothing deployed";
      ctx.reporter.event(Event{"gc", c.name(), "nothing deployed here: nothing to remove", Event::Level::ok, {}});
    } else if (r.ok()) {
      s.state = dry_run ? "dry run" : "collected";
      ctx.reporter.event(Event{"gc", c.name(), said.empty() ? "nothing to remove" : said, Event::Level::ok, {}});
      // The table's LIVE column: what gc kept live ("-" would say nothing is).
      if (auto st = co_await c.status(ctx.timeout)) s.live = s.live_before = str_or(*st, "live");
    } else {
      s.state = "gc failed";
      s.error = c.error();
      s.needs_attention = true;
      ctx.reporter.event(Event{"gc", c.name(), c.error(), Event::Level::fail, {}});
    }
    co_await c.release();
  };
  co_await parallel_for(conns.size(), ctx.parallel, gc);
  std::size_t bad = std::count_if(out.hosts.begin(), out.hosts.end(), [](const HostStanding& s) { return s.needs_attention; });
  std::size_t skipped = std::count_if(out.hosts.begin(), out.hosts.end(),
                                      [](const HostStanding& s) { return s.state == "skipped (interrupted)"; });
  out.exit_code = ctx.stop_requested() ? 130 : bad ? 1 : 0;
  // An interrupted gc says how many hosts it never reached, not "on N host(s)".
  out.summary = std::string(dry_run ? "dry run: " : "") + "gc --keep " + std::to_string(keep) + " on " +
                (skipped ? std::to_string(conns.size() - skipped) + " of " : "") + std::to_string(conns.size()) +
                " host(s)" + (bad ? ", " + std::to_string(bad) + " failed" : "");
  if (ctx.stop_requested())
    out.summary += "; interrupted: " + std::to_string(skipped) + " host(s) skipped (run it again to finish)";
  co_return out;
}

transport::Awaitable<std::vector<HostStatusRow>> fleet_status(FleetContext ctx) {
  std::vector<std::unique_ptr<HostConn>> conns;
  for (const auto& h : ctx.hosts) conns.push_back(std::make_unique<HostConn>(ctx.transport, h, ctx.journal));
  std::vector<HostStatusRow> rows(conns.size());
  auto look = [&](std::size_t i) -> transport::Awaitable<void> {
    auto& c = *conns[i];
    auto& r = rows[i];
    r.host = c.name();
    if (!co_await c.open(30)) {
      r.error = c.error();
      co_return;
    }
    r.reachable = true;
    auto st = co_await c.status(ctx.timeout);
    co_await c.release();
    if (!st) {
      r.error = c.error();
      co_return;
    }
    r.raw = *st;
    r.live = str_or(*st, "live");
    r.previous = str_or(*st, "previous");
    if ((*st)["lock"].is_object()) r.lock = str_or((*st)["lock"], "owner");
    if ((*st)["versions"].is_array())
      for (const auto& v : (*st)["versions"]) r.versions.push_back(str_or(v, "name") + " (" + str_or(v, "state") + ")");
  };
  co_await parallel_for(conns.size(), ctx.parallel, look);
  co_return rows;
}

std::string render_status_table(const std::vector<HostStatusRow>& rows) {
  std::vector<std::array<std::string, 6>> t;
  t.push_back({"HOST", "LIVE", "PREVIOUS", "VERSIONS", "LOCK", "REACHABLE"});
  for (const auto& r : rows) {
    std::string lock = r.lock.empty() ? "-" : r.lock;
    t.push_back({r.host, r.live.empty() ? "-" : r.live, r.previous.empty() ? "-" : r.previous,
                 r.reachable && r.error.empty() ? std::to_string(r.versions.size()) : "-", lock,
                 r.reachable ? (r.error.empty() ? "yes" : "yes (" + r.error + ")") : "NO (" + r.error + ")"});
  }
  std::array<std::size_t, 6> w{};
  for (const auto& row : t)
    for (int c = 0; c < 5; ++c) w[c] = std::max(w[c], row[c].size());
  std::ostringstream o;
  for (const auto& row : t) {
    for (int c = 0; c < 6; ++c) o << (c < 5 ? std::string(row[c]) + std::string(w[c] - row[c].size() + 2, ' ') : row[c]);
    o << "\n";
  }
  return o.str();
}

nlohmann::json status_rows_json(const std::vector<HostStatusRow>& rows) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& r : rows)
    a.push_back({{"host", r.host},
                 {"reachable", r.reachable},
                 {"live", r.live.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.live)},
                 {"previous", r.previous.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.previous)},
                 {"versions", r.versions},
                 {"lock", r.lock.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.lock)},
                 {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
                 {"status", r.raw}});
  return a;
}

std::string render_standings(const DeployOutcome& o) {
  std::size_t wh = 4, wl = 4;
  for (const auto& h : o.hosts) wh = std::max(wh, h.host.size()), wl = std::max(wl, h.live.size());
  std::ostringstream s;
  s << std::left << std::setw(int(wh) + 2) << "HOST" << std::setw(int(wl) + 2) << "LIVE" << "STATE\n";
  for (const auto& h : o.hosts) {
    s << std::setw(int(wh) + 2) << h.host << std::setw(int(wl) + 2) << (h.live.empty() ? "-" : h.live) << h.state;
    if (!h.error.empty()) s << ": " << h.error;
    s << "\n";
  }
  return s.str();
}

}  // namespace plugbox::orchestrator
