#include "transport/session_mux.h"

#include <algorithm>
#include <cstdlib>
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
  std::size_t window = sp::kInitialWindow;  // stdin bytes the server will still take
  std::string callback_error;               // an output callback or the stdin source threw
};

// Calls a callback, keeping what it throws for the call's result (as the
// other transports do) rather than letting it unwind the frame loop.
void deliver(Call& c, const OutputCallback& cb, std::string_view data) {
  if (!cb) return;
  try {
    cb(data);
  } catch (const std::exception& e) {
    if (c.callback_error.empty()) c.callback_error = std::string("an output callback threw: ") + e.what();
  }
}

// Frames waiting for the channel beyond this hold their writers back: an
// upload's producer waits, as it would on a channel of its own. Small, as
// a channel's own stdin queue is (one chunk): it is per host, and at 1 MiB
// (with the pump holding a chunk of its own while it waited) a 50-host
// first deploy peaked 77 MB higher (bench/redeploy).
constexpr std::size_t kHighWater = 64u << 10;
// A stdin frame carries at most this much: with the frame queued and the one
// the channel is writing, a host holds two of them, and a fleet all of its
// uploading hosts' (256 KiB frames were 35 MB of a 100-host deploy's peak).
constexpr std::size_t kMaxStdinFrame = 64u << 10;

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
  unsigned upload = 1;  // the upload protocol the server speaks, newest (absent: 1)
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
      upload = j.value("upload", 1u);
      changed->notify();
      return;
    }
    auto it = calls.find(f.id);
    if (it == calls.end() || it->second->ended) return;  // a call we gave up on
    Call& c = *it->second;
    switch (f.type) {
      case sp::FrameType::stdout_data:
        if (c.opts.capture_stdout) c.result.out += f.payload;
        deliver(c, c.opts.on_stdout, f.payload);
        break;
      case sp::FrameType::stderr_data:
        if (c.opts.capture_stderr) c.result.err += f.payload;
        deliver(c, c.opts.on_stderr, f.payload);
        break;
      case sp::FrameType::window:
        c.window += std::size_t(std::strtoull(f.payload.c_str(), nullptr, 10));
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

Awaitable<std::optional<std::string>> take(std::shared_ptr<std::optional<std::string>> once) {
  std::optional<std::string> v = std::move(*once);
  once->reset();
  co_return v;
}

// ExecOptions::stdin_data as a source: the data, then the end.
StdinSource source_of(std::string data) {
  auto once = std::make_shared<std::optional<std::string>>(std::move(data));
  return [once] { return take(once); };
}

// Sends a call's stdin: no faster than the channel takes it (an upload's
// producer holds no chunk of its own while it waits) and never more than
// the server's window for the call.
Awaitable<void> pump_stdin(std::shared_ptr<SessionMux::State> st, std::uint32_t id, std::shared_ptr<Call> call,
                           StdinSource source) {
  auto gone = [&] { return call->ended || st->ended; };
  for (;;) {
    co_await st->out->writable();
    if (gone()) co_return;
    std::optional<std::string> chunk;
    try {
      chunk = co_await source();
    } catch (const std::exception& e) {
      // The command reads EOF rather than wait for input that never comes.
      if (call->callback_error.empty()) call->callback_error = std::string("the stdin source threw: ") + e.what();
      chunk.reset();
    }
    if (gone()) co_return;  // the command ended first: the chunk is dropped
    if (!chunk) {
      st->out->push(sp::encode(sp::FrameType::stdin_end, id, {}));
      co_return;
    }
    std::string_view rest(*chunk);
    while (!rest.empty()) {
      while (call->window == 0 && !gone()) co_await st->changed->wait();
      if (gone()) co_return;
      const std::size_t n = std::min({rest.size(), call->window, kMaxStdinFrame});
      if (!co_await st->out->write(sp::encode(sp::FrameType::stdin_data, id, rest.substr(0, n)))) co_return;
      call->window -= n;
      rest.remove_prefix(n);
    }
  }
}

}  // namespace

SessionMux::SessionMux(std::shared_ptr<State> st) : st_(std::move(st)) {}

SessionMux::~SessionMux() { close(); }

const std::string& SessionMux::name() const { return st_->base->name(); }
const std::string& SessionMux::server() const { return st_->server; }
unsigned SessionMux::upload_protocol() const { return st_->upload; }

Awaitable<SessionMux::Started> SessionMux::start(std::shared_ptr<Session> base, Command command, Deadline deadline,
                                                 const Transport& transport, std::chrono::milliseconds kill_grace) {
  std::string any;
  co_return co_await start(std::move(base), std::move(command), deadline, transport, kill_grace, std::move(any));
}

