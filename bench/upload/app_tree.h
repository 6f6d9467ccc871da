// The benchmark's application: a deterministic tree shaped like a prepared web
// app (many small text files, fewer medium and large ones, a few big assets;
// text that compresses, assets that do not, binaries in between; nested
// directories, a few empty ones, a few symlinks, executables). A second
// release is the same tree with a share of its files rewritten (new content,
// a slightly different size, a new mtime) and everything else byte- and
// metadata-identical, as `cp -a` plus a rebuild of a few files would leave it.
// With ChangeModel::edit, a changed file is instead its old content with a few
// spans replaced, as most files of a real release change: what deltas (zstd
// patches, rsync's rolling checksum) can reuse.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace plugbox::bench {

enum class ContentKind { text, random, semi };

// `removed` bytes at `offset` replaced by `inserted` new ones (from `seed`,
// text for a text file, random bytes otherwise).
struct Edit {
  std::uint64_t offset = 0, removed = 0, inserted = 0, seed = 0;
};

struct AppFile {
  std::string path;  // relative to the tree root
  std::uint64_t size = 0;
  ContentKind kind = ContentKind::text;
  std::uint64_t seed = 0;  // the content is a pure function of (kind, size, seed)
  unsigned mode = 0644;
  std::int64_t mtime_s = 0;
  // Applied in order to the content of (kind, size before them, seed); `size`
  // is the size after them.
  std::vector<Edit> edits = {};
};

struct AppTree {
  std::vector<std::string> dirs;  // parents before children; "" (the root) is not listed
  std::vector<AppFile> files;
  std::vector<std::pair<std::string, std::string>> symlinks;  // path, target (relative)

  std::uint64_t total_bytes() const;
};

struct AppSpec {
  int files = 2000;
  std::uint64_t bytes = 50ull << 20;
  std::uint64_t seed = 1;
};

// Throws std::invalid_argument for a spec it cannot honour (too few bytes for
// the file count).
AppTree plan_app(const AppSpec& spec);

// How a changed file changes:
//   rewrite  new content, size within +-10% (the default, bench_upload's figures);
//   edit     1-4 spans of 16 B-4 KiB (at most 1/16 of the file each) replaced by
//            new bytes of about the same length, the rest kept, as a source
//            edit or a rebuilt binary leaves it. Every kind of file, random
//            content too: the case deltas are for (an image re-exported or an
//            archive rebuilt usually changes throughout; rewrite models that).
enum class ChangeModel { rewrite, edit };

// The next release: `count` files (chosen from the seed) change as `model`
// says, with a new mtime. *changed receives their indices. With rewrite, the
// same (base, count, seed) gives the same tree as before ChangeModel existed.
AppTree change_files(const AppTree& base, int count, std::uint64_t seed, std::vector<std::size_t>* changed,
                     ChangeModel model = ChangeModel::rewrite);

// Writes the tree under `root` (created; must not exist), with modes and
// mtimes. Throws std::runtime_error naming the path on failure.
void write_app(const AppTree& tree, const std::filesystem::path& root);

// The content of one file (exposed for the generator's own checks).
std::string file_content(const AppFile& f);

}  // namespace plugbox::bench
