// A fleet command keeps every selected host's connection open for its whole
// run, and each costs this process a few file descriptors: a tunnelled host
// its socketpair's two ends and the dup() each socket is watched through
// (transport/ssh_tunnel.h), a direct one its socket and that dup. 500 hosts
// behind 5 bastions peaked at about 1500 open descriptors (bench/scale),
// above the 1024 most systems give a process by default (the soft limit,
// kept low for select(); nothing here uses select()). So a command raises
// its own soft limit, up to the hard one, before it connects, when its
// hosts need more; and when even the hard limit is too low, it says so in
// one line, with the fix, before any host is touched.
#pragma once

#include <cstdint>
#include <string>

namespace plugbox::orchestrator {

// Descriptors a fleet command needs for `hosts` hosts, with room to spare.
std::uint64_t fds_needed(std::uint64_t hosts);

struct FdLimitDecision {
  std::uint64_t soft = 0;  // the soft limit to set (unchanged when already enough)
  std::string error;       // "" or the one line: the limit is too low even raised
};

// The pure part: what to do with limits `soft`/`hard` for `hosts` hosts.
// The soft limit is raised only as far as needed (twice the need, at most
// the hard limit), so that the commands plugbox starts (prepare, hooks)
// inherit a limit as close to the usual one as possible.
FdLimitDecision decide_fd_limit(std::uint64_t soft, std::uint64_t hard, std::uint64_t hosts);

// Applies decide_fd_limit to this process's RLIMIT_NOFILE; "" or the line.
std::string ensure_fd_limit(std::uint64_t hosts);

}  // namespace plugbox::orchestrator
