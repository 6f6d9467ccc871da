#include "bench/upload/app_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace plugbox::bench {

namespace {

namespace fs = std::filesystem;

// splitmix64: fast, deterministic across platforms and library versions (the
// standard distributions are not), so a tree is the same on every machine.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
  double unit() { return double(next() >> 11) / double(1ull << 53); }

 private:
  std::uint64_t s_;
};

constexpr std::int64_t kFirstMtime = 1735689600;   // 2025-01-01
constexpr std::int64_t kSecondMtime = 1767225600;  // 2026-01-01

const std::vector<std::string>& vocabulary() {
  // Shared by every text file, as identifiers are shared by a code base.
  static const std::vector<std::string> words = [] {
    Rng r(42);
    std::vector<std::string> w;
    for (int i = 0; i < 400; ++i) {
      std::string s;
      for (auto n = r.between(2, 10); n > 0; --n) s += char('a' + r.below(26));
      w.push_back(std::move(s));
    }
    return w;
  }();
  return words;
}

void text_content(Rng& r, std::uint64_t size, std::string* out) {
  static const char* punct[] = {" ", " ", " ", "(", ") ", "; ", " = ", ".", ", ", " { ", " }"};
  const auto& words = vocabulary();
  while (out->size() < size) {
    out->append(r.below(5) * 2, ' ');
    for (auto n = r.between(3, 10); n > 0; --n) {
      out->append(words[r.below(words.size())]);
      out->append(punct[r.below(std::size(punct))]);
    }
    out->push_back('\n');
  }
  out->resize(size);
}

void random_content(Rng& r, std::uint64_t size, std::string* out) {
  out->resize(size);
  for (std::uint64_t i = 0; i < size; i += 8) {
    std::uint64_t v = r.next();
    std::memcpy(out->data() + i, &v, std::min<std::uint64_t>(8, size - i));
  }
}

// Half fresh bytes, half repeats of recent output: compresses about 2x, as
// executables and bytecode do.
void semi_content(Rng& r, std::uint64_t size, std::string* out) {
  while (out->size() < size) {
    if (out->size() < 64 || r.below(2) == 0) {
      for (int i = 0; i < 8; ++i) {
        std::uint64_t v = r.next();
        out->append(reinterpret_cast<const char*>(&v), 8);
      }
    } else {
      std::size_t window = std::min<std::size_t>(out->size() - 64, 32 * 1024);
      std::size_t from = out->size() - 64 - r.below(window + 1);
      std::string piece = out->substr(from, 64);
      out->append(piece);
    }
  }
  out->resize(size);
}

const char* extension(ContentKind k, Rng& r) {
  static const char* text[] = {"js", "css", "html", "py", "json", "txt", "svg", "map"};
  static const char* random[] = {"png", "jpg", "woff2", "gz"};
  static const char* semi[] = {"so", "bin", "wasm", "pyc"};
  switch (k) {
    case ContentKind::text: return text[r.below(std::size(text))];
    case ContentKind::random: return random[r.below(std::size(random))];
    case ContentKind::semi: return semi[r.below(std::size(semi))];
  }
  return "dat";
}

[[noreturn]] void fail(const std::string& what, const fs::path& p) {
  throw std::runtime_error("bench_upload: cannot " + what + " " + p.string() + ": " + std::strerror(errno));
}

void set_mtime(const fs::path& p, std::int64_t s, bool nofollow) {
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = s;
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  if (::utimensat(AT_FDCWD, p.c_str(), ts, nofollow ? AT_SYMLINK_NOFOLLOW : 0) != 0) fail("set the mtime of", p);
}

}  // namespace

std::uint64_t AppTree::total_bytes() const {
  std::uint64_t t = 0;
  for (const auto& f : files) t += f.size;
  return t;
}

