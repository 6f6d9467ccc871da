// Helpers shared by the plugbox-server tests: temporary homes, running the CLI
// in-process or the real binary as a child, tree snapshots ("nothing changed"
// is checked by comparing two), and an independent reader of the chain on
// disk (it does not use the library's scanner, so it can catch its bugs).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

#include "server-tools/server_cli.h"
#include "tests/harness/process.h"
#include "tests/support/tree_snapshot.h"

extern char** environ;

namespace plugbox::server::testing {

namespace fs = std::filesystem;

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() : TempDir(default_base()) {}
  explicit TempDir(const std::string& base) {
    std::string tmpl = base + "/plugbox-server-test-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    // Tests make read-only directories; open them up so removal works as non-root.
    for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_directory(ec) && !it->is_symlink(ec))
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

  // A directory in memory (/dev/shm) when there is one. For tests of the
  // chain's logic that run thousands of commands: fsync on a real disk makes
  // them 15x slower and proves nothing more (durability order is what the
  // crash test checks, on the real disk).
  static std::string in_memory() {
    if (::access("/dev/shm", W_OK) == 0 && fs::is_directory("/dev/shm")) return "/dev/shm";
    return default_base();
  }

 private:
  static std::string default_base() {
    const char* base = std::getenv("TMPDIR");
    return base && *base ? base : "/tmp";
  }
  fs::path path_;
};

struct CliResult {
  int rc = -1;
  std::string out;
  std::string err;
};

// Runs plugbox-server in this process: `--home HOME ARGS...`. The environment
// seen by the CLI is exactly `env` (no HOME unless given).
inline CliResult cli(const fs::path& home, std::vector<std::string> args,
                     std::map<std::string, std::string> env = {}, int stdin_fd = -1) {
  std::ostringstream out, err;
  CliEnv e{out, err, stdin_fd, [env](const std::string& k) -> std::optional<std::string> {
             auto it = env.find(k);
             if (it == env.end()) return std::nullopt;
             return it->second;
           }};
  if (!home.empty()) args.insert(args.begin(), {"--home", home.string()});
  CliResult r;
  r.rc = run_server_cli(args, e);
  r.out = out.str();
  r.err = err.str();
  return r;
}

inline std::string describe(const CliResult& r) {
  return "rc=" + std::to_string(r.rc) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// "Nothing changed": tests/support/tree_snapshot.h.
using plugbox::test_support::Snapshot;
using plugbox::test_support::snapshot;
using plugbox::test_support::snapshot_diff;

// The text of a symlink, "" when absent (or not a link).
inline std::string link_of(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_symlink(fs::symlink_status(p, ec))) return "";
  return fs::read_symlink(p, ec).string();
}

// Version name number i: distinct, increasing with i.
inline std::string vname(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-11-%02dT%02d:%02d:00", 1 + i / (24 * 60), (i / 60) % 24, i % 60);
  return buf;
}

// The chain as it is on disk, read without the library.
struct DiskChain {
  std::map<std::string, std::string> state;  // version -> "staged" | "ready" | "norecord"
  std::map<std::string, std::string> prev;   // version -> previous (link text minus "../")
  std::map<std::string, std::string> next;
  std::string live;                          // "" when absent
  std::vector<std::string> problems;         // structural violations found
};

inline DiskChain read_disk(const fs::path& home) {
  DiskChain d;
  const fs::path deploy = home / "deploy";
  for (const auto& e : fs::directory_iterator(deploy)) {
    const std::string n = e.path().filename().string();
    if (n == "live" || n == ".plugbox") continue;
    if (!e.is_directory() || e.is_symlink()) {
      d.problems.push_back("stray entry " + n);
      continue;
    }
    const fs::path rec = deploy / ".plugbox" / "versions" / (n + ".json");
    if (fs::exists(rec)) {
      auto j = nlohmann::json::parse(slurp(rec));
      d.state[n] = j.at("state").get<std::string>();
      if (j.at("name") != n) d.problems.push_back("record of " + n + " names " + j.at("name").dump());
    } else {
      d.state[n] = "norecord";
    }
    for (const char* which : {"previous", "next"}) {
      const fs::path l = e.path() / which;
      if (!fs::exists(fs::symlink_status(l))) continue;
      if (!fs::is_symlink(fs::symlink_status(l))) {
        d.problems.push_back(n + "/" + which + " is not a symlink");
        continue;
      }
      std::string t = fs::read_symlink(l).string();
      if (t.rfind("../", 0) != 0 || t.find('/', 3) != std::string::npos)
        d.problems.push_back(n + "/" + which + " -> " + t + " is not ../NAME");
      else
        (std::string(which) == "previous" ? d.prev : d.next)[n] = t.substr(3);
    }
  }
  const fs::path live = deploy / "live";
  if (fs::exists(fs::symlink_status(live))) {
    if (!fs::is_symlink(fs::symlink_status(live)))
      d.problems.push_back("deploy/live is not a symlink");
    else
      d.live = fs::read_symlink(live).string();
  }
  // Structure: every link relative and naming an existing version; live ready.
  for (auto* m : {&d.prev, &d.next})
    for (const auto& [from, to] : *m) {
      if (!d.state.count(to)) d.problems.push_back(from + " links to missing version " + to);
      if (from == to) d.problems.push_back(from + " links to itself");
    }
  if (!d.live.empty()) {
    if (d.live.find('/') != std::string::npos) d.problems.push_back("live -> " + d.live + " is not a bare name");
    else if (!d.state.count(d.live)) d.problems.push_back("live names missing version " + d.live);
    else if (d.state[d.live] != "ready") d.problems.push_back("live version " + d.live + " is not ready");
  }
  // Records whose version is gone (stale) are a problem after a completed command.
  for (const auto& e : fs::directory_iterator(deploy / ".plugbox" / "versions")) {
    std::string f = e.path().filename().string();
    if (f.size() > 5 && f.ends_with(".json") && !d.state.count(f.substr(0, f.size() - 5)))
      d.problems.push_back("stale record " + f);
  }
  return d;
}

