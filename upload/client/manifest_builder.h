// Client side: the manifest of the prepared tree, built once per deploy,
// hashing files in parallel. Mirrors rsync -a: symlinks are kept as links
// (never followed), modes and mtimes are recorded, and nothing but regular
// files, directories and symlinks is accepted.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "upload/common/manifest.h"

namespace plugbox::upload {

struct TreeSpec {
  std::filesystem::path source_root;          // the service's source tree (paths below are relative to it)
  std::optional<std::string> upload_version;  // one path that becomes the version dir
  std::vector<std::string> upload;            // or: paths copied INTO the version dir (by their last component)
};

struct LocalTree {
  Manifest manifest;
  std::vector<std::filesystem::path> local_paths;  // parallel to manifest.entries
};

// Throws std::runtime_error with one line naming the offending path and the fix.
LocalTree build_manifest(const TreeSpec& spec, unsigned threads = 0);

}  // namespace plugbox::upload
