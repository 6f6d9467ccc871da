// Helpers for the end-to-end tests of the real `plugbox` binary: running it
// (to completion, or in the background to be killed), reading what a host's
// home holds straight from the disk (not through plugbox-server, so a bug
// there cannot hide one here), snapshots for "nothing changed", holding a
// host's deploy lock as a stranger would, and waiting for the next UTC second
// (version names are seconds).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/tree_snapshot.h"

namespace plugbox::e2e {

namespace fs = std::filesystem;

// A fresh directory under $TMPDIR (or /tmp), mode 0755 (the sshd harness's
// login user must be able to reach what tests put there), removed with
// everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "pbx-e2e");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct RunResult {
  int rc = -1;          // exit status; 128 + signal when killed
  std::string out, err;
  bool timed_out = false;
  std::string describe() const;  // "rc=N" + both outputs, for failure messages
};

struct RunOptions {
  fs::path cwd;                                    // "" = the test's own
  std::map<std::string, std::string> env;          // added to (or replacing in) the test's environment
  std::chrono::milliseconds timeout{60000};        // then SIGKILL; timed_out is set
};

// A process started in the background; stdout and stderr go to files so it
// never blocks on a full pipe. The destructor SIGKILLs and reaps it if it is
// still running.
class Background {
 public:
  static Background start(const std::vector<std::string>& argv, const RunOptions& options);
  Background(Background&&) noexcept;
  Background& operator=(Background&&) = delete;
  Background(const Background&) = delete;
  ~Background();

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits until it exits (SIGKILL after options.timeout from start()).
  RunResult wait();
  bool running();
  std::string out_so_far() const;
  std::string err_so_far() const;

 private:
  Background() = default;
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::chrono::steady_clock::time_point deadline_;
  fs::path out_path_, err_path_;
  std::shared_ptr<TempDir> files_;
};

// Runs argv (argv[0] an absolute path) to completion.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});
// The same on a pseudo-terminal (stdin, stdout and stderr): what an operator
// at a terminal sees, raw (escape sequences, "\r\n"), all in `out`.
RunResult run_in_pty(const std::vector<std::string>& argv, const RunOptions& options = {});

std::string slurp(const fs::path& p);
void write_file(const fs::path& p, const std::string& text, fs::perms mode = fs::perms(0644));

// "Nothing changed": tests/support/tree_snapshot.h.
using plugbox::test_support::Snapshot;
using plugbox::test_support::snapshot;
using plugbox::test_support::snapshot_diff;

// What a service home holds, read from the disk.
struct VersionOnDisk {
  std::string state;             // from deploy/.plugbox/versions/<V>.json; "norecord" if none
  std::string previous, next;    // link targets without "../" ("" = no link)
};
struct HomeOnDisk {
  bool exists = false;                        // deploy/ is there
  std::string live;                           // "" = no live link
  std::map<std::string, VersionOnDisk> versions;
  std::vector<std::string> problems;          // links that are not "../NAME", stray entries
  std::vector<std::string> names() const;     // the version names, oldest first
};
HomeOnDisk read_home(const fs::path& home);

// The inode of a file (0 if missing): the dedup check.
ino_t inode_of(const fs::path& p);

// The deploy lock's holder line as the server tool writes it into
// deploy/.plugbox/lock ("" when free and cleared).
std::string lock_file_text(const fs::path& home);

// Holds a home's deploy lock the way another operator's deploy would:
// `plugbox-server --home HOME --owner OWNER lock`, run as the home's owner
// (the sshd harness's user for its hosts), with its stdin held open. The
// destructor closes stdin and reaps it.
class LockHolder {
 public:
  LockHolder(const std::string& server_bin, const fs::path& home, const std::string& owner);
  ~LockHolder();
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;
  bool alive();
  // Lets go (EOF on its stdin) and waits for it to exit.
  void release();

 private:
  std::unique_ptr<TempDir> files_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
};

// Sleeps until the UTC second after `version` (a YYYY-MM-DDTHH:MM:SS name)
// has begun, so the next deploy gets a later name. No-op if it has already.
void wait_past(const std::string& version);

// Polls `cond` every 20 ms until it holds or `timeout` passes; its last value.
template <class F>
bool eventually(F cond, std::chrono::milliseconds timeout = std::chrono::milliseconds(20000));

// Lines of a JSON-lines file that parse (a line being written may not yet).
std::vector<std::string> lines_of(const fs::path& p);

}  // namespace plugbox::e2e

#include <thread>

namespace plugbox::e2e {
template <class F>
bool eventually(F cond, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= end) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}
}  // namespace plugbox::e2e
