#include "upload/client/blob_store.h"

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"
#include "upload/common/read_exact.h"
#include "upload/common/stream_format.h"

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace plugbox::upload {

namespace {

// Every content is one frame at `level`, with zstd's checksum.
ZSTD_CCtx* new_cctx(int level) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
  return c;
}

struct CCtx {
  explicit CCtx(int level) : p(new_cctx(level)) {}
  ~CCtx() { ZSTD_freeCCtx(p); }
  CCtx(const CCtx&) = delete;
  CCtx& operator=(const CCtx&) = delete;
  ZSTD_CCtx* p;
};

}  // namespace

std::string BlobStore::read_raw(const std::filesystem::path& path, std::uint64_t size, std::string* raw) {
  // One read of the size the manifest recorded: istreambuf_iterator went
  // byte by byte.
  base::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "upload: cannot read " + path.string();
  if (read_exact(fd.get(), size, raw)) return "";
  if (errno != 0) return "upload: cannot read " + path.string();
  return "upload: " + path.string() + " changed after it was hashed: run prepare again";
}

std::string BlobStore::compress_file(const std::filesystem::path& path, std::uint64_t raw_size, void* cctx,
                                     std::string* out) {
  std::string raw;
  if (std::string err = read_raw(path, raw_size, &raw); !err.empty()) return err;
  out->assign(ZSTD_compressBound(raw.size()), '\0');
  size_t n = ZSTD_compress2(static_cast<ZSTD_CCtx*>(cctx), out->data(), out->size(), raw.data(), raw.size());
  if (ZSTD_isError(n)) return std::string("upload: zstd failed: ") + ZSTD_getErrorName(n);
  out->resize(n);
  return "";
}

