#include "bench/upload/meters.h"

#include "bench/upload/work_dir.h"

#include <arpa/inet.h>
#include <linux/tcp.h>  // struct tcp_info with tcpi_bytes_acked/received (glibc's lacks them)
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace plugbox::bench {

namespace {

namespace fs = std::filesystem;

double seconds(const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; }

CpuTimes usage(int who) {
  struct rusage ru {};
  ::getrusage(who, &ru);
  return {seconds(ru.ru_utime), seconds(ru.ru_stime)};
}

// Fields after the command name of /proc/PID/stat ("S ppid pgrp ..."),
// or empty when the process is gone.
std::vector<std::string> stat_fields(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  auto close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string w; rest >> w;) f.push_back(w);
  return f;
}

}  // namespace

CpuTimes self_cpu() { return usage(RUSAGE_SELF); }
CpuTimes children_cpu() { return usage(RUSAGE_CHILDREN); }

std::unique_ptr<CpuGroup> CpuGroup::create(std::string* why) {
  const fs::path root = "/sys/fs/cgroup/cpuacct";
  if (!fs::exists(root / "cpuacct.usage")) {
    *why = "no cgroup v1 cpuacct hierarchy at " + root.string();
    return nullptr;
  }
  const fs::path dir = root / (std::string(kWorkPrefix) + std::to_string(::getpid()));
  std::error_code ec;
  if (!fs::create_directory(dir, ec)) {
    *why = "cannot create " + dir.string() + ": " + (ec ? ec.message() : std::string("it exists"));
    return nullptr;
  }
  return std::unique_ptr<CpuGroup>(new CpuGroup(dir.string()));
}

CpuGroup::~CpuGroup() {
  // The group can only go once its processes have: the fleet is torn down first.
  for (int i = 0; i < 100; ++i) {
    if (::rmdir(dir_.c_str()) == 0 || errno == ENOENT) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::fprintf(stderr, "bench_upload: could not remove %s: %s\n", dir_.c_str(), std::strerror(errno));
}

bool CpuGroup::add(int pid) {
  std::ofstream procs(dir_ + "/cgroup.procs");
  procs << pid << std::endl;
  return bool(procs);
}

double CpuGroup::seconds() const {
  std::ifstream in(dir_ + "/cpuacct.usage");
  double ns = 0;
  in >> ns;
  return ns / 1e9;
}

bool wait_sessions_reaped(const std::vector<int>& pids, std::chrono::milliseconds limit) {
  const std::set<std::string> parents = [&] {
    std::set<std::string> s;
    for (int p : pids) s.insert(std::to_string(p));
    return s;
  }();
  const auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    bool any = false;
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), e; !ec && it != e && !any; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.empty() || name[0] < '0' || name[0] > '9') continue;
      auto f = stat_fields(name);
      any = f.size() > 1 && parents.count(f[1]);
    }
    if (!any) return true;
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

TcpBytes own_tcp_bytes(const std::set<int>& ports) {
  TcpBytes out;
  std::set<ino_t> seen;
  std::error_code ec;
  for (fs::directory_iterator it("/proc/self/fd", ec), e; !ec && it != e; it.increment(ec)) {
    int fd = std::atoi(it->path().filename().c_str());
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) || !seen.insert(st.st_ino).second) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    int port = peer.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port)
               : peer.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port)
                                            : -1;
    if (!ports.count(port)) continue;
    struct tcp_info ti {};
    socklen_t tl = sizeof ti;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) != 0) continue;
    out.sent += ti.tcpi_bytes_acked;
    out.received += ti.tcpi_bytes_received;
  }
  return out;
}

}  // namespace plugbox::bench
