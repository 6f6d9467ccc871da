// The client's content cache: the contents of the releases this machine
// deployed, by SHA-256, so that the next deploy can send a changed file as a
// patch against the content its host still has (BaseSource, blob_store.h).
//
// A directory of files named by hex digest (raw contents; `put` writes each
// under a temporary name and renames it, so a reader never sees half of one).
// Bounded: after each `put`, the least recently used contents (by mtime, which
// `put` and `read` refresh) are removed until the whole is within max_bytes.
// Only contents a patch may use are kept (kMinPatchBytes..kMaxPatchBytes).
// Nothing read from it is trusted: the host checks every patched content
// against its SHA-256 and asks for it whole otherwise.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "upload/client/blob_store.h"
#include "upload/client/manifest_builder.h"

namespace plugbox::upload {

class ContentCache : public BaseSource {
 public:
  ContentCache(std::filesystem::path dir, std::uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}

  bool has(const Digest& d) const override;
  std::optional<std::string> read(const Digest& d) const override;
  // Adds the tree's contents (those not cached yet are copied from their
  // local files), then trims. "" or why it could not (one line; the cache
  // is then only less useful, never wrong).
  std::string put(const LocalTree& tree);
  const std::filesystem::path& dir() const { return dir_; }
  std::uint64_t bytes() const;  // what it holds now

 private:
  std::string trim();
  std::filesystem::path dir_;
  std::uint64_t max_bytes_;
};

}  // namespace plugbox::upload
