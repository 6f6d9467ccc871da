#include "orchestrator/gc_run.h"

#include <algorithm>
#include <memory>

#include "orchestrator/host_conn.h"
#include "orchestrator/parallel_for.h"

namespace plugbox::orchestrator {

namespace {

transport::Awaitable<void> gc_host(HostConn& c, const FleetContext& ctx, int keep, bool dry_run, HostStanding& s) {
  if (ctx.interrupt.raised()) {
    s.state = HostState::gc_skipped;
    co_return;
  }
  if (!co_await c.open(ctx.connect_timeout, dry_run ? HostConn::OpenMode::dry_run : HostConn::OpenMode::run)) {
    s.state = c.connected() ? HostState::gc_failed : HostState::unreachable;
    s.error = c.error();
    co_return;
  }
  // Status first: a home nothing was deployed to has nothing to collect, and
  // the table's LIVE column says what stays live ("-" would say nothing is).
  auto st = co_await c.status(ctx.timeout);
  if (st && !st->initialised) {
    s.state = HostState::nothing_deployed;
    ctx.reporter.event(Event{"gc", c.name(), "nothing deployed here: nothing to remove", Event::Level::ok, {}});
    co_return co_await c.release();
  }
  bool ok = false;
  std::string said;
  if (st) {
    s.live = s.live_before = st->live;
    Step gc{"gc", server_cmd::gc(c.ctx(), keep, dry_run), ctx.timeout};
    auto r = co_await c.run(gc);
    ok = r.ok();
    said = r.out;
    // plugbox's own servers of other versions (a pinned server is never touched).
    if (ok && c.ctx().server_source != ServerSource::pinned) {
      Step old{"server-gc", install_cmd::remove_others(c.ctx(), dry_run), ctx.timeout};
      auto o = co_await c.run(old);
      ok = o.ok();
      said += o.out;
    }
  }
  if (ok) {
    while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
    s.state = dry_run ? HostState::gc_dry_run : HostState::collected;
    ctx.reporter.event(Event{"gc", c.name(), said.empty() ? "nothing to remove" : said, Event::Level::ok, {}});
  } else {
    s.state = HostState::gc_failed;
    s.error = c.error();
    ctx.reporter.event(Event{"gc", c.name(), c.error(), Event::Level::fail, {}});
  }
  co_await c.release();
}

}  // namespace

transport::Awaitable<RunOutcome> fleet_gc(FleetContext ctx, int keep, bool dry_run) {
  std::vector<std::unique_ptr<HostConn>> conns;
  for (const auto& h : ctx.hosts) conns.push_back(std::make_unique<HostConn>(ctx.transport, h, ctx.journal));
  RunOutcome out;
  out.hosts.resize(conns.size());
  auto one = [&](std::size_t i) -> transport::Awaitable<void> {
    out.hosts[i].host = conns[i]->name();
    co_await gc_host(*conns[i], ctx, keep, dry_run, out.hosts[i]);
  };
  co_await parallel_for(conns.size(), ctx.parallel, one);
  out.exit = exit_status(out.states(), ctx.interrupt.raised());
  auto count = [&](auto pred) { return std::size_t(std::count_if(out.hosts.begin(), out.hosts.end(), pred)); };
  std::size_t bad = count([](const HostStanding& s) { return severity(s.state) != Severity::ok; });
  std::size_t skipped = count([](const HostStanding& s) { return s.state == HostState::gc_skipped; });
  // An interrupted gc says how many hosts it never reached, not "on N host(s)".
  out.summary = std::string(dry_run ? "dry run: " : "") + "gc --keep " + std::to_string(keep) + " on " +
                (skipped ? std::to_string(conns.size() - skipped) + " of " : "") + std::to_string(conns.size()) +
                " host(s)" + (bad ? ", " + std::to_string(bad) + " failed" : "");
  if (ctx.interrupt.raised())
    out.summary += "; interrupted: " + std::to_string(skipped) + " host(s) skipped (run it again to finish)";
  co_return out;
}

}  // namespace plugbox::orchestrator
