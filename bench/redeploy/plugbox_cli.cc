#include "bench/redeploy/plugbox_cli.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

extern char** environ;

namespace plugbox::bench {

namespace fs = std::filesystem;

CliRun run_cli(const std::string& binary, const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv{binary};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, cargv.data(), environ) != 0) {
    std::perror(("posix_spawn " + binary).c_str());
    std::exit(1);
  }
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  CliRun r;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto secs = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  r.cpu_s = secs(ru.ru_utime) + secs(ru.ru_stime);
  r.peak_mb = double(ru.ru_maxrss) / 1024.0;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::uint64_t journal_sum(const fs::path& runs, const std::string& key) {
  fs::path newest;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(runs, ec))
    if (fs::exists(e.path() / "deploy.jsonl") && e.path().filename() > newest.filename()) newest = e.path();
  if (newest.empty()) return 0;
  std::uint64_t sum = 0;
  std::ifstream in(newest / "deploy.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains(key) && j[key].is_number_unsigned()) sum += j[key].get<std::uint64_t>();
  }
  return sum;
}

std::string move_homes(std::string inv, const std::vector<std::pair<std::string, std::string>>& homes) {
  for (const auto& [old_home, new_home] : homes) {
    const std::string from = "\"" + old_home + "\"", to = "\"" + new_home + "\"";
    for (auto at = inv.find(from); at != std::string::npos; at = inv.find(from, at + to.size()))
      inv.replace(at, from.size(), to);
  }
  return inv;
}

std::string bench_service_toml(const std::string& group, const std::vector<std::string>& service_extra) {
  std::string s =
      "[service]\n"
      "name = \"bench\"\n"
      "upload_version = \"app\"\n";
  for (const auto& line : service_extra) s += line + "\n";
  s += "stop = [\"true\"]\n"
       "start = [\"true\"]\n"
       "health = \"true\"\n"
       "\n[deploy]\n"
       "group = \"" +
       group +
       "\"\n"
       "batches = [\"100%\"]\n"
       "max_fail = 0\n"
       "keep = 3\n"
       "health_retries = 1\n";
  return s;
}

}  // namespace plugbox::bench
