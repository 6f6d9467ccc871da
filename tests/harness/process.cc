#include "tests/harness/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <system_error>
#include <utility>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace plugbox::testing {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// argv/envp as the char* arrays exec wants; built before fork, since the
// child of a threaded process may not allocate.
struct CArgs {
  explicit CArgs(const std::vector<std::string>& v) : store(v) {
    for (auto& s : store) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }
  char* const* get() { return ptrs.data(); }
  std::vector<std::string> store;
  std::vector<char*> ptrs;
};

const std::vector<std::string>& minimal_env() {
  static const std::vector<std::string> env{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  return env;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// pid -> parent pid for every process, from /proc/<pid>/stat.
std::multimap<pid_t, pid_t> children_map() {
  std::multimap<pid_t, pid_t> kids;
  DIR* d = opendir("/proc");
  if (!d) return kids;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string line;
    if (!std::getline(f, line)) continue;  // gone meanwhile
    // "pid (comm) state ppid ...": comm may hold spaces and ')', so parse from the last ')'.
    auto rp = line.rfind(')');
    if (rp == std::string::npos || rp + 4 >= line.size()) continue;
    long ppid = std::strtol(line.c_str() + rp + 4, nullptr, 10);
    kids.emplace(static_cast<pid_t>(ppid), static_cast<pid_t>(pid));
  }
  closedir(d);
  return kids;
}

}  // namespace

Child Child::start(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
    throw std::invalid_argument("Child::start needs an absolute program path");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe2");
  base::UniqueFd rd(p[0]), wr(p[1]);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  CArgs args(argv), env(minimal_env());
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, args.get(), env.get());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawn " + argv[0]);

  Child c;
  c.pid_ = pid;
  c.out_ = std::move(rd);
  c.argv_ = argv;
  return c;
}

Child::Child(Child&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), out_(std::move(o.out_)), output_(std::move(o.output_)),
      argv_(std::move(o.argv_)) {}

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = std::exchange(o.pid_, -1);
    out_ = std::move(o.out_);
    output_ = std::move(o.output_);
    argv_ = std::move(o.argv_);
  }
  return *this;
}

Child::~Child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
}

int Child::wait() {
  if (pid_ <= 0) throw std::logic_error("Child::wait called twice");
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(out_.get(), buf, sizeof buf);
    if (n > 0) {
      output_.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  out_.reset();
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0) {
    if (errno != EINTR) {
      pid_ = -1;
      throw_errno("waitpid");
    }
  }
  pid_ = -1;
  return decode_status(st);
}

std::string Child::command() const {
  std::string s;
  for (const auto& a : argv_) s += (s.empty() ? "" : " ") + a;
  return s;
}

namespace {
std::string failure_message(const Child& c, int code) {
  std::string out = c.output();
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return "`" + c.command() + "` failed (exit " + std::to_string(code) + ")" + (out.empty() ? "" : ": " + out);
}
}  // namespace

std::string run_checked(const std::vector<std::string>& argv) {
  Child c = Child::start(argv);
  int code = c.wait();
  if (code != 0) throw std::runtime_error(failure_message(c, code));
  return c.output();
}

void run_all_checked(const std::vector<std::vector<std::string>>& jobs, int parallel) {
  parallel = std::max(1, parallel);
  std::string first_error;
  for (size_t i = 0; i < jobs.size(); i += static_cast<size_t>(parallel)) {
    std::vector<Child> running;
    for (size_t j = i; j < std::min(jobs.size(), i + static_cast<size_t>(parallel)); ++j)
      running.push_back(Child::start(jobs[j]));
    for (auto& c : running) {
      int code = c.wait();
      if (code != 0 && first_error.empty()) first_error = failure_message(c, code);
    }
  }
  if (!first_error.empty()) throw std::runtime_error(first_error);
}

