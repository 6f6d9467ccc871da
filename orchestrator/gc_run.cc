#include "orchestrator/gc_run.h"

#include <algorithm>
#include <memory>

#include "orchestrator/host_conn.h"
#include "orchestrator/parallel_for.h"

namespace plugbox::orchestrator {

namespace {

// gc's first half on one host: connect and read its status. False when
// there is nothing more to do here (`s` says why: unreachable, nothing
// deployed, unreadable). *held: it is locked for maintenance.
transport::Awaitable<bool> look(HostConn& c, const FleetContext& ctx, bool dry_run, HostStanding& s, bool* held) {
  if (ctx.interrupt.raised()) {
    s.state = HostState::gc_skipped;
    co_return false;
  }
  if (!co_await c.open(ctx.connect_timeout, dry_run ? HostConn::OpenMode::dry_run : HostConn::OpenMode::run)) {
    s.state = c.connected() ? HostState::gc_failed : HostState::unreachable;
    s.error = c.error();
    co_return false;
  }
  // Status first: a home nothing was deployed to has nothing to collect, and
  // the table's LIVE column says what stays live ("-" would say nothing is).
  auto st = co_await c.status(ctx.timeout);
  if (st && !st->initialised) {
    s.state = HostState::nothing_deployed;
    ctx.reporter.event(Event{"gc", c.name(), "nothing deployed here: nothing to remove", Event::Level::ok, {}});
    co_await c.release();
    co_return false;
  }
  if (!st) {
    s.state = HostState::gc_failed;
    s.error = c.error();
    ctx.reporter.event(Event{"gc", c.name(), c.error(), Event::Level::fail, {}});
    co_await c.release();
    co_return false;
  }
  s.live = s.live_before = st->live;
  if (st->hold) {
    *held = true;
    s.state = HostState::gc_failed;
    s.error = st->hold->refusal();
    ctx.reporter.event(Event{"gc", c.name(), s.error, Event::Level::fail, {}});
  }
  co_return true;
}

// Its second half: gc, then plugbox's own servers of other versions.
transport::Awaitable<void> collect(HostConn& c, const FleetContext& ctx, int keep, bool dry_run, HostStanding& s) {
  Step gc{"gc", server_cmd::gc(c.ctx(), keep, dry_run), ctx.timeout};
  auto r = co_await c.run(gc);
  bool ok = r.ok();
  std::string said = r.out;
  // plugbox's own servers of other versions (a pinned server is never touched).
  if (ok && c.ctx().server_source != ServerSource::pinned) {
    Step old{"server-gc", install_cmd::remove_others(c.ctx(), dry_run), ctx.timeout};
    auto o = co_await c.run(old);
    ok = o.ok();
    said += o.out;
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
}

}  // namespace

transport::Awaitable<RunOutcome> fleet_gc(FleetContext ctx, int keep, bool dry_run) {
  std::vector<std::unique_ptr<HostConn>> conns;
  for (const auto& h : ctx.hosts) conns.push_back(std::make_unique<HostConn>(ctx.transport, h, ctx.journal));
  RunOutcome out;
  out.hosts.resize(conns.size());
  // Every host is read before any collects: a host locked for maintenance
  // refuses the whole gc, before anything is removed anywhere.
  std::vector<char> go(conns.size(), 0), held(conns.size(), 0);
  auto look_one = [&](std::size_t i) -> transport::Awaitable<void> {
    out.hosts[i].host = conns[i]->name();
    bool h = false;
    go[i] = co_await look(*conns[i], ctx, dry_run, out.hosts[i], &h);
    held[i] = h;
  };
  co_await parallel_for(conns.size(), ctx.parallel, look_one);
  const auto n_held = std::size_t(std::count(held.begin(), held.end(), 1));
  auto collect_one = [&](std::size_t i) -> transport::Awaitable<void> {
    if (!go[i]) co_return;
    HostStanding& s = out.hosts[i];
    if (held[i]) {
      // Stays failed with the hold's line, on a dry run too: a real gc would be refused.
    } else if (n_held && !dry_run) {
      s.state = HostState::held_off;
    } else if (ctx.interrupt.raised()) {
      s.state = HostState::gc_skipped;
    } else {
      co_await collect(*conns[i], ctx, keep, dry_run, s);
    }
    co_await conns[i]->release();
  };
  co_await parallel_for(conns.size(), ctx.parallel, collect_one);
  out.exit = exit_status(out.states(), ctx.interrupt.raised());
  auto count = [&](auto pred) { return std::size_t(std::count_if(out.hosts.begin(), out.hosts.end(), pred)); };
  std::size_t bad = count([](const HostStanding& s) { return severity(s.state) != Severity::ok; });
  std::size_t skipped = count([](const HostStanding& s) { return s.state == HostState::gc_skipped; });
  // An interrupted gc says how many hosts it never reached, not "on N host(s)".
  out.summary = std::string(dry_run ? "dry run: " : "") + "gc --keep " + std::to_string(keep) + " on " +
                (skipped ? std::to_string(conns.size() - skipped) + " of " : "") + std::to_string(conns.size()) +
                " host(s)" + (bad ? ", " + std::to_string(bad) + " failed" : "");
  if (n_held && !dry_run)
    out.summary = "nothing collected: " + std::to_string(n_held) +
                  " selected host(s) locked for maintenance (`plugbox fleet status` says by whom and why)";
  if (ctx.interrupt.raised())
    out.summary += "; interrupted: " + std::to_string(skipped) + " host(s) skipped (run it again to finish)";
  co_return out;
}

}  // namespace plugbox::orchestrator
