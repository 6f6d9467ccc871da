#include "transport/local_transport.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <list>
#include <vector>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "transport/child_process.h"
#include "transport/notifier.h"
#include "base/unique_fd.h"

extern char** environ;

namespace plugbox::transport {

namespace {

using Descriptor = asio::posix::stream_descriptor;

struct LocalExec {
  LocalExec(Executor ex, std::string host_name, ExecOptions o)
      : changed(std::make_shared<Notifier>(ex)),
        host(std::move(host_name)),
        opts(std::move(o)),
        out(ex),
        err(ex),
        in(ex),
        pidfd(ex) {}

  void deliver(bool is_err, std::string_view data) {
    if (is_err ? opts.capture_stderr : opts.capture_stdout) (is_err ? result.err : result.out).append(data);
    auto& cb = is_err ? opts.on_stderr : opts.on_stdout;
    if (!cb) return;
    try {
      cb(data);
    } catch (const std::exception& e) {
      if (callback_error.empty()) callback_error = e.what();
    }
  }

  std::shared_ptr<Notifier> changed;
  std::string host;
  ExecOptions opts;
  ChildProcess child;
  Descriptor out, err, in, pidfd;
  bool out_eof = false, err_eof = false, exited = false, finished = false, session_closed = false;
  int wait_status = 0;
  ExecResult result;
  std::string callback_error;
};

Awaitable<void> read_output(std::shared_ptr<LocalExec> st, bool is_err) {
  Descriptor& d = is_err ? st->err : st->out;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    boost::system::error_code ec;
    size_t n = co_await d.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (st->finished) co_return;
    if (n > 0) st->deliver(is_err, std::string_view(buf.data(), n));
    if (ec) break;
  }
  (is_err ? st->err_eof : st->out_eof) = true;
  st->changed->notify();
}

Awaitable<void> wait_exit(std::shared_ptr<LocalExec> st) {
  for (;;) {
    // Check before parking: the child may have exited before we got here.
    if (auto status = st->child.try_reap()) {
      st->wait_status = *status;
      break;
    }
    boost::system::error_code ec;
    co_await st->pidfd.async_wait(Descriptor::wait_read, asio::redirect_error(asio::use_awaitable, ec));
    if (st->finished) co_return;
  }
  st->exited = true;
  st->changed->notify();
}

Awaitable<void> write_stdin(std::shared_ptr<LocalExec> st) {
  try {
    if (st->opts.stdin_source) {
      for (;;) {
        std::optional<std::string> chunk = co_await st->opts.stdin_source();
        if (st->finished) co_return;
        if (!chunk) break;
        boost::system::error_code ec;
        co_await asio::async_write(st->in, asio::buffer(*chunk), asio::redirect_error(asio::use_awaitable, ec));
        if (st->finished) co_return;
        if (ec) break;  // EPIPE: the command stopped reading; its exit status says the rest
      }
    } else if (st->opts.stdin_data && !st->opts.stdin_data->empty()) {
      boost::system::error_code ec;
      co_await asio::async_write(st->in, asio::buffer(*st->opts.stdin_data),
                                 asio::redirect_error(asio::use_awaitable, ec));
      if (st->finished) co_return;
    }
  } catch (const std::exception& e) {
    if (st->finished) co_return;
    if (st->callback_error.empty()) st->callback_error = std::string("stdin source failed: ") + e.what();
  }
  boost::system::error_code ignored;
  st->in.close(ignored);  // EOF for the command
}

class LocalSession : public Session, public std::enable_shared_from_this<LocalSession> {
 public:
  LocalSession(Executor ex, std::string name, std::string root, LocalOptions options,
               std::shared_ptr<CancelScope> scope)
      : ex_(std::move(ex)),
        name_(std::move(name)),
        root_(std::move(root)),
        options_(options),
        scope_(std::move(scope)) {}

  ~LocalSession() override { close(); }

  const std::string& name() const override { return name_; }