pid_t spawn_daemon(const std::vector<std::string>& argv, const std::string& netns, int log_fd) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
    throw std::invalid_argument("spawn_daemon needs an absolute program path");
  base::UniqueFd ns_fd;
  if (!netns.empty()) {
    ns_fd.reset(::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns_fd) throw_errno("open /run/netns/" + netns);
  }
  base::UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) throw_errno("open /dev/null");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw_errno("pipe2");
  base::UniqueFd err_rd(p[0]), err_wr(p[1]);
  CArgs args(argv);
  CArgs env(std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"});
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) {
    // Only async-signal-safe calls from here on: the parent may have threads.
    struct {
      int step, err;
    } failure{0, 0};
    auto fail = [&](int step) {
      failure = {step, errno};
      [[maybe_unused]] auto n = ::write(err_wr.get(), &failure, sizeof failure);
      ::_exit(127);
    };
    if (ns_fd && ::setns(ns_fd.get(), CLONE_NEWNET) != 0) fail(1);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(2);
    if (::getppid() != parent) ::_exit(0);  // the parent died before prctl took effect
    ::setpgid(0, 0);
    if (::dup2(devnull.get(), 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) fail(3);
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Everything above 2 closes at exec; the error pipe stays usable until then.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(argv[0].c_str(), args.get(), env.get());
    fail(4);
  }
  err_wr.reset();
  struct {
    int step, err;
  } failure{0, 0};
  ssize_t n;
  while ((n = ::read(err_rd.get(), &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof failure)) {
    int st;
    ::waitpid(pid, &st, 0);
    std::string step = failure.step == 1   ? "entering network namespace " + netns
                       : failure.step == 2 ? "prctl(PR_SET_PDEATHSIG)"
                       : failure.step == 3 ? "redirecting output"
                                           : "exec";
    throw std::system_error(failure.err, std::generic_category(), "starting " + argv[0] + ": " + step);
  }
  return pid;
}

bool try_reap(pid_t pid, int* exit_code) {
  int st = 0;
  pid_t r = ::waitpid(pid, &st, WNOHANG);
  if (r == pid) {
    *exit_code = decode_status(st);
    return true;
  }
  if (r < 0 && errno == ECHILD) {  // reaped elsewhere: it is gone all the same
    *exit_code = -1;
    return true;
  }
  return false;
}

std::vector<pid_t> descendants(pid_t root) {
  auto kids = children_map();
  std::vector<pid_t> out;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t p = todo.back();
    todo.pop_back();
    auto [b, e] = kids.equal_range(p);
    for (auto it = b; it != e; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

std::vector<pid_t> freeze_tree(pid_t root) {
  std::set<pid_t> frozen;
  for (int round = 0; round < 100; ++round) {
    auto tree = descendants(root);
    tree.push_back(root);
    bool added = false;
    for (pid_t p : tree) {
      if (frozen.insert(p).second) {
        ::kill(p, SIGSTOP);
        added = true;
      }
    }
    if (!added) break;
  }
  return {frozen.begin(), frozen.end()};
}

void thaw_tree(pid_t root) {
  auto tree = descendants(root);
  tree.push_back(root);
  for (pid_t p : tree) ::kill(p, SIGCONT);
}

void kill_all(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) ::kill(p, SIGKILL);
}

void kill_tree(pid_t root) {
  kill_all(freeze_tree(root));
  int st;
  while (::waitpid(root, &st, 0) < 0 && errno == EINTR) {
  }
}

std::vector<pid_t> processes_with_env(uid_t uid, const std::string& entry_prefix) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    const std::string base = std::string("/proc/") + e->d_name;
    struct stat st;
    if (::stat(base.c_str(), &st) != 0 || st.st_uid != uid) continue;
    std::ifstream f(base + "/environ", std::ios::binary);
    std::string entry;
    while (std::getline(f, entry, '\0')) {
      if (entry.compare(0, entry_prefix.size(), entry_prefix) == 0) {
        out.push_back(static_cast<pid_t>(pid));
        break;
      }
    }
  }
  closedir(d);
  return out;
}

void kill_processes_with_env(uid_t uid, const std::string& entry_prefix) {
  for (int round = 0; round < 20; ++round) {
    auto found = processes_with_env(uid, entry_prefix);
    // Zombies keep their environ readable until reaped: skip them, or this never ends.
    std::vector<pid_t> live;
    for (pid_t p : found)
      if (!process_ended(p)) live.push_back(p);
    if (live.empty()) return;
    for (pid_t p : live) ::kill(p, SIGSTOP);
    kill_all(live);
  }
}

bool process_exists(long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

bool process_ended(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return true;
  const auto rp = line.rfind(')');  // the command name may hold anything, ')' included
  if (rp == std::string::npos || rp + 2 >= line.size()) return true;
  return line[rp + 2] == 'Z' || line[rp + 2] == 'X';
}

bool wait_ended(const std::vector<pid_t>& pids, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  for (pid_t p : pids) {
    while (!process_ended(p)) {
      if (std::chrono::steady_clock::now() > end) return false;
      ::usleep(2000);
    }
  }
  return true;
}

std::string find_program(const std::string& name) {
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"}) {
    std::string p = dir + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

}  // namespace plugbox::testing
