#include "upload/server/verify_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

namespace plugbox::upload {

namespace fs = std::filesystem;

namespace {

bool digest_of(const fs::path& p, Digest* out) {
  int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  Sha256 h;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      if (n < 0) return false;
      break;
    }
    h.update(buf, size_t(n));
  }
  *out = h.finish();
  return true;
}

}  // namespace

TreeCheck verify_tree(const std::string& version_dir, const Manifest& manifest) {
  TreeCheck r;
  const fs::path root(version_dir);
  std::set<std::string> listed;
  for (const auto& e : manifest.entries) {
    listed.insert(e.path);
    const fs::path p = root / e.path;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) {
      r.problems.push_back("'" + e.path + "' is missing");
      continue;
    }
    ++r.entries_checked;
    const char* want = e.type == EntryType::file ? "a file" : e.type == EntryType::dir ? "a directory" : "a symlink";
    bool type_ok = (e.type == EntryType::file && S_ISREG(st.st_mode)) || (e.type == EntryType::dir && S_ISDIR(st.st_mode)) ||
                   (e.type == EntryType::symlink && S_ISLNK(st.st_mode));
    if (!type_ok) {
      r.problems.push_back("'" + e.path + "' should be " + want);
      continue;
    }
    if (e.type != EntryType::symlink && (st.st_mode & 07777) != e.mode) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " has mode %04o, the manifest says %04o", st.st_mode & 07777, e.mode);
      r.problems.push_back("'" + e.path + "'" + buf);
    }
    if (e.type == EntryType::symlink) {
      std::error_code ec;
      if (fs::read_symlink(p, ec).string() != e.target)
        r.problems.push_back("symlink '" + e.path + "' no longer points at '" + e.target + "'");
    } else if (e.type == EntryType::file) {
      Digest d;
      if (std::uint64_t(st.st_size) != e.size)
        r.problems.push_back("'" + e.path + "' has " + std::to_string(st.st_size) + " bytes, the manifest says " +
                             std::to_string(e.size));
      else if (!digest_of(p, &d))
        r.problems.push_back("'" + e.path + "' cannot be read: " + std::strerror(errno));
      else if (d != e.digest)
        r.problems.push_back("'" + e.path + "' content differs from the manifest (sha256 " + to_hex(d) + ")");
    }
  }
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::string rel = it->path().lexically_relative(root).string();  // never through a link
    if (it.depth() == 0 && (rel == "previous" || rel == "next")) continue;
    if (!listed.count(rel)) r.problems.push_back("'" + rel + "' is not in the manifest (added after the upload)");
    if (it->is_symlink(ec)) it.disable_recursion_pending();
  }
  return r;
}

}  // namespace plugbox::upload
