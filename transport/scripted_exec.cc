#include "transport/scripted_exec.h"

namespace plugbox::transport {

bool overlapped(const ExecRecord& a, const ExecRecord& b) {
  auto now = Clock::now();
  return a.start < (b.ended ? b.end : now) && b.start < (a.ended ? a.end : now);
}

ScriptedExec::ScriptedExec(Executor ex, std::string host, Command command, ExecOptions options)
    : ex_(ex),
      command_(std::move(command)),
      opts_(std::move(options)),
      record_(std::make_shared<ExecRecord>()),
      changed_(std::make_shared<Notifier>(ex)) {
  record_->host = std::move(host);
  record_->command = command_.render();
  record_->start = Clock::now();
}

void ScriptedExec::start(ReplyFn fn) {
  started_ = true;
  asio::co_spawn(ex_, play(shared_from_this(), std::move(fn)), asio::detached);
}

Awaitable<void> ScriptedExec::play(std::shared_ptr<ScriptedExec> self, ReplyFn fn) {
  try {
    Exit e = co_await fn(*self);
    self->end(std::move(e));
  } catch (const Ended&) {
  } catch (const std::exception& e) {
    self->fail(std::string("the scripted reply threw: ") + e.what());
  } catch (...) {
    self->fail("the scripted reply threw");
  }
}

void ScriptedExec::end(Exit e) {
  if (finished_ || exit_) return;
  exit_ = std::move(e);
  changed_->notify();
}

void ScriptedExec::drop(bool refuse_reopen) {
  if (finished_ || !drop_) return;
  drop_(refuse_reopen);
}

void ScriptedExec::fail(std::string why) {
  if (finished_) return;
  if (failure_.empty()) failure_ = std::move(why);
  end(Exit{.status = -1});
}

void ScriptedExec::deliver(bool is_err, std::string_view data) {
  if (finished_ || data.empty()) return;
  if (is_err ? opts_.capture_stderr : opts_.capture_stdout) (is_err ? err_ : out_).append(data);
  auto& cb = is_err ? opts_.on_stderr : opts_.on_stdout;
  if (!cb) return;
  try {
    cb(data);
  } catch (const std::exception& e) {
    // As the real transports do: the command goes on, the result says it.
    if (failure_.empty()) failure_ = std::string("output callback failed: ") + e.what();
  }
}

Awaitable<std::optional<std::string>> ScriptedExec::read_stdin() {
  auto self = shared_from_this();
  if (!pumping_) {
    pumping_ = true;
    asio::co_spawn(ex_, pump_stdin(self), asio::detached);
  }
  want_stdin_ = true;
  changed_->notify();
  while (!finished_ && !chunk_ && !stdin_ended_) co_await changed_->wait();
  if (finished_) throw Ended{};
  if (!chunk_) co_return std::nullopt;
  std::string chunk = std::move(*chunk_);
  chunk_.reset();
  record_->stdin_bytes += chunk;
  co_return chunk;
}

Awaitable<std::string> ScriptedExec::read_stdin_to_end() {
  std::string all;
  while (auto chunk = co_await read_stdin()) all += *chunk;
  co_return all;
}

// Pulls the client's stdin one chunk at a time, only when the reply asks:
// the pull happens in its own coroutine because a source may wait for ever
// (a held StdinPipe), and the reply must still wake when the command ends.
Awaitable<void> ScriptedExec::pump_stdin(std::shared_ptr<ScriptedExec> self) {
  StdinSource source = self->opts_.stdin_source;  // a copy: finish() drops the options
  std::optional<std::string> data = self->opts_.stdin_data;
  try {
    for (;;) {
      while (!self->want_stdin_ && !self->finished_) co_await self->changed_->wait();
      if (self->finished_) co_return;
      std::optional<std::string> chunk;
      if (source)
        chunk = co_await source();
      else
        chunk = std::exchange(data, std::nullopt);
      if (self->finished_) co_return;  // the command ended first: the chunk is dropped
      if (!chunk) break;
      if (chunk->empty()) continue;
      self->chunk_ = std::move(chunk);
      self->want_stdin_ = false;
      self->changed_->notify();
    }
  } catch (const std::exception& e) {
    if (self->finished_) co_return;
    if (self->failure_.empty()) self->failure_ = std::string("stdin source failed: ") + e.what();
  }
  self->stdin_ended_ = true;
  self->changed_->notify();
}

Awaitable<void> ScriptedExec::sleep(Clock::duration d) {
  auto self = shared_from_this();
  asio::steady_timer timer(ex_, d);
  timer.async_wait([changed = changed_](const boost::system::error_code&) { changed->notify(); });
  while (!finished_ && Clock::now() < timer.expiry()) co_await changed_->wait();
  timer.cancel();
  if (finished_) throw Ended{};
}

Awaitable<void> ScriptedExec::hang() {
  auto self = shared_from_this();
  while (!finished_) co_await changed_->wait();
  throw Ended{};
}

ExecResult ScriptedExec::finish(Error stop) {
  finished_ = true;
  changed_->notify();  // the reply and the stdin pump wake, see it, and unwind
  ExecResult r;
  r.out = std::move(out_);
  r.err = std::move(err_);
  if (stop) {
    // The real transports send SIGTERM to a command past its deadline or cancelled.
    bool killed = stop.code == std::errc::timed_out || stop.code == std::errc::operation_canceled;
    if (started_ && killed) r.exit_signal = "TERM";
    r.error = std::move(stop);
  } else {
    const Exit e = exit_.value_or(Exit{.status = -1});  // the session ends an exec only once it exited
    r.exit_signal = e.signal;
    r.exit_status = e.signal.empty() ? e.status : -1;
    if (!failure_.empty())
      r.error = make_error(std::make_error_code(std::errc::io_error), "exec", host(), failure_);
  }
  record_->end = Clock::now();
  record_->ended = true;
  record_->result = r;
  // Nothing the client handed over outlives the exec (its callbacks may hold
  // what holds the transport).
  opts_ = ExecOptions{};
  drop_ = nullptr;
  return r;
}

}  // namespace plugbox::transport
