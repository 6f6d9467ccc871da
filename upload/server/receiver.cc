#include "upload/server/receiver.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "base/unique_fd.h"
#include "upload/common/read_exact.h"
#include "upload/common/sealed_box.h"
#include "upload/server/relay_fetch.h"

namespace plugbox::upload {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

struct DigestHash {
  size_t operator()(const Digest& d) const {
    size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
  }
};

// Opens the directory `rel` (already validated: no '..', no empty parts)
// under `root`, refusing to follow a symlink at any step.
base::UniqueFd open_dir_at(int root, const std::string& rel) {
  base::UniqueFd cur(::dup(root));
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string part = rel.substr(start, end - start);
    int fd = ::openat(cur.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return base::UniqueFd();
    cur = base::UniqueFd(fd);
    start = end + 1;
  }
  return cur;
}

std::pair<std::string, std::string> split_parent(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

// Removes `name` under dirfd without following symlinks.
bool remove_tree_at(int dirfd, const char* name) {
  struct stat st;
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT;
  if (!S_ISDIR(st.st_mode)) return ::unlinkat(dirfd, name, 0) == 0;
  int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  ::fchmod(fd, 0700);  // a read-only directory from an earlier attempt must still be emptied
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return false;
  }
  bool ok = true;
  std::vector<std::string> names;
  while (auto* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names.push_back(e->d_name);
  for (const auto& n : names) ok = remove_tree_at(::dirfd(d), n.c_str()) && ok;
  ::closedir(d);
  return ::unlinkat(dirfd, name, AT_REMOVEDIR) == 0 && ok;
}

bool copy_fd(int in, int out) {
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out, buf + off, n - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      off += w;
    }
  }
}

timespec to_timespec(std::int64_t ns) {
  timespec ts;
  ts.tv_sec = ns / 1'000'000'000;
  ts.tv_nsec = ns % 1'000'000'000;
  if (ts.tv_nsec < 0) ts.tv_nsec += 1'000'000'000, ts.tv_sec -= 1;
  return ts;
}

std::int64_t mtime_ns(const struct stat& st) {
  return std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

FileStamp stamp_of(const struct stat& st) {
  return {std::uint64_t(st.st_ino), std::int64_t(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec};
}

// True when the file `name` under `dirfd` is still the inode `st` describes
// and its content has digest `want`.
bool content_matches(int dirfd, const std::string& name, const struct stat& st, const Digest& want) {
  base::UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  struct stat now;
  if (!fd || ::fstat(fd.get(), &now) != 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) return false;
  Sha256 h;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    h.update(buf, size_t(n));
  }
  return h.finish() == want;
}

// The whole of the file `name` under `dirfd` into *out, if it has exactly
// `size` bytes.
bool read_whole(int dirfd, const std::string& name, std::uint64_t size, std::string* out) {
  base::UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  return fd && read_exact(fd.get(), size, out);
}

// A content (or manifest) from the relay, opened: nothing, and *why, if the
// relay cannot give it or it is not as long as the host's own channel
// announced (a relay's answer is never trusted further than its tag).
std::optional<std::string> fetch_announced(RelayFetcher& relay, std::string_view id, std::string_view what,
                                           std::optional<std::uint64_t> announced, std::string* why) {
  auto got = relay.fetch(id, why);
  if (got && announced && got->size() != *announced) {
    *why = std::string(what) + " from the relay has " + std::to_string(got->size()) + " bytes, not the announced " +
           std::to_string(*announced);
    got.reset();
  }
  return got;
}

}  // namespace

