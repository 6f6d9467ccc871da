// Running the real `plugbox` command line from a benchmark, as an operator
// would (so that everything a deploy does is in the figures: the content
// cache, patches, the journal), and reading what its journal says it sent.
// Shared by bench_redeploy and bench_wan.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace plugbox::bench {

struct CliRun {
  double wall_s = 0;
  double cpu_s = 0;    // user + system of plugbox (wait4)
  double peak_mb = 0;  // its peak RSS (wait4's ru_maxrss)
  int status = -1;     // exit status, or 128 + signal
};

// Runs `binary args...` to its end with stdin on /dev/null and stdout and
// stderr appended to `log`, in this process's environment. Exits the process
// when it cannot be started (a benchmark has nothing to measure then).
CliRun run_cli(const std::string& binary, const std::vector<std::string>& args, const std::filesystem::path& log);

// A count of the newest deploy under `runs` ($XDG_STATE_HOME/plugbox/runs),
// summed over its journal's records (one per host): `wire_bytes` (the upload
// stream bytes it sent), `files_sent`, `files_patched`, ...
std::uint64_t journal_sum(const std::filesystem::path& runs, const std::string& key);

// The harness's inventory with each host's home replaced: `homes` maps a
// harness home to the one to use (a host's tmpfs directory).
std::string move_homes(std::string inventory, const std::vector<std::pair<std::string, std::string>>& homes);

// A plugbox.toml deploying `upload_version` of the service dir to `group` in
// one batch of 100%, with stop, start and health `true` (the service's own
// cost is not what is measured); `service_extra` lines go into [service].
std::string bench_service_toml(const std::string& group, const std::vector<std::string>& service_extra = {});

}  // namespace plugbox::bench