std::string BlobStore::keep(const std::string& bytes, Blob* b) const {
  for (std::size_t off = 0; off < bytes.size();) {
    ssize_t w = ::pwrite(file_.get(), bytes.data() + off, bytes.size() - off, off_t(file_end_ + off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      return std::string("upload: cannot keep compressed contents in a temporary file: ") + std::strerror(errno) +
             " (set TMPDIR to a directory with room)";
    off += std::size_t(w);
  }
  b->offset = file_end_;
  b->size = bytes.size();
  file_end_ += bytes.size();
  return "";
}

bool BlobStore::read(const Blob& b, std::uint64_t from, std::size_t n, std::string* out, std::string* error) const {
  if (from > b.size || n > b.size - from) {
    if (error) *error = "upload: read past a compressed content";
    return false;
  }
  const std::size_t at = out->size();
  out->resize(at + n);
  for (std::size_t got = 0; got < n;) {
    ssize_t r = ::pread(file_.get(), out->data() + at + got, n - got, off_t(b.offset + from + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      out->resize(at);
      if (error) *error = std::string("upload: cannot read back compressed contents: ") + (r < 0 ? std::strerror(errno) : "short file");
      return false;
    }
    got += std::size_t(r);
  }
  return true;
}

std::string BlobStore::compressed(const Blob& b) const {
  std::string out, err;
  if (!read(b, 0, b.size, &out, &err)) throw std::runtime_error(err);
  return out;
}

BlobStore BlobStore::lazy(const LocalTree& tree, int level) {
  BlobStore store;
  store.level_ = level;
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  std::string name = (dir / "plugbox-contents-XXXXXX").string();
  store.file_.reset(::mkostemp(name.data(), O_CLOEXEC));
  if (!store.file_)
    throw std::runtime_error("upload: cannot make a temporary file in " + dir.string() + ": " + std::strerror(errno) +
                             " (set TMPDIR to a writable directory)");
  ::unlink(name.c_str());
  for (size_t i = 0; i < tree.manifest.entries.size(); ++i) {
    const auto& e = tree.manifest.entries[i];
    if (e.type != EntryType::file || store.blobs_.count(e.digest)) continue;
    store.blobs_[e.digest].raw_size = e.size;
    store.paths_[e.digest] = &tree.local_paths[i];
  }
  return store;
}

BlobStore BlobStore::build(const LocalTree& tree, int level, unsigned threads) {
  BlobStore store = lazy(tree, level);
  std::vector<std::pair<Blob*, const std::filesystem::path*>> todo;
  for (auto& [d, b] : store.blobs_) todo.emplace_back(&b, store.paths_[d]);
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::string first_error;
  auto work = [&] {
    CCtx cctx(level);
    std::string bytes;
    for (size_t k; (k = next.fetch_add(1)) < todo.size();) {
      std::string err = compress_file(*todo[k].second, todo[k].first->raw_size, cctx.p, &bytes);
      std::lock_guard lk(mu);
      if (err.empty()) err = store.keep(bytes, todo[k].first);
      if (!err.empty() && first_error.empty()) first_error = err;
      todo[k].first->ready = err.empty();
    }
  };
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads && t < todo.size(); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (!first_error.empty()) throw std::runtime_error(first_error);
  for (const auto& [d, b] : store.blobs_) store.compressed_bytes_ += b.size;
  store.compressed_count_ = store.blobs_.size();
  return store;
}

void BlobStore::CCtxFree::operator()(void* p) const { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(p)); }

bool BlobStore::has(const Digest& d) const { return blobs_.count(d) != 0; }

const BlobStore::Blob* BlobStore::find(const Digest& d, std::string* error) const {
  auto it = blobs_.find(d);
  if (it == blobs_.end()) {
    if (error) *error = "upload: content " + to_hex(d) + " is not in this release";
    return nullptr;
  }
  std::lock_guard lk(*mu_);
  // const_cast: compressing on first use is the store's own caching; the
  // Blob (a map node) never moves, and the lock serialises the fill.
  auto& b = const_cast<Blob&>(it->second);
  if (!b.ready) {
    if (!cctx_) cctx_.reset(new_cctx(level_));
    std::string bytes;
    std::string err = compress_file(*paths_.at(d), b.raw_size, cctx_.get(), &bytes);
    if (err.empty()) err = keep(bytes, &b);
    if (!err.empty()) {
      if (error) *error = err;
      return nullptr;
    }
    b.ready = true;
    compressed_bytes_ += b.size;
    ++compressed_count_;
  }
  return &b;
}

// The frame's window must reach back over the whole base (zstd's patch-from,
// as `zstd --patch-from` sets it), and the host's decoder takes up to 2^27.
const BlobStore::Blob* BlobStore::find_patch(const Digest& d, const Digest& base, std::string* error) const {
  auto it = blobs_.find(d);
  if (it == blobs_.end() || !bases_) {
    if (error) *error = "upload: content " + to_hex(d) + " is not in this release";
    return nullptr;
  }
  std::lock_guard lk(*mu_);
  if (auto p = patches_.find({d, base}); p != patches_.end()) return &p->second;
  std::optional<std::string> base_raw = bases_->read(base);
  if (!base_raw || base_raw->size() > kMaxPatchBytes || it->second.raw_size > kMaxPatchBytes) return nullptr;
  std::string raw;
  if (std::string err = read_raw(*paths_.at(d), it->second.raw_size, &raw); !err.empty()) {
    if (error) *error = err;
    return nullptr;
  }
  CCtx cctx(level_);
  int window_log = 10;  // zstd's smallest window
  while (window_log < 27 && (std::uint64_t(1) << window_log) < base_raw->size() + raw.size()) ++window_log;
  ZSTD_CCtx_setParameter(cctx.p, ZSTD_c_windowLog, window_log);
  ZSTD_CCtx_refPrefix(cctx.p, base_raw->data(), base_raw->size());
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  size_t n = ZSTD_compress2(cctx.p, out.data(), out.size(), raw.data(), raw.size());
  if (ZSTD_isError(n)) {
    if (error) *error = std::string("upload: zstd failed: ") + ZSTD_getErrorName(n);
    return nullptr;
  }
  out.resize(n);
  Blob b;
  b.raw_size = raw.size();
  if (std::string err = keep(out, &b); !err.empty()) {
    if (error) *error = err;
    return nullptr;
  }
  b.ready = true;
  return &(patches_[{d, base}] = b);
}

void BlobStore::add_manifest(const Manifest& m) {
  const std::string raw = m.encode();
  const Digest d = sha256(raw);
  manifest_blob_ = d;
  // The same bytes as a file of the tree: that content, compressed when
  // first asked for, is the manifest's too.
  if (blobs_.count(d)) return;
  CCtx cctx(level_);
  std::string out(ZSTD_compressBound(raw.size()), '\0');
  const size_t n = ZSTD_compress2(cctx.p, out.data(), out.size(), raw.data(), raw.size());
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("upload: zstd failed on the manifest: ") + ZSTD_getErrorName(n));
  out.resize(n);
  Blob b;
  b.raw_size = raw.size();
  std::lock_guard lk(*mu_);
  if (std::string err = keep(out, &b); !err.empty()) throw std::runtime_error(err);
  b.ready = true;
  blobs_[d] = b;
  manifest_extra_ = true;
}

std::uint64_t BlobStore::compressed_bytes() const {
  std::lock_guard lk(*mu_);
  return compressed_bytes_;
}

std::size_t BlobStore::compressed_count() const {
  std::lock_guard lk(*mu_);
  return compressed_count_;
}

}  // namespace plugbox::upload
