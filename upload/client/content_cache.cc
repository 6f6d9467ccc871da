#include "upload/client/content_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

#include "base/unique_fd.h"
#include "upload/common/read_exact.h"
#include "upload/common/stream_format.h"

namespace plugbox::upload {

namespace fs = std::filesystem;

namespace {

bool cacheable(std::uint64_t size) { return size >= kMinPatchBytes && size <= kMaxPatchBytes; }

// Marks a content used now: the trim removes the least recently used. The
// clock's own time, not the kernel's file time (which moves in ticks of
// several ms, so uses close together would tie).
void touch(const fs::path& p) {
  timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  const timespec times[2] = {now, now};
  ::utimensat(AT_FDCWD, p.c_str(), times, 0);
}

// Copies `from` to `to` through a temporary file beside it; "" or the error.
std::string copy_in(const fs::path& from, const fs::path& to) {
  const fs::path tmp = to.parent_path() / (".tmp-" + std::to_string(::getpid()) + "-" + to.filename().string());
  base::UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return "cannot read " + from.string() + ": " + std::strerror(errno);
  base::UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out) return "cannot write " + tmp.string() + ": " + std::strerror(errno);
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "cannot read " + from.string() + ": " + std::strerror(errno);
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out.get(), buf + off, size_t(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        return "cannot write " + tmp.string() + ": " + why;
      }
      off += w;
    }
  }
  if (::rename(tmp.c_str(), to.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return "cannot rename into " + to.string() + ": " + why;
  }
  return "";
}

}  // namespace

bool ContentCache::has(const Digest& d) const {
  std::error_code ec;
  return fs::is_regular_file(dir_ / to_hex(d), ec);
}

std::optional<std::string> ContentCache::read(const Digest& d) const {
  const fs::path p = dir_ / to_hex(d);
  base::UniqueFd fd(::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !cacheable(std::uint64_t(st.st_size)))
    return std::nullopt;
  std::string out;
  if (!read_exact(fd.get(), std::uint64_t(st.st_size), &out)) return std::nullopt;
  touch(p);
  return out;
}

std::string ContentCache::put(const LocalTree& tree) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return "cannot create " + dir_.string() + ": " + ec.message();
  std::set<Digest> seen;
  for (std::size_t i = 0; i < tree.manifest.entries.size(); ++i) {
    const Entry& e = tree.manifest.entries[i];
    if (e.type != EntryType::file || !cacheable(e.size) || !seen.insert(e.digest).second) continue;
    const fs::path to = dir_ / to_hex(e.digest);
    if (fs::is_regular_file(to, ec)) {
      touch(to);
      continue;
    }
    if (std::string err = copy_in(tree.local_paths[i], to); !err.empty()) return err;
    touch(to);
  }
  return trim();
}

std::uint64_t ContentCache::bytes() const {
  std::uint64_t sum = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (e.is_regular_file(ec)) sum += e.file_size(ec);
  return sum;
}

std::string ContentCache::trim() {
  struct Item {
    fs::path path;
    std::int64_t used;
    std::uint64_t size;
  };
  std::vector<Item> items;
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    struct stat st;
    if (::lstat(e.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    items.push_back({e.path(), std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                     std::uint64_t(st.st_size)});
    total += std::uint64_t(st.st_size);
  }
  if (ec) return "cannot list " + dir_.string() + ": " + ec.message();
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.used < b.used; });
  for (const auto& it : items) {
    if (total <= max_bytes_) break;
    if (::unlink(it.path.c_str()) == 0 || errno == ENOENT) total -= it.size;
  }
  return "";
}

}  // namespace plugbox::upload
