// One run of a command-line program to its end, as the benches measure
// plugbox: stdin from /dev/null, stdout and stderr appended to a log, and
// what wait4 says of it (CPU, peak RSS, exit status).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace plugbox::bench {

struct CliRun {
  double wall = 0;        // seconds, spawn to exit
  double cpu = 0;         // user + system, seconds
  double peak_mb = 0;     // peak RSS (ru_maxrss)
  int status = -1;        // exit status, or 128 + the signal
};

struct CliOptions {
  // Soft RLIMIT_NOFILE the program starts with (0: this process's own).
  unsigned long soft_nofile = 0;
  // With its pid once it runs, before this thread waits for it (start a
  // sampler here), and right after it exited (stop it there).
  std::function<void(pid_t)> started;
  std::function<void()> ended;
};

// Runs argv (argv[0] looked up in PATH) to its end; exits this process with
// a message when it cannot be started.
CliRun run_cli(const std::vector<std::string>& argv, const std::filesystem::path& log, const CliOptions& opts = {});

}  // namespace plugbox::bench
