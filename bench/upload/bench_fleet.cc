#include "bench/upload/bench_fleet.h"

#include <chrono>
#include <iostream>

namespace plugbox::bench {

namespace fs = std::filesystem;

std::unique_ptr<BenchFleet> BenchFleet::start(const std::string& program, plugbox::testing::FleetOptions fo,
                                              const fs::path& work, const std::string& server, std::string* why) {
  const fs::path copy = work / "plugbox-server";
  fs::copy_file(server, copy);
  fo.inventory_defaults_extra = {"server = \"" + copy.string() + "\""};
  std::unique_ptr<BenchFleet> f(new BenchFleet);
  const auto t0 = std::chrono::steady_clock::now();
  f->fleet_ = plugbox::testing::SshdFleet::start(fo, why);
  if (!f->fleet_) return nullptr;
  f->start_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& h : f->fleet_->hosts()) f->sshd_pids_.push_back(h.sshd_pid);
  std::string no_group;
  f->cpu_ = CpuGroup::create(&no_group);
  for (int pid : f->sshd_pids_)
    if (f->cpu_ && !f->cpu_->add(pid))
      f->cpu_.reset(), no_group = "cannot move sshd " + std::to_string(pid) + " into it";
  if (!f->cpu_)
    std::cerr << program << ": no cpuacct cgroup (" << no_group << "): the hosts' CPU is not measured\n";
  return f;
}

std::string BenchFleet::inventory(const HostData& data, const std::string& sub) const {
  std::string inv = fleet_->inventory_toml();
  for (const auto& h : fleet_->hosts()) {
    if (h.is_jump) continue;
    const std::string from = "\"" + h.home + "\"", to = "\"" + data.dir(h.name) + "/" + sub + "\"";
    for (auto at = inv.find(from); at != std::string::npos; at = inv.find(from, at + to.size()))
      inv.replace(at, from.size(), to);
  }
  return inv;
}

}  // namespace plugbox::bench
