#include "bench/redeploy/plugbox_cli.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

namespace plugbox::bench {

namespace fs = std::filesystem;

void plugbox_state_in(const fs::path& dir) {
  ::setenv("XDG_STATE_HOME", (dir / "state").c_str(), 1);
  ::setenv("XDG_CACHE_HOME", (dir / "cache").c_str(), 1);
}

std::uint64_t journal_sum(const fs::path& dir, const std::string& key) {
  const fs::path runs = dir / "state" / "plugbox" / "runs";
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

std::string bench_service_toml(const std::string& group, const std::vector<std::string>& service_extra,
                               const std::vector<std::string>& deploy_extra) {
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
  for (const auto& line : deploy_extra) s += line + "\n";
  return s;
}

}  // namespace plugbox::bench
