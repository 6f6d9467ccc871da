// An independent check of what a tool left on a host, read straight from the
// host's directory on this machine (the harness's hosts live here): the
// benchmark must not be able to "win" by doing less, and it must not take the
// tool's own word for it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>

namespace plugbox::bench {

// "" when `copy` mirrors `source` exactly: the same paths (nothing more,
// nothing less), types, permission bits, sizes, mtimes (to the second), link
// targets and file contents byte for byte. Otherwise the first difference, as
// one line. Top-level names in `ignore_top` are skipped in `copy` (the version
// chain's `previous`/`next` links).
std::string compare_trees(const std::filesystem::path& source, const std::filesystem::path& copy,
                          const std::set<std::string>& ignore_top = {});

// How many regular files of `b` are the same inode as the file at the same
// path in `a`: the files a second upload hard-linked instead of sending.
std::uint64_t shared_inodes(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace plugbox::bench