  Awaitable<ExecResult> exec(Command command, ExecOptions options) override {
    auto self = shared_from_this();
    auto st = std::make_shared<LocalExec>(ex_, name_, std::move(options));
    if (closed_) {
      st->result.error = make_error(Errc::session_closed, "exec", name_);
      co_return std::move(st->result);
    }
    if (scope_->cancelled()) {
      st->result.error = make_error(std::make_error_code(std::errc::operation_canceled), "exec", name_);
      co_return std::move(st->result);
    }
    if (auto e = spawn(command, *st)) {
      st->result.error = std::move(e);
      co_return std::move(st->result);
    }
    running_.push_back(st);
    auto registration = std::prev(running_.end());

    asio::co_spawn(ex_, read_output(st, false), asio::detached);
    asio::co_spawn(ex_, read_output(st, true), asio::detached);
    asio::co_spawn(ex_, wait_exit(st), asio::detached);
    asio::co_spawn(ex_, write_stdin(st), asio::detached);

    OpGuard guard(ex_, st->opts.deadline, scope_);
    asio::steady_timer grace(ex_);
    std::error_code stop;
    enum { running, terminating, killing, giving_up } phase = running;
    auto arm_grace = [&] {
      grace.expires_after(options_.kill_grace);
      grace.async_wait([changed = st->changed](const boost::system::error_code& ec) {
        if (!ec) changed->notify();
      });
    };
    for (;;) {
      if (st->exited && st->out_eof && st->err_eof) break;
      if (phase == running) {
        std::error_code why = guard.stop_code();
        if (!why && st->session_closed) why = make_error_code(Errc::session_closed);
        if (!why) {
          co_await guard.wait(st->changed);
          continue;
        }
        stop = why;
        st->child.signal_group(SIGTERM);
        phase = terminating;
        arm_grace();
      } else if (Clock::now() >= grace.expiry()) {
        if (phase == terminating) {
          st->child.signal_group(SIGKILL);
          phase = killing;
          arm_grace();
        } else {
          // Something that left the process group still holds our pipes.
          phase = giving_up;
          break;
        }
      }
      co_await st->changed->wait();
    }
    grace.cancel();
    st->finished = true;
    running_.erase(registration);
    boost::system::error_code ignored;
    st->out.close(ignored);
    st->err.close(ignored);
    st->in.close(ignored);
    st->pidfd.close(ignored);

    ExecResult r = std::move(st->result);
    if (st->exited) {
      if (WIFEXITED(st->wait_status)) {
        r.exit_status = WEXITSTATUS(st->wait_status);
      } else if (WIFSIGNALED(st->wait_status)) {
        const char* abbrev = sigabbrev_np(WTERMSIG(st->wait_status));
        r.exit_signal = abbrev ? abbrev : std::to_string(WTERMSIG(st->wait_status));
      }
    }
    if (stop) {
      std::string detail = stop == std::errc::timed_out ? "deadline passed; the command was killed"
                           : stop == std::errc::operation_canceled ? "cancelled; the command was killed"
                                                                   : "the command was killed";
      r.error = make_error(stop, "exec", name_, detail);
    } else if (!st->callback_error.empty()) {
      r.error = make_error(std::make_error_code(std::errc::io_error), "exec", name_, st->callback_error);
    } else if (!st->exited) {
      r.error = make_error(Errc::no_exit_status, "exec", name_);
    }
    co_return r;
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    for (auto& st : running_) {
      st->session_closed = true;
      st->changed->notify();
    }
  }

 private:
  Error spawn(const Command& command, LocalExec& st) {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0) return sys_error("pipe");
    base::UniqueFd in_r(in[0]), in_w(in[1]);
    if (::pipe2(out, O_CLOEXEC) != 0) return sys_error("pipe");
    base::UniqueFd out_r(out[0]), out_w(out[1]);
    if (::pipe2(err, O_CLOEXEC) != 0) return sys_error("pipe");
    base::UniqueFd err_r(err[0]), err_w(err[1]);

    std::string line = command.render();
    std::vector<std::string> env_strings;
    for (char** e = environ; e && *e; ++e)
      if (std::string_view(*e).rfind("HOME=", 0) != 0 && std::string_view(*e).rfind("PWD=", 0) != 0)
        env_strings.emplace_back(*e);
    env_strings.push_back("HOME=" + root_);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string sh = "/bin/sh", dash_c = "-c";
    char* argv[] = {sh.data(), dash_c.data(), line.data(), nullptr};

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_r.get(), 0);
    posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
    posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
    posix_spawn_file_actions_addchdir_np(&fa, root_.c_str());
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // Its own process group, so a deadline kills the whole command; default
    // signal dispositions and an empty mask, whatever plugbox ignores.
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, defaults;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigemptyset(&defaults);
    for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) sigaddset(&defaults, s);
    posix_spawnattr_setsigdefault(&attr, &defaults);

    pid_t pid = -1;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      return make_error(Errc::spawn_failed, "exec", name_,
                        fmt::format("/bin/sh in {}: {}", root_, std::generic_category().message(rc)));
    }
    if (auto e = st.child.adopt(pid); !e.empty())
      return make_error(Errc::spawn_failed, "exec", name_, e);

    // The child has its ends; ours are watched by the io_context.
    for (base::UniqueFd* fd : {&in_w, &out_r, &err_r}) ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
    st.in.assign(in_w.release());
    st.out.assign(out_r.release());
    st.err.assign(err_r.release());
    st.pidfd.assign(::dup(st.child.pidfd()));
    return {};
  }

  Error sys_error(const char* what) {
    return make_error(std::error_code(errno, std::generic_category()), "exec", name_, what);
  }

  Executor ex_;
  std::string name_, root_;
  LocalOptions options_;
  std::shared_ptr<CancelScope> scope_;
  bool closed_ = false;
  std::list<std::shared_ptr<LocalExec>> running_;
};

}  // namespace

LocalTransport::LocalTransport(Executor ex, LocalOptions options)
    : ex_(std::move(ex)), options_(options), scope_(std::make_shared<CancelScope>()) {
  struct sigaction old {};
  if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) ::signal(SIGPIPE, SIG_IGN);
}

LocalTransport::~LocalTransport() = default;

Awaitable<OpenResult> LocalTransport::open(Target target, Deadline) {
  OpenResult r;
  if (auto p = target.problem()) {
    r.error = make_error(Errc::bad_target, "open", target.name(), *p);
    co_return r;
  }
  if (target.kind != TargetKind::local) {
    r.error = make_error(Errc::bad_target, "open", target.name(), "the local transport only opens local targets");
    co_return r;
  }
  if (scope_->cancelled()) {
    r.error = make_error(std::make_error_code(std::errc::operation_canceled), "open", target.name());
    co_return r;
  }
  struct stat sb {};
  if (::stat(target.root.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    r.error = make_error(Errc::no_such_host_dir, "open", target.name(),
                         fmt::format("{} is not a directory: create it (mkdir -p {}) or fix the host's `home`",
                                     target.root, target.root));
    co_return r;
  }
  r.session = std::make_shared<LocalSession>(ex_, target.name(), target.root, options_, scope_);
  co_return r;
}

void LocalTransport::cancel() { scope_->cancel(); }

bool LocalTransport::cancelled() const { return scope_->cancelled(); }

}  // namespace plugbox::transport
