#include "transport/ssh_exec.h"

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace plugbox::transport {

namespace {

// One ssh_channel_write at most, and only when libssh has no unsent output:
// libssh's output buffer grows, doubling, to hold the largest write and never
// shrinks, and every connection of a run keeps its own (256 KiB writes left
// 512 KiB per host for the whole run: 52 MB of a 100-host deploy's peak,
// bench/scale/README.md). 32 KiB is one SSH packet as OpenSSH sizes them.
constexpr uint32_t kMaxWrite = 32 * 1024;

struct ExecChannel : ChannelUser {
  ExecChannel(std::shared_ptr<SshConnection> c, ExecOptions o)
      : conn(std::move(c)), opts(std::move(o)), room(std::make_shared<Notifier>(conn->context().ex)) {}
  ~ExecChannel() override { release(); }

  void release() {
    if (ch) {
      ssh_remove_channel_callbacks(ch, &callbacks);
      if (conn->session()) ssh_channel_free(ch);  // sends the close if still open
      ch = nullptr;
      conn->after_io();
    }
    conn->detach(this);
  }
  void on_connection_closing() override {
    ch = nullptr;  // ssh_free() frees it
    detached = true;
  }

  static int on_data(ssh_session, ssh_channel, void* data, uint32_t len, int is_stderr, void* user) {
    auto* x = static_cast<ExecChannel*>(user);
    (is_stderr ? x->err : x->out).append(static_cast<const char*>(data), len);
    return static_cast<int>(len);
  }
  static void on_eof(ssh_session, ssh_channel, void* user) { static_cast<ExecChannel*>(user)->remote_eof = true; }
  static void on_close(ssh_session, ssh_channel, void* user) {
    static_cast<ExecChannel*>(user)->remote_closed = true;
  }
  static void on_exit_status(ssh_session, ssh_channel, int status, void* user) {
    static_cast<ExecChannel*>(user)->exit_status = status;
  }
  static void on_exit_signal(ssh_session, ssh_channel, const char* signal, int, const char*, const char*,
                             void* user) {
    static_cast<ExecChannel*>(user)->exit_signal = signal ? signal : "?";
  }

  std::shared_ptr<SshConnection> conn;
  ExecOptions opts;
  ssh_channel ch = nullptr;
  ssh_channel_callbacks_struct callbacks{};
  // Arrived and not yet handed to the caller: delivery happens in the exec
  // coroutine, never inside a libssh callback.
  std::string out, err;
  bool remote_eof = false, remote_closed = false, detached = false;
  std::optional<int> exit_status;
  std::string exit_signal;
  // stdin: the chunk being written; the pump fetches the next once it is gone.
  std::string chunk;
  size_t chunk_off = 0;
  bool stdin_done = false, eof_sent = false, stdin_broken = false;
  bool finished = false;
  std::shared_ptr<Notifier> room;
  std::string callback_error;
};

void deliver(ExecChannel& x, ExecResult& r) {
  for (bool is_err : {false, true}) {
    std::string& pending = is_err ? x.err : x.out;
    if (pending.empty()) continue;
    std::string data;
    data.swap(pending);
    if (is_err ? x.opts.capture_stderr : x.opts.capture_stdout) (is_err ? r.err : r.out) += data;
    auto& cb = is_err ? x.opts.on_stderr : x.opts.on_stdout;
    if (!cb) continue;
    try {
      cb(data);
    } catch (const std::exception& e) {
      if (x.callback_error.empty()) x.callback_error = std::string("output callback failed: ") + e.what();
    }
  }
}

// Pulls the caller's stdin source one chunk at a time, fetching the next only
// once the previous one is in the channel.
Awaitable<void> pump_stdin(std::shared_ptr<ExecChannel> x) {
  try {
    for (;;) {
      while (x->chunk_off < x->chunk.size() && !x->finished) co_await x->room->wait();
      if (x->finished) co_return;
      std::optional<std::string> next = co_await x->opts.stdin_source();
      if (x->finished) co_return;
      if (!next) {
        x->stdin_done = true;
        x->conn->changed()->notify();
        co_return;
      }
      if (next->empty()) continue;
      x->chunk = std::move(*next);
      x->chunk_off = 0;
      x->conn->changed()->notify();
    }
  } catch (const std::exception& e) {
    if (x->finished) co_return;
    x->callback_error = std::string("stdin source failed: ") + e.what();
    x->stdin_done = true;
    x->conn->changed()->notify();
  }
}

void write_stdin(ExecChannel& x) {
  if (!x.ch || x.eof_sent || x.stdin_broken) return;
  ssh_session s = x.conn->session();
  while (x.chunk_off < x.chunk.size()) {
    uint32_t window = ssh_channel_window_size(x.ch);
    // A closed window or unsent output: the next pass (window adjust, flush)
    // wakes us. This bounds what libssh buffers to one window.
    if (window == 0 || (ssh_get_status(s) & SSH_WRITE_PENDING)) return;
    uint32_t n = static_cast<uint32_t>(std::min<size_t>({x.chunk.size() - x.chunk_off, window, kMaxWrite}));
    int w = ssh_channel_write(x.ch, x.chunk.data() + x.chunk_off, n);
    if (!x.ch) return;
    if (w < 0) {
      // The command closed its stdin (or exited): like EPIPE, not an error of
      // the exec; its exit status tells the rest.
      x.stdin_broken = true;
      x.chunk.clear();
      x.chunk_off = 0;
      x.room->notify();
      return;
    }
    x.chunk_off += static_cast<size_t>(w);
    if (w == 0) return;
  }
  if (!x.chunk.empty()) {
    std::string().swap(x.chunk);  // not clear(): the channel lives for the whole run
    x.chunk_off = 0;
    x.room->notify();
  }
  if (x.stdin_done && !x.eof_sent) {
    ssh_channel_send_eof(x.ch);
    x.eof_sent = true;
  }
}

Error lost(const SshConnection& conn, const std::string& host, const std::string& step) {
  const Error& f = conn.failure();
  if (!f) return make_error(Errc::connection_lost, step, host);
  return make_error(f.code, step, host, f.detail.empty() ? f.step : f.step + ": " + f.detail);
}

}  // namespace

Awaitable<ExecResult> run_ssh_exec(std::shared_ptr<SshConnection> conn, std::string host, Command command,
                                   ExecOptions options) {
  ExecResult result;
  SshContext& ctx = conn->context();
  auto x = std::make_shared<ExecChannel>(conn, std::move(options));
  OpGuard guard(ctx.ex, x->opts.deadline, ctx.scope);
  auto stopped = [&](std::error_code code, const std::string& step) {
    return make_error(code, step, host,
                      code == std::errc::timed_out ? "deadline passed before the command started" : "cancelled");
  };
  if (!conn->alive()) {
    result.error = lost(*conn, host, "exec");
    co_return result;
  }
  if (auto stop = guard.stop_code()) {
    result.error = stopped(stop, "exec");
    co_return result;
  }

  x->ch = ssh_channel_new(conn->session());
  if (!x->ch) {
    result.error = make_error(Errc::channel_failed, "open-channel", host, ssh_get_error(conn->session()));
    co_return result;
  }
  ssh_callbacks_init(&x->callbacks);
  x->callbacks.userdata = x.get();
  x->callbacks.channel_data_function = &ExecChannel::on_data;
  x->callbacks.channel_eof_function = &ExecChannel::on_eof;
  x->callbacks.channel_close_function = &ExecChannel::on_close;
  x->callbacks.channel_exit_status_function = &ExecChannel::on_exit_status;
  x->callbacks.channel_exit_signal_function = &ExecChannel::on_exit_signal;
  ssh_set_channel_callbacks(x->ch, &x->callbacks);
  conn->attach(x.get());

  uint64_t seen = conn->generation();
  for (;;) {
    int rc = ssh_channel_open_session(x->ch);
    conn->after_io();
    if (rc == SSH_OK) break;
    if (rc == SSH_ERROR) {
      result.error = conn->alive() ? make_error(Errc::channel_failed, "open-channel", host,
                                                std::string(ssh_get_error(conn->session())) +
                                                    " (sshd's MaxSessions caps the commands running at once on "
                                                    "one connection; its default is 10)")
                                   : lost(*conn, host, "open-channel");
      co_return result;
    }
    co_await conn->wait(&guard, seen);
    if (!x->ch || !conn->alive()) {
      result.error = lost(*conn, host, "open-channel");
      co_return result;
    }
    if (auto stop = guard.stop_code()) {
      result.error = stopped(stop, "open-channel");
      co_return result;
    }
  }

  const std::string line = command.render();
  for (;;) {
    int rc = ssh_channel_request_exec(x->ch, line.c_str());
    conn->after_io();
    if (rc == SSH_OK) break;
    if (rc == SSH_ERROR) {
      result.error = conn->alive() ? make_error(Errc::exec_refused, "exec", host, ssh_get_error(conn->session()))
                                   : lost(*conn, host, "exec");
      co_return result;
    }
    co_await conn->wait(&guard, seen);
    if (!x->ch || !conn->alive()) {
      result.error = lost(*conn, host, "exec");
      co_return result;
    }
    if (auto stop = guard.stop_code()) {
      result.error = stopped(stop, "exec");
      co_return result;
    }
  }

  if (x->opts.stdin_source) {
    asio::co_spawn(ctx.ex, pump_stdin(x), asio::detached);
  } else {
    if (x->opts.stdin_data) x->chunk = std::move(*x->opts.stdin_data);
    x->stdin_done = true;
  }

  enum class Phase { running, terminating, killing } phase = Phase::running;
  asio::steady_timer grace(ctx.ex);
  auto arm_grace = [&] {
    grace.expires_after(ctx.options.kill_grace);
    grace.async_wait([changed = conn->changed()](const boost::system::error_code& ec) {
      if (!ec) changed->notify();
    });
  };
  std::error_code stop;
  bool abandoned = false;
  for (;;) {
    deliver(*x, result);
    if (x->remote_closed) break;
    if (!x->ch || !conn->alive()) {
      result.error = lost(*conn, host, "exec");
      break;
    }
    if (phase == Phase::running) {
      if (auto why = guard.stop_code()) {
        // sshd delivers a signal request to the command's process group.
        stop = why;
        phase = Phase::terminating;
        ssh_channel_request_send_signal(x->ch, "TERM");
        arm_grace();
      } else {
        write_stdin(*x);
      }
    } else if (Clock::now() >= grace.expiry()) {
      if (phase == Phase::terminating) {
        ssh_channel_request_send_signal(x->ch, "KILL");
        phase = Phase::killing;
        arm_grace();
      } else {
        abandoned = true;  // closing the channel below is all we can still do
        break;
      }
    }
    co_await conn->wait(phase == Phase::running ? &guard : nullptr, seen);
  }
  grace.cancel();
  x->finished = true;
  x->room->notify();
  deliver(*x, result);
  if (x->exit_status) result.exit_status = *x->exit_status;
  result.exit_signal = x->exit_signal;
  if (stop) {
    result.error = signalled_stop(stop, host, abandoned);
    if (abandoned) result.error.detail += ": the channel was closed";
  } else if (!result.error && !x->callback_error.empty()) {
    result.error = make_error(std::make_error_code(std::errc::io_error), "exec", host, x->callback_error);
  } else if (!result.error && !x->exit_status && x->exit_signal.empty()) {
    result.error = make_error(Errc::no_exit_status, "exec", host, "the server closed the channel without one");
  }
  x->release();
  co_return result;
}

}  // namespace plugbox::transport
