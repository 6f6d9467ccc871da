#include "server-tools/layout.h"

#include <sys/stat.h>

#include <system_error>

#include "server-tools/fs_ops.h"
#include "server-tools/version_name.h"

namespace fs = std::filesystem;

namespace plugbox::server {

Layout::Layout(fs::path home_dir) {
  std::error_code ec;
  fs::path abs = fs::absolute(home_dir, ec);
  home = (ec ? home_dir : abs).lexically_normal();
  // "/srv/shop/" normalises to "/srv/shop/"; drop the empty last element so
  // messages and joins read naturally.
  if (home.has_relative_path() && home.filename().empty()) home = home.parent_path();
}

namespace {

bool is_dir_following(const fs::path& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string kind_word(FileKind k) {
  switch (k) {
    case FileKind::absent: return "missing";
    case FileKind::directory: return "a directory";
    case FileKind::symlink: return "a symlink";
    case FileKind::regular: return "a file";
    case FileKind::other: return "a special file";
  }
  return "?";
}

// A deploy/ whose .plugbox/ was deleted: it holds only what plugbox-server
// makes there (version directories and the live link), and at least one.
bool lost_its_state(const Layout& l) {
  if (!is_dir_following(l.deploy()) || kind_of(l.state()) != FileKind::absent) return false;
  std::error_code ec;
  bool any = false;
  for (fs::directory_iterator it(l.deploy(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    const FileKind k = kind_of(it->path());
    if ((n == "live" && k == FileKind::symlink) || (is_version_name(n) && k == FileKind::directory))
      any = true;
    else
      return false;
  }
  return any && !ec;
}

std::string recreate_advice(const Layout& l) {
  return "run `plugbox-server --home " + l.home.string() +
         " init` to recreate it: live stays as it is, and the versions there keep their trees but, "
         "their records lost, count as staged (they cannot go live again; remove them once a new "
         "version is live)";
}

}  // namespace

std::optional<std::string> layout_problem(const Layout& l) {
  const std::string fix = "run `plugbox-server --home " + l.home.string() +
                          " init` first, or pass the right --home";
  if (!is_dir_following(l.home))
    return l.home.string() + " is not a directory, so not a plugbox layout: " + fix;
  if (lost_its_state(l))
    return l.state().string() + " is missing (deleted?), though " + l.deploy().string() +
           " holds versions: " + recreate_advice(l);
  if (!is_dir_following(l.state()) || !is_dir_following(l.versions()))
    return l.home.string() + " is not a plugbox layout (no deploy/.plugbox/versions/): " + fix;
  if (FileKind k = kind_of(l.live()); k != FileKind::absent && k != FileKind::symlink)
    return l.live().string() + " is " + kind_word(k) +
           ", not a link: this is not a layout plugbox-server manages; move it away";
  return std::nullopt;
}

std::optional<std::string> init_problem(const Layout& l) {
  const std::string where = l.home.string();
  FileKind home = kind_of(l.home);
  if (home == FileKind::absent) {
    // Only the last level is created: a mistyped --home deeper down must not
    // grow a directory tree somewhere unexpected.
    if (!is_dir_following(l.home.parent_path()))
      return where + " does not exist and neither does its parent: create the parent, or pass "
                     "the right --home";
    return std::nullopt;
  }
  if (!is_dir_following(l.home)) return where + " is not a directory: pass the right --home";

  auto expect_dir = [&](const fs::path& p) -> std::optional<std::string> {
    FileKind k = kind_of(p);
    if (k == FileKind::absent || k == FileKind::directory) return std::nullopt;
    if (k == FileKind::symlink && is_dir_following(p)) return std::nullopt;
    return p.string() + " is " + kind_word(k) + ", not a directory: move it away and run init again";
  };
  auto expect_file = [&](const fs::path& p) -> std::optional<std::string> {
    FileKind k = kind_of(p);
    if (k == FileKind::absent || k == FileKind::regular) return std::nullopt;
    return p.string() + " is " + kind_word(k) + ", not a file: move it away and run init again";
  };

  if (auto p = expect_dir(l.config())) return p;
  if (FileKind k = kind_of(l.home_live()); k != FileKind::absent) {
    if (k != FileKind::symlink || read_link(l.home_live()) != home_live_target)
      return l.home_live().string() + " exists and is not the link -> " +
             std::string(home_live_target) + ": move it away and run init again";
  }
  if (auto p = expect_dir(l.deploy())) return p;
  if (kind_of(l.deploy()) != FileKind::absent && kind_of(l.state()) == FileKind::absent && !lost_its_state(l)) {
    std::error_code ec;
    if (!fs::is_empty(l.deploy(), ec) || ec)
      return l.deploy().string() +
             " exists, is not empty and has no .plugbox/: it is not a plugbox layout; move it "
             "away (or pass the right --home) and run init again";
  }
  for (const fs::path& d : {l.state(), l.versions(), l.tmp(), l.trash()})
    if (auto p = expect_dir(d)) return p;
  for (const fs::path& f : {l.lock(), l.oplock(), l.log()})
    if (auto p = expect_file(f)) return p;
  if (FileKind k = kind_of(l.live()); k != FileKind::absent && k != FileKind::symlink)
    return l.live().string() + " is " + kind_word(k) + ", not a link: move it away and run init again";
  return std::nullopt;
}

bool never_deployed(const Layout& l) {
  // A deploy/ that lost its .plugbox/ was deployed to: init may recreate the
  // state, but status must not call it a fresh home.
  return is_dir_following(l.home) && kind_of(l.state()) == FileKind::absent && !lost_its_state(l) &&
         !init_problem(l);
}

}  // namespace plugbox::server
