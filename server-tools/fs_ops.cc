#include "server-tools/fs_ops.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

#include "server-tools/errors.h"

namespace fs = std::filesystem;

namespace plugbox::server {

FileKind kind_of(const fs::path& p) {
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return FileKind::absent;
    sys_fail("lstat " + p.string(), errno);
  }
  if (S_ISDIR(st.st_mode)) return FileKind::directory;
  if (S_ISLNK(st.st_mode)) return FileKind::symlink;
  if (S_ISREG(st.st_mode)) return FileKind::regular;
  return FileKind::other;
}

std::string read_link(const fs::path& p) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlink(p.c_str(), buf.data(), buf.size());
    if (n < 0) sys_fail("readlink " + p.string(), errno);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

void fsync_dir(const fs::path& dir) {
  base::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) sys_fail("open " + dir.string(), errno);
  if (::fsync(fd.get()) != 0) sys_fail("fsync " + dir.string(), errno);
}

namespace {

// Unique within this process; the pid makes it unique on the host. Leftovers
// from a killed process are swept by the next mutating command (see chain.cc).
fs::path temp_name(const fs::path& tmp_dir, const fs::path& for_path) {
  static std::atomic<unsigned> counter{0};
  return tmp_dir / (for_path.filename().string() + "." + std::to_string(::getpid()) + "." +
                    std::to_string(counter++));
}

}  // namespace

void replace_symlink(const fs::path& link, std::string_view target, const fs::path& tmp_dir) {
  const fs::path tmp = temp_name(tmp_dir, link);
  const std::string t(target);
  if (::symlink(t.c_str(), tmp.c_str()) != 0) {
    if (errno != EEXIST) sys_fail("symlink " + tmp.string(), errno);
    // A stale leftover of an earlier process that had our pid: reuse the name.
    if (::unlink(tmp.c_str()) != 0 || ::symlink(t.c_str(), tmp.c_str()) != 0)
      sys_fail("symlink " + tmp.string(), errno);
  }
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    sys_fail("rename " + tmp.string() + " -> " + link.string(), err);
  }
  fsync_dir(link.parent_path());
}

void remove_file(const fs::path& p) {
  if (::unlink(p.c_str()) != 0) {
    if (errno == ENOENT) return;
    sys_fail("unlink " + p.string(), errno);
  }
  fsync_dir(p.parent_path());
}

bool make_dir(const fs::path& p, unsigned mode) {
  if (::mkdir(p.c_str(), mode) == 0) return true;
  int err = errno;
  // A symlink to a directory counts as one (an operator's `config` or
  // `deploy` may live on another disk); init_problem checked it is one.
  std::error_code ec;
  if (err == EEXIST && (kind_of(p) == FileKind::directory || fs::is_directory(p, ec))) return false;
  sys_fail("mkdir " + p.string(), err);
}

namespace {

void write_all(int fd, std::string_view data, const fs::path& p) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      sys_fail("write " + p.string(), errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

void write_file_atomic(const fs::path& p, std::string_view content, const fs::path& tmp_dir) {
  const fs::path tmp = temp_name(tmp_dir, p);
  {
    base::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) sys_fail("create " + tmp.string(), errno);
    try {
      write_all(fd.get(), content, tmp);
      if (::fsync(fd.get()) != 0) sys_fail("fsync " + tmp.string(), errno);
    } catch (...) {
      // On a full disk the half-written file would hold on to the space the
      // caller's fallback (host_record.cc's spare) or the next try needs.
      ::unlink(tmp.c_str());
      throw;
    }
  }
  if (::rename(tmp.c_str(), p.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    sys_fail("rename " + tmp.string() + " -> " + p.string(), err);
  }
  fsync_dir(p.parent_path());
}

void append_line(const fs::path& p, std::string_view line) {
  // O_NOFOLLOW: the log is ours; a symlink put there would send our lines elsewhere.
  // O_RDWR: the last byte is read to find a torn line.
  base::UniqueFd fd(::open(p.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) sys_fail("open " + p.string() + " to append", errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) sys_fail("stat " + p.string(), errno);
  if (!S_ISREG(st.st_mode)) sys_fail("append to " + p.string(), std::make_error_code(std::errc::invalid_argument));
  // A file not ending in '\n' holds a torn line (an earlier write cut short,
  // or a crash): start ours on a line of its own so entries never glue.
  std::string buf;
  if (st.st_size > 0) {
    char last = '\n';
    if (::pread(fd.get(), &last, 1, st.st_size - 1) != 1) sys_fail("read the end of " + p.string(), errno);
    if (last != '\n') buf.push_back('\n');
  }
  buf.append(line);
  // One write(2): O_APPEND makes it land whole at the end.
  ssize_t n = ::write(fd.get(), buf.data(), buf.size());
  if (n < 0 || static_cast<size_t>(n) != buf.size()) {
    const int err = n < 0 ? errno : ENOSPC;
    // A short write (a full disk) leaves a torn line: cut it back off so the
    // log ends where it did. Every writer holds the oplock, so nobody appended
    // meanwhile. If even this fails, readers skip the torn line.
    if (n > 0) {
      [[maybe_unused]] int rc = ::ftruncate(fd.get(), st.st_size);
    }
    sys_fail("append to " + p.string(), err);
  }
  if (::fsync(fd.get()) != 0) sys_fail("fsync " + p.string(), errno);
}

std::string read_file(const fs::path& p) {
  base::UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) sys_fail("open " + p.string(), errno);
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      sys_fail("read " + p.string(), errno);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

namespace {

void open_up_dirs(const fs::path& p) {
  struct stat st;
  if (::lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
  if ((st.st_mode & 0700) != 0700) ::chmod(p.c_str(), (st.st_mode & 07777) | 0700);
  std::error_code ec;
  for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_directory(ec2) && !it->is_symlink(ec2)) open_up_dirs(it->path());
  }
}

}  // namespace

void remove_tree(const fs::path& p) {
  if (kind_of(p) == FileKind::absent) return;
  open_up_dirs(p);
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec) sys_fail("remove " + p.string(), ec);
}

std::uint64_t tree_size(const fs::path& p) {
  std::uint64_t total = 0;
  std::error_code ec;
  fs::recursive_directory_iterator it(p, fs::directory_options::none, ec), end;
  if (ec) sys_fail("read " + p.string(), ec);
  for (; it != end; it.increment(ec)) {
    if (ec) sys_fail("read " + p.string(), ec);
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
      total += static_cast<std::uint64_t>(st.st_size);
  }
  if (ec) sys_fail("read " + p.string(), ec);
  return total;
}

}  // namespace plugbox::server
