// One host's upload over a transport session: `plugbox-server receive V` on
// one channel, the manifest first, then (once the host has said which
// contents it lacks) only those, from the deploy's shared BlobStore.
#pragma once

#include <string>

#include "orchestrator/remote_commands.h"
#include "upload/client/blob_store.h"
#include "upload/client/upload_client.h"
#include "transport/transport.h"

namespace plugbox::orchestrator {

struct HostUploadResult {
  bool ok = false;
  bool created = false;  // the host said it created V (receive --create)
  bool cut_off = false;  // the command did not end by itself (deadline, lost connection): V may exist
  std::string error;  // one line
  upload::UploadResult stats;
  std::uint64_t wire_bytes = 0;  // bytes written to the channel (protocol overhead included)
  std::string fetch_failure;     // why the first fetch from the site's relay failed ("" if none did)
};

// Runs `receive` (server_cmd::receive) on the session and feeds it the
// upload stream. HostConn::upload is the executor's way to it (lock checked,
// journaled); the upload benchmark calls it directly. `protocol`: as
// UploadClient's (2 only to plugbox's own server).
transport::Awaitable<HostUploadResult> upload_to_host(transport::Session& session, transport::Command receive,
                                                      const upload::Manifest& manifest, const upload::BlobStore& blobs,
                                                      transport::Deadline deadline, upload::RelayLink* relay = nullptr,
                                                      std::uint32_t protocol = 1);

}  // namespace plugbox::orchestrator
