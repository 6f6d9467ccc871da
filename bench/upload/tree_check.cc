#include "bench/upload/tree_check.h"

#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <map>

namespace plugbox::bench {

namespace {

namespace fs = std::filesystem;

std::map<std::string, struct stat> walk(const fs::path& root, const std::set<std::string>& ignore_top) {
  std::map<std::string, struct stat> out;
  // recursive_directory_iterator does not follow symlinks unless asked.
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const std::string rel = it->path().lexically_relative(root).string();
    if (it.depth() == 0 && ignore_top.count(rel)) {
      if (fs::is_directory(it->symlink_status())) it.disable_recursion_pending();
      continue;
    }
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0)
      throw fs::filesystem_error("lstat", it->path(), std::error_code(errno, std::generic_category()));
    out.emplace(rel, st);
  }
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const char* type_name(mode_t m) {
  return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : "special file";
}

}  // namespace

std::string compare_trees(const fs::path& source, const fs::path& copy, const std::set<std::string>& ignore_top) {
  try {
    const auto a = walk(source, {});
    const auto b = walk(copy, ignore_top);
    for (const auto& [rel, st] : b)
      if (!a.count(rel)) return copy.string() + ": has '" + rel + "', which the source does not";
    for (const auto& [rel, sa] : a) {
      auto it = b.find(rel);
      if (it == b.end()) return copy.string() + ": '" + rel + "' is missing";
      const struct stat& sb = it->second;
      const std::string where = copy.string() + "/" + rel + ": ";
      if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT))
        return where + type_name(sb.st_mode) + " instead of " + type_name(sa.st_mode);
      if (S_ISLNK(sa.st_mode)) {
        if (fs::read_symlink(source / rel) != fs::read_symlink(copy / rel)) return where + "the link target differs";
        continue;
      }
      if ((sa.st_mode & 07777) != (sb.st_mode & 07777)) return where + "the mode differs";
      if (S_ISDIR(sa.st_mode)) continue;  // a directory's mtime is not part of the contract checked here
      if (sa.st_mtim.tv_sec != sb.st_mtim.tv_sec) return where + "the mtime differs";
      if (sa.st_size != sb.st_size) return where + "the size differs";
      if (slurp(source / rel) != slurp(copy / rel)) return where + "the content differs";
    }
    return "";
  } catch (const std::exception& e) {
    return copy.string() + ": " + e.what();
  }
}

std::uint64_t shared_inodes(const fs::path& a, const fs::path& b) {
  std::uint64_t n = 0;
  for (const auto& [rel, sb] : walk(b, {"previous", "next"})) {
    if (!S_ISREG(sb.st_mode)) continue;
    struct stat sa;
    if (::lstat((a / rel).c_str(), &sa) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) ++n;
  }
  return n;
}

}  // namespace plugbox::bench
