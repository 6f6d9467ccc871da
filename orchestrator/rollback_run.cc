#include "orchestrator/rollback_run.h"

#include <algorithm>
#include <memory>

#include "orchestrator/host_conn.h"
#include "orchestrator/host_steps.h"
#include "orchestrator/parallel_for.h"

namespace plugbox::orchestrator {

namespace {

// Reads where one host stands, under the lock unless this is a dry run.
// nullopt: `state` says why (unreachable, or reached and refused).
transport::Awaitable<std::optional<HostStatus>> look(HostConn& c, const FleetContext& ctx, bool dry_run,
                                                     HostState* state) {
  if (!co_await c.open(ctx.connect_timeout)) {
    *state = HostState::rollback_unreachable;
    co_return std::nullopt;
  }
  *state = HostState::rollback_refused;
  if (!dry_run && !co_await c.lock(ctx.timeout)) {
    // A home nothing was ever deployed to has no lock to take, and nothing to undo.
    std::string why = c.error();
    auto st = co_await c.status(ctx.timeout);
    if (st && !st->initialised) co_return st;
    c.set_error(why);
    co_return std::nullopt;
  }
  co_return co_await c.status(ctx.timeout);
}

}  // namespace

transport::Awaitable<RunOutcome> fleet_rollback(FleetContext ctx, const ServiceConfig& service, RollbackOptions opts) {
  std::vector<std::unique_ptr<HostConn>> conns;
  for (const auto& h : ctx.hosts) conns.push_back(std::make_unique<HostConn>(ctx.transport, h, ctx.journal));
  std::vector<std::optional<HostStatus>> status(conns.size());
  std::vector<HostState> refused(conns.size(), HostState::rollback_refused);
  auto look_one = [&](std::size_t i) -> transport::Awaitable<void> {
    HostState why = HostState::rollback_refused;
    status[i] = co_await look(*conns[i], ctx, opts.dry_run, &why);
    refused[i] = why;
  };
  co_await parallel_for(conns.size(), ctx.parallel, look_one);

  std::string from = opts.from.value_or("");
  if (from.empty())
    for (const auto& st : status)
      if (st) from = std::max(from, st->live);
  RunOutcome out;
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < conns.size(); ++i) {
    HostStanding s;
    s.host = conns[i]->name();
    s.subject = from;
    if (!status[i]) {
      s.state = refused[i];
      s.error = conns[i]->error();
    } else {
      s.live = s.live_before = status[i]->live;
      if (from.empty() || s.live != from) {
        s.state = HostState::not_live;
      } else if (status[i]->previous.empty()) {
        s.state = HostState::no_previous;
      } else {
        s.state = HostState::would_roll_back;  // until it has gone back
        s.subject = status[i]->previous;
        todo.push_back(i);
      }
    }
    out.hosts.push_back(std::move(s));
  }

  auto steps_of = [&](std::size_t i) {
    StepContext c{conns[i]->ctx(), service, ctx.timeout};
    return rollback_steps(c, status[i]->previous, from);
  };
  if (opts.dry_run) {
    for (auto i : todo)
      ctx.reporter.event(Event{"rollback", conns[i]->name(), "would run:\n" + render(steps_of(i), "    "),
                               Event::Level::info, {}});
  } else {
    auto back = [&](std::size_t k) -> transport::Awaitable<void> {
      std::size_t i = todo[k];
      auto& c = *conns[i];
      auto& s = out.hosts[i];
      if (ctx.interrupt.raised()) {
        s.state = HostState::rollback_not_begun;
        co_return;
      }
      const std::string prev = status[i]->previous;
      Steps steps = steps_of(i);
      StepsResult r = co_await c.run_steps(steps);
      auto back_at = std::find_if(steps.begin(), steps.end(), [](const Step& st) { return st.effect == Effect::switches_live; });
      if (!r.ok && std::size_t(back_at - steps.begin()) + 1 >= r.begun) {
        s.state = HostState::rollback_failed;
        s.error = c.error();
        co_return ctx.reporter.event(Event{"rollback", c.name(), c.error(), Event::Level::fail, {}});
      }
      s.live = prev;
      if (!r.ok) {
        s.state = HostState::start_failed;
        s.error = c.error();
        co_return ctx.reporter.event(
            Event{"rollback", c.name(), s.describe() + ": " + c.error(), Event::Level::fail, {}});
      }
      s.state = HostState::rolled_back;
      std::string what = "back on " + prev + " (was " + from + ")";
      if (!r.tolerated.empty()) what += "; stop had failed: " + r.tolerated.front();
      ctx.reporter.event(Event{"rollback", c.name(), what, Event::Level::ok, {}});
    };
    co_await parallel_for(todo.size(), ctx.parallel, back);
  }
  auto rel = [&](std::size_t i) -> transport::Awaitable<void> { co_await conns[i]->release(); };
  co_await parallel_for(conns.size(), int(conns.size()), rel);

  out.exit = exit_status(out.states(), ctx.interrupt.raised());
  auto count = [&](HostState st) {
    return std::count_if(out.hosts.begin(), out.hosts.end(), [st](const HostStanding& h) { return h.state == st; });
  };
  std::size_t attention = std::count_if(out.hosts.begin(), out.hosts.end(),
                                        [](const HostStanding& h) { return needs_attention(h.state); });
  if (from.empty()) {
    out.summary = attention ? "none of the hosts read has a live version: nothing to roll back there"
                            : "no selected host has a live version: nothing to roll back";
  } else if (opts.from && todo.empty() && attention == 0) {
    out.exit = ExitStatus::bad_input;
    out.summary = "no selected host has " + from + " live: nothing to roll back (see `plugbox fleet status`)";
  } else {
    out.summary = opts.dry_run ? "dry run: " + std::to_string(todo.size()) + " host(s) would go back from " + from
                               : std::to_string(count(HostState::rolled_back)) + " of " + std::to_string(todo.size()) +
                                     " host(s) went back from " + from;
  }
  if (attention) out.summary += "; " + std::to_string(attention) + " host(s) need attention";
  if (ctx.interrupt.raised()) out.summary += " (interrupted)";
  co_return out;
}

}  // namespace plugbox::orchestrator
