#include "transport/ssh_transport.h"

#include <libssh/libssh.h>
#include <signal.h>
#include <sys/resource.h>

#include <fmt/format.h>

#include "transport/ssh_connection.h"
#include "transport/ssh_exec.h"

namespace plugbox::transport {

namespace {

class SshSession : public Session, public std::enable_shared_from_this<SshSession> {
 public:
  SshSession(std::string name, std::shared_ptr<SshConnection> conn) : name_(std::move(name)), conn_(std::move(conn)) {}
  ~SshSession() override { close(); }

  const std::string& name() const override { return name_; }

  Awaitable<ExecResult> exec(Command command, ExecOptions options) override {
    auto self = shared_from_this();  // the session lives while its commands run
    if (closed_) {
      ExecResult r;
      r.error = make_error(Errc::session_closed, "exec", name_);
      co_return r;
    }
    co_return co_await run_ssh_exec(conn_, name_, std::move(command), std::move(options));
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    conn_->close(make_error(Errc::session_closed, "session", name_, "closed by plugbox"));
  }

 private:
  std::string name_;
  std::shared_ptr<SshConnection> conn_;
  bool closed_ = false;
};

}  // namespace

struct SshTransport::JumpSlot {
  explicit JumpSlot(Executor ex) : ready(std::make_shared<Notifier>(ex)) {}
  std::shared_ptr<SshConnection> conn;
  Error error;
  bool pending = true;
  std::shared_ptr<Notifier> ready;
};

SshTransport::SshTransport(Executor ex, SshOptions options)
    : ctx_(std::make_shared<SshContext>(std::move(ex), std::move(options))) {
  ssh_init();
  struct sigaction old {};
  if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

SshTransport::~SshTransport() { close_all(); }

void SshTransport::cancel() { ctx_->scope->cancel(); }

bool SshTransport::cancelled() const { return ctx_->scope->cancelled(); }

int SshTransport::connections_started() const { return ctx_->connections_started; }

int SshTransport::handshakes_peak() const { return ctx_->handshakes_peak; }

void SshTransport::close_all() {
  for (auto& [key, slot] : jumps_)
    if (slot->conn) slot->conn.reset();  // closes when no session behind it remains
  jumps_.clear();
}

Awaitable<Error> SshTransport::jump(const std::string& key, const Endpoint& hop,
                                    std::shared_ptr<SshConnection> parent, std::shared_ptr<SshConnection>* out,
                                    OpGuard& guard) {
  for (;;) {
    auto it = jumps_.find(key);
    if (it == jumps_.end()) break;
    auto slot = it->second;
    while (slot->pending) {
      if (auto stop = guard.stop_code())
        co_return make_error(stop, "connect", hop.name, "waiting for the jump host connection");
      co_await guard.wait(slot->ready);
    }
    if (slot->conn && slot->conn->alive()) {
      *out = slot->conn;
      co_return Error{};
    }
    if (slot->error) co_return slot->error;  // failed for good in this run
    // It died since (or its opener gave up): connect again, unless someone
    // already started over.
    if (auto now = jumps_.find(key); now != jumps_.end() && now->second == slot) jumps_.erase(now);
  }
  auto slot = std::make_shared<JumpSlot>(ctx_->ex);
  jumps_[key] = slot;
  auto conn = std::make_shared<SshConnection>(ctx_, hop, hop.name);
  Error err = co_await conn->open(parent, guard);
  slot->pending = false;
  slot->ready->notify();
  if (err) {
    // A deadline or a cancel of this caller says nothing about the jump host.
    if (err.code == std::errc::timed_out || err.code == std::errc::operation_canceled) {
      if (auto now = jumps_.find(key); now != jumps_.end() && now->second == slot) jumps_.erase(now);
    } else {
      slot->error = err;
    }
    co_return err;
  }
  slot->conn = conn;
  *out = conn;
  co_return Error{};
}

Awaitable<OpenResult> SshTransport::open(Target target, Deadline deadline) {
  OpenResult result;
  const std::string& name = target.name();
  if (auto p = target.problem()) {
    result.error = make_error(Errc::bad_target, "open", name, *p);
    co_return result;
  }
  if (target.kind != TargetKind::ssh) {
    result.error = make_error(Errc::bad_target, "open", name, "the SSH transport only opens ssh targets");
    co_return result;
  }
  auto warn_off = [&](const Endpoint& e) {
    if (e.host_key_check != HostKeyCheck::off || warned_off_[e.name]) return;
    warned_off_[e.name] = true;
    ctx_->warn(fmt::format("host key checking is OFF for {} ({}): anyone on the network path can impersonate "
                           "it. Use host_key_check = \"off\" for tests only",
                           e.name, e.describe()));
  };
  if (deadline == kNoDeadline) deadline = deadline_in(ctx_->options.connect_timeout);
  OpGuard guard(ctx_->ex, deadline, ctx_->scope);
  if (auto stop = guard.stop_code()) {
    result.error = make_error(stop, "open", name);
    co_return result;
  }

  std::shared_ptr<SshConnection> parent;
  std::string key;
  for (const auto& hop : target.jump_chain) {
    warn_off(hop);
    key += hop.connection_key() + "\x1e";
    std::shared_ptr<SshConnection> next;
    Error err = co_await jump(key, hop, parent, &next, guard);
    if (err) {
      result.error = make_error(err.code, "jump", name, "via " + err.message());
      co_return result;
    }
    parent = next;
  }
  warn_off(target.endpoint);
  auto conn = std::make_shared<SshConnection>(ctx_, target.endpoint, name);
  Error err = co_await conn->open(parent, guard);
  if (err) {
    result.error = std::move(err);
    co_return result;
  }
  result.session = std::make_shared<SshSession>(name, conn);
  co_return result;
}

}  // namespace plugbox::transport
