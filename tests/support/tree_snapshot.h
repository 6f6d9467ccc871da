// "Nothing changed" for the tests of every folder: a snapshot of a tree and
// the difference between two. Header-only, no dependency beyond the
// standard library and POSIX.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace plugbox::test_support {

// Every entry under root (root included): type, mode, owner, mtime (ns), and
// a file's content or a link's text. Two equal snapshots: nothing under root
// was changed.
using Snapshot = std::map<std::string, std::string>;

inline Snapshot snapshot(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  Snapshot s;
  auto add = [&](const fs::path& p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) return;
    std::string d = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + " " +
                    std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
    if (S_ISLNK(st.st_mode)) d += " -> " + fs::read_symlink(p).string();
    if (S_ISREG(st.st_mode)) {
      std::ifstream in(p, std::ios::binary);
      std::ostringstream content;
      content << in.rdbuf();
      d += " = " + content.str();
    }
    s[p.lexically_relative(root).string()] = d;
  };
  add(root);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    add(it->path());
  return s;
}

// "removed: P", "changed: P", "added: P" lines; "" when equal.
inline std::string snapshot_diff(const Snapshot& before, const Snapshot& after) {
  std::string out;
  for (const auto& [k, v] : before) {
    auto it = after.find(k);
    if (it == after.end()) out += "removed: " + k + "\n";
    else if (it->second != v) out += "changed: " + k + "\n";
  }
  for (const auto& [k, v] : after)
    if (!before.count(k)) out += "added: " + k + "\n";
  return out;
}

}  // namespace plugbox::test_support
