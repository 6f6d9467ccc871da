// The benchmark's application: a deterministic tree shaped like a prepared web
// app (many small text files, fewer medium and large ones, a few big assets;
// text that compresses, assets that do not, binaries in between; nested
// directories, a few empty ones, a few symlinks, executables). A second
// release is the same tree with a share of its files rewritten (new content,
// a slightly different size, a new mtime) and everything else byte- and
// metadata-identical, as `cp -a` plus a rebuild of a few files would leave it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace plugbox::bench {

enum class ContentKind { text, random, semi };

struct AppFile {
  std::string path;  // relative to the tree root
  std::uint64_t size = 0;
  ContentKind kind = ContentKind::text;
  std::uint64_t seed = 0;  // the content is a pure function of (kind, size, seed)
  unsigned mode = 0644;
  std::int64_t mtime_s = 0;
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

// The next release: `count` files (chosen from the seed) get new contents,
// sizes within +-10% and a new mtime. *changed receives their indices.
AppTree change_files(const AppTree& base, int count, std::uint64_t seed, std::vector<std::size_t>* changed);

// Writes the tree under `root` (created; must not exist), with modes and
// mtimes. Throws std::runtime_error naming the path on failure.
void write_app(const AppTree& tree, const std::filesystem::path& root);

// The content of one file (exposed for the generator's own checks).
std::string file_content(const AppFile& f);

}  // namespace plugbox::bench
