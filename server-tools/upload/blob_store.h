// Client side: every distinct content of the release, zstd-compressed once
// per deploy (in parallel) and then shared, read-only, by every host's stream.
// Compressing here rather than in libssh keeps the event loop free (libssh's
// zlib runs on the loop thread) and does the work once, not once per host.
#pragma once

#include <map>
#include <string>

#include "server-tools/upload/manifest_builder.h"

namespace plugbox::upload {

class BlobStore {
 public:
  // Throws std::runtime_error (one line, naming the file) on a read error.
  static BlobStore build(const LocalTree& tree, int level = 3, unsigned threads = 0);

  struct Blob {
    std::uint64_t raw_size = 0;
    std::string compressed;
  };
  const Blob* find(const Digest& d) const;
  std::uint64_t compressed_bytes() const { return compressed_bytes_; }
  std::size_t size() const { return blobs_.size(); }

 private:
  std::map<Digest, Blob> blobs_;
  std::uint64_t compressed_bytes_ = 0;
};

}  // namespace plugbox::upload