std::string file_content(const AppFile& f) {
  std::uint64_t size = f.size;
  for (const auto& e : f.edits) size = size + e.removed - e.inserted;
  Rng r(f.seed);
  std::string out;
  out.reserve(size + 128);
  switch (f.kind) {
    case ContentKind::text: text_content(r, size, &out); break;
    case ContentKind::random: random_content(r, size, &out); break;
    case ContentKind::semi: semi_content(r, size, &out); break;
  }
  for (const auto& e : f.edits) {
    Rng er(e.seed);
    std::string piece;
    if (f.kind == ContentKind::text) text_content(er, e.inserted, &piece);
    else random_content(er, e.inserted, &piece);
    out.replace(e.offset, e.removed, piece);
  }
  return out;
}

AppTree plan_app(const AppSpec& spec) {
  if (spec.files < 20) throw std::invalid_argument("bench_upload: --files must be at least 20");
  if (spec.bytes < std::uint64_t(spec.files) * 1024)
    throw std::invalid_argument("bench_upload: --mib is too small for that many files (at least 1 KiB per file)");
  Rng r(spec.seed);
  AppTree t;

  // Directories: "bin" for the executables, then a random tree up to 4 deep.
  static const char* names[] = {"lib", "static", "assets", "js", "css", "img", "locale", "templates",
                                "vendor", "share", "docs", "fonts", "api", "views", "migrations", "plugins"};
  struct Dir {
    std::string path;
    int depth;
  };
  std::vector<Dir> dirs{{"bin", 1}};
  const int ndirs = std::max(8, spec.files / 25);
  while (int(dirs.size()) < ndirs) {
    std::size_t pick = r.below(dirs.size() + 1);  // == size(): the root
    if (pick < dirs.size() && dirs[pick].depth >= 4) continue;
    std::string name = std::string(names[r.below(std::size(names))]) + std::to_string(dirs.size());
    if (pick == dirs.size()) dirs.push_back({name, 1});
    else dirs.push_back({dirs[pick].path + "/" + name, dirs[pick].depth + 1});
  }
  // A non-ASCII directory name, as locales bring.
  dirs.push_back({dirs[1].path + "/données", dirs[1].depth + 1});

  // Sizes: 70% small, 25% medium, the rest large, plus a few big assets
  // taking whatever the total leaves.
  const int nbig = std::max(1, spec.files / 200);
  std::vector<std::uint64_t> sizes;
  std::uint64_t sum = 0;
  for (int i = 0; i < spec.files - nbig; ++i) {
    double u = r.unit();
    std::uint64_t s = u < 0.70 ? r.between(256, 8 << 10) : u < 0.95 ? r.between(8 << 10, 64 << 10)
                                                                     : r.between(64 << 10, 336 << 10);
    sizes.push_back(s);
    sum += s;
  }
  const double budget = double(spec.bytes) * 0.8;
  if (double(sum) > budget) {
    const double k = budget / double(sum);
    sum = 0;
    for (auto& s : sizes) sum += (s = std::max<std::uint64_t>(64, std::uint64_t(double(s) * k)));
  }
  std::vector<double> weights;
  double wsum = 0;
  for (int i = 0; i < nbig; ++i) wsum += weights.emplace_back(0.5 + r.unit());
  std::uint64_t rest = spec.bytes - sum, given = 0;
  for (int i = 0; i < nbig; ++i) {
    std::uint64_t s = i + 1 == nbig ? rest - given : std::uint64_t(double(rest) * weights[i] / wsum);
    sizes.push_back(s);
    given += s;
  }

  for (int i = 0; i < spec.files; ++i) {
    AppFile f;
    f.size = sizes[i];
    f.seed = r.next();
    f.mtime_s = kFirstMtime + i * 7;
    const bool big = i >= spec.files - nbig;
    double u = r.unit();
    f.kind = big ? (u < 0.5 ? ContentKind::random : ContentKind::semi)
                 : (u < 0.55 ? ContentKind::text : u < 0.80 ? ContentKind::random : ContentKind::semi);
    std::size_t d = r.below(dirs.size());
    char stem[32];
    std::snprintf(stem, sizeof stem, "f%05d", i);
    if (d == 0) {  // bin/: executables
      f.kind = ContentKind::semi;
      f.mode = 0755;
      f.path = "bin/tool" + std::string(stem + 1);
    } else {
      f.path = dirs[d].path + "/" + stem + "." + extension(f.kind, r);
    }
    if (i == 7) f.path = dirs[d].path + "/résumé-7.txt";
    if (i == 8) f.path = dirs[d].path + "/read me-8.txt";
    t.files.push_back(std::move(f));
  }

  // Three empty directories, five symlinks next to the files they name.
  for (int k = 0; k < 3; ++k) dirs.push_back({dirs[r.below(dirs.size())].path + "/cache" + std::to_string(k), 0});
  for (int k = 0; k < 5; ++k) {
    const auto& f = t.files[r.below(t.files.size())];
    auto slash = f.path.rfind('/');
    std::string base = f.path.substr(slash + 1);
    t.symlinks.emplace_back(f.path.substr(0, slash + 1) + "latest" + std::to_string(k) + "-" + base, base);
  }
  for (auto& d : dirs) t.dirs.push_back(d.path);
  return t;
}

