// What the benchmark measures besides wall time: CPU time of this process, of
// the processes it ran (rsync, ssh, xargs), of each host's sshd sessions (what
// the hosts spent: sshd, the shell, rsync or plugbox-server), and the bytes
// this process's own TCP connections carried.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <vector>

namespace plugbox::bench {

struct CpuTimes {
  double user = 0, sys = 0;
  double total() const { return user + sys; }
  CpuTimes operator-(const CpuTimes& o) const { return {user - o.user, sys - o.sys}; }
};

CpuTimes self_cpu();      // this process, every thread
CpuTimes children_cpu();  // children waited for (and what they waited for)

// The CPU time of the processes these sshd listeners have reaped: every
// finished session and whatever its commands ran (cutime + cstime).
double reaped_cpu(const std::vector<int>& sshd_pids);

// Waits until no process has one of `pids` as its parent (the sessions have
// ended and been reaped, so reaped_cpu() includes them), at most `limit`.
// False when the limit was reached.
bool wait_sessions_reaped(const std::vector<int>& pids, std::chrono::milliseconds limit);

struct TcpBytes {
  std::uint64_t sent = 0, received = 0;  // TCP payload, both directions
};

// Over this process's TCP sockets whose peer port is in `ports` (each socket
// once, however many descriptors refer to it): what they sent (acked by the
// peer) and received so far. Read it before the connections close.
TcpBytes own_tcp_bytes(const std::set<int>& ports);

}  // namespace plugbox::bench
