// What one host's upload needs of its site's relay (fan-out, docs/DESIGN.md
// §6): the key frame that lets it fetch, and a way to have a content carried
// to the relay. The orchestrator's SiteRelay implements it; UploadClient
// only uses it, so the state machine stays free of the transport.
#pragma once

#include <optional>
#include <string>

#include "upload/client/blob_store.h"

namespace plugbox::upload {

class RelayLink {
 public:
  virtual ~RelayLink() = default;
  // This host's 'K' frame (the deploy's key, a one-time token of its own,
  // the relay's endpoint), or nullopt when the relay cannot be used (it did
  // not start, or has failed): the host is then sent everything directly.
  virtual std::optional<std::string> key_frame() = 0;
  // Makes sure the relay gets `blob` of `store` under `id` (relay_id):
  // read back, sealed and sent once per site, however many hosts ask. Both
  // must outlive the relay.
  virtual void carry(const std::string& id, const BlobStore& store, const BlobStore::Blob& blob) = 0;
};

}  // namespace plugbox::upload
