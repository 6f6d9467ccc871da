// What the benchmark measures besides wall time: CPU time of this process, of
// the processes it ran (rsync, ssh, xargs), of each host's sshd sessions (what
// the hosts spent: sshd, the shell, rsync or plugbox-server), and the bytes
// this process's own TCP connections carried.
#pragma once

#include <chrono>
#include <memory>
#include <string>
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

// A cgroup (v1 cpuacct) that counts the CPU time of every process put in it
// and of all their descendants, reaped or not: the hosts' sshd listeners go
// in, so it counts every session and whatever the sessions ran. Removed when
// destroyed (once its processes are gone).
class CpuGroup {
 public:
  // nullptr with *why set when this machine has no writable cpuacct hierarchy.
  static std::unique_ptr<CpuGroup> create(std::string* why);
  ~CpuGroup();
  CpuGroup(const CpuGroup&) = delete;
  CpuGroup& operator=(const CpuGroup&) = delete;
  // Moves the process (and its future children) into the group. False on failure.
  bool add(int pid);
  double seconds() const;  // CPU time used in the group so far

 private:
  explicit CpuGroup(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// Waits until no process has one of `pids` as its parent (the sessions have
// ended: nothing more will be counted for them), at most `limit`.
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
