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
// *held: the host is locked for maintenance (its status says so).
transport::Awaitable<std::optional<HostStatus>> look(HostConn& c, const FleetContext& ctx, bool dry_run,
                                                     HostState* state, bool* held) {
  if (!co_await c.open(ctx.connect_timeout, dry_run ? HostConn::OpenMode::dry_run : HostConn::OpenMode::run)) {
    *state = c.connected() ? HostState::rollback_refused : HostState::rollback_unreachable;
    co_return std::nullopt;
  }
  *state = HostState::rollback_refused;
  // A switch transaction still running there (its client gone) is waited
  // for: the record is read once it has ended.
  if (!dry_run && !co_await c.lock(ctx.timeout, int(ctx.timeout))) {
    // A home nothing was ever deployed to has no lock to take, and nothing to undo.
    std::string why = c.error();
    auto st = co_await c.status(ctx.timeout);
    if (st && !st->initialised) co_return st;
    *held = st && st->hold;
    c.set_error(why);
    co_return std::nullopt;
  }
  auto st = co_await c.status(ctx.timeout);
  *held = st && st->hold;  // a dry run takes no lock: it reads the hold
  co_return st;
}

// What one host will do: its state until it is done, and its steps.
struct HostPlan {
  HostState state = HostState::not_live;
  std::string subject;  // what describe() names
  std::string back_to;  // the version it goes back to
  Steps steps;
};

HostPlan plan_from_live(const HostStatus& st, const std::string& from, const StepContext& c);

// Undoing run `run` as the host recorded it.
HostPlan plan_from_record(const HostStatus& st, const std::string& run, const StepContext& c, std::string* error) {
  const auto& rec = st.last_run;
  // A host with no record at all runs a plugbox-server older than records
  // (a fleet upgraded host by host): run ids are deploy versions, so one
  // whose live version is the run's went live in it and goes back to its
  // previous, as --from would take it; any other is left alone.
  if (!rec) return plan_from_live(st, run, c);
  HostPlan p;
  p.subject = run;
  if (rec->id != run || rec->state == "staged") {
    p.state = HostState::untouched;
    return p;
  }
  if (st.transaction == "running") {
    p.state = HostState::rollback_refused;
    *error = "a switch transaction of run " + run + " is still running there: wait for it to end, then run "
             "`plugbox fleet rollback` again";
    return p;
  }
  if (rec->kind == "rollback" && rec->state != "switched" && !rec->to.empty()) {
    // An earlier rollback of this run that did not finish here (a step
    // failed or was skipped: an unwritable log, a full disk; or it was
    // interrupted), while it may have finished on other hosts: finishing it
    // here is what makes the fleet uniform again, and it never goes past the
    // version that rollback was taking the host to.
    if (st.live == rec->to && !st.service_stopped) {
      p.state = HostState::already_back;
      return p;
    }
    if (st.live == rec->to) {
      SwitchProgress started_only;
      started_only.stopped = true;
      p.steps = undo_steps(c, started_only, rec->to, rec->to);
    } else if (st.live == rec->from) {
      p.steps = rollback_steps(c, rec->to, rec->from);
    } else {
      // Someone else switched it since: not this run's to finish.
      p.state = HostState::already_back;
      return p;
    }
    p.back_to = rec->to;
    p.state = HostState::would_roll_back;
    p.subject = rec->to;
    return p;
  }
  if (rec->kind == "rollback" || rec->state == "undone") {
    p.state = HostState::already_back;
    return p;
  }
  // switched, failed, undo_failed, or a transaction interrupted half-way:
  // whatever it got through, the host goes back to what it had before the run.
  if (rec->from.empty()) {
    p.state = HostState::no_previous;
    p.subject = st.live.empty() ? rec->to : st.live;
    return p;
  }
  SwitchProgress progress;
  progress.switched = st.live != rec->from;
  progress.stopped = st.service_stopped;
  if (!progress.switched && !progress.stopped) {
    p.state = HostState::already_back;
    return p;
  }
  p.back_to = rec->from;
  p.steps = undo_steps(c, progress, rec->from, st.live.empty() ? rec->to : st.live);
  p.state = HostState::would_roll_back;
  p.subject = rec->from;
  return p;
}

// --from V: a host whose live version is V goes back to its previous.
HostPlan plan_from_live(const HostStatus& st, const std::string& from, const StepContext& c) {
  HostPlan p;
  p.subject = from;
  if (from.empty() || st.live != from) return p;  // not_live
  if (st.previous.empty()) {
    p.state = HostState::no_previous;
    return p;
  }
  p.back_to = st.previous;
  p.steps = rollback_steps(c, st.previous, from);
  p.state = HostState::would_roll_back;
  p.subject = st.previous;
  return p;
}

}  // namespace

