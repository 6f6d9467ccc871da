// Client side: every distinct content of the release, zstd-compressed once
// per deploy and then shared, read-only, by every host's stream. Compressing
// here rather than in libssh keeps the event loop free of zlib (libssh's
// compression runs on the loop thread, once per host).
//
// Two ways to fill it: build() compresses everything up front on all cores;
// lazy() compresses a content the first time some host's stream needs it.
// Deploys use lazy(): a host asks only for contents no version of its own
// has, so a release that changes 5% of its files compresses 5% of them
// (measured: 0.37 s of CPU for a 2000-file app, now about 0.02 s), and on a
// first deploy the compression runs while the streams flow.
//
// The compressed bytes live in an unlinked temporary file ($TMPDIR, else
// /tmp), read back a chunk at a time as each host's stream needs them: the
// kernel's page cache holds them, not this process's heap. Held in memory,
// a 50 MiB app's were 53 MB of a 50-host first deploy's 147 MB peak, the
// largest single item (bench/scale/README.md).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "base/unique_fd.h"
#include "upload/client/manifest_builder.h"

namespace plugbox::upload {

// Contents of earlier releases this client can patch against (the content
// cache, content_cache.h): a host that still runs one is sent only the
// difference (stream_format.h kPatchBegin).
class BaseSource {
 public:
  virtual ~BaseSource() = default;
  virtual bool has(const Digest& d) const = 0;
  // The content, or nullopt when it cannot be had after all.
  virtual std::optional<std::string> read(const Digest& d) const = 0;
};

class BlobStore {
 public:
  // Throws std::runtime_error (one line, naming the file) on a read error.
  static BlobStore build(const LocalTree& tree, int level = 3, unsigned threads = 0);
  // `tree` must outlive the store (its local paths are read on demand).
  // Throws std::runtime_error (one line, naming the directory and $TMPDIR)
  // when the temporary file cannot be made.
  static BlobStore lazy(const LocalTree& tree, int level = 3);

  struct Blob {
    std::uint64_t raw_size = 0;
    std::uint64_t size = 0;    // compressed
    std::uint64_t offset = 0;  // of the compressed bytes in the store's file
    bool ready = false;
  };
  // Appends bytes [from, from + n) of b's compressed form to *out. False, with
  // `error` set (one line), when they cannot be read back.
  bool read(const Blob& b, std::uint64_t from, std::size_t n, std::string* out, std::string* error = nullptr) const;
  // b's whole compressed form (tests, benches); throws std::runtime_error.
  std::string compressed(const Blob& b) const;
  // Whether the release has this content (never compresses).
  bool has(const Digest& d) const;
  // The content, compressed now if it was not yet; nullptr (and `error`
  // set, one line naming the file) when it cannot be read or has changed
  // since the manifest was built.
  const Blob* find(const Digest& d, std::string* error = nullptr) const;
  // Patches against contents of `bases`, which must outlive the store. Set
  // before the store is shared.
  void set_bases(const BaseSource* bases) { bases_ = bases; }
  bool can_patch(const Digest& base) const { return bases_ && bases_->has(base); }
  // Content d as one zstd frame against `base` (made on first use and shared
  // by every host that asks for the same pair); nullptr when the base cannot
  // be read after all (send d whole), or, with `error` set, when d cannot.
  const Blob* find_patch(const Digest& d, const Digest& base, std::string* error = nullptr) const;
  // The release's manifest, compressed now and kept as one more content
  // (under the SHA-256 of its encoding): protocol 2 sends it this way, and
  // the site's relay carries it like any content. Call before the store is
  // shared; throws std::runtime_error as build() does.
  void add_manifest(const Manifest& m);
  // Its digest once add_manifest ran.
  const std::optional<Digest>& manifest_blob() const { return manifest_blob_; }
  std::uint64_t compressed_bytes() const;  // of the contents compressed so far
  std::size_t size() const { return blobs_.size() - (manifest_extra_ ? 1 : 0); }  // the tree's distinct contents
  std::size_t compressed_count() const;

 private:
  // Reads and compresses the file of `path` into *out; "" or the error.
  static std::string compress_file(const std::filesystem::path& path, std::uint64_t raw_size, void* cctx,
                                   std::string* out);
  // Appends `bytes` to the file as b's compressed form; "" or the error.
  // Called with *mu_ held.
  std::string keep(const std::string& bytes, Blob* b) const;
  // The file's content, if it still has the size the manifest recorded; "" or the error.
  static std::string read_raw(const std::filesystem::path& path, std::uint64_t size, std::string* raw);

  std::map<Digest, Blob> blobs_;  // node-based: a Blob* stays valid
  std::map<Digest, const std::filesystem::path*> paths_;
  const BaseSource* bases_ = nullptr;
  std::optional<Digest> manifest_blob_;
  bool manifest_extra_ = false;  // the manifest is not also a file's content
  mutable std::map<std::pair<Digest, Digest>, Blob> patches_;  // (content, base) -> patch
  int level_ = 3;
  // Lazy compression happens inside const find(); the store is shared by
  // every host's stream.
  mutable std::unique_ptr<std::mutex> mu_ = std::make_unique<std::mutex>();
  // One compression context for lazy fills (creating one per content cost
  // about as much as compressing a small file).
  struct CCtxFree {
    void operator()(void* p) const;
  };
  mutable std::unique_ptr<void, CCtxFree> cctx_;
  base::UniqueFd file_;             // unlinked: gone with the store, whatever happens
  mutable std::uint64_t file_end_ = 0;
  mutable std::uint64_t compressed_bytes_ = 0;
  mutable std::size_t compressed_count_ = 0;
};

}  // namespace plugbox::upload
