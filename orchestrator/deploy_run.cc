#include "orchestrator/deploy_run.h"

#include <cmath>
#include <algorithm>
#include <map>

#include "orchestrator/host_conn.h"
#include "orchestrator/host_steps.h"
#include "orchestrator/parallel_for.h"

namespace plugbox::orchestrator {

namespace asio = transport::asio;

struct DeployRun::Host {
  Host(transport::Transport& t, const PlannedHost& p, Journal& j) : conn(t, p, j) {}
  HostConn conn;
  HostState state = HostState::stage_not_begun;
  std::string live_before;  // live when staging began ("" = none)
  std::string live;         // live now, as far as this run knows
  // V may exist here because of this run: the cleanup removes it. Set when
  // the host said it created V, and when the upload was cut off (it may have).
  bool created = false;
  bool locked = false;  // connected, initialised, locked, live_before read
  SwitchProgress progress;  // how far the switch got: what its undo must do
  SiteRelay* relay = nullptr;  // its site's relay, when fan-out runs there
  std::string error;        // the failure that concerned this host
};

namespace {

transport::Awaitable<void> sleep_for(double seconds) {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex, std::chrono::duration_cast<transport::Clock::duration>(std::chrono::duration<double>(seconds)));
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// The states a host ends a successful or tolerated undo in.
bool undone(HostState s) { return s == HostState::reverted || s == HostState::failed_tolerated; }

}  // namespace

DeployRun::DeployRun(transport::Transport& transport, const DeployPlan& plan, const upload::Manifest& manifest,
                     const upload::BlobStore& blobs, Reporter& reporter, Journal& journal, const Interrupt& interrupt)
    : transport_(transport),
      plan_(plan),
      manifest_(manifest),
      blobs_(blobs),
      reporter_(reporter),
      journal_(journal),
      interrupt_(interrupt) {
  for (const auto& p : plan_.hosts) hosts_.push_back(std::make_unique<Host>(transport_, p, journal_));
}

DeployRun::~DeployRun() = default;

void DeployRun::report(const std::string& phase, Host* h, const std::string& what, Event::Level level,
                       nlohmann::json data) {
  Event e{phase, h ? h->conn.name() : "", what, level, std::move(data)};
  journal_.record({{"event", phase}, {"host", e.host}, {"message", what},
                   {"level", level == Event::Level::fail ? "fail" : level == Event::Level::ok ? "ok" : "info"}});
  reporter_.event(e);
}

void DeployRun::tick(const std::string& phase, std::size_t done, std::size_t failed, std::size_t total) {
  std::uint64_t link = bytes_sent_;
  for (const auto& r : relays_) link += r->bytes_to_relay();
  reporter_.progress(Progress{phase, done, failed, total, link, bytes_fanned_});
}

void DeployRun::fail(Host& h, const std::string& phase, const std::string& why) {
  if (h.state != HostState::unreachable) h.state = HostState::failed_unchanged;
  h.error = why;
  if (phase == "stage") abort_staging_ = true;
  report(phase, &h, why, Event::Level::fail);
}

// Runs f on every host, at most `parallel` at once (parallel_for); an
// exception escaping f marks that host failed with it, the others go on.
transport::Awaitable<void> DeployRun::for_each(std::vector<Host*> hosts, int parallel,
                                               std::function<transport::Awaitable<void>(Host&)> f) {
  auto list = std::make_shared<std::vector<Host*>>(std::move(hosts));
  auto one = [list, f = std::move(f)](std::size_t i) { return f(*(*list)[i]); };
  auto on_error = [list](std::size_t i, const std::string& what) {
    Host* h = (*list)[i];
    h->state = HostState::failed_unchanged;
    h->error = "internal error: " + what;
  };
  co_await parallel_for(list->size(), parallel, one, on_error);
}

transport::Awaitable<void> DeployRun::lock_host(Host& h) {
  const auto& d = plan_.deploy;
  if (abort_staging_ || stopping()) co_return;
  if (!co_await h.conn.open(d.connect_timeout)) {
    // Connected but its server could not be made to run (installed): the
    // host is reachable and untouched.
    h.state = h.conn.connected() ? HostState::unchanged : HostState::unreachable;
    co_return fail(h, "stage", h.conn.error());
  }
  h.state = HostState::unchanged;
  Step init{"init", server_cmd::init(h.conn.ctx()), d.command_timeout};
  if (!(co_await h.conn.run(init)).ok()) co_return fail(h, "stage", h.conn.error());
  if (!co_await h.conn.lock(d.command_timeout)) {
    std::string why = h.conn.error();
    // Still say where the host stands (status needs no lock).
    if (auto st = co_await h.conn.status(d.command_timeout)) h.live = h.live_before = st->live;
    co_return fail(h, "stage", why);
  }
  auto st = co_await h.conn.status(d.command_timeout);
  if (!st) co_return fail(h, "stage", h.conn.error());
  h.live = h.live_before = st->live;
  h.locked = true;
}

transport::Awaitable<void> DeployRun::stage(Host& h) {
  const auto& d = plan_.deploy;
  const std::string& V = plan_.version;
  if (abort_staging_ || stopping() || !h.locked) co_return;
  // One command creates V, receives the tree and (without post_upload
  // steps) seals it: one channel and one process per host, not three.
  // (Arguments are named, never temporaries in a co_await expression: g++ 12
  // destroys those twice.)
  const std::vector<std::string> flags = plan_.receive_flags();
  auto up = co_await h.conn.upload(V, manifest_, blobs_, d.command_timeout * 4, flags, h.relay);
  // Cut off (deadline, lost connection) rather than refused: V may exist
  // there, so the cleanup removes it (--missing-ok). A clean refusal before
  // the host said it created V ("V exists") must not: that V may be
  // someone else's.
  if (up.created || up.cut_off) h.created = true;
  bytes_sent_ += up.wire_bytes;
  bytes_fanned_ += up.stats.bytes_fetched;
  if (!up.fetch_failure.empty())
    report("stage", &h, "fan-out: " + std::to_string(up.stats.fetches_failed) + " content(s) sent directly instead: " +
                            up.fetch_failure, Event::Level::info);
  if (!up.ok) co_return fail(h, "stage", up.error);
  if (!plan_.seals_on_receive()) {
    if (abort_staging_ || stopping()) co_return;
    StepContext c{h.conn.ctx(), plan_.service_config, d.command_timeout};
    const Steps post = post_upload_steps(c, V, h.live_before);
    if (!(co_await h.conn.run_steps(post)).ok)
      co_return fail(h, "stage", h.conn.error());
    Step seal{"seal", server_cmd::seal(h.conn.ctx(), V), d.command_timeout};
    if (!(co_await h.conn.run(seal)).ok()) co_return fail(h, "stage", h.conn.error());
  }
  h.state = HostState::staged_kept;
  report("stage", &h,
         "staged " + V + " (" + std::to_string(up.stats.files_sent) + " files sent" +
             (up.stats.files_patched ? " (" + std::to_string(up.stats.files_patched) + " as patches)" : std::string()) +
             (up.stats.files_fetched ? " (" + std::to_string(up.stats.files_fetched) + " from the site's relay)"
                                     : std::string()) +
             ", " + std::to_string(up.stats.files_linked) + " linked, " + std::to_string(up.stats.files_copied) +
             " copied here, " + std::to_string(up.stats.bytes_sent) + " bytes on the wire)",
         Event::Level::ok,
         {{"files_sent", up.stats.files_sent}, {"files_linked", up.stats.files_linked},
          {"files_patched", up.stats.files_patched}, {"bytes_sent", up.stats.bytes_sent},
          {"files_fetched", up.stats.files_fetched}, {"bytes_fetched", up.stats.bytes_fetched}});
}

transport::Awaitable<void> DeployRun::start_relays(const std::vector<Host*>& all) {
  const auto& d = plan_.deploy;
  if (!d.fan_out || abort_staging_ || stopping()) co_return;
  // A site (PlannedHost::site): the hosts with the same `site` var, else
  // behind the same outermost jump host, the far end of the slow link. A
  // host of the site that cannot reach the relay (another network behind a
  // second jump host, a firewall) fetches nothing and is sent its contents
  // directly; hosts reached directly without the var are not a site.
  std::map<std::string, std::vector<Host*>> sites;
  for (Host* h : all)
    if (h->locked && !h->conn.plan().site.empty()) sites[h->conn.plan().site].push_back(h);
  // Every site's relay at once: one round trip, not one per site. Each on
  // the site's first host, for the first group of its hosts; then a relay
  // per further group, fetching from it (SiteRelay::start's `upstream`).
  struct Group {
    std::unique_ptr<SiteRelay> relay;
    std::vector<Host*> hosts;
    SiteRelay* upstream = nullptr;  // none: the site's own relay
    std::vector<Host*> site_hosts;  // of a site's relay: all its site's hosts
  };
  std::vector<Group> roots;
  for (auto& [site, hosts] : sites)
    if (hosts.size() >= 2)  // one host: nothing to share
      roots.push_back({std::make_unique<SiteRelay>(site), {}, nullptr, std::move(hosts)});
  const double timeout = std::min(d.connect_timeout, 15.0);
  const int port = d.fan_out_port;
  auto start_all = [this, timeout, port](std::vector<Group>& list) -> transport::Awaitable<void> {
    auto one = [this, &list, timeout, port](std::size_t i) -> transport::Awaitable<void> {
      Group& g = list[i];
      Host& at = *g.hosts.front();
      if (co_await g.relay->start(at.conn, port, timeout, g.upstream)) {
        for (Host* h : g.hosts) h->relay = g.relay.get();
        report("stage", &at, "fan-out: relay for " + std::to_string(g.hosts.size()) + " host(s) of site " +
                                 g.relay->site() + " at " + g.relay->endpoint() +
                                 (g.upstream ? ", fetching from " + g.upstream->endpoint() : std::string()),
               Event::Level::info);
      } else {
        report("stage", &at, "fan-out: no relay on " + at.conn.name() + " for site " + g.relay->site() + " (" +
                                 g.relay->why() + "): " +
                                 (g.upstream ? "its hosts fetch from the site's relay" : "its hosts are sent their own copies"),
               Event::Level::info);
      }
    };
    co_await parallel_for(list.size(), int(std::max<std::size_t>(1, list.size())), one);
  };
  // The site's first sqrt(N) hosts take the site's relay, every further
  // group of as many a relay of its own (a host whose server is older than
  // upload protocol 2 has no --upstream: its group stays with the site's).
  for (Group& r : roots) {
    const std::size_t n = r.site_hosts.size();
    const std::size_t per = std::max<std::size_t>(1, std::size_t(std::sqrt(double(n))));
    r.hosts.assign(r.site_hosts.begin(), r.site_hosts.begin() + std::ptrdiff_t(std::min(per, n)));
  }
  co_await start_all(roots);
  std::vector<Group> groups;
  for (Group& r : roots) {
    if (r.hosts.front()->relay != r.relay.get()) continue;  // the site's relay did not start
    const std::size_t n = r.site_hosts.size(), per = r.hosts.size();
    for (std::size_t at = per; at < n; at += per) {
      std::vector<Host*> hosts(r.site_hosts.begin() + std::ptrdiff_t(at),
                               r.site_hosts.begin() + std::ptrdiff_t(std::min(at + per, n)));
      for (Host* h : hosts) h->relay = r.relay.get();  // unless its group's relay starts
      if (hosts.front()->conn.upload_protocol() < 2) continue;
      groups.push_back({std::make_unique<SiteRelay>(r.relay->site()), std::move(hosts), r.relay.get(), {}});
    }
  }
  co_await start_all(groups);
  for (auto& g : roots) relays_.push_back(std::move(g.relay));
  for (auto& g : groups) relays_.push_back(std::move(g.relay));
}

transport::Awaitable<void> DeployRun::finish_relays() {
  // Group relays first: they end before the site's relay they fetch from.
  for (bool site_relays : {false, true}) {
    std::vector<SiteRelay*> now;
    for (auto& r : relays_)
      if ((r->upstream() == nullptr) == site_relays) now.push_back(r.get());
    auto one = [&now](std::size_t i) -> transport::Awaitable<void> { co_await now[i]->finish(30); };
    co_await parallel_for(now.size(), int(std::max<std::size_t>(1, now.size())), one);
  }
  for (auto& r : relays_)
    journal_.record({{"event", "fan_out"}, {"site", r->site()}, {"host", r->host()}, {"endpoint", r->endpoint()},
                     {"upstream", r->upstream() ? nlohmann::json(r->upstream()->endpoint()) : nlohmann::json(nullptr)},
                     {"bytes_to_relay", r->bytes_to_relay()}, {"served", r->served()}, {"problem", r->why()}});
}

transport::Awaitable<bool> DeployRun::health(Host& h) {
  const auto& d = plan_.deploy;
  StepContext c{h.conn.ctx(), plan_.service_config, d.command_timeout};
  auto step = health_step(c, plan_.version, h.live_before, d.health_timeout);
  if (!step) co_return true;
  int attempts = 0;
  while (attempts < d.health_retries) {
    ++attempts;
    if ((co_await h.conn.run(*step)).ok()) co_return true;
    if (stopping() || attempts == d.health_retries) break;
    co_await sleep_for(d.health_interval);
  }
  // The attempts made: a Ctrl-C stops the retries early.
  h.conn.set_error("health check failed " + std::to_string(attempts) + (attempts == 1 ? " time" : " times") +
                   "; last: " + h.conn.error());
  co_return false;
}

transport::Awaitable<void> DeployRun::switch_host(Host& h) {
  // The lock lost since staging (its holder on the host died): touch nothing,
  // not even the stop, so there is nothing to undo here either.
  if (h.conn.lock_lost())
    co_return fail(h, "switch", "switch: the deploy lock was lost after staging; nothing was run here (see the journal)");
  StepContext c{h.conn.ctx(), plan_.service_config, plan_.deploy.command_timeout};
  // One transaction on the host: once begun, it finishes there even if this
  // process or its connection dies, and the host records each step.
  const TxnSpec spec{plan_.version, "deploy", "switch", h.live_before, plan_.version,
                     switch_steps(c, plan_.version, h.live_before)};
  StepsResult r = co_await h.conn.run_txn(spec);
  h.progress.note(spec.steps, r.begun, r.skipped);
  // A command cut off by its deadline may have switched the host anyway, and
  // rollback-to the old version is harmless if not.
  if (h.progress.switched) h.live = plan_.version;
  if (!r.ok || !co_await health(h)) co_return fail(h, "switch", h.conn.error());
  h.state = HostState::deployed;
  report("switch", &h, "live on " + plan_.version + (plan_.service_config.health.empty() ? "" : ", healthy"),
         Event::Level::ok);
}

transport::Awaitable<void> DeployRun::undo_switch(Host& h, bool tolerated) {
  if (undone(h.state)) co_return;  // undone already (a tolerated failure of an earlier batch)
  const std::string& V = plan_.version;
  if (h.progress.switched && h.live_before.empty()) {
    h.state = HostState::revert_failed;
    h.error = "no previous version to go back to (first deploy to this host); " + V + " stays live";
    co_return report("rollback", &h, h.error, Event::Level::fail);
  }
  StepContext c{h.conn.ctx(), plan_.service_config, plan_.deploy.command_timeout};
  const TxnSpec spec{V, "deploy", "undo", h.live_before, V, undo_steps(c, h.progress, h.live_before, V)};
  const Steps& steps = spec.steps;
  if (steps.empty()) {
    // Nothing was touched here: the host is on its previous version already.
    if (tolerated) h.state = HostState::failed_tolerated;
    co_return;
  }
  StepsResult r = co_await h.conn.run_txn(spec);
  // Where the failing step stands against the switch back tells where live is.
  const bool switching = has_live_switch(steps);
  const bool switched_back = r.switched_live(steps);
  if (switched_back) h.live = h.live_before;
  if (!r.ok) {
    h.state = HostState::revert_failed;
    if (!switching) h.error = "start after a failed stop failed: " + h.conn.error();
    else if (switched_back) h.error = "back on " + h.live_before + " but start failed: " + h.conn.error();
    else h.error = "could not switch back: " + h.conn.error();
    co_return report("rollback", &h, h.error, Event::Level::fail);
  }
  h.progress = {};
  h.state = tolerated ? HostState::failed_tolerated : HostState::reverted;
  std::string how = !switching ? "not switched; started again on " + h.live_before : "back on " + h.live_before;
  if (!r.tolerated.empty()) how += " (stop had failed: " + r.tolerated.front() + ")";
  report("rollback", &h, how, Event::Level::ok);
}

transport::Awaitable<void> DeployRun::remove_version(Host& h) {
  const std::string& V = plan_.version;
  bool removed = false;
  if (h.conn.connected()) {
    Step rm{"remove", server_cmd::remove(h.conn.ctx(), V), plan_.deploy.command_timeout};
    removed = (co_await h.conn.run(rm)).ok();
  }
  if (!removed) {
    h.state = HostState::staged_left_behind;
    h.error = h.conn.error();
    co_return report("cleanup", &h, "could not remove " + V + ": " + h.conn.error(), Event::Level::fail);
  }
  if (h.state == HostState::staged_kept) h.state = HostState::staged_removed;
  report("cleanup", &h, "removed " + V, Event::Level::ok);
}

transport::Awaitable<RunOutcome> DeployRun::run() {
  const std::string V = plan_.version;
  journal_.record({{"event", "start"}, {"version", V}, {"service", plan_.service}, {"owner", plan_.owner},
                   {"hosts", hosts_.size()}});
  std::vector<Host*> all;
  for (auto& h : hosts_) all.push_back(h.get());
  auto count = [&all](auto pred) { return std::size_t(std::count_if(all.begin(), all.end(), pred)); };
  auto failed = [](Host* h) { return h->state == HostState::failed_unchanged || h->state == HostState::unreachable; };

  report("stage", nullptr, "staging " + V + " on " + std::to_string(all.size()) + " hosts", Event::Level::info);
  std::size_t finished = 0, failed_so_far = 0;
  // Every host is locked before any is sent anything: a host held by another
  // deploy or locked for maintenance, or one that cannot be reached, stops
  // the deploy before V exists anywhere.
  auto lock_one = [this, &finished, &failed_so_far, &all, failed](Host& h) -> transport::Awaitable<void> {
    std::exception_ptr surprise;
    try {
      co_await lock_host(h);
    } catch (...) {
      abort_staging_ = true;  // whatever went wrong, no host may be switched
      surprise = std::current_exception();
    }
    if (failed(&h) || surprise) {
      ++finished;
      ++failed_so_far;
      tick("stage", finished, failed_so_far, all.size());
    }
    if (surprise) std::rethrow_exception(surprise);
  };
  co_await for_each(all, plan_.parallel, lock_one);
  co_await start_relays(all);
  auto stage_one = [this, &finished, &failed_so_far, &all, failed](Host& h) -> transport::Awaitable<void> {
    if (!h.locked) co_return;  // counted when it failed
    std::exception_ptr surprise;
    try {
      co_await stage(h);
    } catch (...) {
      abort_staging_ = true;
      surprise = std::current_exception();
    }
    ++finished;
    if (failed(&h) || surprise) ++failed_so_far;
    tick("stage", finished, failed_so_far, all.size());
    if (surprise) std::rethrow_exception(surprise);
  };
  co_await for_each(all, plan_.parallel, stage_one);
  co_await finish_relays();

  auto release_all = [this, &all]() -> transport::Awaitable<void> {
    auto rel = [](Host& h) -> transport::Awaitable<void> { co_await h.conn.release(); };
    co_await for_each(all, int(all.size()), rel);
  };

  std::size_t stage_failed = count(failed);
  if (stage_failed > 0 || stopping() || count([](Host* h) { return h->state == HostState::staged_kept; }) < all.size()) {
    report("cleanup", nullptr, "staging did not complete everywhere: removing " + V + "; no host was switched",
           Event::Level::fail);
    std::vector<Host*> created;
    for (auto* h : all)
      if (h->created) created.push_back(h);
    auto rm = [this](Host& h) { return remove_version(h); };
    co_await for_each(created, plan_.parallel, rm);
    co_await release_all();
    bool clean = count([](Host* h) { return h->state == HostState::staged_left_behind; }) == 0;
    std::string what = stopping() ? "interrupted while staging" : "staging failed on " + std::to_string(stage_failed) + " host(s)";
    std::string left = created.empty() ? V + " was sent to no host"
                       : clean         ? V + " removed"
                                       : V + " could NOT be removed everywhere (see below)";
    co_return outcome(what + "; nothing switched; " + left);
  }

  bool rollback = false;
  std::string why;
  std::vector<Host*> done;
  // The progress view counts the whole fleet through the switch, not one batch.
  std::size_t through_switch = 0, switch_failed = 0;
  for (std::size_t b = 0; b < plan_.batches.size() && !rollback; ++b) {
    if (stopping()) break;
    std::vector<Host*> batch;
    for (auto i : plan_.batches[b]) batch.push_back(hosts_[i].get());
    report("switch", nullptr,
           "batch " + std::to_string(b + 1) + "/" + std::to_string(plan_.batches.size()) + ": " +
               std::to_string(batch.size()) + " host(s)",
           Event::Level::info);
    auto sw = [this, &through_switch, &switch_failed, &all, failed](Host& h) -> transport::Awaitable<void> {
      std::exception_ptr surprise;
      try {
        co_await switch_host(h);
      } catch (...) {
        surprise = std::current_exception();
      }
      ++through_switch;
      if (failed(&h) || surprise) ++switch_failed;
      tick("switch", through_switch, switch_failed, all.size());
      if (surprise) std::rethrow_exception(surprise);
    };
    co_await for_each(batch, int(batch.size()), sw);
    // Counted after the fact: a host whose switch threw is failed too.
    std::vector<Host*> bad;
    for (auto* h : batch)
      if (failed(h)) bad.push_back(h);
    done.insert(done.end(), batch.begin(), batch.end());
    if (int(bad.size()) > plan_.max_fail) {
      rollback = true;
      why = "batch " + std::to_string(b + 1) + " had " + std::to_string(bad.size()) +
            " failed host(s), more than max_fail " + std::to_string(plan_.max_fail);
    } else if (!bad.empty()) {
      // Tolerated failures still go back to their previous version.
      auto undo = [this](Host& h) { return undo_switch(h, /*tolerated=*/true); };
      co_await for_each(bad, int(bad.size()), undo);
    }
  }
  if (stopping() && !rollback) {
    rollback = true;
    why = "interrupted";
  }

  if (rollback) {
    report("rollback", nullptr, why + ": putting every switched host back on its own previous version",
           Event::Level::fail);
    std::vector<Host*> back;
    for (auto* h : done)
      if ((h->progress.switched || h->progress.stopped) && !undone(h->state)) back.push_back(h);
    auto undo = [this](Host& h) { return undo_switch(h, /*tolerated=*/false); };
    co_await for_each(back, int(std::max<std::size_t>(1, back.size())), undo);
    // The staged-but-never-switched hosts keep V as a ready version: harmless,
    // and gc removes it. Switching nothing more is what matters.
    co_await release_all();
    bool clean = count([](Host* h) { return h->state == HostState::revert_failed; }) == 0;
    co_return outcome(why + (clean ? "; fleet rolled back" : "; ROLLBACK INCOMPLETE"));
  }
  co_await release_all();
  std::size_t healthy = count([](Host* h) { return h->state == HostState::deployed; });
  bool undo_failed = count([](Host* h) { return h->state == HostState::revert_failed; }) > 0;
  std::string summary = "deployed " + V + " to " + std::to_string(healthy) + " of " + std::to_string(all.size()) + " host(s)";
  if (healthy < all.size())
    summary += "; " + std::to_string(all.size() - healthy) + " failed within max_fail" +
               (undo_failed ? " and could NOT all be put back" : " and went back to their previous version");
  co_return outcome(summary);
}

RunOutcome DeployRun::outcome(const std::string& summary) {
  RunOutcome o;
  o.summary = summary;
  o.bytes_sent = bytes_sent_;
  for (auto& hp : hosts_) {
    Host& h = *hp;
    HostStanding s;
    s.host = h.conn.name();
    s.live_before = h.live_before;
    s.live = h.live;
    s.state = h.state;
    s.subject = plan_.version;
    // A host switched and put back keeps its switch failure visible; one put
    // back only because the fleet went back has none.
    s.error = h.state == HostState::deployed ? "" : h.error;
    o.hosts.push_back(std::move(s));
  }
  o.exit = exit_status(o.states(), stopping());
  journal_.record_end(code(o.exit), summary);
  return o;
}

}  // namespace plugbox::orchestrator
