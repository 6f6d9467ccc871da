#include "transport/scripted_transport.h"

#include <list>
#include <map>

#include "transport/op_guard.h"

namespace plugbox::transport {

namespace {

Awaitable<Exit> play_reply(Reply r, ScriptedExec& x) {
  x.write_stdout(r.out);
  x.write_stderr(r.err);
  if (r.read_stdin) co_await x.read_stdin_to_end();
  if (r.delay > Clock::duration::zero()) co_await x.sleep(r.delay);
  switch (r.end) {
    case Reply::End::exit:
      break;
    case Reply::End::hang:
      co_await x.hang();
      break;
    case Reply::End::drop:
    case Reply::End::vanish:
      x.drop(r.end == Reply::End::vanish);
      break;
  }
  co_return Exit{r.status, r.signal};
}

}  // namespace

ReplyFn to_reply_fn(Reply r) {
  // The reply goes to the coroutine by value: its frame owns it, whatever
  // becomes of this function object.
  return [r = std::move(r)](ScriptedExec& x) { return play_reply(r, x); };
}

Rule& Rule::reply(ReplyFn f) {
  replies_.push_back(std::move(f));
  return *this;
}

Rule& Rule::times(int n) {
  limit_ = n;
  return *this;
}

ReplyFn Rule::take() {
  size_t i = std::min<size_t>(used_++, replies_.empty() ? 0 : replies_.size() - 1);
  return replies_.empty() ? to_reply_fn(Reply{}) : replies_[i];
}

Rule& HostScript::on(std::string substring) {
  return rules_.emplace_back([s = std::move(substring)](const Command&, const std::string& line) {
    return line.find(s) != std::string::npos;
  });
}

Rule& HostScript::on(std::function<bool(const Command&)> predicate) {
  return rules_.emplace_back([p = std::move(predicate)](const Command& c, const std::string&) { return p(c); });
}

HostScript& HostScript::otherwise(ReplyFn f) {
  otherwise_ = std::move(f);
  return *this;
}

HostScript& HostScript::open_takes(Clock::duration d) {
  open_ = OpenScript{d, {}};
  return *this;
}

HostScript& HostScript::open_fails(std::error_code code, Clock::duration after) {
  open_ = OpenScript{after, code};
  return *this;
}

HostScript& HostScript::open_works() {
  open_ = OpenScript{};
  return *this;
}

std::optional<ReplyFn> HostScript::answer(const Command& c, const std::string& line) {
  for (auto& rule : rules_)
    if (rule.matches(c, line)) return rule.take();
  if (otherwise_) return otherwise_;
  return std::nullopt;
}

struct ScriptedTransport::Core {
  explicit Core(Executor e) : ex(std::move(e)) {}

  ReplyFn answer(const std::string& name, const Command& c, const std::string& line) {
    if (auto it = hosts.find(name); it != hosts.end())
      if (auto fn = it->second.answer(c, line)) return *fn;
    if (auto fn = every_host.answer(c, line)) return *fn;
    return to_reply_fn(Reply{});
  }

  OpenScript open_script(const std::string& name) const {
    if (auto it = hosts.find(name); it != hosts.end() && it->second.open_script()) return *it->second.open_script();
    return every_host.open_script().value_or(OpenScript{});
  }

  Executor ex;
  std::shared_ptr<CancelScope> scope = std::make_shared<CancelScope>();
  std::map<std::string, HostScript> hosts;
  HostScript every_host;
  std::vector<std::shared_ptr<ExecRecord>> execs;
  std::vector<OpenRecord> opens;
};

// The connection behind one session: closing it (or its dropping) ends every
// exec that runs on it and refuses later ones.
struct ScriptedConnection {
  void close(std::string reason) {
    if (closed) return;
    closed = true;
    why = std::move(reason);
    for (auto& n : running) n->notify();
  }
  bool closed = false;
  std::string why;
  std::list<std::shared_ptr<Notifier>> running;  // each running exec's notifier
};

class ScriptedSession : public Session, public std::enable_shared_from_this<ScriptedSession> {
 public:
  ScriptedSession(std::shared_ptr<ScriptedTransport::Core> core, std::string name)
      : core_(std::move(core)), name_(std::move(name)), conn_(std::make_shared<ScriptedConnection>()) {}
  ~ScriptedSession() override { close(); }

  const std::string& name() const override { return name_; }
  Awaitable<ExecResult> exec(Command command, ExecOptions options) override;
  void close() override { conn_->close("the session was closed"); }

