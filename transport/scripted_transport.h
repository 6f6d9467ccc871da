// The scripted transport: a fake for unit tests of the client's executor.
// Its hosts answer from a script instead of running anything, and it records
// every exec, so a test can prove each branch of a deploy in milliseconds:
//
//   ScriptedTransport t(io.get_executor());
//   t.host("web02").open_fails(std::errc::connection_refused, 5ms);
//   auto& web1 = t.host("web01");
//   web1.on(" lock").reply(Reply{.out = "locked by plugbox\n"});  // held until stdin ends
//   web1.on("health").times(2).reply(Reply{.err = "502\n", .status = 1});
//   web1.on("health").reply(Reply{.delay = 2ms});                   // then exit 0
//   web1.on("receive").reply(my_upload_fn);                         // a ReplyFn
//   ... run the executor over `t` ...
//   CHECK(t.commands("web01") == std::vector<std::string>{...});
//
// Commands match by a substring of Command::render() or by a predicate; the
// first live rule of the host wins, then the host's otherwise(), then the
// rules and otherwise() of every_host(), then the default: read stdin to
// its end and exit 0. Same semantics as the other transports (transport.h):
// deadlines end a command with std::errc::timed_out, cancel() ends pending
// opens and running execs with std::errc::operation_canceled, a closed or
// dropped session ends its execs with Errc::session_closed. Delays run on
// the io_context's steady timers; everything runs on its one thread.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "transport/scripted_exec.h"
#include "transport/transport.h"

namespace plugbox::transport {

// A reply written as data. In this order, the command: writes `out` and
// `err`, reads its stdin to the end (when `read_stdin`), waits `delay`, and
// ends as `end` says.
struct Reply {
  enum class End {
    exit,    // with `status` (or `signal`)
    hang,    // until the deadline, cancel() or close: a command that never answers
    drop,    // the connection drops (ScriptedExec::drop)
    vanish,  // the connection drops and later opens of the host are refused
  };
  // Every member has an initializer, so that designated initializers may
  // leave any out without -Wmissing-field-initializers.
  std::string out{}, err{};
  bool read_stdin = true;
  Clock::duration delay{};
  End end = End::exit;
  int status = 0;
  std::string signal{};  // "KILL": killed by that signal instead
};

ReplyFn to_reply_fn(Reply r);

class Rule {
 public:
  using Match = std::function<bool(const Command&, const std::string& line)>;
  explicit Rule(Match match) : match_(std::move(match)) {}

  // Each matching command takes the next reply in order; the last repeats.
  Rule& reply(Reply r) { return reply(to_reply_fn(std::move(r))); }
  Rule& reply(ReplyFn f);
  // Only the first n matching commands: after them the rule is spent and the
  // next rule answers (`health` fails twice: times(2), then another rule).
  Rule& times(int n);

  bool live() const { return !limit_ || used_ < *limit_; }
  bool matches(const Command& c, const std::string& line) const { return live() && match_(c, line); }
  ReplyFn take();  // for a command that matches

 private:
  Match match_;
  std::vector<ReplyFn> replies_;
  std::optional<int> limit_;
  int used_ = 0;
};

struct OpenScript {
  Clock::duration delay{};  // before the open succeeds or fails
  std::error_code error;    // the open fails with it (step "connect")
};

class HostScript {
 public:
  // A command whose rendered line contains `substring`.
  Rule& on(std::string substring);
  Rule& on(std::function<bool(const Command&)> predicate);
  // Any other command of this host.
  HostScript& otherwise(Reply r) { return otherwise(to_reply_fn(std::move(r))); }
  HostScript& otherwise(ReplyFn f);

  HostScript& open_takes(Clock::duration d);
  HostScript& open_fails(std::error_code code, Clock::duration after = {});
  HostScript& open_fails(std::errc code, Clock::duration after = {}) {
    return open_fails(std::make_error_code(code), after);
  }
  HostScript& open_works();  // at once

  // The reply for a command, or nullopt when this script has none.
  std::optional<ReplyFn> answer(const Command& c, const std::string& line);
  const std::optional<OpenScript>& open_script() const { return open_; }

 private:
  std::deque<Rule> rules_;  // a deque: the Rule& handed out stay valid
  ReplyFn otherwise_;
  std::optional<OpenScript> open_;
};

struct OpenRecord {
  std::string host;
  Error error;  // empty when a session was opened
  Clock::time_point start, end;
};

class ScriptedTransport : public Transport {
 public:
  explicit ScriptedTransport(Executor ex);
  ~ScriptedTransport() override;

  // The script of one host (made empty on first use) and the one every host
  // falls back to (opens included). Rules may be added while commands run.
  HostScript& host(const std::string& name);
  HostScript& every_host();

  Awaitable<OpenResult> open(Target target, Deadline deadline = kNoDeadline) override;
  void cancel() override;
  bool cancelled() const override;

  // Every exec so far, in the order they were asked for.
  std::vector<ExecRecord> execs() const;
  std::vector<ExecRecord> execs(const std::string& host) const;
  // The rendered command lines of a host, in order.
  std::vector<std::string> commands(const std::string& host) const;
  std::vector<OpenRecord> opens() const;
  // The first command still running on `host` whose line contains
  // `substring`, to end it or drop its connection; null when none.
  std::shared_ptr<ScriptedExec> running(const std::string& host, std::string_view substring) const;

  struct Core;  // shared with the sessions, which may outlive the transport

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace plugbox::transport
