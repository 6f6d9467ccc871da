#include "server-tools/upload/blob_store.h"

#include <zstd.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace plugbox::upload {

BlobStore BlobStore::build(const LocalTree& tree, int level, unsigned threads) {
  BlobStore store;
  std::vector<std::pair<Digest, const std::filesystem::path*>> todo;
  for (size_t i = 0; i < tree.manifest.entries.size(); ++i) {
    const auto& e = tree.manifest.entries[i];
    if (e.type != EntryType::file || store.blobs_.count(e.digest)) continue;
    store.blobs_[e.digest].raw_size = e.size;
    todo.emplace_back(e.digest, &tree.local_paths[i]);
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::string first_error;
  auto work = [&] {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    for (size_t k; (k = next.fetch_add(1)) < todo.size();) {
      std::ifstream in(*todo[k].second, std::ios::binary);
      std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::string out(ZSTD_compressBound(raw.size()), '\0');
      size_t n = ZSTD_compress2(cctx, out.data(), out.size(), raw.data(), raw.size());
      std::lock_guard lk(mu);
      Blob& b = store.blobs_[todo[k].first];
      if (!in.good() && !in.eof()) {
        if (first_error.empty()) first_error = "upload: cannot read " + todo[k].second->string();
      } else if (raw.size() != b.raw_size) {
        if (first_error.empty()) first_error = "upload: " + todo[k].second->string() + " changed after it was hashed: run prepare again";
      } else if (ZSTD_isError(n)) {
        if (first_error.empty()) first_error = std::string("upload: zstd failed: ") + ZSTD_getErrorName(n);
      } else {
        out.resize(n);
        b.compressed = std::move(out);
      }
    }
    ZSTD_freeCCtx(cctx);
  };
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads && t < todo.size(); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (!first_error.empty()) throw std::runtime_error(first_error);
  for (const auto& [d, b] : store.blobs_) store.compressed_bytes_ += b.compressed.size();
  return store;
}

const BlobStore::Blob* BlobStore::find(const Digest& d) const {
  auto it = blobs_.find(d);
  return it == blobs_.end() ? nullptr : &it->second;
}

}  // namespace plugbox::upload
