#include "orchestrator/host_conn.h"

#include <algorithm>

#include <sstream>

#include "orchestrator/parallel_for.h"
#include "transport/notifier.h"
#include "transport/session_mux.h"
#include "upload/common/stream_format.h"
#include "transport/stdin_pipe.h"

namespace plugbox::orchestrator {

namespace {

transport::Deadline after(double seconds) {
  return transport::deadline_in(std::chrono::duration_cast<transport::Clock::duration>(std::chrono::duration<double>(seconds)));
}

}  // namespace

std::string first_line(const std::string& s) {
  size_t start = s.find_first_not_of("\r\n \t");
  if (start == std::string::npos) return "";
  size_t end = s.find('\n', start);
  return s.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string describe_failure(const transport::ExecResult& r) {
  if (r.error) return r.error.message();
  std::string why = first_line(r.err);
  if (why.empty()) why = first_line(r.out);
  return why.empty() ? r.describe() : r.describe() + ": " + why;
}

struct HostConn::LockState {
  explicit LockState(transport::Executor ex) : changed(std::make_shared<transport::Notifier>(ex)) {}
  std::shared_ptr<transport::Notifier> changed;
  std::shared_ptr<transport::StdinPipe> pipe;
  bool held = false, ended = false;
  bool letting_go = false;  // we closed its stdin: its end is a release, not a loss
  bool lost = false;        // it ended while held and we had not let go
  std::string err;
  transport::ExecResult result;
};

HostConn::HostConn(transport::Transport& transport, const PlannedHost& plan, Journal& journal)
    : transport_(transport), plan_(plan), journal_(journal) {}

HostConn::~HostConn() {
  if (lock_) lock_->letting_go = true;  // hold_lock touches the journal only while we live
  if (lock_ && lock_->pipe) lock_->pipe->close();
  if (session_) session_->close();
}

transport::Awaitable<bool> HostConn::open(double timeout_s, OpenMode mode) {
  const bool bootstrap = mode == OpenMode::bootstrap;
  journal_.record({{"host", name()}, {"step", "connect"}, {"via", plan_.via}});
  transport::OpenResult r = co_await transport_.open(plan_.target, after(timeout_s));
  if (r.error) {
    error_ = r.error.message();
    journal_.record({{"host", name()}, {"step", "connect"}, {"error", error_}});
    co_return false;
  }
  session_ = r.session;
  const bool ours = plan_.ctx.server_source != ServerSource::pinned;
  EnsureOptions ensure;
  ensure.install = bootstrap || (mode == OpenMode::run && plan_.ctx.server_source == ServerSource::installed);
  if (mode == OpenMode::dry_run) ensure.why_not = "a dry run installs nothing";
  ensure.learn_arch = bootstrap;
  ensure.timeout_s = timeout_s;
  if (transport_.host_sessions()) {
    // Every later step of the run goes over this one channel; its hello names
    // the server, so a current one of ours costs nothing more. Ours missing
    // or of another version: installed, then the session starts on it. A
    // pinned server without `session` (an older one, of another release)
    // gets one exec per step as before: the run says so in the journal and
    // goes on.
    // (Each await is a statement of its own: g++ 12 mishandles an await in
    // a conditionally evaluated operand.)
    const bool started = co_await start_session(ours, timeout_s, ours);
    if (!started && ours) {
      const bool ok = co_await check_server(ensure);
      if (!ok) co_return false;
      // Ours found current: its session failed for another reason
      // (journaled), and the steps go one exec each.
      if (server_.action != "current") co_await start_session(ours, timeout_s, false);
    }
  } else if (ours) {
    // No session to carry the check: it costs one command (PLUGBOX_SESSION=off).
    const bool ok = co_await check_server(ensure);
    if (!ok) co_return false;
  }
  if (bootstrap && server_.action.empty()) {
    const bool ok = co_await check_server(ensure);
    if (!ok) co_return false;
  }
  co_return true;
}

transport::Awaitable<bool> HostConn::check_server(const EnsureOptions& opts) {
  server_ = co_await ensure_server(*this, ServerBuilds::local(), opts);
  if (server_.ok()) co_return true;
  error_ = server_.error;
  // The connection went while checking: the host was not reached after all.
  if (server_.lost_connection && session_) {
    session_->close();
    session_.reset();
  }
  co_return false;
}

transport::Awaitable<bool> HostConn::start_session(bool ours, double timeout_s, bool may_install) {
  auto cmd = server_cmd::session(plan_.ctx);
  journal_.record({{"host", name()}, {"step", "session"}, {"command", cmd.render()}});
  std::string expect = ours ? server_identity() : "";
  auto m = co_await transport::SessionMux::start(session_, std::move(cmd), after(timeout_s), transport_,
                                                 std::chrono::milliseconds(2000), std::move(expect));
  if (!m.session) {
    // Ours not there (or not this build) is checked and installed next: not
    // a fallback to one exec per step, unless it stays so.
    journal_.record({{"host", name()}, {"step", "session"}, {may_install ? "unusable" : "fallback", m.error.message()}});
    co_return false;
  }
  journal_.record({{"host", name()}, {"step", "session"}, {"server", m.session->server()}});
  upload_protocol_ = m.session->upload_protocol();
  session_ = std::move(m.session);
  co_return true;
}

bool HostConn::lock_lost() const { return lock_ && lock_->lost; }

std::optional<std::string> HostConn::refusal(const std::string& step) const {
  if (!session_) return step + ": not connected";
  // Once the lock's channel is gone, nothing more runs here but the read-only
  // steps: another deploy may hold the lock by now, and server commands under
  // our owner id would take it afresh one by one, letting one slip in between.
  // That goes for the service's own commands too (a stop without the lock
  // could stop what another deployer just started).
  if (lock_ && lock_->ended)
    return step + ": the deploy lock was lost (its channel ended): " + describe_failure(lock_->result);
  return std::nullopt;
}

transport::Awaitable<transport::ExecResult> HostConn::run(const Step& step) {
  transport::StdinSource none;
  co_return co_await run(step, std::move(none));
}

transport::Awaitable<transport::ExecResult> HostConn::run(const Step& step, transport::StdinSource input) {
  std::optional<std::string> refused;
  if (!step.read_only || !session_) refused = refusal(step.name);
  if (refused) {
    transport::ExecResult r;
    r.error = transport::make_error(transport::Errc::session_closed, step.name, name(), *refused);
    error_ = *refused;
    journal_.record({{"host", name()}, {"step", step.name}, {"refused", error_}});
    co_return r;
  }
  journal_.record({{"host", name()}, {"step", step.name}, {"command", step.command.render()}});
  transport::ExecOptions o;
  o.capture_stdout = o.capture_stderr = true;
  o.deadline = after(step.timeout_s);
  o.stdin_source = std::move(input);
  transport::ExecResult r = co_await session_->exec(step.command, std::move(o));
  nlohmann::json j = {{"host", name()}, {"step", step.name}, {"exit", r.exit_status}, {"stdout", r.out}, {"stderr", r.err}};
  if (r.error) j["error"] = r.error.message();
  journal_.record(std::move(j));
  if (!r.ok()) error_ = step.name + ": " + describe_failure(r);
  co_return r;
}

transport::Awaitable<StepsResult> HostConn::run_steps(const Steps& steps) {
  StepsResult out;
  for (const auto& step : steps) {
    // A step refused here (the lock lost) never reached the host: not begun.
    const bool refused = !step.read_only && refusal(step.name).has_value();
    if (!refused) ++out.begun;
    if ((co_await run(step)).ok()) continue;
    if (!step.tolerate_failure) {
      out.ok = false;
      co_return out;
    }
    out.tolerated.push_back(error_);
  }
  co_return out;
}

bool StepsResult::succeeded(std::size_t i, std::size_t count) const {
  if (i >= begun || std::find(skipped.begin(), skipped.end(), i) != skipped.end()) return false;
  if (failed_at) return *failed_at != i;
  return i + 1 < begun || (ok && begun == count);
}

bool StepsResult::switched_live(const Steps& steps) const {
  auto at = std::find_if(steps.begin(), steps.end(), [](const Step& s) { return s.effect == Effect::switches_live; });
  return at == steps.end() || succeeded(std::size_t(at - steps.begin()), steps.size());
}

transport::Awaitable<StepsResult> HostConn::run_txn(const TxnSpec& spec) {
  StepsResult out;
  if (auto refused = refusal(spec.txn)) {
    error_ = *refused;
    journal_.record({{"host", name()}, {"step", spec.txn}, {"refused", error_}});
    out.ok = false;
    co_return out;
  }
  double budget = 30;
  for (const auto& s : spec.steps) budget += s.timeout_s;
  nlohmann::json request = {{"run", spec.run},   {"kind", spec.kind}, {"txn", spec.txn},
                            {"from", spec.from.empty() ? nlohmann::json(nullptr) : nlohmann::json(spec.from)},
                            {"to", spec.to},     {"steps", to_json(spec.steps)}};
  auto cmd = server_cmd::switch_txn(plan_.ctx, int(budget));
  journal_.record({{"host", name()}, {"step", spec.txn}, {"command", cmd.render()}, {"request", request}});
  transport::ExecOptions o;
  o.capture_stdout = o.capture_stderr = true;
  // The wait for an earlier transaction comes before this one's own steps.
  o.deadline = after(2 * budget);
  o.stdin_data = request.dump();
  // Each reply is journaled as it comes: the journal shows a step running on
  // the host while it runs, as it does for steps run one by one.
  struct Replies {
    std::string buf, failed_step, unrecorded;
    bool done = false;
    std::size_t running = 0;
  };
  auto st = std::make_shared<Replies>();
  auto on_line = [this, st, &spec, &out](const std::string& line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) return;
    if (j.value("txn", "") == "done") {
      st->done = true;
      out.ok = j.value("ok", false);
      out.begun = j.value("begun", std::size_t(0));
      if (j.contains("skipped") && j["skipped"].is_array())
        for (const auto& i : j["skipped"])
          if (i.is_number_unsigned()) out.skipped.push_back(i.get<std::size_t>());
      if (auto f = j.find("failed"); f != j.end() && f->is_number_unsigned()) out.failed_at = f->get<std::size_t>();
      if (auto u = j.find("unrecorded"); u != j.end() && u->is_string()) st->unrecorded = u->get<std::string>();
      if (j.contains("tolerated") && j["tolerated"].is_array())
        for (const auto& t : j["tolerated"])
          if (t.is_string()) out.tolerated.push_back(t.get<std::string>());
    } else if (j.contains("step") && j.contains("ok")) {
      journal_.record({{"host", name()}, {"step", j.value("name", "")}, {"txn", spec.txn}, {"exit", j["exit"]},
                       {"ok", j["ok"]}, {"output", j.value("output", "")}, {"error", j.value("error", "")}});
      // A step skipped after the failure adds nothing to why.
      if (!j.value("ok", false) && (st->failed_step.empty() || !j.value("skipped", false)))
        st->failed_step = j.value("name", "") + ": " + j.value("error", "");
    } else if (j.value("state", "") == "running") {
      std::size_t i = j.value("step", std::size_t(0));
      ++st->running;
      nlohmann::json e = {{"host", name()}, {"step", j.value("name", "")}, {"txn", spec.txn}};
      if (i < spec.steps.size()) e["command"] = spec.steps[i].command.render();
      journal_.record(std::move(e));
    }
  };
  o.on_stdout = [st, on_line](std::string_view data) {
    st->buf.append(data);
    for (std::size_t nl; (nl = st->buf.find('\n')) != std::string::npos;) {
      std::string line = st->buf.substr(0, nl);
      st->buf.erase(0, nl + 1);
      on_line(line);
    }
  };
  o.capture_stdout = false;
  transport::ExecResult r = co_await session_->exec(std::move(cmd), std::move(o));
  const bool done = st->done;
  const std::size_t running = st->running;
  const std::string failed_step = st->failed_step;
  journal_.record({{"host", name()}, {"step", spec.txn}, {"exit", r.exit_status}, {"settled", done},
                   {"stderr", r.err}});
  if (!done) {
    // Refused before it began (exit 1/2 with a reason), or cut off: in the
    // second case the host goes on, so every step may have run.
    out.ok = false;
    out.settled = running == 0 && !r.error;
    out.begun = out.settled ? 0 : spec.steps.size();
    error_ = spec.txn + ": " + describe_failure(r);
    co_return out;
  }
  if (!out.ok) error_ = failed_step.empty() ? spec.txn + ": " + describe_failure(r) : failed_step;
  if (!out.ok && !st->unrecorded.empty()) error_ += "; " + st->unrecorded;
  co_return out;
}

transport::Awaitable<std::optional<HostStatus>> HostConn::status(double timeout_s) {
  Step step{"status", server_cmd::status_json(plan_.ctx), timeout_s, false, /*read_only=*/true, Effect::none};
  transport::ExecResult r = co_await run(step);
  if (!r.ok()) co_return std::nullopt;
  std::string why;
  auto st = HostStatus::parse(r.out, &why);
  if (!st) error_ = "status: " + why;
  co_return st;
}

transport::Awaitable<HostUploadResult> HostConn::upload(const std::string& version, const upload::Manifest& manifest,
                                                        const upload::BlobStore& blobs, double timeout_s,
                                                        const std::vector<std::string>& flags,
                                                        upload::RelayLink* relay) {
  if (auto refused = refusal("upload")) {
    HostUploadResult r;
    r.error = *refused + "; nothing was sent";
    error_ = r.error;
    journal_.record({{"host", name()}, {"step", "upload"}, {"refused", error_}});
    co_return r;
  }
  auto cmd = server_cmd::receive(plan_.ctx, version, flags);
  journal_.record({{"host", name()}, {"step", "upload"}, {"command", cmd.render()}});
  const std::uint32_t protocol = upload_protocol();
  auto up = co_await upload_to_host(*session_, std::move(cmd), manifest, blobs, after(timeout_s), relay, protocol);
  nlohmann::json rec{{"host", name()}, {"step", "upload"}, {"ok", up.ok}, {"error", up.error},
                     {"files_sent", up.stats.files_sent}, {"files_linked", up.stats.files_linked},
                     {"files_patched", up.stats.files_patched}, {"patches_failed", up.stats.patches_failed},
                     {"bytes_sent", up.stats.bytes_sent}, {"wire_bytes", up.wire_bytes}};
  if (relay) {
    rec["manifest_fetched"] = up.stats.manifest_fetched;
    rec["files_fetched"] = up.stats.files_fetched;
    rec["bytes_fetched"] = up.stats.bytes_fetched;
    rec["fetches_failed"] = up.stats.fetches_failed;
    if (!up.fetch_failure.empty()) rec["fetch_failure"] = up.fetch_failure;
  }
  journal_.record(rec);
  if (!up.ok) error_ = up.error;
  co_return up;
}

// The newest both speak: what the server's session said, else (no session:
// one exec per step) ours if it is our own build, and 1 if it is pinned,
// since a pinned server may be older.
std::uint32_t HostConn::upload_protocol() const {
  return std::min<std::uint32_t>(upload::kProtocolVersion,
                                 upload_protocol_                                 ? upload_protocol_
                                 : plan_.ctx.server_source == ServerSource::pinned ? 1
                                                                                    : upload::kProtocolVersion);
}

transport::Awaitable<transport::ExecResult> HostConn::relay(const std::string& listen, const std::string& upstream,
                                                            transport::ExecOptions o) {
  auto cmd = server_cmd::relay(plan_.ctx, listen, upstream);
  journal_.record({{"host", name()}, {"step", "relay"}, {"command", cmd.render()}});
  auto r = co_await session_->exec(std::move(cmd), std::move(o));
  journal_.record({{"host", name()}, {"step", "relay"}, {"ended", r.describe()}});
  co_return r;
}

namespace {

transport::Awaitable<void> hold_lock(std::shared_ptr<transport::Session> session, transport::Command cmd,
                                     std::shared_ptr<void> keep, HostConn::LockState* st_raw, Journal* journal,
                                     std::string host);

}  // namespace

transport::Awaitable<bool> HostConn::lock(double timeout_s, int wait_s) {
  auto ex = co_await transport::asio::this_coro::executor;
  lock_ = std::make_shared<LockState>(ex);
  lock_->pipe = transport::StdinPipe::create(ex);
  auto st = lock_;
  auto cmd = server_cmd::lock(plan_.ctx, wait_s);
  journal_.record({{"host", name()}, {"step", "lock"}, {"command", cmd.render()}});
  // hold_lock writes to the journal only on a loss, which needs us alive (the
  // destructor lets go first), and the journal outlives us.
  transport::asio::co_spawn(ex, hold_lock(session_, std::move(cmd), st, st.get(), &journal_, name()),
                            transport::asio::detached);
  transport::asio::steady_timer timer(ex, after(timeout_s + wait_s));
  auto wake = st->changed;
  timer.async_wait([wake](boost::system::error_code) { wake->notify(); });
  while (!st->held && !st->ended && transport::Clock::now() < timer.expiry()) co_await st->changed->wait();
  timer.cancel();
  if (st->held) co_return true;
  std::string why = first_line(st->err);
  if (why.empty()) why = st->ended ? describe_failure(st->result) : "no answer within the timeout";
  error_ = "lock: " + why;
  journal_.record({{"host", name()}, {"step", "lock"}, {"error", error_}});
  st->letting_go = true;
  st->pipe->close();
  co_return false;
}

namespace {

transport::Awaitable<void> hold_lock(std::shared_ptr<transport::Session> session, transport::Command cmd,
                                     std::shared_ptr<void> keep, HostConn::LockState* st, Journal* journal,
                                     std::string host) {
  (void)keep;  // keeps *st alive while the lock command runs
  transport::ExecOptions o;
  o.capture_stderr = true;
  o.stdin_source = st->pipe->source();
  o.on_stdout = [st](std::string_view) {
    st->held = true;  // `lock` prints its line once it holds the lock
    st->changed->notify();
  };
  try {
    st->result = co_await session->exec(std::move(cmd), std::move(o));
  } catch (...) {
  }
  st->err = st->result.err;
  st->ended = true;
  if (st->held && !st->letting_go) {
    // Its holder on the host died (killed, the host's session cut): the run
    // must not act there any more, and whoever reads the journal learns when.
    st->lost = true;
    journal->record({{"host", host}, {"step", "lock"}, {"lost", true}, {"exit", st->result.exit_status},
                     {"error", describe_failure(st->result)}});
  }
  st->held = false;
  st->changed->notify();
}

}  // namespace

transport::Awaitable<void> HostConn::release() {
  if (lock_) {
    auto st = lock_;
    st->letting_go = true;
    st->pipe->close();
    auto ex = co_await transport::asio::this_coro::executor;
    transport::asio::steady_timer timer(ex, after(10));
    auto wake = st->changed;
    timer.async_wait([wake](boost::system::error_code) { wake->notify(); });
    while (!st->ended && transport::Clock::now() < timer.expiry()) co_await st->changed->wait();
    timer.cancel();
    journal_.record({{"host", name()}, {"step", "unlock"}, {"released", st->ended}});
  }
  if (session_) session_->close();
  session_.reset();
}

transport::Awaitable<void> for_each_host(const FleetContext& ctx, const HostTask& one, const HostNotBegun& not_begun) {
  std::vector<std::unique_ptr<HostConn>> conns;
  for (const auto& h : ctx.hosts) conns.push_back(std::make_unique<HostConn>(ctx.transport, h, ctx.journal));
  std::function<transport::Awaitable<void>(std::size_t)> each = [&](std::size_t i) -> transport::Awaitable<void> {
    if (ctx.interrupt.raised()) {
      not_begun(*conns[i], i);
      co_return;
    }
    co_await one(*conns[i], i);
  };
  co_await parallel_for(conns.size(), ctx.parallel, each);
}

}  // namespace plugbox::orchestrator
