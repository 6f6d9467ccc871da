#include "bench/upload/work_dir.h"

#include <pwd.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace plugbox::bench {

namespace fs = std::filesystem;

namespace {

// The pid in "<prefix><pid>-..." or "<prefix><pid>", or 0.
long pid_of(const std::string& name) {
  const std::string prefix = kWorkPrefix;
  if (name.rfind(prefix, 0) != 0) return 0;
  return std::strtol(name.c_str() + prefix.size(), nullptr, 10);
}

// A zombie counts as gone: a killed run's process may wait a while for its
// new parent to reap it.
bool alive(long pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (pid <= 0 || !std::getline(stat, line)) return false;
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

}  // namespace

std::vector<std::string> sweep_leftovers() {
  std::vector<std::string> removed;
  std::error_code ec;
  for (fs::directory_iterator it("/tmp", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const long pid = pid_of(name);
    if (pid <= 0 || alive(pid)) continue;
    ::umount2((it->path() / "hostdata").c_str(), MNT_DETACH);  // fails harmlessly when not mounted
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    removed.push_back(it->path().string() + (rm ? " (" + rm.message() + ")" : ""));
  }
  for (fs::directory_iterator it("/sys/fs/cgroup/cpuacct", ec), end; !ec && it != end; it.increment(ec)) {
    const long pid = pid_of(it->path().filename().string());
    if (pid > 0 && !alive(pid) && ::rmdir(it->path().c_str()) == 0) removed.push_back(it->path().string());
  }
  return removed;
}

WorkDir::WorkDir(bool keep) : keep_(keep) {
  std::string tmpl = "/tmp/" + std::string(kWorkPrefix) + std::to_string(::getpid()) + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error(std::string("bench_upload: mkdtemp: ") + std::strerror(errno));
  path_ = tmpl;
  fs::permissions(path_, fs::perms(0755));
}

WorkDir::~WorkDir() {
  if (keep_) {
    std::cerr << "bench_upload: kept " << path_.string() << "\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

HostData::HostData(const fs::path& work, const std::vector<std::string>& hosts, const std::string& user, bool on_disk)
    : root_(work / "hostdata") {
  fs::create_directory(root_);
  fs::permissions(root_, fs::perms(0755));
  if (!on_disk) {
    if (::mount("tmpfs", root_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=90%") != 0)
      throw std::runtime_error("bench_upload: cannot mount a tmpfs on " + root_.string() + ": " + std::strerror(errno) +
                               " (--hosts-on-disk does without)");
    mounted_ = true;
  }
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw) throw std::runtime_error("bench_upload: no user " + user);
  for (const auto& h : hosts) {
    fs::create_directory(root_ / h);
    if (::chown((root_ / h).c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("bench_upload: cannot chown " + (root_ / h).string() + ": " + std::strerror(errno));
  }
}

HostData::~HostData() {
  if (mounted_ && ::umount2(root_.c_str(), MNT_DETACH) != 0)
    std::cerr << "bench_upload: cannot unmount " << root_.string() << ": " << std::strerror(errno) << "\n";
}

void HostData::drop(const std::vector<std::string>& hosts, const std::string& sub) const {
  for (const auto& h : hosts) {
    std::error_code ec;
    fs::remove_all(root_ / h / sub, ec);
  }
}

}  // namespace plugbox::bench
