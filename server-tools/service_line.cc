#include "server-tools/service_line.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <string_view>

#include "server-tools/errors.h"

namespace plugbox::server {

namespace {

using Clock = std::chrono::steady_clock;

// Keeps the last `cap` bytes: enough to say why a step failed.
void keep_tail(std::string& s, std::string_view more, std::size_t cap = 4096) {
  s.append(more);
  if (s.size() > cap) s.erase(0, s.size() - cap);
}

}  // namespace

Forked fork_with_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) sys_fail("pipe", errno);
  Forked f{-1, base::UniqueFd(p[0]), base::UniqueFd(p[1])};
  f.pid = ::fork();
  if (f.pid < 0) sys_fail("fork", errno);
  return f;
}

StepResult run_service_line(const ServiceLine& s) {
  auto [pid, rd, wr] = fork_with_pipe();
  if (pid == 0) {
    ::setpgid(0, 0);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(wr.get(), 1);
    ::dup2(wr.get(), 2);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGHUP, SIG_DFL);
    if (!s.cwd.empty() && ::chdir(s.cwd.c_str()) != 0) {
      std::string msg = "cd " + s.cwd + ": " + std::strerror(errno) + "\n";
      [[maybe_unused]] auto n = ::write(1, msg.data(), msg.size());
      _exit(126);
    }
    for (const auto& [k, v] : s.env) ::setenv(k.c_str(), v.c_str(), 1);
    ::execl("/bin/sh", "sh", "-c", s.shell.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::setpgid(pid, pid);
  wr.reset();
  StepResult r;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s.timeout_s));
  bool timed_out = false, eof = false, exited = false;
  int status = 0;
  char buf[4096];
  while (!exited) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd pfd{rd.get(), POLLIN, 0};
    int n = eof ? 0 : ::poll(&pfd, 1, int(std::min<long long>(left, 20)));
    if (eof) ::usleep(20 * 1000);
    if (n > 0) {
      ssize_t got = ::read(rd.get(), buf, sizeof buf);
      if (got > 0) keep_tail(r.output, std::string_view(buf, std::size_t(got)));
      else if (got == 0 || errno != EINTR) eof = true;
    }
    exited = ::waitpid(pid, &status, WNOHANG) == pid;
  }
  if (timed_out) {
    ::kill(-pid, SIGTERM);
    const auto grace = Clock::now() + std::chrono::seconds(2);
    while (::waitpid(pid, &status, WNOHANG) == 0 && Clock::now() < grace) ::usleep(20 * 1000);
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    r.timed_out = true;
    std::ostringstream t;
    t << s.timeout_s;  // "0.5", not "0.500000"
    r.error = "timed out after " + t.str() + " s (its process group was killed)";
    return r;
  }
  // What it wrote before it exited, without waiting for what it left behind.
  for (pollfd pfd{rd.get(), POLLIN, 0}; !eof && ::poll(&pfd, 1, 0) > 0;) {
    ssize_t got = ::read(rd.get(), buf, sizeof buf);
    if (got > 0) keep_tail(r.output, std::string_view(buf, std::size_t(got)));
    else eof = true;
  }
  if (WIFEXITED(status)) r.exit = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.ok = WIFEXITED(status) && r.exit == 0;
  if (!r.ok) {
    r.error = WIFEXITED(status) ? "exit " + std::to_string(r.exit) : "killed by signal " + std::to_string(WTERMSIG(status));
    auto line_start = r.output.find_first_not_of("\r\n \t");
    if (line_start != std::string::npos) {
      auto end = r.output.find('\n', line_start);
      r.error += ": " + r.output.substr(line_start, end == std::string::npos ? std::string::npos : end - line_start);
    }
  }
  return r;
}


}  // namespace plugbox::server