AppTree change_files(const AppTree& base, int count, std::uint64_t seed, std::vector<std::size_t>* changed,
                     ChangeModel model) {
  AppTree t = base;
  Rng r(seed);
  std::vector<std::size_t> idx(t.files.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  count = std::min<int>(count, int(idx.size()));
  changed->clear();
  for (int k = 0; k < count; ++k) {
    std::swap(idx[k], idx[k + r.below(idx.size() - k)]);
    AppFile& f = t.files[idx[k]];
    if (model == ChangeModel::edit) {
      for (auto n = r.between(1, 4); n > 0; --n) {
        Edit e;
        const std::uint64_t longest = std::max<std::uint64_t>(16, std::min<std::uint64_t>(4096, f.size / 16));
        e.removed = std::min(f.size, r.between(16, longest));
        e.inserted = std::max<std::uint64_t>(1, std::uint64_t(double(e.removed) * (0.75 + 0.5 * r.unit())));
        e.offset = r.below(f.size - e.removed + 1);
        e.seed = r.next();
        f.size = f.size - e.removed + e.inserted;
        f.edits.push_back(e);
      }
    } else {
      f.seed = r.next();
      f.size = std::max<std::uint64_t>(1, std::uint64_t(double(f.size) * (0.9 + 0.2 * r.unit())));
      f.edits.clear();
    }
    f.mtime_s = kSecondMtime + std::int64_t(idx[k]);
    changed->push_back(idx[k]);
  }
  std::sort(changed->begin(), changed->end());
  return t;
}

void write_app(const AppTree& tree, const fs::path& root) {
  if (::mkdir(root.c_str(), 0755) != 0) fail("create", root);
  for (const auto& d : tree.dirs)
    if (::mkdir((root / d).c_str(), 0755) != 0) fail("create", root / d);
  for (const auto& f : tree.files) {
    const fs::path p = root / f.path;
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) fail("create", p);
    const std::string data = file_content(f);
    for (std::size_t off = 0; off < data.size();) {
      ssize_t n = ::write(fd, data.data() + off, data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ::close(fd);
        fail("write", p);
      }
      off += std::size_t(n);
    }
    if (::fchmod(fd, f.mode) != 0) fail("chmod", p);
    if (::close(fd) != 0) fail("close", p);
    set_mtime(p, f.mtime_s, false);
  }
  for (const auto& [path, target] : tree.symlinks) {
    if (::symlink(target.c_str(), (root / path).c_str()) != 0) fail("create the symlink", root / path);
    set_mtime(root / path, kFirstMtime, true);
  }
  // Directory mtimes last (writing inside a directory changes it), deepest first.
  for (auto it = tree.dirs.rbegin(); it != tree.dirs.rend(); ++it) set_mtime(root / *it, kFirstMtime, false);
  set_mtime(root, kFirstMtime, false);
}

}  // namespace plugbox::bench
