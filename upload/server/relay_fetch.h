// A host's side of fan-out (docs/DESIGN.md §6): fetches sealed contents from
// its site's relay over TCP and opens them with the deploy's key. Blocking,
// with a deadline on every connect (5 s at most) and read: the receiver calls it between
// frames of its stream, and the client sends nothing more until each fetch
// is answered (fetched, or resend).
//
// Any failure (no route to the relay, a relay that died, a timeout, a tag
// that does not verify) is not an error of the upload: the content is asked
// for directly. The first connection failure marks the relay gone for the
// rest of the upload, so a dead relay costs one timeout, not one per file.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/unique_fd.h"
#include "upload/common/relay_format.h"
#include "upload/common/sealed_box.h"

namespace plugbox::upload {

class RelayFetcher {
 public:
  RelayFetcher(std::string endpoint, RelayToken token, SealKey key,
               std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // The opened bytes of content `id` (relay_id), or nullopt with *why.
  std::optional<std::string> fetch(std::string_view id, std::string* why);
  bool gone() const { return gone_; }
  std::uint64_t bytes_fetched() const { return bytes_; }  // sealed bytes read

 private:
  bool connect(std::string* why);
  bool read_n(char* p, std::size_t n, std::string* why);

  std::string endpoint_;
  RelayToken token_;
  SealKey key_;
  std::chrono::milliseconds timeout_;
  base::UniqueFd fd_;
  bool gone_ = false;
  std::uint64_t bytes_ = 0;
};

}  // namespace plugbox::upload
