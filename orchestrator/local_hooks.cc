#include "orchestrator/local_hooks.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <sstream>

#include "orchestrator/local_shell.h"

namespace plugbox::orchestrator {

namespace {

// Each name once, in first-seen order, space-separated.
std::string distinct(const std::vector<std::string>& names) {
  std::vector<std::string> seen;
  std::string out;
  for (const auto& n : names) {
    if (n.empty() || std::find(seen.begin(), seen.end(), n) != seen.end()) continue;
    seen.push_back(n);
    out += (out.empty() ? "" : " ") + n;
  }
  return out;
}

volatile sig_atomic_t g_signalled = 0;
void on_signal(int) { g_signalled = 1; }

// SIGINT and SIGTERM only set a flag while a hook runs; the previous
// handlers come back after.
class SignalFlag {
 public:
  SignalFlag() {
    g_signalled = 0;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~SignalFlag() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalFlag(const SignalFlag&) = delete;
  SignalFlag& operator=(const SignalFlag&) = delete;
  bool raised() const { return g_signalled != 0; }

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

void nap_ms(long ms) {
  timespec ts{0, ms * 1000000L};
  ::nanosleep(&ts, nullptr);
}

// Waits for pid until `until`; true once reaped (*status set).
bool wait_until(pid_t pid, int* status, std::chrono::steady_clock::time_point until, const SignalFlag* flag) {
  for (;;) {
    pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return true;
    if (std::chrono::steady_clock::now() >= until || (flag && flag->raised())) return false;
    nap_ms(10);
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> hook_environment(const HookEnv& e) {
  return {{"PLUGBOX_SERVICE", e.service}, {"PLUGBOX_VERSION", e.version}, {"PLUGBOX_PREVIOUS", e.previous},
          {"PLUGBOX_HOSTS", e.hosts},     {"PLUGBOX_RESULT", e.result},   {"PLUGBOX_SUMMARY", e.summary},
          {"PLUGBOX_JOURNAL", e.journal}};
}

std::string host_list(const std::vector<std::string>& names) { return distinct(names); }

std::string result_word(ExitStatus s) {
  switch (s) {
    case ExitStatus::ok: return "ok";
    case ExitStatus::failed: return "failed";
    case ExitStatus::bad_input: return "bad-input";
    case ExitStatus::incomplete: return "incomplete";
    case ExitStatus::interrupted: return "interrupted";
  }
  return "failed";
}

HookEnv hook_env_after(const ServiceConfig& svc, const std::string& version, const RunOutcome& outcome,
                       const std::string& journal_dir) {
  std::vector<std::string> names, before, after;
  for (const auto& h : outcome.hosts) {
    names.push_back(h.host);
    before.push_back(h.live_before);
    after.push_back(h.live);
  }
  HookEnv e;
  e.service = svc.name;
  e.version = version.empty() ? distinct(after) : version;
  e.previous = distinct(before);
  e.hosts = distinct(names);
  e.result = result_word(outcome.exit);
  e.summary = outcome.summary;
  e.journal = journal_dir;
  return e;
}

HookResult run_hook(const std::string& name, const std::string& line, const HookEnv& env,
                    const std::filesystem::path& cwd, double timeout_s) {
  const std::string what = "hook " + name + " (`" + line + "`)";
  const auto vars = hook_environment(env);
  SignalFlag flag;
  const pid_t pid = start_shell_line(line, cwd, vars, /*own_group=*/true);
  if (pid < 0) return {false, false, what + " could not start: fork failed"};
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long long>(std::llround(timeout_s * 1000)));
  if (wait_until(pid, &status, deadline, &flag)) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    return {false, false,
            what + (WIFEXITED(status) ? " exited " + std::to_string(WEXITSTATUS(status))
                                      : " was killed by signal " + std::to_string(WTERMSIG(status)))};
  }
  // Its whole group: what it left in the background too.
  ::kill(-pid, SIGTERM);
  if (!wait_until(pid, &status, std::chrono::steady_clock::now() + std::chrono::seconds(2), nullptr)) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ::kill(-pid, SIGKILL);  // anything of the group still there
  if (flag.raised()) return {false, true, what + " was interrupted"};
  std::ostringstream t;
  t << timeout_s;
  return {false, false, what + " timed out after " + t.str() + " s (its process group was killed)"};
}

}  // namespace plugbox::orchestrator