struct Receiver::Impl {
  std::string dir;
  LinkRule rule = LinkRule::content;
  base::UniqueFd root;
  std::vector<LocalSource> sources;
  std::vector<base::UniqueFd> source_fds;
  // Every file of the local sources by digest (the manifests are trusted
  // only while a file's size and mtime still match, see find_local).
  std::unordered_map<Digest, std::vector<std::pair<size_t, const Entry*>>, DigestHash> local_index;
  // digest -> the manifest's file entries with it (placing one may set its
  // mtime: see place_from)
  std::unordered_map<Digest, std::vector<Entry*>, DigestHash> wanted;
  std::unordered_map<Digest, bool, DigestHash> needed;  // -> received yet?
  // Open directories of V by relative path ("" is V itself). Walking the
  // path from V's fd for every file cost an openat per component two or
  // three times per file; contents arrive in manifest order, so a small
  // cache, emptied when full, keeps the fd count bounded on huge trees.
  std::unordered_map<std::string, base::UniqueFd> dir_cache;
  static constexpr size_t kDirCacheMax = 256;
  // (dev, ino) of each directory this receiver created: on_end checks that
  // every one is still where it was made, so a directory swapped for a
  // symlink (or moved) while the upload ran fails the upload.
  std::unordered_map<std::string, std::pair<dev_t, ino_t>> made_dirs;
  // the current incoming file
  base::UniqueFd tmp;
  base::UniqueFd tmp_dir;  // the directory holding `tmp` (our own fd: the cache may be emptied meanwhile)
  std::string tmp_name;
  Digest cur_digest{};
  std::uint64_t cur_raw = 0, cur_written = 0;
  // Patches: the entry of the newest local version (sources[0]) each offered
  // content may be patched against (its file at the same path), the contents
  // asked for whole after a patch failed, and the current patch's state.
  // base_buf holds the base while dctx decodes against it (zstd references,
  // never copies it).
  std::unordered_map<Digest, const Entry*, DigestHash> offers;
  std::unordered_set<Digest, DigestHash> patch_failed;
  bool cur_patch = false, cur_dropped = false;
  // Fan-out: the relay (once the key came), and whether the current content
  // came from it rather than the stream.
  std::unique_ptr<RelayFetcher> relay;
  bool cur_fetched = false;
  std::string base_buf;
  Sha256 hasher;
  ZSTD_DCtx* dctx = nullptr;
  bool frame_done = false;
  int tmp_counter = 0;

  ~Impl() {
    ZSTD_freeDCtx(dctx);
    if (tmp && tmp_dir) ::unlinkat(tmp_dir.get(), tmp_name.c_str(), 0);
  }

  // The directory `rel` of V, from the cache or walked from V's fd with
  // O_NOFOLLOW at every step. -1 (errno set) when it cannot be opened.
  int dir_fd(const std::string& rel) {
    if (rel.empty()) return root.get();
    if (auto it = dir_cache.find(rel); it != dir_cache.end()) return it->second.get();
    base::UniqueFd fd = open_dir_at(root.get(), rel);
    if (!fd) return -1;
    if (dir_cache.size() >= kDirCacheMax) dir_cache.clear();
    return dir_cache.emplace(rel, std::move(fd)).first->second.get();
  }

  void index_sources() {
    for (size_t i = 0; i < sources.size(); ++i) {
      if (!source_fds[i]) continue;
      for (const auto& se : sources[i].manifest.entries)
        if (se.type == EntryType::file) local_index[se.digest].emplace_back(i, &se);
    }
  }

