#include "server-tools/init.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "server-tools/errors.h"
#include "server-tools/fs_ops.h"

namespace fs = std::filesystem;

namespace plugbox::server {

namespace {

struct Part {
  fs::path path;
  bool dir;
};

std::vector<Part> parts(const Layout& l) {
  // Creation order: parents first; the lock files before anything that needs
  // the locks.
  return {{l.deploy(), true},  {l.state(), true},    {l.oplock(), false}, {l.lock(), false},
          {l.config(), true},  {l.versions(), true}, {l.tmp(), true},     {l.trash(), true},
          {l.log(), false}};
}

std::string rel(const Layout& l, const fs::path& p) { return p.lexically_relative(l.home).string(); }

bool create_file(const fs::path& p) {
  base::UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd) return true;
  if (errno == EEXIST) return false;
  sys_fail("create " + p.string(), errno);
}

}  // namespace

std::vector<std::string> missing_layout_parts(const Layout& l) {
  std::vector<std::string> out;
  if (kind_of(l.home) == FileKind::absent) out.push_back(".");
  for (const Part& p : parts(l))
    if (kind_of(p.path) == FileKind::absent) out.push_back(rel(l, p.path));
  if (kind_of(l.home_live()) == FileKind::absent) out.push_back("live");
  return out;
}

InitResult init_layout(const Layout& l, const LockRequest& req, const Actor& actor) {
  if (auto p = init_problem(l)) bad_input(*p);
  InitResult result;
  if (missing_layout_parts(l).empty()) return result;

  auto made = [&](const fs::path& p) { result.created.push_back(rel(l, p)); };
  if (make_dir(l.home)) made(l.home);
  // The lock files must exist before the locks can be taken; creating them
  // (and their directories) is harmless to a concurrent init.
  for (const fs::path& d : {l.deploy(), l.state()})
    if (make_dir(d)) made(d);
  for (const fs::path& f : {l.oplock(), l.lock()})
    if (create_file(f)) made(f);

  MutationGuard guard = acquire_for_mutation(l, req);
  for (const Part& p : parts(l)) {
    if (p.dir ? make_dir(p.path) : create_file(p.path)) made(p.path);
  }
  if (kind_of(l.home_live()) == FileKind::absent) {
    const std::string target(home_live_target);
    if (::symlink(target.c_str(), l.home_live().c_str()) != 0 && errno != EEXIST)
      sys_fail("symlink " + l.home_live().string(), errno);
    made(l.home_live());
  }
  fsync_dir(l.state());
  fsync_dir(l.deploy());
  fsync_dir(l.home);
  if (!result.created.empty())
    append_log(l.log(), LogEntry{"init", {}, {{"created", result.created}}}, actor);
  return result;
}

}  // namespace plugbox::server
