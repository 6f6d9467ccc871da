#include "orchestrator/deploy_run.h"

#include <algorithm>

#include "orchestrator/host_conn.h"
#include "orchestrator/host_upload.h"
#include "orchestrator/parallel_for.h"
#include "transport/notifier.h"

namespace plugbox::orchestrator {

namespace asio = transport::asio;

struct DeployRun::Host {
  Host(transport::Transport& t, const PlannedHost& p, Journal& j) : conn(t, p, j) {}
  HostConn conn;
  std::string live_before;  // live when staging began ("" = none)
  bool reached = false, locked = false, created = false, sealed = false;
  bool stopped = false, healthy = false;
  // Set before upgrade-to is sent: a command cut off by its deadline may have
  // switched the host anyway, and rollback-to the old version is harmless if not.
  bool switched = false;
  bool failed = false;        // this run's work on the host failed
  bool rolled_back = false, rollback_failed = false, removed = false, remove_failed = false;
  std::string rollback_error;
};

namespace {

transport::Awaitable<void> sleep_for(double seconds) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex, std::chrono::duration_cast<transport::Clock::duration>(std::chrono::duration<double>(seconds)));
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

std::string live_of(const nlohmann::json& status) {
  auto it = status.find("live");
  return it != status.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

DeployRun::DeployRun(transport::Transport& transport, const DeployPlan& plan, const upload::Manifest& manifest,
                     const upload::BlobStore& blobs, Reporter& reporter, Journal& journal)
    : transport_(transport), plan_(plan), manifest_(manifest), blobs_(blobs), reporter_(reporter), journal_(journal) {
  for (const auto& p : plan_.hosts) hosts_.push_back(std::make_unique<Host>(transport_, p, journal_));
}

DeployRun::~DeployRun() = default;

void DeployRun::interrupt() { interrupted_ = true; }

void DeployRun::report(const std::string& phase, Host* h, const std::string& what, Event::Level level,
                       nlohmann::json data) {
  Event e{phase, h ? h->conn.name() : "", what, level, std::move(data)};
  journal_.record({{"event", phase}, {"host", e.host}, {"message", what},
                   {"level", level == Event::Level::fail ? "fail" : level == Event::Level::ok ? "ok" : "info"}});
  reporter_.event(e);
}

void DeployRun::tick(const std::string& phase, std::size_t done, std::size_t failed, std::size_t total) {
  reporter_.progress(Progress{phase, done, failed, total, bytes_sent_});
}

// Runs f on every host, at most `parallel` at once (parallel_for); an
// exception escaping f marks that host failed with it, the others go on.
transport::Awaitable<void> DeployRun::for_each(std::vector<Host*> hosts, int parallel,
                                               std::function<transport::Awaitable<void>(Host&)> f) {
  auto list = std::make_shared<std::vector<Host*>>(std::move(hosts));
  auto one = [list, f = std::move(f)](std::size_t i) { return f(*(*list)[i]); };
  auto on_error = [list](std::size_t i, const std::string& what) {
    Host* h = (*list)[i];
    h->failed = true;
    h->conn.set_error("internal error: " + what);
  };
  co_await parallel_for(list->size(), parallel, one, on_error);
}

transport::Awaitable<void> DeployRun::stage(Host& h) {
  const auto& d = plan_.deploy;
  const std::string V = plan_.version;
  auto fail = [&](const std::string& why) {
    h.failed = true;
    h.conn.set_error(why);  // the run's result names it (an upload's reason is not the connection's)
    abort_staging_ = true;
    report("stage", &h, why, Event::Level::fail);
  };
  if (abort_staging_ || interrupted_) co_return;
  if (!co_await h.conn.open(30)) co_return fail(h.conn.error());
  h.reached = true;
  std::vector<std::string> init{"init"};
  if (!(co_await h.conn.server("init", init, d.command_timeout)).ok()) co_return fail(h.conn.error());
  if (!co_await h.conn.lock(d.command_timeout)) {
    std::string why = h.conn.error();
    // Still say where the host stands (status needs no lock).
    if (auto st = co_await h.conn.status(d.command_timeout)) h.live_before = live_of(*st);
    co_return fail(why);
  }
  h.locked = true;
  auto st = co_await h.conn.status(d.command_timeout);
  if (!st) co_return fail(h.conn.error());
  h.live_before = live_of(*st);
  if (abort_staging_ || interrupted_) co_return;
  // The upload runs on the session, not through HostConn::run: check the lock here.
  if (h.conn.lock_lost()) co_return fail("stage: the deploy lock was lost before the upload; nothing was sent");
  // One command creates V, receives the tree and (without post_upload
  // steps) seals it: one channel and one process per host, not three.
  std::vector<std::string> flags = plan_.receive_flags();
  auto up = co_await upload_to_host(*h.conn.session(), h.conn.plan().ctx, V, manifest_, blobs_,
                                    transport::deadline_in(std::chrono::seconds(long(d.command_timeout) * 4)), flags);
  // Cut off (deadline, lost connection) rather than refused: V may exist
  // there, so the cleanup removes it (--missing-ok). A clean refusal before
  // the host said it created V ("V exists") must not: that V may be
  // someone else's.
  if (up.created || up.cut_off) h.created = true;
  bytes_sent_ += up.wire_bytes;
  journal_.record({{"host", h.conn.name()}, {"step", "upload"}, {"command", up.command}, {"ok", up.ok}, {"error", up.error},
                   {"files_sent", up.stats.files_sent}, {"files_linked", up.stats.files_linked},
                   {"bytes_sent", up.stats.bytes_sent}});
  if (!up.ok) co_return fail(up.error);
  if (!plan_.seals_on_receive()) {
    if (abort_staging_ || interrupted_) co_return;
    if (!co_await run_service(h, "post_upload", plan_.service_config.post_upload, version_dir(h.conn.plan().ctx, V)))
      co_return fail(h.conn.error());
    std::vector<std::string> seal{"seal", V};
    if (!(co_await h.conn.server("seal", seal, d.command_timeout)).ok()) co_return fail(h.conn.error());
  }
  h.sealed = true;
  report("stage", &h,
         "staged " + V + " (" + std::to_string(up.stats.files_sent) + " files sent, " +
             std::to_string(up.stats.files_linked) + " linked, " + std::to_string(up.stats.files_copied) +
             " copied here, " + std::to_string(up.stats.bytes_sent) + " bytes on the wire)",
         Event::Level::ok,
         {{"files_sent", up.stats.files_sent}, {"files_linked", up.stats.files_linked}, {"bytes_sent", up.stats.bytes_sent}});
}

transport::Awaitable<bool> DeployRun::run_service(Host& h, const std::string& step,
                                                  const std::vector<std::string>& lines, const std::string& cwd) {
  ServiceEnv env{plan_.service, plan_.version, h.live_before};
  for (const auto& line : lines) {
    auto cmd = service_command(h.conn.plan().ctx, env, line, cwd);
    if (!(co_await h.conn.run(step, std::move(cmd), plan_.deploy.command_timeout)).ok()) co_return false;
  }
  co_return true;
}

transport::Awaitable<bool> DeployRun::health(Host& h) {
  const auto& svc = plan_.service_config;
  const auto& d = plan_.deploy;
  if (svc.health.empty()) co_return true;
  ServiceEnv env{plan_.service, plan_.version, h.live_before};
  for (int attempt = 1; attempt <= d.health_retries; ++attempt) {
    auto cmd = service_command(h.conn.plan().ctx, env, svc.health, h.conn.plan().ctx.home);
    auto r = co_await h.conn.run("health", std::move(cmd), d.health_timeout);
    if (r.ok()) co_return true;
    if (interrupted_ || attempt == d.health_retries) break;
    co_await sleep_for(d.health_interval);
  }
  h.conn.set_error("health check failed " + std::to_string(d.health_retries) + " times; last: " + h.conn.error());
  co_return false;
}

transport::Awaitable<void> DeployRun::switch_host(Host& h) {
  const auto& svc = plan_.service_config;
  const auto& ctx = h.conn.plan().ctx;
  auto fail = [&] {
    h.failed = true;
    report("switch", &h, h.conn.error(), Event::Level::fail);
  };
  // The lock lost since staging (its holder on the host died): touch nothing,
  // not even the stop, so there is nothing to undo here either.
  if (h.conn.lock_lost()) {
    h.conn.set_error("switch: the deploy lock was lost after staging; nothing was run here (see the journal)");
    co_return fail();
  }
  // Nothing live yet (first deploy): there is nothing to stop.
  if (!plan_.refresh && !h.live_before.empty()) {
    h.stopped = true;  // a stop that fails half-way may still have stopped something
    if (!co_await run_service(h, "stop", svc.stop, ctx.home)) co_return fail();
  }
  std::vector<std::string> upgrade{"upgrade-to", plan_.version};
  h.switched = true;
  if (!(co_await h.conn.server("upgrade-to", upgrade, plan_.deploy.command_timeout)).ok())
    co_return fail();
  // Refresh reloads a running service; on a host's first deploy nothing runs
  // yet (a reload would fail), so it is started.
  const bool refresh = plan_.refresh && !h.live_before.empty();
  if (!co_await run_service(h, refresh ? "refresh" : "start", refresh ? svc.refresh : svc.start, ctx.home))
    co_return fail();
  if (!co_await health(h)) co_return fail();
  h.healthy = true;
  report("switch", &h, "live on " + plan_.version + (svc.health.empty() ? "" : ", healthy"), Event::Level::ok);
}

// The undo of switch_host: stop, rollback-to the version live before, start
// (never refresh: the old version's code is started afresh).
transport::Awaitable<void> DeployRun::undo_switch(Host& h) {
  const auto& svc = plan_.service_config;
  const auto& ctx = h.conn.plan().ctx;
  // The old version's commands see it as the version going live.
  ServiceEnv env{plan_.service, h.live_before, plan_.version};
  auto run_old = [&](const std::string& step, const std::vector<std::string>& lines) -> transport::Awaitable<bool> {
    for (const auto& line : lines) {
      auto cmd = service_command(ctx, env, line, ctx.home);
      if (!(co_await h.conn.run(step, std::move(cmd), plan_.deploy.command_timeout)).ok()) co_return false;
    }
    co_return true;
  };
  if (h.rolled_back) co_return;  // undone already (a tolerated failure of an earlier batch)
  h.rollback_failed = false;
  if (!h.switched) {
    if (h.stopped) {
      // Never switched, but stopped: start the old version again.
      if (co_await run_old("start", svc.start)) {
        h.rolled_back = true;
        h.stopped = false;
        report("rollback", &h, "not switched; started again on " + h.live_before, Event::Level::ok);
      } else {
        h.rollback_failed = true;
        h.rollback_error = h.conn.error();
        report("rollback", &h, "start after a failed stop failed: " + h.rollback_error, Event::Level::fail);
      }
    }
    co_return;
  }
  if (h.live_before.empty()) {
    h.rollback_failed = true;
    h.rollback_error = "no previous version to go back to (first deploy to this host); " + plan_.version + " stays live";
    report("rollback", &h, h.rollback_error, Event::Level::fail);
    co_return;
  }
  // A failing stop must not keep the old version from coming back: go on.
  bool stop_ok = co_await run_old("stop", svc.stop);
  std::string stop_error = stop_ok ? "" : h.conn.error();
  std::vector<std::string> back{"rollback-to", h.live_before};
  if (!(co_await h.conn.server("rollback-to", back, plan_.deploy.command_timeout)).ok()) {
    h.rollback_failed = true;
    h.rollback_error = h.conn.error();
    report("rollback", &h, "could not switch back: " + h.rollback_error, Event::Level::fail);
    co_return;
  }
  h.switched = false;
  h.stopped = false;
  if (!co_await run_old("start", svc.start)) {
    h.rollback_failed = true;
    h.rollback_error = "back on " + h.live_before + " but start failed: " + h.conn.error();
    report("rollback", &h, h.rollback_error, Event::Level::fail);
    co_return;
  }
  h.rolled_back = true;
  report("rollback", &h, "back on " + h.live_before + (stop_ok ? "" : " (stop had failed: " + stop_error + ")"),
         Event::Level::ok);
}

transport::Awaitable<void> DeployRun::remove_version(Host& h) {
  if (!h.created || !h.conn.connected()) {
    if (h.created) h.remove_failed = true;
    co_return;
  }
  std::vector<std::string> rm{"remove", plan_.version, "--missing-ok"};
  if ((co_await h.conn.server("remove", rm, plan_.deploy.command_timeout)).ok()) {
    h.removed = true;
    report("cleanup", &h, "removed " + plan_.version, Event::Level::ok);
  } else {
    h.remove_failed = true;
    report("cleanup", &h, "could not remove " + plan_.version + ": " + h.conn.error(), Event::Level::fail);
  }
}

transport::Awaitable<DeployOutcome> DeployRun::run() {
  const std::string V = plan_.version;
  journal_.record({{"event", "start"}, {"version", V}, {"service", plan_.service}, {"owner", plan_.owner},
                   {"hosts", hosts_.size()}});
  std::vector<Host*> all;
  for (auto& h : hosts_) all.push_back(h.get());

  report("stage", nullptr, "staging " + V + " on " + std::to_string(all.size()) + " hosts", Event::Level::info);
  std::size_t finished = 0, failed_so_far = 0;
  auto stage_one = [this, &finished, &failed_so_far, &all](Host& h) -> transport::Awaitable<void> {
    std::exception_ptr surprise;
    try {
      co_await stage(h);
    } catch (...) {
      abort_staging_ = true;  // whatever went wrong, no host may be switched
      surprise = std::current_exception();
    }
    ++finished;
    if (h.failed || surprise) ++failed_so_far;
    tick("stage", finished, failed_so_far, all.size());
    if (surprise) std::rethrow_exception(surprise);
  };
  co_await for_each(all, plan_.parallel, stage_one);
  std::size_t staged = std::count_if(all.begin(), all.end(), [](Host* h) { return h->sealed; });
  std::size_t stage_failed = std::count_if(all.begin(), all.end(), [](Host* h) { return h->failed; });

  auto release_all = [this, &all]() -> transport::Awaitable<void> {
    auto rel = [](Host& h) -> transport::Awaitable<void> { co_await h.conn.release(); };
    co_await for_each(all, int(all.size()), rel);
  };

  if (stage_failed > 0 || interrupted_ || staged < all.size()) {
    report("cleanup", nullptr, "staging did not complete everywhere: removing " + V + "; no host was switched",
           Event::Level::fail);
    std::vector<Host*> created;
    for (auto* h : all)
      if (h->created) created.push_back(h);
    auto rm = [this](Host& h) { return remove_version(h); };
    co_await for_each(created, plan_.parallel, rm);
    co_await release_all();
    bool clean = std::none_of(all.begin(), all.end(), [](Host* h) { return h->remove_failed; });
    int code = interrupted_ ? (clean ? 130 : 3) : (clean ? 1 : 3);
    std::string what = interrupted_ ? "interrupted while staging" : "staging failed on " + std::to_string(stage_failed) + " host(s)";
    co_return outcome(code, what + "; nothing switched; " +
                                (clean ? V + " removed" : V + " could NOT be removed everywhere (see below)"));
  }

  bool rollback = false;
  std::string why;
  std::vector<Host*> done;
  // The progress view counts the whole fleet through the switch, not one batch.
  std::size_t through_switch = 0, switch_failed = 0;
  for (std::size_t b = 0; b < plan_.batches.size() && !rollback; ++b) {
    if (interrupted_) {
      rollback = true;
      why = "interrupted";
      break;
    }
    std::vector<Host*> batch;
    for (auto i : plan_.batches[b]) batch.push_back(hosts_[i].get());
    report("switch", nullptr,
           "batch " + std::to_string(b + 1) + "/" + std::to_string(plan_.batches.size()) + ": " +
               std::to_string(batch.size()) + " host(s)",
           Event::Level::info);
    auto sw = [this, &through_switch, &switch_failed, &all](Host& h) -> transport::Awaitable<void> {
      std::exception_ptr surprise;
      try {
        co_await switch_host(h);
      } catch (...) {
        surprise = std::current_exception();
      }
      ++through_switch;
      if (h.failed || surprise) ++switch_failed;
      tick("switch", through_switch, switch_failed, all.size());
      if (surprise) std::rethrow_exception(surprise);
    };
    co_await for_each(batch, int(batch.size()), sw);
    // Counted after the fact: a host whose switch threw is failed too.
    std::size_t bad = std::count_if(batch.begin(), batch.end(), [](Host* h) { return h->failed; });
    done.insert(done.end(), batch.begin(), batch.end());
    if (int(bad) > plan_.max_fail) {
      rollback = true;
      why = "batch " + std::to_string(b + 1) + " had " + std::to_string(bad) + " failed host(s), more than max_fail " +
            std::to_string(plan_.max_fail);
    } else if (bad > 0) {
      // Tolerated failures still go back to their previous version.
      std::vector<Host*> failed;
      for (auto* h : batch)
        if (h->failed) failed.push_back(h);
      auto undo = [this](Host& h) { return undo_switch(h); };
      co_await for_each(failed, int(failed.size()), undo);
    }
  }
  if (interrupted_ && !rollback) {
    rollback = true;
    why = "interrupted";
  }

  if (rollback) {
    report("rollback", nullptr, why + ": putting every switched host back on its own previous version",
           Event::Level::fail);
    std::vector<Host*> back;
    for (auto* h : done)
      if ((h->switched || h->stopped) && !h->rolled_back) back.push_back(h);
    auto undo = [this](Host& h) { return undo_switch(h); };
    co_await for_each(back, int(std::max<std::size_t>(1, back.size())), undo);
    // The staged-but-never-switched hosts keep V as a ready version: harmless,
    // and gc removes it. Switching nothing more is what matters.
    co_await release_all();
    bool clean = std::none_of(all.begin(), all.end(), [](Host* h) { return h->rollback_failed; });
    int code = interrupted_ ? (clean ? 130 : 3) : (clean ? 1 : 3);
    co_return outcome(code, why + (clean ? "; fleet rolled back" : "; ROLLBACK INCOMPLETE"));
  }
  co_await release_all();
  std::size_t healthy = std::count_if(all.begin(), all.end(), [](Host* h) { return h->healthy && h->switched; });
  bool undo_failed = std::any_of(all.begin(), all.end(), [](Host* h) { return h->rollback_failed; });
  std::string summary = "deployed " + V + " to " + std::to_string(healthy) + " of " + std::to_string(all.size()) + " host(s)";
  if (healthy < all.size())
    summary += "; " + std::to_string(all.size() - healthy) + " failed within max_fail" +
               (undo_failed ? " and could NOT all be put back" : " and went back to their previous version");
  co_return outcome(undo_failed ? 3 : 0, summary);
}

DeployOutcome DeployRun::outcome(int code, const std::string& summary) {
  DeployOutcome o;
  o.exit_code = code;
  o.summary = summary;
  o.bytes_sent = bytes_sent_;
  const std::string& V = plan_.version;
  for (auto& hp : hosts_) {
    Host& h = *hp;
    HostStanding s;
    s.host = h.conn.name();
    s.live_before = h.live_before;
    s.live = h.switched ? V : h.live_before;
    if (!h.reached) {
      s.state = "not reached";
      s.error = h.conn.error();
      s.live = "";
      s.needs_attention = h.failed;
    } else if (h.rollback_failed) {
      s.state = "ROLLBACK FAILED";
      s.error = h.rollback_error;
      s.needs_attention = true;
    } else if (h.rolled_back) {
      s.state = "rolled back";
      s.error = h.failed ? h.conn.error() : "";
    } else if (h.healthy && h.switched) {
      s.state = "deployed";
    } else if (h.remove_failed) {
      s.state = "unchanged (staged " + V + " left behind: remove it or run gc)";
      s.error = h.conn.error();
      s.needs_attention = true;
    } else if (h.failed) {
      s.state = "failed (live unchanged)";
      s.error = h.conn.error();
    } else if (h.sealed && code != 0) {
      s.state = h.removed ? "unchanged (" + V + " removed)" : "unchanged (" + V + " staged, not switched)";
    } else {
      s.state = "unchanged";
    }
    o.hosts.push_back(std::move(s));
  }
  journal_.record({{"event", "end"}, {"exit", code}, {"summary", summary}});
  return o;
}

}  // namespace plugbox::orchestrator
