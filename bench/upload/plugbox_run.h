// One plugbox release to a set of hosts over the SSH transport, as a fleet
// deploy stages and switches it: every host at once on one io_context, one
// SSH session per host; on each the upload as a fleet deploy of a service
// without post_upload steps runs it, `receive V --create --seal` (creates the
// layout and V, receives, seals: orchestrator::upload_to_host); then, once
// all are staged, `upgrade-to V` on each. Each step is timed per host, so a slow run shows
// where its time went.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "bench/upload/meters.h"
#include "orchestrator/host_upload.h"
#include "orchestrator/remote_commands.h"
#include "upload/client/blob_store.h"
#include "transport/ssh_options.h"
#include "transport/target.h"

namespace plugbox::bench {

struct PbHost {
  transport::Target target;
  orchestrator::HostContext ctx;
};

struct PbRelease {
  std::string version;
  const upload::Manifest* manifest = nullptr;
  const upload::BlobStore* blobs = nullptr;
};

struct PbSteps {
  double open = 0, upload = 0, upgrade = 0;
};

struct PbHostResult {
  std::string error;  // "" when every step succeeded
  PbSteps steps;
  orchestrator::HostUploadResult upload;
};

struct PbRun {
  double wall_s = 0;  // first open .. last upgrade-to
  CpuTimes client;    // this process over wall_s
  TcpBytes tcp;       // this process's connections to the hosts
  int connections = 0;
  std::vector<PbHostResult> hosts;  // parallel to the hosts given
};

// `ports`: the hosts' (and jump hosts') SSH ports, to find our TCP sockets.
PbRun deploy_release(const std::vector<PbHost>& hosts, const PbRelease& release, const transport::SshOptions& options,
                     const std::set<int>& ports);

// The transport floor of a first upload: on every host at once, the exact
// bytes a first upload of `manifest` sends (hello, manifest, every content
// zstd-compressed from `blobs`), into `cat > /dev/null` instead of
// `receive`: what SSH alone costs, before anything is decompressed, hashed
// or written. No tool that uploads this app over SSH can be faster.
struct FloorRun {
  double wall_s = 0;
  CpuTimes client;
  std::uint64_t bytes_per_host = 0;
  std::vector<std::string> problems;
};
FloorRun transport_floor(const std::vector<PbHost>& hosts, const upload::Manifest& manifest,
                         const upload::BlobStore& blobs, const transport::SshOptions& options);

// Runs `plugbox-server verify V` on every host (fresh sessions, after the
// measured run); returns "host: reason" for each host where it failed or did
// not check file contents.
std::vector<std::string> verify_release(const std::vector<PbHost>& hosts, const std::string& version,
                                        const transport::SshOptions& options);

}  // namespace plugbox::bench
