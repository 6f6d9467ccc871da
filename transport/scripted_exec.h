// One command running on a scripted host (scripted_transport.h), as its reply
// sees it: the reply reads the client's stdin, writes output, sleeps, and
// returns how the command ends. A test may also keep one as a handle
// (ScriptedTransport::running) to end a long-lived command, such as the
// deploy lock's holder, at the moment it chooses.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "transport/asio.h"
#include "transport/command.h"
#include "transport/deadline.h"
#include "transport/notifier.h"
#include "transport/transport.h"

namespace plugbox::transport {

// How a command ends by itself.
struct Exit {
  int status = 0;
  std::string signal{};  // "KILL": killed by that signal (the status is then -1)
};

class ScriptedExec;

// A reply: plays one command and says how it ended. It runs as its own
// coroutine; a deadline, cancel() or a closed session may end the command
// while the reply waits, and the wait then throws ScriptedExec::Ended.
using ReplyFn = std::function<Awaitable<Exit>(ScriptedExec&)>;

// What the transport recorded of one exec the client asked for (including
// those refused at once because the session was closed or cancelled).
struct ExecRecord {
  std::string host;
  std::string command;           // Command::render()
  std::string stdin_bytes;       // what the command read of its stdin
  Clock::time_point start, end;  // end is meaningful once `ended`
  bool ended = false;
  ExecResult result;             // once `ended`
  std::weak_ptr<ScriptedExec> exec;  // the running command (expires after it ends)
};

// Whether two execs ran at the same time (a running one counts up to now).
bool overlapped(const ExecRecord& a, const ExecRecord& b);

class ScriptedExec : public std::enable_shared_from_this<ScriptedExec> {
 public:
  // Thrown out of the reply's waits once the command has ended for another
  // reason, so that the reply unwinds. Not a std::exception: a reply that
  // catches std::exception still lets it through.
  struct Ended {};

  ScriptedExec(Executor ex, std::string host, Command command, ExecOptions options);
  ScriptedExec(const ScriptedExec&) = delete;
  ScriptedExec& operator=(const ScriptedExec&) = delete;

  const std::string& host() const { return record_->host; }
  const Command& command() const { return command_; }
  const std::string& line() const { return record_->command; }  // Command::render()

  // The next chunk the client sends, nullopt once its stdin has ended. The
  // client's source is pulled only here, one chunk per call, so a command
  // that stops reading holds the client back as a real one would.
  Awaitable<std::optional<std::string>> read_stdin();
  Awaitable<std::string> read_stdin_to_end();
  const std::string& stdin_bytes() const { return record_->stdin_bytes; }  // read so far

  // Goes to the client's callback (and capture) at once.
  void write_stdout(std::string_view data) { deliver(false, data); }
  void write_stderr(std::string_view data) { deliver(true, data); }

  Awaitable<void> sleep(Clock::duration d);
  // Waits until something else ends the command (deadline, cancel, close).
  Awaitable<void> hang();

  // From a reply or a test's handle, while the command runs:
  // it ends now as `e` says (the reply's own ending is then ignored);
  void end(Exit e);
  // its connection drops: it and every later exec on its session end with
  // Errc::session_closed, and with `refuse_reopen` so do later opens of the
  // host (connection refused).
  void drop(bool refuse_reopen = false);
  bool running() const { return !finished_; }

 private:
  friend class ScriptedSession;

  static Awaitable<void> play(std::shared_ptr<ScriptedExec> self, ReplyFn fn);
  static Awaitable<void> pump_stdin(std::shared_ptr<ScriptedExec> self);
  void start(ReplyFn fn);
  void deliver(bool is_err, std::string_view data);
  void fail(std::string why);
  // Ends the exec (with `stop` when something other than the reply ended it)
  // and makes the result the client gets.
  ExecResult finish(Error stop);

  Executor ex_;
  Command command_;
  ExecOptions opts_;
  std::shared_ptr<ExecRecord> record_;
  std::function<void(bool refuse_reopen)> drop_;  // set by the session
  // One notifier for every wait of this exec (the session's, the reply's,
  // the stdin pump's): each re-checks its own condition when woken.
  std::shared_ptr<Notifier> changed_;
  bool started_ = false, finished_ = false;
  std::optional<Exit> exit_;  // the command ended by itself (or by end())
  bool want_stdin_ = false, pumping_ = false, stdin_ended_ = false;
  std::optional<std::string> chunk_;  // pulled from the client, not yet read
  std::string out_, err_;             // captured
  std::string failure_;               // a callback, the stdin source or the reply threw
};

}  // namespace plugbox::transport
