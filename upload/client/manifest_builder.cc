#include "upload/client/manifest_builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

namespace plugbox::upload {

namespace fs = std::filesystem;

namespace {

std::int64_t mtime_ns(const struct stat& st) {
  return std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

[[noreturn]] void refuse(const std::string& msg) { throw std::runtime_error(msg); }

void add_entry(const fs::path& local, const std::string& rel, LocalTree* out) {
  struct stat st;
  if (::lstat(local.c_str(), &st) != 0)
    refuse("upload: cannot read " + local.string() + ": " + std::strerror(errno));
  Entry e;
  e.path = rel;
  e.mode = st.st_mode & 07777;
  e.mtime_ns = mtime_ns(st);
  if (S_ISREG(st.st_mode)) {
    e.type = EntryType::file;
    e.size = std::uint64_t(st.st_size);
  } else if (S_ISDIR(st.st_mode)) {
    e.type = EntryType::dir;
  } else if (S_ISLNK(st.st_mode)) {
    e.type = EntryType::symlink;
    std::error_code ec;
    e.target = fs::read_symlink(local, ec).string();
    if (ec) refuse("upload: cannot read symlink " + local.string() + ": " + ec.message());
  } else {
    refuse("upload: " + local.string() +
           " is a device, fifo or socket; only files, directories and symlinks can be uploaded: remove it from the prepared tree");
  }
  out->manifest.entries.push_back(std::move(e));
  out->local_paths.push_back(local);
  if (S_ISDIR(st.st_mode)) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(local, ec), end; !ec && it != end; it.increment(ec))
      names.push_back(it->path().filename().string());
    if (ec) refuse("upload: cannot list " + local.string() + ": " + ec.message());
    std::sort(names.begin(), names.end());
    for (const auto& n : names) add_entry(local / n, rel + "/" + n, out);
  }
}

void hash_files(LocalTree* tree, unsigned threads) {
  std::vector<size_t> files;
  for (size_t i = 0; i < tree->manifest.entries.size(); ++i)
    if (tree->manifest.entries[i].type == EntryType::file) files.push_back(i);
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::string first_error;
  auto work = [&] {
    std::vector<char> buf(1 << 20);
    Sha256 h;
    for (size_t k; (k = next.fetch_add(1)) < files.size();) {
      auto& e = tree->manifest.entries[files[k]];
      const auto& path = tree->local_paths[files[k]];
      int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      std::uint64_t total = 0;
      bool ok = fd >= 0;
      while (ok) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          ok = n == 0;
          break;
        }
        h.update(buf.data(), size_t(n));
        total += std::uint64_t(n);
      }
      if (fd >= 0) ::close(fd);
      if (!ok || total != e.size) {
        std::lock_guard lk(mu);
        if (first_error.empty())
          first_error = "upload: " + path.string() + (ok ? " changed while it was being read: run prepare again"
                                                         : std::string(" cannot be read: ") + std::strerror(errno));
        continue;
      }
      e.digest = h.finish();
    }
  };
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads && t < files.size(); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (!first_error.empty()) refuse(first_error);
}

}  // namespace

LocalTree build_manifest(const TreeSpec& spec, unsigned threads) {
  LocalTree tree;
  auto resolve = [&](const std::string& p) {
    fs::path full = fs::path(p).is_absolute() ? fs::path(p) : spec.source_root / p;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0)
      refuse("upload: " + full.string() + " does not exist: did prepare run, and is the path right in plugbox.toml?");
    return full;
  };
  if (spec.upload_version && !spec.upload.empty())
    refuse("upload: set either upload_version or upload in plugbox.toml, not both");
  if (spec.upload_version) {
    fs::path root = resolve(*spec.upload_version);
    if (!fs::is_directory(fs::symlink_status(root)))
      refuse("upload: upload_version '" + *spec.upload_version + "' must be a directory (it becomes the version dir)");
    std::vector<std::string> names;
    for (const auto& de : fs::directory_iterator(root)) names.push_back(de.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const auto& n : names) add_entry(root / n, n, &tree);
  } else if (!spec.upload.empty()) {
    std::vector<std::pair<std::string, fs::path>> tops;
    for (const auto& p : spec.upload) {
      fs::path full = resolve(p);
      std::string name = fs::path(p).lexically_normal().filename().string();
      if (name.empty() || name == "." || name == "..")
        refuse("upload: '" + p + "' has no name to copy into the version dir: name a file or directory");
      for (const auto& [n, _] : tops)
        if (n == name) refuse("upload: two upload paths end in '" + name + "': they would overwrite each other");
      tops.emplace_back(name, full);
    }
    std::sort(tops.begin(), tops.end());
    for (const auto& [n, full] : tops) add_entry(full, n, &tree);
  } else {
    refuse("upload: plugbox.toml sets neither upload_version nor upload");
  }
  for (const auto& e : tree.manifest.entries)
    if (e.path == "previous" || e.path == "next")
      refuse("upload: the prepared tree has a top-level '" + e.path +
             "', which is reserved for the version chain's links: rename it in the app");
  // Sorted per directory while walking; the full order must also put every
  // parent before its children, which the walk does (pre-order).
  hash_files(&tree, threads);
  if (auto err = validate(tree.manifest); !err.empty()) refuse("upload: " + err);
  return tree;
}

}  // namespace plugbox::upload