Awaitable<SessionMux::Started> SessionMux::start(std::shared_ptr<Session> base, Command command, Deadline deadline,
                                                 const Transport& transport, std::chrono::milliseconds kill_grace,
                                                 std::string expect_server) {
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<State>(ex, std::move(base), transport, kill_grace);
  asio::co_spawn(ex, run_session(st, std::move(command)), asio::detached);
  asio::steady_timer timer(ex, deadline);
  timer.async_wait([wake = st->changed](boost::system::error_code) { wake->notify(); });
  while (!st->hello && !st->ended && Clock::now() < deadline) co_await st->changed->wait();
  timer.cancel();
  Started out;
  if (st->hello && !st->ended && !expect_server.empty() && st->server != expect_server)
    st->end(make_error(Errc::exec_refused, "session", st->base->name(),
                       "the host's plugbox-server is \"" + st->server + "\", not \"" + expect_server + "\""));
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
  const std::string& host = st->base->name();
  if (st->ended || st->closed) {
    result.error = st->ended ? st->end_error : st->stopped("the session was closed");
    co_return result;
  }
  if (st->transport.cancelled() || Clock::now() >= options.deadline) {
    const bool cancelled = st->transport.cancelled();
    result.error = make_error(std::make_error_code(cancelled ? std::errc::operation_canceled : std::errc::timed_out),
                              "exec", host,
                              cancelled ? "cancelled" : "deadline passed before the command started");
    co_return result;
  }
  const std::uint32_t id = st->next_id++;
  auto call = std::make_shared<Call>();
  StdinSource source = std::move(options.stdin_source);
  if (!source && options.stdin_data) source = source_of(std::move(*options.stdin_data));
  const Deadline deadline = options.deadline;
  call->opts = std::move(options);
  st->calls.emplace(id, call);
  // An argv runs without a shell (one process fewer per step: the host's
  // fork and exec are much of what a step costs it); its rendering quotes
  // every word, so the shell would have added nothing but `cd` and the
  // assignments, which the server does itself. A shell line goes to /bin/sh.
  nlohmann::json start = {{"stdin", bool(source)}};
  if (command.is_shell()) {
    start["line"] = command.render();
  } else {
    start["argv"] = command.words();
    nlohmann::json env = nlohmann::json::array();
    for (const auto& [k, v] : command.environment()) env.push_back({k, v});
    if (!env.empty()) start["env"] = std::move(env);
    if (!command.directory().empty()) start["cwd"] = command.directory();
  }
  // Control frames never wait behind a stalled stream (StdinPipe::push).
  st->out->push(sp::encode(sp::FrameType::start, id, start.dump()));
  auto ex = co_await asio::this_coro::executor;
  if (source) asio::co_spawn(ex, pump_stdin(st, id, call, std::move(source)), asio::detached);

  // As ssh_exec does: past the deadline, or once the transport is
  // cancelled, SIGTERM to the command's group, SIGKILL after the grace, and
  // after as long again the call is given up. The transport has no
  // notifier for its cancel, so a running call looks every 200 ms.
  enum class Phase { running, terminating, killing } phase = Phase::running;
  asio::steady_timer timer(ex);
  std::error_code stop;
  Deadline grace_until{};
  bool abandoned = false;
  while (!call->ended) {
    const auto now = Clock::now();
    if (phase == Phase::running) {
      if (st->transport.cancelled()) stop = std::make_error_code(std::errc::operation_canceled);
      else if (now >= deadline) stop = std::make_error_code(std::errc::timed_out);
      if (stop) {
        phase = Phase::terminating;
        st->out->push(sp::encode(sp::FrameType::signal, id, "TERM"));
        grace_until = now + st->grace;
      }
    } else if (now >= grace_until) {
      if (phase == Phase::killing) {
        abandoned = true;
        break;
      }
      phase = Phase::killing;
      st->out->push(sp::encode(sp::FrameType::signal, id, "KILL"));
      grace_until = now + st->grace;
    }
    const Deadline wake = phase == Phase::running ? std::min(deadline, now + std::chrono::milliseconds(200)) : grace_until;
    timer.expires_at(wake);
    timer.async_wait([wake_up = st->changed](boost::system::error_code ec) {
      if (!ec) wake_up->notify();
    });
    co_await st->changed->wait();
  }
  timer.cancel();
  call->ended = true;  // also when given up: its stdin pump stops
  st->calls.erase(id);
  result = std::move(call->result);
  if (stop) {
    result.error = signalled_stop(stop, host, abandoned);
  } else if (!result.error && !call->callback_error.empty()) {
    result.error = make_error(std::make_error_code(std::errc::io_error), "exec", host, call->callback_error);
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
