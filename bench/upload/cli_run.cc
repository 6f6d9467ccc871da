#include "bench/upload/cli_run.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

extern char** environ;

namespace plugbox::bench {

CliRun run_cli(const std::vector<std::string>& args, const std::filesystem::path& log, const CliOptions& opts) {
  std::vector<std::string> argv = args;
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  // The child inherits the limit in force when it is spawned; ours is put
  // back right after.
  rlimit ours{};
  ::getrlimit(RLIMIT_NOFILE, &ours);
  if (opts.soft_nofile) {
    rlimit theirs = ours;
    theirs.rlim_cur = std::min<rlim_t>(ours.rlim_cur, opts.soft_nofile);
    ::setrlimit(RLIMIT_NOFILE, &theirs);
  }
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0].c_str(), &fa, nullptr, cargv.data(), environ);
  if (opts.soft_nofile) ::setrlimit(RLIMIT_NOFILE, &ours);
  posix_spawn_file_actions_destroy(&fa);
  if (spawned != 0) {
    std::perror(("posix_spawn " + argv[0]).c_str());
    std::exit(1);
  }
  if (opts.started) opts.started(pid);
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  CliRun r;
  r.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (opts.ended) opts.ended();
  auto secs = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  r.cpu = secs(ru.ru_utime) + secs(ru.ru_stime);
  r.peak_mb = double(ru.ru_maxrss) / 1024.0;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace plugbox::bench
