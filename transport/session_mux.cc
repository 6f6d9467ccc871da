#include "transport/session_mux.h"

#include <map>
#include <nlohmann/json.hpp>

#include "base/session_protocol.h"
#include "transport/notifier.h"
#include "transport/stdin_pipe.h"

namespace plugbox::transport {

namespace sp = base::session;

namespace {

struct Call {
  ExecOptions opts;
  ExecResult result;
  bool ended = false;
};

// Frames waiting for the channel beyond this hold their writers back: an
// upload's producer waits, as it would on a channel of its own. Small, as
// a channel's own stdin queue is (one chunk): it is per host, and at 1 MiB
// (with the pump holding a chunk of its own while it waited) a 50-host
// first deploy peaked 77 MB higher (bench/redeploy).
constexpr std::size_t kHighWater = 64u << 10;

}  // namespace

struct SessionMux::State {
  State(Executor ex, std::shared_ptr<Session> b, const Transport& t, std::chrono::milliseconds g)
      : base(std::move(b)), transport(t), grace(g), out(StdinPipe::create(ex, kHighWater)),
        changed(std::make_shared<Notifier>(ex)) {}

  std::shared_ptr<Session> base;
  const Transport& transport;
  std::chrono::milliseconds grace;
  std::shared_ptr<StdinPipe> out;  // frames to the server: the base exec's stdin
  std::shared_ptr<Notifier> changed;
  sp::FrameReader reader;
  std::map<std::uint32_t, std::shared_ptr<Call>> calls;
  std::uint32_t next_id = 1;
  bool hello = false;
  std::string server;
  bool ended = false, closed = false;
  Error end_error;  // why every call still running ended, once `ended`

  Error stopped(const std::string& detail) const { return make_error(Errc::session_closed, "exec", base->name(), detail); }

  // The session cannot go on: every call still running ends with `why`.
  void end(Error why) {
    if (ended) return;
    ended = true;
    end_error = std::move(why);
    out->close();
    for (auto& [id, c] : calls)
      if (!c->ended) {
        c->ended = true;
        c->result.error = end_error;
      }
    changed->notify();
  }

