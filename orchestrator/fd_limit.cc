#include "orchestrator/fd_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace plugbox::orchestrator {

namespace {
// Measured: about 3 per host behind a bastion (bench/scale: 1521 at 500
// hosts, 172 at 50); 4 leaves room for the upload's and journal's files,
// and the constant for the process's own (stdio, the event loop, logs).
constexpr std::uint64_t kPerHost = 4, kBase = 64;
}  // namespace

std::uint64_t fds_needed(std::uint64_t hosts) { return kBase + kPerHost * hosts; }

FdLimitDecision decide_fd_limit(std::uint64_t soft, std::uint64_t hard, std::uint64_t hosts) {
  const std::uint64_t need = fds_needed(hosts);
  if (need <= soft) return {soft, ""};
  if (need > hard)
    return {soft, fmt::format("{} hosts need about {} open files and this process may have at most {} (its hard "
                              "limit, `ulimit -Hn`): raise it (as root: `ulimit -Hn {}`, LimitNOFILE= in a systemd "
                              "unit, or nofile in /etc/security/limits.conf), or select fewer hosts",
                              hosts, need, hard, need)};
  return {std::min(hard, 2 * need), ""};
}

std::string ensure_fd_limit(std::uint64_t hosts) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return "";  // cannot tell: let the connections say
  const FdLimitDecision d = decide_fd_limit(rl.rlim_cur, rl.rlim_max, hosts);
  if (!d.error.empty() || d.soft == rl.rlim_cur) return d.error;
  rl.rlim_cur = d.soft;
  if (::setrlimit(RLIMIT_NOFILE, &rl) != 0)
    return fmt::format("{} hosts need about {} open files; raising this process's limit to {} failed: {}", hosts,
                       fds_needed(hosts), d.soft, std::strerror(errno));
  return "";
}

}  // namespace plugbox::orchestrator
