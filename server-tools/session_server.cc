#include "server-tools/session_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "upload/common/stream_format.h"

#include <climits>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "base/session_protocol.h"
#include "base/unique_fd.h"
#include "server-tools/server_cli.h"

namespace plugbox::server {

namespace {

namespace sp = base::session;
using base::UniqueFd;

constexpr std::size_t kReadChunk = 64u << 10;
// Input a command took is granted back to the client in steps this big: a
// frame per 256 KiB, not one per write.
constexpr std::size_t kGrantStep = 256u << 10;

struct Request {
  pid_t pid = -1;
  UniqueFd in, out, err;  // our ends: its stdin (write), its stdout and stderr (read)
  std::string pending;    // input read from the client, not yet taken by the command
  std::size_t taken = 0;  // input the command took that we have not granted back yet
  bool input_ended = false;
  bool exited = false;
  int status = 0;
};

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// The signals the loop takes through its signalfd, blocked meanwhile; the
// old mask and SIGPIPE's disposition come back when it returns, and each
// command starts with them (a mask and an ignored signal survive exec).
class SignalScope {
 public:
  SignalScope() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, &old_mask_);
    fd_.reset(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    // A client that went away shows as EPIPE on our writes, not a death.
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old_pipe_);
    // An ignored SIGCHLD (inherited across exec) would reap our children
    // unseen: no exit would ever be reported.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGCHLD, &dfl, &old_chld_);
  }
  ~SignalScope() {
    ::sigaction(SIGCHLD, &old_chld_, nullptr);
    ::sigaction(SIGPIPE, &old_pipe_, nullptr);
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;
  int fd() const { return fd_.get(); }
  // In a forked child, before exec: the signals as they were.
  void restore_in_child() const {
    ::signal(SIGPIPE, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
  }

 private:
  sigset_t old_mask_;
  struct sigaction old_pipe_ {}, old_chld_ {};
  UniqueFd fd_;
};

class Server {
 public:
  Server(int in_fd, int out_fd) : in_fd_(in_fd), out_fd_(out_fd) {}

  SessionServerResult run(const std::string& server) {
    if (signals_.fd() < 0) return fail(std::string("signalfd: ") + std::strerror(errno));
    // "upload": which upload streams `receive` takes, so that a client can
    // speak the newest to a pinned server that has it.
    nlohmann::json hello = {{"protocol", sp::kProtocol}, {"server", server}, {"upload", upload::kProtocolVersion}};
    send(sp::FrameType::hello, 0, hello.dump());
    while (!client_gone_) {
      std::vector<pollfd> fds;
      std::vector<std::pair<std::uint32_t, int>> who;  // fds[i] -> (request, 0 in / 1 out / 2 err); sig, client first
      fds.push_back({signals_.fd(), POLLIN, 0});
      who.push_back({0, -1});
      // Always: each request's input is bounded by its window, and a
      // signal frame must get through whatever input is queued before it.
      fds.push_back({in_fd_, POLLIN, 0});
      who.push_back({0, -2});
      for (auto& [id, r] : requests_) {
        if (r.in && !r.pending.empty()) fds.push_back({r.in.get(), POLLOUT, 0}), who.push_back({id, 0});
        if (r.out) fds.push_back({r.out.get(), POLLIN, 0}), who.push_back({id, 1});
        if (r.err) fds.push_back({r.err.get(), POLLIN, 0}), who.push_back({id, 2});
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return fail(std::string("poll: ") + std::strerror(errno));
      }
      for (std::size_t i = 0; i < fds.size() && !client_gone_; ++i) {
        if (!fds[i].revents) continue;
        auto [id, what] = who[i];
        if (what == -1) on_signals();
        else if (what == -2) on_client();
        else if (auto it = requests_.find(id); it != requests_.end()) on_request_fd(id, it->second, what);
      }
      if (!error_.empty()) return fail(error_);
      finish_exited();
      if (stopping_ && requests_.empty()) break;
    }
    return {};
  }

 private:
  SessionServerResult fail(std::string why) {
    end_all();
    return {2, std::move(why)};
  }

  void send(sp::FrameType type, std::uint32_t id, std::string_view payload) {
    if (client_gone_) return;
    std::string frame = sp::encode(type, id, payload);
    std::size_t off = 0;
    while (off < frame.size()) {
      ssize_t n = ::write(out_fd_, frame.data() + off, frame.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        // The client is gone: nothing we say can reach it any more.
        end_all();
        return;
      }
      off += std::size_t(n);
    }
  }

  // The client's stream ended or broke: every command loses its stdin and
  // output, as under sshd when a channel closes, and we stop.
  void end_all() {
    client_gone_ = true;
    requests_.clear();
  }

  void on_signals() {
    signalfd_siginfo si;
    while (::read(signals_.fd(), &si, sizeof si) == ssize_t(sizeof si)) {
      if (si.ssi_signo == SIGCHLD) {
        reap();
        continue;
      }
      // A stop for us is a stop for what runs under us (the client's
      // transport cancelled our channel); we end with the last of them.
      stopping_ = true;
      for (auto& [id, r] : requests_)
        if (!r.exited) ::kill(-r.pid, int(si.ssi_signo));
    }
  }

  void reap() {
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      for (auto& [id, r] : requests_)
        if (r.pid == pid) {
          r.exited = true;
          r.status = status;
        }
    }
  }

  void on_client() {
    char buf[kReadChunk];
    ssize_t n = ::read(in_fd_, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      end_all();
      return;
    }
    reader_.feed(std::string_view(buf, std::size_t(n)));
    while (auto f = reader_.next()) on_frame(*f);
    if (!reader_.error().empty()) error_ = "the client's stream: " + reader_.error();
  }

  void on_frame(const sp::Frame& f) {
    auto it = requests_.find(f.id);
    switch (f.type) {
      case sp::FrameType::start: {
        if (it != requests_.end() || f.id == 0) {
          error_ = "request id " + std::to_string(f.id) + " is " + (f.id ? "in use" : "reserved");
          return;
        }
        if (stopping_) {
          send(sp::FrameType::failed, f.id, "the session is stopping (it was sent a signal)");
          return;
        }
        auto spec = parse_start(f.payload);
        if (!spec) {
          error_ = "start frame " + std::to_string(f.id) + " is neither {\"line\": ...} nor {\"argv\": [...], ...}";
          return;
        }
        start(f.id, *spec);
        return;
      }
      case sp::FrameType::stdin_data:
        // Input for a request that already ended is dropped, as a channel's is.
        if (it != requests_.end() && it->second.in && !it->second.input_ended) {
          it->second.pending += f.payload;
          if (it->second.pending.size() > sp::kInitialWindow)
            error_ = "request " + std::to_string(f.id) + " sent more stdin than its window";
        }
        return;
      case sp::FrameType::stdin_end:
        if (it != requests_.end()) {
          it->second.input_ended = true;
          if (it->second.pending.empty()) it->second.in.reset();
        }
        return;
      case sp::FrameType::signal: {
        int sig = sp::signal_number(f.payload);
        if (!sig) {
          error_ = "signal frame names '" + f.payload + "', not one of TERM KILL INT HUP PIPE";
          return;
        }
        if (it != requests_.end() && !it->second.exited) ::kill(-it->second.pid, sig);
        return;
      }
      default:
        error_ = std::string("frame type '") + char(f.type) + "' is one the server sends, not the client";
    }
  }

  // What a start frame asks for: a shell line, or an argv run without a
  // shell (with its environment additions and directory), as docs/SESSION.md says.
  struct StartSpec {
    std::string line;
    std::vector<std::string> argv;
    std::vector<std::pair<std::string, std::string>> env;
    std::string cwd;
    bool with_stdin = false;
  };

  static std::optional<StartSpec> parse_start(const std::string& payload) {
    auto j = nlohmann::json::parse(payload, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    StartSpec s;
    if (auto it = j.find("stdin"); it != j.end()) {
      if (!it->is_boolean()) return std::nullopt;
      s.with_stdin = it->get<bool>();
    }
    if (auto it = j.find("line"); it != j.end() && it->is_string()) {
      s.line = it->get<std::string>();
      return s;
    }
    auto argv = j.find("argv");
    if (argv == j.end() || !argv->is_array() || argv->empty()) return std::nullopt;
    for (const auto& w : *argv) {
      if (!w.is_string()) return std::nullopt;
      s.argv.push_back(w.get<std::string>());
    }
    if (auto env = j.find("env"); env != j.end()) {
      if (!env->is_array()) return std::nullopt;
      for (const auto& kv : *env) {
        if (!kv.is_array() || kv.size() != 2 || !kv[0].is_string() || !kv[1].is_string()) return std::nullopt;
        s.env.emplace_back(kv[0].get<std::string>(), kv[1].get<std::string>());
      }
    }
    if (auto cwd = j.find("cwd"); cwd != j.end()) {
      if (!cwd->is_string()) return std::nullopt;
      s.cwd = cwd->get<std::string>();
    }
    return s;
  }

  // In the forked child: becomes the request's command; never returns.
  [[noreturn]] static void exec_request(const StartSpec& s) {
    if (s.argv.empty()) {
      ::execl("/bin/sh", "sh", "-c", s.line.c_str(), static_cast<char*>(nullptr));
      child_fail("/bin/sh", errno, 127);
    }
    // What the rendered line would do in the shell: `cd DIR || exit`, the
    // assignments, then the command looked up in PATH.
    if (!s.cwd.empty() && ::chdir(s.cwd.c_str()) != 0) child_fail("cd: " + s.cwd, errno, 2);
    for (const auto& [k, v] : s.env) ::setenv(k.c_str(), v.c_str(), 1);
    if (is_this_program(s.argv[0])) {
      // plugbox-server itself: run the command in this forked copy rather
      // than exec the same binary again. Same code, same fds, same
      // environment; one exec fewer per step (bench/redeploy).
      // Without an exec, close-on-exec closes nothing: the other requests'
      // pipe ends we inherited would keep, say, the lock's stdin open after
      // the client closed it.
      if (::close_range(3, ~0u, 0) != 0) {  // a kernel before 5.9
        const long max_fd = ::sysconf(_SC_OPEN_MAX);
        for (int fd = 3; fd < (max_fd > 0 && max_fd < 65536 ? int(max_fd) : 65536); ++fd) ::close(fd);
      }
      std::vector<std::string> args(s.argv.begin() + 1, s.argv.end());
      CliEnv env{std::cout, std::cerr, 0, process_env};
      int rc = run_server_cli(args, env);
      std::cout.flush();
      std::cerr.flush();
      _exit(rc);
    }
    std::vector<char*> argv;
    for (const auto& w : s.argv) argv.push_back(const_cast<char*>(w.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    child_fail(s.argv[0], errno, errno == ENOENT ? 127 : 126);
  }

  // Whether `word`, looked up as execvp would, is the binary running now.
  // A wrapper script in between (a test's hooks) is not: it is exec'd.
  static bool is_this_program(const std::string& word) {
    static const std::string self = real_path("/proc/self/exe");
    if (self.empty()) return false;
    if (word.find('/') != std::string::npos) return real_path(word) == self;
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    for (std::size_t start = 0; start <= dirs.size();) {
      std::size_t end = dirs.find(':', start);
      if (end == std::string::npos) end = dirs.size();
      std::string dir = dirs.substr(start, end - start);
      std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + word;
      if (::access(candidate.c_str(), X_OK) == 0) return real_path(candidate) == self;
      start = end + 1;
    }
    return false;
  }

  static std::string real_path(const std::string& p) {
    char buf[PATH_MAX];
    return ::realpath(p.c_str(), buf) ? std::string(buf) : std::string();
  }

  [[noreturn]] static void child_fail(const std::string& what, int err, int status) {
    std::string msg = "plugbox-server session: " + what + ": " + std::strerror(err) + "\n";
    [[maybe_unused]] auto n = ::write(2, msg.data(), msg.size());
    _exit(status);
  }

  void start(std::uint32_t id, const StartSpec& spec) {
    const bool with_stdin = spec.with_stdin;
    int in[2] = {-1, -1}, out[2], err[2];
    bool piped = ::pipe2(out, O_CLOEXEC) == 0;
    if (piped && ::pipe2(err, O_CLOEXEC) != 0) {
      ::close(out[0]), ::close(out[1]);
      piped = false;
    }
    if (piped && with_stdin && ::pipe2(in, O_CLOEXEC) != 0) {
      for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
      piped = false;
    }
    if (!piped) {
      send(sp::FrameType::failed, id, std::string("pipe: ") + std::strerror(errno));
      return;
    }
    Request r;
    r.out.reset(out[0]);
    r.err.reset(err[0]);
    UniqueFd child_out(out[1]), child_err(err[1]), child_in(in[0]);
    if (with_stdin) r.in.reset(in[1]);
    pid_t pid = ::fork();
    if (pid < 0) {
      send(sp::FrameType::failed, id, std::string("fork: ") + std::strerror(errno));
      return;
    }
    if (pid == 0) {
      signals_.restore_in_child();
      ::setpgid(0, 0);
      int stdin_fd = with_stdin ? child_in.get() : ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (stdin_fd >= 0) ::dup2(stdin_fd, 0);
      ::dup2(child_out.get(), 1);
      ::dup2(child_err.get(), 2);
      exec_request(spec);
    }
    ::setpgid(pid, pid);  // both sides: a signal frame may come before the child ran
    r.pid = pid;
    for (const UniqueFd* fd : {&r.in, &r.out, &r.err})
      if (*fd) set_nonblocking(fd->get());
    requests_.emplace(id, std::move(r));
  }

  void on_request_fd(std::uint32_t id, Request& r, int what) {
    if (what == 0) {
      ssize_t n = ::write(r.in.get(), r.pending.data(), r.pending.size());
      if (n > 0) {
        r.pending.erase(0, std::size_t(n));
        r.taken += std::size_t(n);
        if (r.taken >= kGrantStep) {
          send(sp::FrameType::window, id, std::to_string(r.taken));
          r.taken = 0;
        }
      }
      else if (n < 0 && errno != EAGAIN && errno != EINTR) r.pending.clear(), r.input_ended = true;  // it closed its stdin
      if (r.pending.empty() && r.input_ended) r.in.reset();
      return;
    }
    UniqueFd& fd = what == 1 ? r.out : r.err;
    forward(id, fd, what == 1 ? sp::FrameType::stdout_data : sp::FrameType::stderr_data);
  }

  // Sends what can be read now from `fd`; closes it at EOF.
  // Returns whether it sent something.
  bool forward(std::uint32_t id, UniqueFd& fd, sp::FrameType type) {
    char buf[kReadChunk];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0) send(type, id, std::string_view(buf, std::size_t(n)));
    else if (n == 0 || (errno != EAGAIN && errno != EINTR)) fd.reset();
    return n > 0;
  }

  // A command that exited ends its request: the output it wrote before it
  // exited is in its pipes now, and is sent before its exit frame.
  void finish_exited() {
    for (auto it = requests_.begin(); it != requests_.end() && !client_gone_;) {
      Request& r = it->second;
      if (!r.exited) {
        ++it;
        continue;
      }
      // Until EOF, or nothing more now (a child it left holds the pipe).
      for (auto [fd, type] : {std::pair{&r.out, sp::FrameType::stdout_data}, {&r.err, sp::FrameType::stderr_data}})
        while (*fd && !client_gone_ && forward(it->first, *fd, type)) {
        }
      nlohmann::json end;
      if (WIFEXITED(r.status)) {
        end["exit"] = WEXITSTATUS(r.status);
      } else {
        std::string name = sp::signal_name(WTERMSIG(r.status));
        end["signal"] = name.empty() ? "SIG" + std::to_string(WTERMSIG(r.status)) : name;
      }
      send(sp::FrameType::exit, it->first, end.dump());
      if (client_gone_) return;
      it = requests_.erase(it);
    }
  }

  int in_fd_, out_fd_;
  SignalScope signals_;
  sp::FrameReader reader_;
  std::map<std::uint32_t, Request> requests_;
  bool client_gone_ = false;
  bool stopping_ = false;
  std::string error_;
};

}  // namespace

SessionServerResult serve_session(int in_fd, int out_fd, const std::string& server) {
  Server s(in_fd, out_fd);
  return s.run(server);
}

}  // namespace plugbox::server
