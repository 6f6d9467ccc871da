// The baseline: `rsync -a --delete` over OpenSSH to every host at once under
// `xargs -P N`, as an operator would script it. Each host's rsync prints
// --stats and its ssh logs at VERBOSE, so the run yields rsync's own byte
// counts and the bytes ssh put on the TCP connection ("Transferred: sent N,
// received M bytes").
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/upload/meters.h"

namespace plugbox::bench {

struct RsyncTarget {
  std::string host;  // a Host name of the ssh config
  std::string dest;  // absolute directory on the host (created by --mkpath)
};

struct RsyncOptions {
  std::filesystem::path source;     // its contents are copied (rsync SOURCE/)
  std::string link_dest;            // "" or --link-dest=DIR (relative to dest)
  std::filesystem::path ssh_config;  // passed with ssh -F
  std::filesystem::path work;       // an existing directory for the host list, script and logs
  std::string tag;                  // distinguishes this run's files in `work`
};

struct RsyncRun {
  double wall_s = 0;
  CpuTimes client;                         // xargs, every rsync and ssh
  double peak_rss_mb = 0;                  // the largest one of them (wait4 of xargs: its descendants' too)
  std::uint64_t stats_sent = 0, stats_received = 0;  // rsync --stats "Total bytes sent/received", summed
  std::uint64_t tcp_sent = 0, tcp_received = 0;      // ssh's "Transferred:", summed
  std::vector<std::string> failures;       // "host: reason"
};

// The command one host runs; `remote` is the shell word for HOST:DEST/.
std::string rsync_command(const RsyncOptions& o, const std::string& remote);

RsyncRun run_rsync(const std::vector<RsyncTarget>& targets, const RsyncOptions& options);

}  // namespace plugbox::bench