  // Puts `e` in place from the file `src_name` under `src_dirfd`: a hard link
  // when it has e's mode (and, under LinkRule::exact_mtime, e's mtime), else a
  // local copy with e's metadata. A link keeps the file's mtime, and e says
  // so from then on: manifest() is what the version holds. `src_st`: its stat
  // when the caller has just taken it (find_local), else nullptr and it is
  // taken here.
  bool place_from(Entry& e, int src_dirfd, const std::string& src_name, const struct stat* src_st, bool* linked,
                  std::string* err) {
    auto [parent, leaf] = split_parent(e.path);
    int pd = dir_fd(parent);
    if (pd < 0) return *err = errno_text("cannot open directory '" + parent + "' in the version"), false;
    struct stat own;
    const bool have = src_st || ::fstatat(src_dirfd, src_name.c_str(), &own, AT_SYMLINK_NOFOLLOW) == 0;
    const struct stat& st = src_st ? *src_st : own;
    const bool linkable = have && S_ISREG(st.st_mode) && (st.st_mode & 07777) == e.mode &&
                          std::uint64_t(st.st_size) == e.size &&
                          (rule == LinkRule::content || mtime_ns(st) == e.mtime_ns);
    if (linkable && ::linkat(src_dirfd, src_name.c_str(), pd, leaf.c_str(), 0) == 0) {
      e.mtime_ns = mtime_ns(st);
      *linked = true;
      return true;
    }
    *linked = false;
    base::UniqueFd in(::openat(src_dirfd, src_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in) return *err = errno_text("cannot read local copy of '" + e.path + "'"), false;
    std::string tname = ".pbx-copy-" + std::to_string(tmp_counter++);
    base::UniqueFd out(::openat(pd, tname.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) return *err = errno_text("cannot create '" + e.path + "'"), false;
    bool ok = copy_fd(in.get(), out.get()) && finish_file(out.get(), e, err) &&
              ::renameat(pd, tname.c_str(), pd, leaf.c_str()) == 0;
    if (!ok) {
      if (err->empty()) *err = errno_text("cannot write '" + e.path + "'");
      ::unlinkat(pd, tname.c_str(), 0);
    }
    return ok;
  }

  // Mode and mtime; durability comes from one syncfs at the end (on_end),
  // not an fsync per file: on ext4 each fsync is a journal commit, and 2000
  // of them made a deploy's upload several times slower than the copy.
  static bool finish_file(int fd, const Entry& e, std::string* err) {
    timespec times[2] = {to_timespec(e.mtime_ns), to_timespec(e.mtime_ns)};
    if (::fchmod(fd, e.mode) != 0 || ::futimens(fd, times) != 0)
      return *err = errno_text("cannot finish '" + e.path + "'"), false;
    return true;
  }

  // Inodes of local files found to hold their manifest's content during this
  // upload: linking one into V changes its ctime, which must not make its
  // next use (a duplicate in V) hash it again. -> the digest it holds.
  std::unordered_map<ino_t, Digest> trusted_inodes;

  // Whether source i's entry `se`, stat'ed as `st`, still holds the content
  // its manifest says: its stamp from when its version was received matches,
  // or (no stamp, or a ctime changed by an unlink or link of our own or by an
  // edit) hashing it now says so. A file edited in place is never trusted.
  bool still_holds(size_t i, const Entry& se, const struct stat& st) {
    if (auto it = trusted_inodes.find(st.st_ino); it != trusted_inodes.end()) return it->second == se.digest;
    const auto& stamps = sources[i].stamps;
    const size_t idx = size_t(&se - sources[i].manifest.entries.data());
    const bool stamped = idx < stamps.size() && stamps[idx] == stamp_of(st);
    if (!stamped && !content_matches(source_fds[i].get(), se.path, st, se.digest)) return false;
    trusted_inodes.emplace(st.st_ino, se.digest);
    return true;
  }

  // How well a local file `se` with e's content fits e: 2 its mode and mtime
  // too (linked, exact), 1 its mode (linked under LinkRule::content, keeping
  // its mtime), 0 neither (only copied).
  int fit(const Entry& se, const Entry& e) const {
    if (se.mode != e.mode) return 0;
    if (se.mtime_ns == e.mtime_ns) return 2;
    return rule == LinkRule::content ? 1 : 0;
  }

  // Finds the best-fitting local file with e's digest and size that still
  // holds it.
  bool find_local(const Entry& e, int* dirfd, std::string* name, struct stat* found_st) {
    auto it = local_index.find(e.digest);
    if (it == local_index.end()) return false;
    int best = -1;
    for (const auto& [i, se] : it->second) {
      if (se->size != e.size) continue;
      const int f = fit(*se, e);
      if (f <= best) continue;
      struct stat st;
      // The manifest vouches for the content only while the file is the one
      // stamped at receive (size and mtime alone can be put back after an
      // edit in place); see still_holds.
      if (::fstatat(source_fds[i].get(), se->path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode) || std::uint64_t(st.st_size) != se->size || mtime_ns(st) != se->mtime_ns ||
          !still_holds(i, *se, st))
        continue;
      *dirfd = source_fds[i].get();
      *name = se->path;
      *found_st = st;
      best = f;
      if (best == 2) return true;
    }
    return best >= 0;
  }
};

Receiver::Receiver(std::string version_dir, std::vector<LocalSource> sources,
                   std::function<void(const std::string&)> reply, LinkRule rule)
    : impl_(std::make_unique<Impl>()), parser_(StreamParser::Events{}), reply_(std::move(reply)) {
  impl_->dir = std::move(version_dir);
  impl_->rule = rule;
  impl_->root = base::UniqueFd(::open(impl_->dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  impl_->sources = std::move(sources);
  for (const auto& s : impl_->sources)
    impl_->source_fds.emplace_back(::open(s.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));

  StreamParser::Events ev;
  ev.on_manifest = [this](Manifest&& m, std::string* err) { return on_manifest(std::move(m), err); };
  ev.on_file_begin = [this](const Digest& d, std::uint64_t raw, std::uint64_t, std::string* err) {
    return on_file_begin(d, raw, err);
  };
  ev.on_patch_begin = [this](const Digest& d, std::uint64_t raw, std::uint64_t, const Digest& base, std::string* err) {
    return on_patch_begin(d, raw, base, err);
  };
  ev.on_file_data = [this](std::string_view data, std::string* err) { return on_file_data(data, err); };
  ev.on_file_end = [this](std::string* err) { return on_file_end(err); };
  ev.on_end = [this](std::string* err) { return on_end(err); };
  ev.on_fan_out_key = [this](std::string_view key, std::string_view token, const std::string& ep, std::string* err) {
    return on_fan_out_key(key, token, ep, err);
  };
  ev.on_relay_fetch = [this](const Digest& d, std::uint64_t raw, std::uint64_t comp, const Digest* base,
                             std::string* err) { return on_relay_fetch(d, raw, comp, base, err); };
  ev.on_relay_fetch_at = [this](std::uint32_t index, bool patch, std::string* err) {
    return on_relay_fetch_at(index, patch, err);
  };
  ev.on_manifest_fetch = [this](const Digest& d, std::uint64_t raw, std::uint64_t comp,
                                std::optional<std::string>* fetched,
                                std::string* err) { return on_manifest_fetch(d, raw, comp, fetched, err); };
  parser_ = StreamParser(std::move(ev));
}

bool Receiver::on_manifest(Manifest&& m, std::string* err) {
  manifest_ = std::move(m);
  if (!impl_->root) return *err = errno_text("cannot open version directory " + impl_->dir), false;
  if (!clear_earlier_attempt(err) || !create_entries(err)) return false;
  std::vector<std::size_t> need;
  if (!place_local_contents(&need, err)) return false;
  // "fan_out": this receiver takes 'K' and 'R' frames; a client sends them
  // only then, so it still works with servers older than fan-out.
  const bool by_index = parser_.version() >= 2;
  nlohmann::json reply{{"fan_out", true}};
  if (by_index) {
    reply["need_at"] = need;
  } else {
    std::vector<std::string> hex;
    hex.reserve(need.size());
    for (std::size_t i : need) hex.push_back(to_hex(manifest_.entries[i].digest));
    reply["need"] = std::move(hex);
  }
  offer_bases(need, by_index, &reply);
  reply_(reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return true;
}

// A needed content whose path has a file in the newest local version (the
// live one, when there is one: receive lists it first) may come as a patch
// against that file. Why that one: a release mostly changes files in place,
// and the client keeps the contents it deployed before, so it has this base
// too whenever the host runs a version this client deployed.
void Receiver::offer_bases(const std::vector<std::size_t>& need, bool by_index, nlohmann::json* reply) {
  auto& im = *impl_;
  if (need.empty() || im.sources.empty() || !im.source_fds[0]) return;
  std::unordered_map<std::string_view, const Entry*> newest;
  for (const auto& se : im.sources[0].manifest.entries)
    if (se.type == EntryType::file) newest.emplace(se.path, &se);
  nlohmann::json bases = nlohmann::json::object();
  for (std::size_t i : need) {
    const Digest& d = manifest_.entries[i].digest;
    const auto& entries = im.wanted[d];
    if (entries.front()->size < kMinPatchBytes || entries.front()->size > kMaxPatchBytes) continue;
    for (const Entry* x : entries) {
      auto it = newest.find(x->path);
      if (it == newest.end() || it->second->size == 0 || it->second->size > kMaxPatchBytes) continue;
      im.offers[d] = it->second;
      bases[by_index ? std::to_string(i) : to_hex(d)] = to_hex(it->second->digest);
      break;
    }
  }
  if (!bases.empty()) (*reply)[by_index ? "bases_at" : "bases"] = std::move(bases);
}

void Receiver::answer_ok(const char* verdict, const Digest& d) {
  if (parser_.version() >= 2) ++ok_unsaid_;
  else reply_(nlohmann::json{{verdict, to_hex(d)}}.dump());
}

void Receiver::answer_resend(const Digest& d, const std::string& why) {
  flush_answers();
  nlohmann::json j{{"resend", to_hex(d)}};
  if (!why.empty()) j["why"] = why;
  reply_(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Receiver::flush_answers() {
  if (ok_unsaid_ == 0) return;
  reply_(nlohmann::json{{"ok", ok_unsaid_}}.dump());
  ok_unsaid_ = 0;
}

// A retry after an interrupted upload starts from an empty version: only the
// chain's links survive.
bool Receiver::clear_earlier_attempt(std::string* err) {
  auto& im = *impl_;
  int scan = ::dup(im.root.get());
  DIR* d = scan >= 0 ? ::fdopendir(scan) : nullptr;
  if (!d) {
    if (scan >= 0) ::close(scan);
    return *err = errno_text("cannot list " + im.dir), false;
  }
  std::vector<std::string> names;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != ".." && n != "previous" && n != "next") names.push_back(n);
  }
  ::closedir(d);  // closes `scan`
  for (const auto& n : names)
    if (!remove_tree_at(im.root.get(), n.c_str()))
      return *err = errno_text("cannot clear '" + n + "' from an earlier attempt"), false;
  return true;
}

// Directories and symlinks are made at once (directories writable until
// on_end gives them their modes); files are only noted by digest.
bool Receiver::create_entries(std::string* err) {
  auto& im = *impl_;
  for (auto& e : manifest_.entries) {
    auto [parent, leaf] = split_parent(e.path);
    int pd = im.dir_fd(parent);
    if (pd < 0) return *err = errno_text("cannot open directory '" + parent + "' in the version"), false;
    if (e.type == EntryType::dir) {
      if (::mkdirat(pd, leaf.c_str(), 0700) != 0)
        return *err = errno_text("cannot create directory '" + e.path + "'"), false;
      struct stat st;
      if (::fstatat(pd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return *err = errno_text("cannot stat directory '" + e.path + "'"), false;
      im.made_dirs[e.path] = {st.st_dev, st.st_ino};
      ++stats_.dirs;
    } else if (e.type == EntryType::symlink) {
      if (::symlinkat(e.target.c_str(), pd, leaf.c_str()) != 0)
        return *err = errno_text("cannot create symlink '" + e.path + "'"), false;
      timespec times[2] = {to_timespec(e.mtime_ns), to_timespec(e.mtime_ns)};
      ::utimensat(pd, leaf.c_str(), times, AT_SYMLINK_NOFOLLOW);
      ++stats_.symlinks;
    } else {
      ++stats_.files;
      im.wanted[e.digest].push_back(&e);
    }
  }
  return true;
}

// Contents some local version already has are placed now; the rest go into
// `need` (hex digests), in manifest order, so contents arrive directory by
// directory (the directory cache stays warm).
bool Receiver::place_local_contents(std::vector<std::size_t>* need, std::string* err) {
  auto& im = *impl_;
  im.index_sources();
  for (auto& e : manifest_.entries) {
    if (e.type != EntryType::file) continue;
    auto& entries = im.wanted[e.digest];
    if (entries.front() != &e) continue;  // placed with its digest's first entry
    int sdir;
    std::string sname;
    struct stat sst;
    if (!im.find_local(e, &sdir, &sname, &sst)) {
      im.needed[e.digest] = false;
      need->push_back(std::size_t(&e - manifest_.entries.data()));
      continue;
    }
    for (Entry* x : entries) {
      if (x != &e && !im.find_local(*x, &sdir, &sname, &sst))
        return *err = "local copy of '" + x->path + "' vanished while the upload was planned", false;
      bool linked;
      if (!im.place_from(*x, sdir, sname, &sst, &linked, err)) return false;
      ++(linked ? stats_.files_linked : stats_.files_copied);
    }
  }
  return true;
}

bool Receiver::on_file_begin(const Digest& d, std::uint64_t raw, std::string* err) {
  return begin_content(d, raw, err);
}

// The base is read and checked against its SHA-256 now: a local file changed
// since its version was received (whatever its stamp says) only costs this
// content being asked for whole.
bool Receiver::on_patch_begin(const Digest& d, std::uint64_t raw, const Digest& base, std::string* err) {
  auto& im = *impl_;
  auto offer = im.offers.find(d);
  if (offer == im.offers.end() || offer->second->digest != base)
    return *err = "upload sent a patch for " + to_hex(d) + " against a base that was not offered", false;
  if (im.patch_failed.count(d))
    return *err = "upload sent a patch for " + to_hex(d) + " again after it was asked for whole", false;
  if (!begin_content(d, raw, err)) return false;
  im.cur_patch = true;
  const Entry& be = *offer->second;
  if (!read_whole(im.source_fds[0].get(), be.path, be.size, &im.base_buf) ||
      sha256(im.base_buf) != be.digest) {
    drop_patch();
    return true;
  }
  // The frame's window spans base and content (kMaxPatchBytes each).
  ZSTD_DCtx_setParameter(im.dctx, ZSTD_d_windowLogMax, 27);
  const size_t r = ZSTD_DCtx_refPrefix(im.dctx, im.base_buf.data(), im.base_buf.size());
  if (ZSTD_isError(r)) drop_patch();
  return true;
}

void Receiver::drop_patch() {
  auto& im = *impl_;
  im.cur_dropped = true;
  if (im.tmp) {
    ::unlinkat(im.tmp_dir.get(), im.tmp_name.c_str(), 0);
    im.tmp.reset();
  }
  im.hasher.finish();  // resets it for the next content
  im.base_buf = std::string();
}

bool Receiver::on_fan_out_key(std::string_view key, std::string_view token, const std::string& endpoint,
                              std::string* err) {
  auto& im = *impl_;
  if (im.relay) return *err = "upload sent a second fan-out key", false;
  SealKey k;
  RelayToken t;
  std::copy(key.begin(), key.end(), reinterpret_cast<char*>(k.data()));
  std::copy(token.begin(), token.end(), reinterpret_cast<char*>(t.data()));
  im.relay = std::make_unique<RelayFetcher>(endpoint, t, k);
  return true;
}

// The content is fetched whole before anything is written; what cannot be
// had from the relay (or fails its tag) is asked for directly (`resend`,
// once), as a patch whose base does not match is.
bool Receiver::on_relay_fetch_at(std::uint32_t index, bool patch, std::string* err) {
  auto& im = *impl_;
  if (index >= manifest_.entries.size() || manifest_.entries[index].type != EntryType::file)
    return *err = "upload sent a fetch for manifest entry " + std::to_string(index) + ", which is not a file", false;
  const Entry& e = manifest_.entries[index];
  const Entry* base = nullptr;
  if (patch) {
    auto offer = im.offers.find(e.digest);
    if (offer == im.offers.end())
      return *err = "upload sent a patch fetch for '" + e.path + "', for which no base was offered", false;
    base = offer->second;
  }
  return on_relay_fetch(e.digest, e.size, std::nullopt, base ? &base->digest : nullptr, err);
}

bool Receiver::on_relay_fetch(const Digest& d, std::uint64_t raw, std::optional<std::uint64_t> compressed,
                              const Digest* base, std::string* err) {
  auto& im = *impl_;
  if (!im.relay) return *err = "upload asked for a relay fetch before sending the fan-out key", false;
  if (im.patch_failed.count(d))
    return *err = "upload sent a fetch for " + to_hex(d) + " again after it was asked for whole", false;
  auto it = im.needed.find(d);
  if (it == im.needed.end() || it->second)
    return *err = "upload sent a fetch for content " + to_hex(d) + " that is not wanted", false;
  std::string why;
  auto got = fetch_announced(*im.relay, relay_id(d, base), "a content", compressed, &why);
  if (!got) {
    ++stats_.fetches_failed;
    im.patch_failed.insert(d);
    answer_resend(d, why);
    return true;
  }
  if (!(base ? on_patch_begin(d, raw, *base, err) : begin_content(d, raw, err))) return false;
  im.cur_fetched = true;
  stats_.bytes_fetched += got->size() + kSealOverhead;
  if (!got->empty() && !on_file_data(*got, err)) return false;
  return on_file_end(err);
}

bool Receiver::on_manifest_fetch(const Digest& d, std::uint64_t raw, std::uint64_t compressed,
                                 std::optional<std::string>* fetched, std::string* err) {
  auto& im = *impl_;
  if (!im.relay) return *err = "upload asked for a manifest fetch before sending the fan-out key", false;
  std::string why, bytes;
  auto got = fetch_announced(*im.relay, relay_id(d, nullptr), "the manifest", compressed, &why);
  if (got && !decompress_manifest(*got, raw, &bytes, &why)) got.reset();
  if (got && sha256(bytes) != d) {
    why = "the manifest from the relay does not have the announced SHA-256";
    got.reset();
  }
  if (!got) {
    reply_(nlohmann::json{{"resend_manifest", why}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return true;
  }
  stats_.bytes_fetched += compressed + kSealOverhead;
  stats_.manifest_fetched = true;
  *fetched = std::move(bytes);
  return true;
}

bool Receiver::begin_content(const Digest& d, std::uint64_t raw, std::string* err) {
  auto& im = *impl_;
  im.cur_patch = im.cur_dropped = im.cur_fetched = false;
  auto it = im.needed.find(d);
  if (it == im.needed.end()) return *err = "upload sent content " + to_hex(d) + " that was not asked for", false;
  if (it->second) return *err = "upload sent content " + to_hex(d) + " twice", false;
  if (raw != im.wanted[d].front()->size)
    return *err = "upload content for '" + im.wanted[d].front()->path + "' has size " + std::to_string(raw) +
                  ", the manifest says " + std::to_string(im.wanted[d].front()->size),
           false;
  // The temporary file goes into the file's own directory: the rename
  // that puts it in place then stays within one directory.
  const std::string parent = split_parent(im.wanted[d].front()->path).first;
  const int pd = im.dir_fd(parent);
  im.tmp_dir = base::UniqueFd(pd < 0 ? -1 : ::dup(pd));
  if (!im.tmp_dir) return *err = errno_text("cannot open directory '" + parent + "' in the version"), false;
  im.tmp_name = ".pbx-recv-" + std::to_string(im.tmp_counter++);
  im.tmp = base::UniqueFd(
      ::openat(im.tmp_dir.get(), im.tmp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!im.tmp) return *err = errno_text("cannot create a file in directory '" + parent + "' of the version"), false;
  im.cur_digest = d;
  im.cur_raw = raw;
  im.cur_written = 0;
  im.frame_done = false;
  if (!im.dctx) im.dctx = ZSTD_createDCtx();
  ZSTD_DCtx_reset(im.dctx, ZSTD_reset_session_only);
  return true;
}

// Decompresses into the temporary file, hashing as it goes; a content longer
// than announced or with bytes after its frame is refused at once.
//
// A patch that does not decode (its base on the client was not this host's)
// is dropped, and asked for whole at its end; a whole content that does not
// is refused.
bool Receiver::on_file_data(std::string_view data, std::string* err) {
  auto& im = *impl_;
  if (!im.cur_fetched) stats_.bytes_sent += data.size();
  if (im.cur_dropped) return true;
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  char outbuf[1 << 16];
  while (in.pos < in.size) {
    if (im.frame_done) {
      if (im.cur_patch) return drop_patch(), true;
      return *err = "upload content for " + to_hex(im.cur_digest) + " has bytes after its zstd frame", false;
    }
    ZSTD_outBuffer out{outbuf, sizeof outbuf, 0};
    size_t r = ZSTD_decompressStream(im.dctx, &out, &in);
    if (ZSTD_isError(r)) {
      if (im.cur_patch) return drop_patch(), true;
      return *err = std::string("upload content is corrupt (zstd: ") + ZSTD_getErrorName(r) + ")", false;
    }
    if (r == 0) im.frame_done = true;
    if (im.cur_written + out.pos > im.cur_raw) {
      if (im.cur_patch) return drop_patch(), true;
      return *err = "upload content for " + to_hex(im.cur_digest) + " is longer than announced", false;
    }
    im.hasher.update(outbuf, out.pos);
    for (size_t off = 0; off < out.pos;) {
      ssize_t w = ::write(im.tmp.get(), outbuf + off, out.pos - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        return *err = errno_text("cannot write into " + im.dir), false;
      }
      off += size_t(w);
    }
    im.cur_written += out.pos;
  }
  return true;
}

// A complete, matching content is renamed into place for its digest's first
// entry; the other entries with that digest are linked or copied from it.
bool Receiver::on_file_end(std::string* err) {
  auto& im = *impl_;
  const bool whole = !im.cur_dropped && (im.cur_raw == 0 || im.frame_done) && im.cur_written == im.cur_raw;
  if (!whole && im.cur_patch && !im.cur_dropped) drop_patch();
  if (!whole && !im.cur_patch)
    return *err = "upload content for '" + im.wanted[im.cur_digest].front()->path + "' is truncated", false;
  Digest got = im.cur_dropped ? Digest{} : im.hasher.finish();
  if (im.cur_patch && !im.cur_dropped && got != im.cur_digest) drop_patch();
  if (im.cur_dropped) {
    // The content was not had from its patch: asked for whole, once.
    ++stats_.patches_failed;
    im.patch_failed.insert(im.cur_digest);
    im.tmp_dir.reset();
    answer_resend(im.cur_digest, "");
    return true;
  }
  const auto& entries = im.wanted[im.cur_digest];
  if (got != im.cur_digest)
    return *err = "upload content for '" + entries.front()->path + "' does not match its SHA-256 (sent " +
                  to_hex(im.cur_digest) + ", got " + to_hex(got) + "): refused",
           false;
  const Entry& first = *entries.front();
  const std::string leaf = split_parent(first.path).second;
  if (!Impl::finish_file(im.tmp.get(), first, err)) return false;
  if (::renameat(im.tmp_dir.get(), im.tmp_name.c_str(), im.tmp_dir.get(), leaf.c_str()) != 0)
    return *err = errno_text("cannot move '" + first.path + "' into place"), false;
  im.tmp.reset();
  ++stats_.files_sent;
  stats_.bytes_written += im.cur_raw;
  for (size_t i = 1; i < entries.size(); ++i) {
    bool linked;
    if (!im.place_from(*entries[i], im.tmp_dir.get(), leaf, nullptr, &linked, err)) return false;
    ++(linked ? stats_.files_linked : stats_.files_copied);
  }
  im.needed[im.cur_digest] = true;
  im.tmp_dir.reset();
  if (im.cur_fetched) ++stats_.files_fetched;
  if (im.cur_fetched && !im.cur_patch) answer_ok("fetched", im.cur_digest);
  if (im.cur_patch) {
    ++stats_.files_patched;
    im.base_buf = std::string();
    answer_ok("patched", im.cur_digest);
  }
  return true;
}

bool Receiver::on_end(std::string* err) {
  auto& im = *impl_;
  for (const auto& [d, got] : im.needed)
    if (!got) return *err = "upload ended without the content of '" + im.wanted[d].front()->path + "'", false;
  im.dir_cache.clear();
  if (!finish_directories(err)) return false;
  // One flush of the whole file system instead of an fsync per file and
  // directory: the version is sealed (and can go live) only after this.
  if (::syncfs(im.root.get()) != 0) return *err = errno_text("cannot sync " + im.dir + " to disk"), false;
  return true;
}

// Directory modes and mtimes last (deepest first): creating entries inside a
// directory changes its mtime, and a read-only one refuses them. Each is
// reopened from V's fd with O_NOFOLLOW and must be the directory made at the
// start: one swapped or moved meanwhile fails the upload.
bool Receiver::finish_directories(std::string* err) {
  auto& im = *impl_;
  for (auto it = manifest_.entries.rbegin(); it != manifest_.entries.rend(); ++it) {
    if (it->type != EntryType::dir) continue;
    base::UniqueFd d = open_dir_at(im.root.get(), it->path);
    struct stat st;
    if (!d || ::fstat(d.get(), &st) != 0)
      return *err = errno_text("cannot open directory '" + it->path + "' in the version"), false;
    if (std::pair(st.st_dev, st.st_ino) != im.made_dirs[it->path])
      return *err = "directory '" + it->path + "' of the version was replaced while the upload ran: refused", false;
    timespec times[2] = {to_timespec(it->mtime_ns), to_timespec(it->mtime_ns)};
    if (::fchmod(d.get(), it->mode) != 0 || ::futimens(d.get(), times) != 0)
      return *err = errno_text("cannot finish directory '" + it->path + "'"), false;
  }
  return true;
}

std::vector<FileStamp> Receiver::stamp_files() {
  std::vector<FileStamp> out(manifest_.entries.size());
  for (size_t i = 0; i < manifest_.entries.size(); ++i) {
    const Entry& e = manifest_.entries[i];
    if (e.type != EntryType::file) continue;
    struct stat st;
    if (::fstatat(impl_->root.get(), e.path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      fail(errno_text("cannot stat '" + e.path + "' in the version"));
      return {};
    }
    out[i] = stamp_of(st);
  }
  return out;
}

Receiver::~Receiver() = default;

bool Receiver::fail(const std::string& msg) {
  if (error_.empty()) error_ = msg;
  if (!replied_error_) {
    replied_error_ = true;
    reply_(nlohmann::json{{"error", error_}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return false;
}

bool Receiver::feed(std::string_view bytes) {
  if (!error_.empty()) return false;
  if (!parser_.feed(bytes)) return fail(parser_.error());
  flush_answers();  // what this read caused is answered before the next read
  return true;
}

bool Receiver::finish() {
  if (!error_.empty()) return false;
  if (!parser_.finish()) return fail(parser_.error());
  reply_(nlohmann::json{{"done",
                         {{"files", stats_.files},
                          {"dirs", stats_.dirs},
                          {"symlinks", stats_.symlinks},
                          {"files_sent", stats_.files_sent},
                          {"bytes_sent", stats_.bytes_sent},
                          {"bytes_written", stats_.bytes_written},
                          {"files_linked", stats_.files_linked},
                          {"files_copied", stats_.files_copied},
                          {"files_patched", stats_.files_patched},
                          {"patches_failed", stats_.patches_failed},
                          {"files_fetched", stats_.files_fetched},
                          {"bytes_fetched", stats_.bytes_fetched},
                          {"fetches_failed", stats_.fetches_failed},
                          {"manifest_fetched", stats_.manifest_fetched}}}}
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return true;
}

}  // namespace plugbox::upload
