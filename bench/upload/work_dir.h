// The benchmark's scratch space: a work directory (the app trees, the server
// binary, rsync's logs) and in it each host's data directory, by default on a
// tmpfs mounted for the run. A run that was killed leaves its directory, its
// mount and its cgroup behind: the next run sweeps them (their names carry
// the pid, and a leftover is one whose pid is gone).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace plugbox::bench {

// Names start with this, then "<pid>-".
inline constexpr const char* kWorkPrefix = "pbx-bench-upload-";

// Removes /tmp/pbx-bench-upload-<pid>-* (unmounting its hostdata first) and
// the cpuacct cgroups of runs whose process is gone. Returns what it removed,
// one line each.
std::vector<std::string> sweep_leftovers();

// /tmp/pbx-bench-upload-<pid>-XXXXXX, mode 0755 (the hosts' user must reach
// the server binary in it); removed with everything in it unless `keep`.
class WorkDir {
 public:
  explicit WorkDir(bool keep);
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  bool keep_;
  std::filesystem::path path_;
};

// <work>/hostdata/<host>, owned by `user`, where each host keeps what it is
// sent (plugbox homes, rsync destinations). On a tmpfs unless `on_disk`:
// the disk of this machine is shared and its file-creation cost swings with
// what others delete (see README.md), which no tool can be blamed for.
class HostData {
 public:
  HostData(const std::filesystem::path& work, const std::vector<std::string>& hosts, const std::string& user,
           bool on_disk);
  ~HostData();  // unmounts the tmpfs (lazily); the WorkDir removes the rest
  HostData(const HostData&) = delete;
  HostData& operator=(const HostData&) = delete;

  std::string dir(const std::string& host) const { return (root_ / host).string(); }
  const std::filesystem::path& root() const { return root_; }
  bool on_tmpfs() const { return mounted_; }
  // Removes <host>/<sub> on every host (frees the tmpfs's RAM between runs).
  void drop(const std::vector<std::string>& hosts, const std::string& sub) const;

 private:
  std::filesystem::path root_;
  bool mounted_ = false;
};

}  // namespace plugbox::bench
