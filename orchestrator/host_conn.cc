#include "orchestrator/host_conn.h"

#include "transport/notifier.h"

namespace plugbox::orchestrator {

namespace {

std::string first_line(const std::string& s) {
  size_t start = s.find_first_not_of("\r\n \t");
  if (start == std::string::npos) return "";
  size_t end = s.find('\n', start);
  return s.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

transport::Deadline after(double seconds) {
  return transport::deadline_in(std::chrono::duration_cast<transport::Clock::duration>(std::chrono::duration<double>(seconds)));
}

}  // namespace

nlohmann::json status_of_fresh_home(const std::string& home) {
  return {{"schema", 1},
          {"home", home},
          {"live", nullptr},
          {"previous", nullptr},
          {"chain", nlohmann::json::array()},
          {"versions", nlohmann::json::array()},
          {"lock", nullptr},
          {"problems", nlohmann::json::array()},
          {"initialised", false}};
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

transport::Awaitable<bool> HostConn::open(double timeout_s) {
  journal_.record({{"host", name()}, {"step", "connect"}, {"via", plan_.via}});
  transport::OpenResult r = co_await transport_.open(plan_.target, after(timeout_s));
  if (r.error) {
    error_ = r.error.message();
    journal_.record({{"host", name()}, {"step", "connect"}, {"error", error_}});
    co_return false;
  }
  session_ = r.session;
  co_return true;
}

bool HostConn::lock_lost() const { return lock_ && lock_->lost; }

transport::Awaitable<transport::ExecResult> HostConn::run(const std::string& step, transport::Command cmd,
                                                          double timeout_s, std::optional<std::string> stdin_data) {
  if (!session_) {
    transport::ExecResult r;
    r.error = transport::make_error(transport::Errc::session_closed, step, name(), "not connected");
    error_ = r.error.message();
    co_return r;
  }
  // Once the lock's channel is gone, nothing more runs here but the read-only
  // probes: another deploy may hold the lock by now, and server commands under
  // our owner id would take it afresh one by one, letting one slip in between.
  // That goes for the service's own commands too (a stop without the lock
  // could stop what another deployer just started).
  if (lock_ && lock_->ended && step != "status" && step != "probe-layout") {
    transport::ExecResult r;
    r.error = transport::make_error(transport::Errc::session_closed, step, name(),
                                    "the deploy lock was lost (its channel ended): " + describe_failure(lock_->result));
    error_ = step + ": " + r.error.message();
    journal_.record({{"host", name()}, {"step", step}, {"refused", error_}});
    co_return r;
  }
  std::string line = cmd.render();
  journal_.record({{"host", name()}, {"step", step}, {"command", line}});
  transport::ExecOptions o;
  o.capture_stdout = o.capture_stderr = true;
  o.deadline = after(timeout_s);
  o.stdin_data = std::move(stdin_data);
  transport::ExecResult r = co_await session_->exec(std::move(cmd), std::move(o));
  nlohmann::json j = {{"host", name()}, {"step", step}, {"exit", r.exit_status}, {"stdout", r.out}, {"stderr", r.err}};
  if (r.error) j["error"] = r.error.message();
  journal_.record(std::move(j));
  if (!r.ok()) error_ = step + ": " + describe_failure(r);
  co_return r;
}

transport::Awaitable<transport::ExecResult> HostConn::server(const std::string& step, std::vector<std::string> args,
                                                             double timeout_s) {
  auto cmd = server_command(plan_.ctx, args);
  co_return co_await run(step, std::move(cmd), timeout_s);
}

transport::Awaitable<std::optional<nlohmann::json>> HostConn::status(double timeout_s) {
  std::vector<std::string> args{"status", "--json"};
  transport::ExecResult r = co_await server("status", std::move(args), timeout_s);
  if (!r.ok()) {
    // Refused as bad input: maybe only because nothing was ever deployed here.
    if (!r.error && r.exit_status == 2) {
      std::string why = error_;
      auto has = co_await has_layout(timeout_s);
      if (has && !*has) co_return status_of_fresh_home(plan_.ctx.home);
      error_ = why;
    }
    co_return std::nullopt;
  }
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error_ = "status: the host's plugbox-server printed no status JSON (is it the same version as plugbox?)";
    co_return std::nullopt;
  }
  co_return j;
}

transport::Awaitable<std::optional<bool>> HostConn::has_layout(double timeout_s) {
  auto probe = transport::Command::argv({"test", "-d", plan_.ctx.home + "/deploy/.plugbox/versions"});
  transport::ExecResult r = co_await run("probe-layout", std::move(probe), timeout_s);
  if (r.error || (r.exit_status != 0 && r.exit_status != 1)) co_return std::nullopt;
  co_return r.exit_status == 0;
}

namespace {

transport::Awaitable<void> hold_lock(std::shared_ptr<transport::Session> session, transport::Command cmd,
                                     std::shared_ptr<void> keep, HostConn::LockState* st_raw, Journal* journal,
                                     std::string host);

}  // namespace

transport::Awaitable<bool> HostConn::lock(double timeout_s) {
  auto ex = co_await transport::asio::this_coro::executor;
  lock_ = std::make_shared<LockState>(ex);
  lock_->pipe = transport::StdinPipe::create(ex);
  auto st = lock_;
  auto cmd = server_command(plan_.ctx, {"lock"});
  journal_.record({{"host", name()}, {"step", "lock"}, {"command", cmd.render()}});
  // hold_lock writes to the journal only on a loss, which needs us alive (the
  // destructor lets go first), and the journal outlives us.
  transport::asio::co_spawn(ex, hold_lock(session_, std::move(cmd), st, st.get(), &journal_, name()),
                            transport::asio::detached);
  transport::asio::steady_timer timer(ex, after(timeout_s));
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

}  // namespace plugbox::orchestrator