inline std::string join_problems(const std::vector<std::string>& p) {
  std::string s;
  for (const auto& x : p) s += x + "; ";
  return s;
}

// A child process of the real binary, with pipes on stdin and stdout/stderr.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env = {}) {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC))
      throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      std::string k = kv.substr(0, kv.find('='));
      if (!extra_env.count(k)) env_store.push_back(kv);
    }
    for (const auto& [k, v] : extra_env) env_store.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& s : env_store) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_store = argv;
    for (auto& s : argv_store) args.push_back(s.data());
    args.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    stderr_ = err[0];
    if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + " failed");
  }
  ~Child() {
    close_stdin();
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
    if (stderr_ >= 0) ::close(stderr_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // Writes all of `data` to the child's stdin (blocking).
  void write_stdin(const std::string& data) {
    for (size_t off = 0; off < data.size();) {
      ssize_t n = ::write(stdin_, data.data() + off, data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("write to the child's stdin failed");
      off += static_cast<size_t>(n);
    }
  }
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }
  // One line of stdout (without '\n'), or nullopt at EOF or after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::size_t nl;
    while ((nl = out_buf_.find('\n')) == std::string::npos)
      if (!read_more(deadline)) return std::nullopt;
    std::string line = out_buf_.substr(0, nl);
    out_buf_.erase(0, nl + 1);
    return line;
  }
  // Exactly `n` bytes of stdout, or nullopt at EOF or after `timeout`.
  std::optional<std::string> read_bytes(std::size_t n, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out_buf_.size() < n)
      if (!read_more(deadline)) return std::nullopt;
    std::string bytes = out_buf_.substr(0, n);
    out_buf_.erase(0, n);
    return bytes;
  }
  // Waits for exit; returns the exit status, or 128+signal.
  int wait() {
    int st = 0;
    ::waitpid(pid_, &st, 0);
    reaped_ = true;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  // Non-blocking: the status if it has exited.
  std::optional<int> poll_exit() {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) != pid_) return std::nullopt;
    reaped_ = true;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  void kill9() { ::kill(pid_, SIGKILL); }
  // What the child has written to stderr so far (never blocks).
  std::string drain_stderr() {
    ::fcntl(stderr_, F_SETFL, ::fcntl(stderr_, F_GETFL) | O_NONBLOCK);
    std::string s;
    char buf[512];
    ssize_t n;
    while ((n = ::read(stderr_, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
    return s;
  }

 private:
  // Adds what stdout has next to out_buf_; false at EOF or past `deadline`.
  bool read_more(std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[65536];
      ssize_t n = ::read(stdout_, buf, sizeof buf);
      if (n <= 0) return false;
      out_buf_.append(buf, static_cast<size_t>(n));
      return true;
    }
  }

  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1;
  bool reaped_ = false;
  std::string out_buf_;
};

// Throws (failing the test with the CLI's output) unless the command succeeded.
inline CliResult must(CliResult r) {
  if (r.rc != 0) throw std::runtime_error("command failed: " + describe(r));
  return r;
}

// An initialised home in `t`.
inline fs::path init_home(const TempDir& t) {
  const fs::path home = t.path() / "home";
  must(cli(home, {"init"}));
  return home;
}

// A staged version V holding one file, "marker", whose content is V.
inline void stage(const fs::path& home, const std::string& v) {
  must(cli(home, {"next-version", "--name", v}));
  std::ofstream(home / "deploy" / v / "marker") << v;
}
inline void make_ready(const fs::path& home, const std::string& v) {
  stage(home, v);
  must(cli(home, {"seal", v}));
}
// The seed's deploy: stage, seal, switch.
inline void deploy(const fs::path& home, const std::string& v) {
  make_ready(home, v);
  must(cli(home, {"upgrade-to", v}));
}

// The process (a group's member the test killed) is gone, or a zombie,
// within 2 s.
inline bool ends_within_2s(long pid) {
  for (int i = 0; i < 100; ++i) {
    if (plugbox::testing::process_ended(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return plugbox::testing::process_ended(pid);
}

#ifdef PLUGBOX_SERVER_BIN
inline std::vector<std::string> server_argv(const fs::path& home, std::vector<std::string> args) {
  std::vector<std::string> v{PLUGBOX_SERVER_BIN, "--home", home.string()};
  v.insert(v.end(), args.begin(), args.end());
  return v;
}
#endif

}  // namespace plugbox::server::testing
