// Client side of one host's upload, as a state machine independent of the
// transport: the transport writes initial_bytes(), feeds each line the server
// prints to on_line(), and after the need list pulls next_chunk() until it
// returns false (then closes stdin). Backpressure is the caller's: it pulls
// only when the channel can take more.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "upload/client/blob_store.h"
#include "upload/common/manifest.h"

namespace plugbox::upload {

struct UploadResult {
  std::uint64_t files = 0, files_sent = 0, bytes_sent = 0, files_linked = 0, files_copied = 0;
};

class UploadClient {
 public:
  UploadClient(const Manifest& manifest, const BlobStore& blobs);

  std::string initial_bytes() const;  // hello + manifest
  // A line of the server's stdout. False on a protocol or server error
  // (error() says which).
  bool on_line(const std::string& line);
  bool need_known() const { return need_known_; }
  // The server said it created V (`receive --create`).
  bool created() const { return created_; }
  // The next piece of the stream (up to about max_bytes); false when all is
  // sent, or when a content cannot be read (then error() says why and the
  // stream must be cut: the host sees it truncated).
  bool next_chunk(std::string* out, std::size_t max_bytes = 1 << 20);
  bool done() const { return result_.has_value(); }
  const std::optional<UploadResult>& result() const { return result_; }
  const std::string& error() const { return error_; }

 private:
  const Manifest& manifest_;
  const BlobStore& blobs_;
  bool need_known_ = false, created_ = false;
  std::vector<Digest> need_;
  std::size_t next_blob_ = 0, blob_offset_ = 0;
  bool blob_started_ = false, end_sent_ = false;
  std::optional<UploadResult> result_;
  std::string error_;
};

}  // namespace plugbox::upload