transport::Awaitable<RunOutcome> fleet_rollback(FleetContext ctx, const ServiceConfig& service, RollbackOptions opts) {
  std::vector<std::unique_ptr<HostConn>> conns;
  for (const auto& h : ctx.hosts) conns.push_back(std::make_unique<HostConn>(ctx.transport, h, ctx.journal));
  std::vector<std::optional<HostStatus>> status(conns.size());
  std::vector<HostState> refused(conns.size(), HostState::rollback_refused);
  std::vector<char> held(conns.size(), 0);
  auto look_one = [&](std::size_t i) -> transport::Awaitable<void> {
    HostState why = HostState::rollback_refused;
    bool h = false;
    status[i] = co_await look(*conns[i], ctx, opts.dry_run, &why, &h);
    refused[i] = why;
    held[i] = h;
  };
  co_await parallel_for(conns.size(), ctx.parallel, look_one);

  // The run to undo: the newest run any host recorded (run ids are deploy
  // versions, the client's UTC timestamps; a rollback records the run it
  // undid). Without records anywhere (hosts that predate them), the newest
  // live version stands in, as --from.
  std::string run;
  if (!opts.from)
    for (const auto& st : status)
      if (st && st->last_run) run = std::max(run, st->last_run->id);
  if (!run.empty()) run = std::max(run, opts.local_run);
  const bool by_record = !run.empty();
  std::string from = opts.from.value_or("");
  if (!by_record && from.empty())
    for (const auto& st : status)
      if (st) from = std::max(from, st->live);

  RunOutcome out;
  std::vector<HostPlan> plans(conns.size());
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < conns.size(); ++i) {
    HostStanding s;
    s.host = conns[i]->name();
    if (!status[i]) {
      s.state = refused[i];
      s.subject = by_record ? run : from;
      s.error = conns[i]->error();
    } else {
      s.live = s.live_before = status[i]->live;
      StepContext c{conns[i]->ctx(), service, ctx.timeout};
      plans[i] = by_record ? plan_from_record(*status[i], run, c, &s.error) : plan_from_live(*status[i], from, c);
      s.state = plans[i].state;
      s.subject = plans[i].subject;
      if (s.state == HostState::would_roll_back) todo.push_back(i);
    }
    out.hosts.push_back(std::move(s));
  }

  // A host locked for maintenance refuses the whole rollback, before any
  // host is changed: the window's owner decides when the fleet moves.
  const auto n_held = std::size_t(std::count(held.begin(), held.end(), 1));
  for (std::size_t i = 0; i < conns.size() && n_held; ++i) {
    HostStanding& s = out.hosts[i];
    if (held[i]) {
      s.state = HostState::rollback_refused;
      // Refused by the host's own `lock` (its line), or, on a dry run, as its status says.
      s.error = status[i] && status[i]->hold ? status[i]->hold->refusal() : conns[i]->error();
    } else if (s.state == HostState::would_roll_back) {
      s.state = HostState::held_off;
    }
  }
  if (n_held) todo.clear();

  const std::string what = by_record ? "run " + run : from;
  if (opts.dry_run) {
    for (auto i : todo)
      ctx.reporter.event(Event{"rollback", conns[i]->name(), "would run:\n" + render(plans[i].steps, "    "),
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
      const HostPlan& p = plans[i];
      // Recorded under the run it undoes (kind "rollback"): a later rollback
      // finds that run undone here, and one interrupted half-way finds the
      // hosts it had yet to do still on the run.
      const TxnSpec spec{by_record ? run : from, "rollback", "switch", s.live, p.back_to, p.steps};
      StepsResult r = co_await c.run_txn(spec);
      if (!r.ok && !r.switched_live(p.steps)) {
        s.state = HostState::rollback_failed;
        s.error = c.error();
        co_return ctx.reporter.event(Event{"rollback", c.name(), c.error(), Event::Level::fail, {}});
      }
      s.live = p.back_to;
      if (!r.ok) {
        s.state = HostState::start_failed;
        s.error = c.error();
        co_return ctx.reporter.event(
            Event{"rollback", c.name(), s.describe() + ": " + c.error(), Event::Level::fail, {}});
      }
      s.state = HostState::rolled_back;
      std::string msg = "back on " + p.back_to + " (was " + (s.live_before.empty() ? "-" : s.live_before) + ")";
      if (!r.tolerated.empty()) msg += "; stop had failed: " + r.tolerated.front();
      ctx.reporter.event(Event{"rollback", c.name(), msg, Event::Level::ok, {}});
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
  if (!by_record && from.empty()) {
    out.summary = attention ? "none of the hosts read has a live version: nothing to roll back there"
                            : "no selected host has a live version: nothing to roll back";
  } else if (opts.from && todo.empty() && attention == 0) {
    out.exit = ExitStatus::bad_input;
    out.summary = "no selected host has " + from + " live: nothing to roll back (see `plugbox fleet status`)";
  } else if (by_record && todo.empty() && attention == 0) {
    out.summary = count(HostState::already_back) ? what + " was already rolled back: nothing to do"
                                                 : what + " switched no selected host: nothing to roll back";
  } else {
    out.summary = opts.dry_run ? "dry run: " + std::to_string(todo.size()) + " host(s) would go back from " + what
                               : std::to_string(count(HostState::rolled_back)) + " of " + std::to_string(todo.size()) +
                                     " host(s) went back from " + what;
  }
  if (n_held)
    out.summary = "nothing rolled back: " + std::to_string(n_held) +
                  " selected host(s) locked for maintenance (`plugbox fleet status` says by whom and why)";
  if (attention) out.summary += "; " + std::to_string(attention) + " host(s) need attention";
  if (ctx.interrupt.raised()) out.summary += " (interrupted)";
  co_return out;
}

}  // namespace plugbox::orchestrator
