// The upload manifest: every directory, file and symlink of a version's tree,
// with mode, size, mtime and SHA-256. The client builds it once per deploy;
// the server validates it before writing anything, stores it beside the
// version (.plugbox/versions/V.manifest) and uses it for dedup and `verify`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "upload/common/sha256.h"

namespace plugbox::upload {

enum class EntryType : std::uint8_t { file = 1, dir = 2, symlink = 3 };

struct Entry {
  EntryType type = EntryType::file;
  std::string path;        // relative, '/'-separated, no '.', '..' or empty parts
  std::uint32_t mode = 0;  // permission bits only (07777)
  std::uint64_t size = 0;  // files: content size; others 0
  std::int64_t mtime_ns = 0;
  Digest digest{};         // files only
  std::string target;      // symlinks only: the link text, stored as is
};

struct Manifest {
  std::vector<Entry> entries;  // parents before children (sorted by path)

  std::string encode() const;
  // Decodes and validates; on failure returns false with a one-line reason.
  static bool decode(std::string_view bytes, Manifest* out, std::string* error);
  Digest digest() const { return sha256(encode()); }
  std::uint64_t total_file_bytes() const;
};

// Limits that bound what a hostile or broken stream can make the server do.
inline constexpr std::size_t kMaxPathLen = 4096;
inline constexpr std::size_t kMaxEntries = 2'000'000;

// The checks the server relies on for writing only inside the version dir:
// relative, no empty/'.'/'..' component, no NUL, not top-level previous/next
// (the chain's links), every parent listed earlier as a directory, no
// duplicates. Returns "" or the first problem, naming the path.
std::string validate(const Manifest& m);
std::string validate_path(std::string_view path);

}  // namespace plugbox::upload