  void on_frame(const sp::Frame& f) {
    if (f.type == sp::FrameType::hello) {
      auto j = nlohmann::json::parse(f.payload, nullptr, false);
      unsigned proto = j.is_object() ? j.value("protocol", 0u) : 0u;
      if (proto != sp::kProtocol) {
        end(make_error(Errc::exec_refused, "session", base->name(),
                       "the host's plugbox-server speaks session protocol " + std::to_string(proto) + ", this plugbox " +
                           std::to_string(sp::kProtocol) + ": install the matching plugbox-server"));
        return;
      }
      hello = true;
      server = j.value("server", "");
      changed->notify();
      return;
    }
    auto it = calls.find(f.id);
    if (it == calls.end() || it->second->ended) return;  // a call we gave up on
    Call& c = *it->second;
    switch (f.type) {
      case sp::FrameType::stdout_data:
        if (c.opts.capture_stdout) c.result.out += f.payload;
        if (c.opts.on_stdout) c.opts.on_stdout(f.payload);
        break;
      case sp::FrameType::stderr_data:
        if (c.opts.capture_stderr) c.result.err += f.payload;
        if (c.opts.on_stderr) c.opts.on_stderr(f.payload);
        break;
      case sp::FrameType::exit: {
        auto j = nlohmann::json::parse(f.payload, nullptr, false);
        if (j.is_object() && j.contains("exit") && j["exit"].is_number_integer()) c.result.exit_status = j["exit"].get<int>();
        else if (j.is_object() && j.contains("signal") && j["signal"].is_string()) c.result.exit_signal = j["signal"].get<std::string>();
        else c.result.error = make_error(Errc::no_exit_status, "exec", base->name(), "the session's exit frame: " + f.payload);
        c.ended = true;
        break;
      }
      case sp::FrameType::failed:
        c.result.error = make_error(Errc::spawn_failed, "exec", base->name(), f.payload);
        c.ended = true;
        break;
      default:
        end(make_error(Errc::exec_refused, "session", base->name(),
                       std::string("the host sent a client frame '") + char(f.type) + "'"));
        return;
    }
    changed->notify();
  }
};

namespace {

std::string first_line(const std::string& s) {
  auto start = s.find_first_not_of("\r\n \t");
  if (start == std::string::npos) return "";
  return s.substr(start, s.find('\n', start) - start);
}

Awaitable<void> run_session(std::shared_ptr<SessionMux::State> st, Command command) {
  ExecOptions o;
  o.capture_stderr = true;
  o.stdin_source = st->out->source();
  std::weak_ptr<SessionMux::State> weak = st;
  o.on_stdout = [weak](std::string_view data) {
    auto s = weak.lock();
    if (!s || s->ended) return;
    s->reader.feed(data);
    while (auto f = s->reader.next()) {
      s->on_frame(*f);
      if (s->ended) return;
    }
    if (!s->reader.error().empty())
      s->end(make_error(Errc::exec_refused, "session", s->base->name(), "the host's stream: " + s->reader.error()));
  };
  ExecResult r;
  try {
    r = co_await st->base->exec(std::move(command), std::move(o));
  } catch (const std::exception& e) {
    r.error = make_error(Errc::session_closed, "session", st->base->name(), e.what());
  }
  if (r.error) {
    st->end(r.error);
  } else if (!st->hello) {
    std::string why = first_line(r.err);
    st->end(make_error(Errc::exec_refused, "session", st->base->name(),
                       "plugbox-server session " + r.describe() + (why.empty() ? "" : ": " + why)));
  } else {
    std::string why = first_line(r.err);
    st->end(st->stopped(st->closed ? "the session was closed"
                                   : "the host's plugbox-server session ended (" + r.describe() + ")" +
                                         (why.empty() ? "" : ": " + why)));
  }
}

Awaitable<void> pump_stdin(std::shared_ptr<SessionMux::State> st, std::uint32_t id, std::shared_ptr<Call> call,
                           StdinSource source) {
  for (;;) {
    // Pull the next chunk only when the channel can take it: an upload's
    // producer then holds no chunk of its own waiting here.
    co_await st->out->writable();
    if (call->ended || st->ended) co_return;
    std::optional<std::string> chunk = co_await source();
    if (call->ended || st->ended) co_return;  // the command ended first: the chunk is dropped
    if (!chunk) {
      co_await st->out->write(sp::encode(sp::FrameType::stdin_end, id, {}));
      co_return;
    }
    for (std::size_t off = 0; off < chunk->size(); off += sp::kMaxPayload) {
      std::string frame = sp::encode(sp::FrameType::stdin_data, id, std::string_view(*chunk).substr(off, sp::kMaxPayload));
      if (!co_await st->out->write(std::move(frame))) co_return;
    }
  }
}

}  // namespace

SessionMux::SessionMux(std::shared_ptr<State> st) : st_(std::move(st)) {}

SessionMux::~SessionMux() { close(); }

const std::string& SessionMux::name() const { return st_->base->name(); }
const std::string& SessionMux::server() const { return st_->server; }

Awaitable<SessionMux::Started> SessionMux::start(std::shared_ptr<Session> base, Command command, Deadline deadline,
                                                 const Transport& transport, std::chrono::milliseconds kill_grace) {
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<State>(ex, std::move(base), transport, kill_grace);
  asio::co_spawn(ex, run_session(st, std::move(command)), asio::detached);
  asio::steady_timer timer(ex, deadline);
  timer.async_wait([wake = st->changed](boost::system::error_code) { wake->notify(); });
  while (!st->hello && !st->ended && Clock::now() < deadline) co_await st->changed->wait();
  timer.cancel();
  Started out;
  if (st->hello && !st->ended) {
    out.session = std::make_shared<SessionMux>(st);
    co_return out;
  }
  out.error = st->ended ? st->end_error
                        : make_error(std::make_error_code(std::errc::timed_out), "session", st->base->name(),
                                     "no hello from plugbox-server session before the deadline");
  st->closed = true;
  st->out->close();  // the base session stays the caller's
  co_return out;
}

Awaitable<ExecResult> SessionMux::exec(Command command, ExecOptions options) {
  auto st = st_;  // the frame keeps the state, whatever happens to *this
  ExecResult result;
  if (st->ended || st->closed) {
    result.error = st->ended ? st->end_error : st->stopped("the session was closed");
    co_return result;
  }
  const std::uint32_t id = st->next_id++;
  auto call = std::make_shared<Call>();
  StdinSource source = std::move(options.stdin_source);
  std::optional<std::string> data = std::move(options.stdin_data);
  const Deadline deadline = options.deadline;
  call->opts = std::move(options);
  st->calls.emplace(id, call);
  // An argv runs without a shell (one process fewer per step: the host's
  // fork and exec are much of what a step costs it); its rendering quotes
  // every word, so the shell would have added nothing but `cd` and the
  // assignments, which the server does itself. A shell line goes to /bin/sh.
  nlohmann::json start = {{"stdin", source || data}};
  if (command.is_shell()) {
    start["line"] = command.render();
  } else {
    start["argv"] = command.words();
    nlohmann::json env = nlohmann::json::array();
    for (const auto& [k, v] : command.environment()) env.push_back({k, v});
    if (!env.empty()) start["env"] = std::move(env);
    if (!command.directory().empty()) start["cwd"] = command.directory();
  }
  co_await st->out->write(sp::encode(sp::FrameType::start, id, start.dump()));
  if (source) {
    asio::co_spawn(co_await asio::this_coro::executor, pump_stdin(st, id, call, std::move(source)), asio::detached);
  } else if (data) {
    for (std::size_t off = 0; off < data->size(); off += sp::kMaxPayload)
      co_await st->out->write(sp::encode(sp::FrameType::stdin_data, id, std::string_view(*data).substr(off, sp::kMaxPayload)));
    co_await st->out->write(sp::encode(sp::FrameType::stdin_end, id, {}));
  }

  // The deadline, then the grace after each signal, wake the loop through
  // the notifier every call waits on.
  enum class Phase { running, terminating, killing } phase = Phase::running;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex, deadline);
  auto arm = [&](Deadline when) {
    timer.expires_at(when);
    timer.async_wait([wake = st->changed](boost::system::error_code ec) {
      if (!ec) wake->notify();
    });
  };
  arm(deadline);
  bool abandoned = false;
  while (!call->ended) {
    if (Clock::now() >= timer.expiry()) {
      if (phase == Phase::killing) {
        abandoned = true;
        break;
      }
      const bool term = phase == Phase::running;
      phase = term ? Phase::terminating : Phase::killing;
      co_await st->out->write(sp::encode(sp::FrameType::signal, id, term ? "TERM" : "KILL"));
      arm(Clock::now() + st->grace);
      continue;
    }
    co_await st->changed->wait();
  }
  timer.cancel();
  st->calls.erase(id);
  result = std::move(call->result);
  if (phase != Phase::running) {
    std::string detail = "deadline passed; the command was sent SIGTERM";
    if (abandoned) detail += ", then SIGKILL, and did not end";
    result.error = make_error(std::make_error_code(std::errc::timed_out), "exec", st->base->name(), detail);
  } else if (st->transport.cancelled() && (!result.exit_signal.empty() || result.error)) {
    result.error = make_error(std::make_error_code(std::errc::operation_canceled), "exec", st->base->name(),
                              "cancelled; the command was sent SIGTERM");
  }
  co_return result;
}

void SessionMux::close() {
  if (st_->closed) return;
  st_->closed = true;
  st_->out->close();
  st_->base->close();
}

}  // namespace plugbox::transport
