// Helper commands, daemons and process trees: output and failures reported,
// nothing inherited, a whole tree frozen, thawed and killed, and a daemon
// dying with the thread that started it.
#include "tests/harness/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

using namespace plugbox::testing;
namespace fs = std::filesystem;

namespace {

const std::string kSh = "/bin/sh";

struct TempDir {
  TempDir() {
    char t[] = "/tmp/pbx-process-test-XXXXXX";
    REQUIRE(::mkdtemp(t));
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

char state_of(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) return 0;  // gone
  auto rp = line.rfind(')');
  return rp == std::string::npos || rp + 2 >= line.size() ? 0 : line[rp + 2];
}

bool gone(pid_t pid) {
  char s = state_of(pid);
  return s == 0 || s == 'Z' || s == 'X';
}

// Polls until pred holds or 10 s pass (never a timing assertion: a slow
// machine only waits longer).
template <typename Pred>
bool eventually(Pred pred) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("run_checked returns stdout and stderr together - a failure names the command, exit code and output") {
  CHECK(run_checked({kSh, "-c", "echo out; echo err >&2"}) == "out\nerr\n");
  CHECK_THROWS_WITH(run_checked({kSh, "-c", "echo boom >&2; exit 3"}),
                    "`/bin/sh -c echo boom >&2; exit 3` failed (exit 3): boom");
  CHECK_THROWS_WITH(run_checked({kSh, "-c", "kill -9 $$"}), "`/bin/sh -c kill -9 $$` failed (exit 137)");
  CHECK_THROWS_AS(run_checked({"sh", "-c", "true"}), std::invalid_argument);  // not an absolute path
}

TEST_CASE("run_all_checked runs every job even when one fails, then reports the failure") {
  TempDir d;
  std::vector<std::vector<std::string>> jobs;
  for (int i = 0; i < 7; ++i)
    jobs.push_back({kSh, "-c", i == 1 ? "exit 5" : "touch " + d.path + "/" + std::to_string(i)});
  CHECK_THROWS_WITH(run_all_checked(jobs, 3), "`/bin/sh -c exit 5` failed (exit 5)");
  for (int i = 0; i < 7; ++i) CHECK(fs::exists(d.path + "/" + std::to_string(i)) == (i != 1));
}

TEST_CASE("a helper command inherits no descriptor and only a minimal environment") {
  int fd = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  REQUIRE(fd >= 0);
  REQUIRE(::dup2(fd, 100) == 100);
  ::close(fd);
  Child inherited = Child::start({"/usr/bin/test", "-e", "/proc/self/fd/100"});
  CHECK(inherited.wait() == 1);
  Child control = Child::start({"/usr/bin/test", "-e", "/proc/self/fd/1"});
  CHECK(control.wait() == 0);
  ::close(100);
  CHECK(run_checked({"/usr/bin/env"}) == "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\n");
}

TEST_CASE("a daemon writes to its log, runs in its own process group - its tree freezes, thaws and dies whole") {
  TempDir d;
  const std::string log_path = d.path + "/log";
  plugbox::base::UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  REQUIRE(log);
  // Like sshd: children in a new session of their own, so only parent links tie them to the daemon.
  pid_t pid = spawn_daemon({kSh, "-c", "setsid sleep 100 & sleep 100 & echo started; wait"}, "", log.get());
  REQUIRE(eventually([&] { return slurp(log_path) == "started\n"; }));
  CHECK(::getpgid(pid) == pid);
  std::vector<pid_t> kids;
  REQUIRE(eventually([&] {
    kids = descendants(pid);
    return kids.size() == 2;
  }));

  auto tree = freeze_tree(pid);
  CHECK(tree.size() == 3);
  for (pid_t p : tree) {
    INFO("pid " << p);
    CHECK(eventually([&] { return state_of(p) == 'T'; }));
  }
  thaw_tree(pid);
  for (pid_t p : tree) {
    INFO("pid " << p);
    CHECK(eventually([&] { return state_of(p) == 'S' || state_of(p) == 'R'; }));
  }

  kill_tree(pid);
  CHECK(state_of(pid) == 0);  // reaped
  for (pid_t p : kids) {
    INFO("pid " << p);
    CHECK(eventually([&] { return gone(p); }));
  }
}

TEST_CASE("a daemon dies with the thread that started it, so a crashed test leaves none behind") {
  TempDir d;
  plugbox::base::UniqueFd log(::open((d.path + "/log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  pid_t pid = 0;
  std::thread t([&] { pid = spawn_daemon({"/bin/sleep", "100"}, "", log.get()); });
  t.join();
  REQUIRE(pid > 0);
  CHECK(eventually([&] { return gone(pid); }));
  int st = 0;
  REQUIRE(::waitpid(pid, &st, 0) == pid);
  CHECK(WIFSIGNALED(st));
  CHECK(WTERMSIG(st) == SIGKILL);
}

TEST_CASE("spawn_daemon reports a missing program or namespace instead of returning a dead pid") {
  plugbox::base::UniqueFd log(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  try {
    spawn_daemon({"/nonexistent/prog"}, "", log.get());
    FAIL("no exception");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find("starting /nonexistent/prog: exec") == 0);
    CHECK(e.code() == std::errc::no_such_file_or_directory);
  }
  CHECK_THROWS_WITH(spawn_daemon({"/bin/true"}, "pbx-no-such-namespace", log.get()),
                    Catch::Contains("/run/netns/pbx-no-such-namespace"));
}

TEST_CASE("try_reap tells a running child from an exited one, with its exit code") {
  plugbox::base::UniqueFd log(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  pid_t pid = spawn_daemon({"/bin/sleep", "100"}, "", log.get());
  int code = -1;
  CHECK_FALSE(try_reap(pid, &code));
  ::kill(pid, SIGTERM);
  CHECK(eventually([&] { return try_reap(pid, &code); }));
  CHECK(code == 128 + SIGTERM);
  pid = spawn_daemon({kSh, "-c", "exit 7"}, "", log.get());
  CHECK(eventually([&] { return try_reap(pid, &code); }));
  CHECK(code == 7);
}

TEST_CASE("processes left behind are found by an environment entry and killed") {
  plugbox::base::UniqueFd log(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  const std::string mark = "PBX_PROCESS_TEST_MARK=" + std::to_string(::getpid());
  // `env` sets the mark for a tree whose parent exits at once, orphaning it.
  pid_t pid = spawn_daemon({"/usr/bin/env", mark + "/x", kSh, "-c", "sleep 100 & sleep 100 & echo"}, "", log.get());
  int code = -1;
  REQUIRE(eventually([&] { return try_reap(pid, &code); }));
  std::vector<pid_t> found;
  REQUIRE(eventually([&] {
    found = processes_with_env(::geteuid(), mark);
    return found.size() == 2;
  }));
  CHECK(processes_with_env(::geteuid(), mark + "/y").empty());
  CHECK(processes_with_env(::geteuid() + 1, mark).empty());
  kill_processes_with_env(::geteuid(), mark);
  for (pid_t p : found) {
    INFO("pid " << p);
    CHECK(eventually([&] { return gone(p); }));
  }
}

TEST_CASE("find_program and process_exists") {
  CHECK_FALSE(find_program("sh").empty());
  CHECK(find_program("plugbox-no-such-program").empty());
  CHECK(process_exists(::getpid()));
  CHECK_FALSE(process_exists(0));
  CHECK_FALSE(process_exists(99999999));
}
