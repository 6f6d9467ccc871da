// What a benchmark gives the real `plugbox` command line, run as an operator
// would (bench/upload's run_cli: everything a deploy does is then in the
// figures, the content cache, patches, the journal), and what its journal
// says it sent. The inventory is bench/upload's BenchFleet::inventory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace plugbox::bench {

// The plugbox runs that follow keep their journal and content cache under
// `dir` ($XDG_STATE_HOME and $XDG_CACHE_HOME): the bench's own, so that runs
// do not share a cache (a redeploy patches against what the first deploy
// sent) and nothing is left in root's home.
void plugbox_state_in(const std::filesystem::path& dir);

// A count of the newest deploy journalled under `dir` (plugbox_state_in),
// summed over its journal's records (one per host): `wire_bytes` (the upload
// stream bytes it sent), `files_sent`, `files_patched`, ...
std::uint64_t journal_sum(const std::filesystem::path& dir, const std::string& key);

// A plugbox.toml deploying `upload_version` of the service dir to `group` in
// one batch of 100%, with stop, start and health `true` (the service's own
// cost is not what is measured); `service_extra` lines go into [service],
// `deploy_extra` ones at the end of [deploy].
std::string bench_service_toml(const std::string& group, const std::vector<std::string>& service_extra = {},
                               const std::vector<std::string>& deploy_extra = {});

}  // namespace plugbox::bench
