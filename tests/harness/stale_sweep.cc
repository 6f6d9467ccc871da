#include "tests/harness/stale_sweep.h"

#include <dirent.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/harness/fleet_plan.h"
#include "tests/harness/process.h"

namespace plugbox::testing {
namespace {

std::vector<std::string> list_dir(const char* path) {
  std::vector<std::string> out;
  if (DIR* d = opendir(path)) {
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    closedir(d);
  }
  return out;
}

// Whether the root namespace still has the slot's `unreachable` route (shown
// in /proc/net/route with interface "*"; addresses are little-endian hex).
bool has_unreachable_route(int slot) {
  std::ifstream f("/proc/net/route");
  const unsigned x = static_cast<unsigned>(slot + 1);
  const unsigned want = 198u | (18u << 8) | (x << 16);  // 198.18.X.0
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string iface, dest;
    if (!(in >> iface >> dest)) continue;
    if (iface == "*" && std::strtoul(dest.c_str(), nullptr, 16) == want) return true;
  }
  return false;
}

}  // namespace

StaleItems find_stale(const std::vector<std::string>& netns_names, const std::vector<std::string>& interface_names,
                      const std::vector<std::string>& temp_names, int slot,
                      const std::function<bool(long pid)>& alive) {
  StaleItems out;
  for (const auto& n : netns_names) {
    long pid = 0;
    int s = -1;
    if (parse_netns_name(n, &pid, &s) && (s == slot || !alive(pid))) out.namespaces.push_back(n);
  }
  const std::string prefix = veth_prefix(slot);
  for (const auto& n : interface_names)
    if (n.compare(0, prefix.size(), prefix) == 0) out.interfaces.push_back(n);
  const std::string tp = kTempPrefix;
  for (const auto& n : temp_names) {
    if (n.compare(0, tp.size(), tp) != 0) continue;
    char* end = nullptr;
    long pid = std::strtol(n.c_str() + tp.size(), &end, 10);
    if (end != n.c_str() + tp.size() && *end == '-' && !alive(pid)) out.temp_dirs.push_back(n);
  }
  return out;
}

void sweep_stale(int slot, const std::string& ip_program) {
  auto stale = find_stale(list_dir("/run/netns"), list_dir("/sys/class/net"), list_dir("/tmp"), slot,
                          [](long pid) { return process_exists(pid); });
  std::string batch;
  for (const auto& i : stale.interfaces) batch += "link del " + i + "\n";
  if (has_unreachable_route(slot))
    batch += "route del unreachable 198.18." + std::to_string(slot + 1) + ".0/24\n";
  for (const auto& n : stale.namespaces) batch += "netns del " + n + "\n";
  if (!batch.empty()) {
    // The batch goes through a file: Child gives the command /dev/null as stdin.
    char path[] = "/tmp/pbx-sweep-XXXXXX";
    int fd = ::mkstemp(path);
    if (fd >= 0) {
      std::FILE* f = ::fdopen(fd, "w");
      std::fputs(batch.c_str(), f);
      std::fclose(f);
      try {
        Child c = Child::start({ip_program, "-force", "-batch", path});
        if (c.wait() != 0)
          std::fprintf(stderr, "plugbox sshd harness: sweeping stale namespaces: %s\n", c.output().c_str());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "plugbox sshd harness: sweeping stale namespaces: %s\n", e.what());
      }
      std::filesystem::remove(path);
    }
  }
  for (const auto& d : stale.temp_dirs) {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path("/tmp") / d, ec);
  }
}

}  // namespace plugbox::testing
