// The sshd fleet (tests/harness) a bench deploys to with the real plugbox
// command line, set up the same way for every bench so that their figures
// compare: each host runs the plugbox-server built alongside, and each sshd
// is in a cpuacct cgroup, so that every session, every plugbox-server and
// every service line the hosts run is counted.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/upload/meters.h"
#include "bench/upload/work_dir.h"
#include "tests/harness/sshd_fleet.h"

namespace plugbox::bench {

class BenchFleet {
 public:
  // Starts `fo`'s hosts with `server` copied into `work` first: the harness's
  // user cannot enter the build tree's parents on every machine. nullptr with
  // *why set when the fleet cannot start. Without a cgroup it says so on
  // stderr, as `program`, and goes on.
  static std::unique_ptr<BenchFleet> start(const std::string& program, plugbox::testing::FleetOptions fo,
                                           const std::filesystem::path& work, const std::string& server,
                                           std::string* why);

  const plugbox::testing::SshdFleet& fleet() const { return *fleet_; }
  const std::vector<int>& sshd_pids() const { return sshd_pids_; }
  CpuGroup* cpu() const { return cpu_.get(); }  // nullptr: the hosts' CPU is not measured
  double start_seconds() const { return start_s_; }  // SshdFleet::start alone

  // The harness's inventory with each host's home moved to data.dir(host)/sub
  // (jump hosts keep theirs: they are passed through, never deployed to), so
  // that what the hosts are sent lands on HostData's tmpfs.
  std::string inventory(const HostData& data, const std::string& sub) const;

 private:
  BenchFleet() = default;
  // Declared first so that it goes last: the group can be removed only once
  // the fleet's processes are gone.
  std::unique_ptr<CpuGroup> cpu_;
  std::unique_ptr<plugbox::testing::SshdFleet> fleet_;
  std::vector<int> sshd_pids_;
  double start_s_ = 0;
};

}  // namespace plugbox::bench