 private:
  std::shared_ptr<ScriptedTransport::Core> core_;
  std::string name_;
  std::shared_ptr<ScriptedConnection> conn_;
};

Awaitable<ExecResult> ScriptedSession::exec(Command command, ExecOptions options) {
  auto self = shared_from_this();  // the session lives while its commands run
  auto x = std::make_shared<ScriptedExec>(core_->ex, name_, std::move(command), std::move(options));
  x->record_->exec = x;
  core_->execs.push_back(x->record_);
  if (conn_->closed) co_return x->finish(make_error(Errc::session_closed, "exec", name_, conn_->why));
  OpGuard guard(core_->ex, x->opts_.deadline, core_->scope);
  if (auto stop = guard.stop_code()) {
    const char* detail = stop == std::errc::timed_out ? "deadline passed before the command started" : "cancelled";
    co_return x->finish(make_error(stop, "exec", name_, detail));
  }

  // Weak: the exec stays in the record after the transport is gone.
  std::weak_ptr<ScriptedTransport::Core> weak_core = core_;
  x->drop_ = [conn = conn_, weak_core, host = name_](bool refuse_reopen) {
    conn->close("the connection dropped");
    if (auto core = weak_core.lock(); core && refuse_reopen)
      core->hosts[host].open_fails(std::errc::connection_refused);
  };
  conn_->running.push_back(x->changed_);
  auto registration = std::prev(conn_->running.end());
  x->start(core_->answer(name_, x->command(), x->line()));

  Error stop;
  for (;;) {
    if (auto code = guard.stop_code()) {
      const char* detail = code == std::errc::timed_out ? "deadline passed; the command was killed"
                                                        : "cancelled; the command was killed";
      stop = make_error(code, "exec", name_, detail);
      break;
    }
    if (conn_->closed) {
      stop = make_error(Errc::session_closed, "exec", name_, conn_->why);
      break;
    }
    if (x->exit_) break;
    co_await guard.wait(x->changed_);
  }
  conn_->running.erase(registration);
  co_return x->finish(std::move(stop));
}

namespace {

OpenRecord finish_open(OpenResult& r, const std::string& host, Clock::time_point start) {
  return OpenRecord{host, r.error, start, Clock::now()};
}

}  // namespace

ScriptedTransport::ScriptedTransport(Executor ex) : core_(std::make_shared<Core>(std::move(ex))) {}

ScriptedTransport::~ScriptedTransport() = default;

HostScript& ScriptedTransport::host(const std::string& name) { return core_->hosts[name]; }

HostScript& ScriptedTransport::every_host() { return core_->every_host; }

Awaitable<OpenResult> ScriptedTransport::open(Target target, Deadline deadline) {
  auto core = core_;  // the frame keeps the script alive
  const std::string name = target.name();
  const auto start = Clock::now();
  OpenResult r;
  if (auto p = target.problem()) {
    r.error = make_error(Errc::bad_target, "open", name, *p);
    core->opens.push_back(finish_open(r, name, start));
    co_return r;
  }
  const OpenScript how = core->open_script(name);  // as scripted when the open began
  OpGuard guard(core->ex, deadline, core->scope);
  if (how.delay > Clock::duration::zero()) {
    auto wake = std::make_shared<Notifier>(core->ex);
    asio::steady_timer timer(core->ex, how.delay);
    timer.async_wait([wake](const boost::system::error_code&) { wake->notify(); });
    while (!guard.stopped() && Clock::now() < timer.expiry()) co_await guard.wait(wake);
    timer.cancel();
  }
  if (auto stop = guard.stop_code())
    r.error = make_error(stop, "open", name, stop == std::errc::timed_out ? "deadline passed" : "cancelled");
  else if (how.error)
    r.error = make_error(how.error, "connect", name, "scripted");
  else
    r.session = std::make_shared<ScriptedSession>(core, name);
  core->opens.push_back(finish_open(r, name, start));
  co_return r;
}

void ScriptedTransport::cancel() { core_->scope->cancel(); }

bool ScriptedTransport::cancelled() const { return core_->scope->cancelled(); }

std::vector<ExecRecord> ScriptedTransport::execs() const {
  std::vector<ExecRecord> out;
  for (auto& r : core_->execs) out.push_back(*r);
  return out;
}

std::vector<ExecRecord> ScriptedTransport::execs(const std::string& host) const {
  std::vector<ExecRecord> out;
  for (auto& r : core_->execs)
    if (r->host == host) out.push_back(*r);
  return out;
}

std::vector<std::string> ScriptedTransport::commands(const std::string& host) const {
  std::vector<std::string> out;
  for (auto& r : core_->execs)
    if (r->host == host) out.push_back(r->command);
  return out;
}

std::vector<OpenRecord> ScriptedTransport::opens() const { return core_->opens; }

std::shared_ptr<ScriptedExec> ScriptedTransport::running(const std::string& host, std::string_view substring) const {
  for (auto& r : core_->execs)
    if (!r->ended && r->host == host && r->command.find(substring) != std::string::npos)
      if (auto x = r->exec.lock()) return x;
  return nullptr;
}

}  // namespace plugbox::transport
