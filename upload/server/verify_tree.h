// Re-checks a version directory against its upload manifest: every entry's
// type, mode, size, content digest and link target, and nothing more in the
// tree than the manifest lists (besides the chain's top-level links).
#pragma once

#include <string>
#include <vector>

#include "upload/common/manifest.h"

namespace plugbox::upload {

struct TreeCheck {
  std::size_t entries_checked = 0;
  std::vector<std::string> problems;  // one line each, naming the path
};

TreeCheck verify_tree(const std::string& version_dir, const Manifest& manifest);

}  // namespace plugbox::upload
