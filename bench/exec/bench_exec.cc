// bench/exec: how fast plugbox reaches a fleet, against OpenSSH driven by
// xargs. For each size N: connect + run `true` on N hosts, all at once,
//   - with plugbox's transport (SshTransport + fan_out, in a fresh process),
//   - with `plugbox fleet exec --group bN -- true` (the command line),
//   - with `xargs -P N ssh HOST true`, once with the key exchange plugbox
//     uses (curve25519-sha256) and once with OpenSSH's default
//     (sntrup761x25519-sha512, post-quantum, much slower on both ends).
// Same client key, same known_hosts (strict), same sshd processes. Prints
// wall time, CPU time (user+sys of the process and every descendant it
// reaped) and peak memory (plugbox: the process's peak RSS; ssh: the sampled
// peak of the summed RSS of every process of the tree).
//
// Usage (root, like the sshd tests): bench_exec [--sizes 10,50,200]
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "tests/harness/sshd_fleet.h"
#include "transport/fan_out.h"
#include "transport/ssh_transport.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

struct Measure {
  double wall = 0, cpu = 0, peak_mb = 0;
  int status = -1;
};

// Sums the RSS of `root` and all its descendants, now.
long tree_rss_kb(pid_t root) {
  std::map<pid_t, pid_t> parent;
  std::map<pid_t, long> rss;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    pid_t pid = std::stoi(name);
    std::ifstream status(e.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("PPid:", 0) == 0) parent[pid] = std::stoi(line.substr(5));
      if (line.rfind("VmRSS:", 0) == 0) rss[pid] = std::stol(line.substr(6));
    }
  }
  long total = 0;
  for (const auto& [pid, kb] : rss) {
    for (pid_t p = pid; p > 1; p = parent.count(p) ? parent[p] : 0)
      if (p == root) {
        total += kb;
        break;
      }
  }
  return total;
}

// Runs argv to its end; stdout/stderr to /dev/null (stdin from `in` if set).
Measure measure(const std::vector<std::string>& argv, const std::string& in = "", bool sample_tree = false) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in.empty() ? "/dev/null" : in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  auto start = Clock::now();
  pid_t pid;
  if (posix_spawn(&pid, argv[0].c_str(), &fa, nullptr, cargv.data(), environ) != 0) {
    std::perror("posix_spawn");
    std::exit(1);
  }
  posix_spawn_file_actions_destroy(&fa);
  std::atomic<bool> done{false};
  std::atomic<long> peak_kb{0};
  std::thread sampler;
  if (sample_tree)
    sampler = std::thread([&] {
      while (!done) {
        peak_kb = std::max(peak_kb.load(), tree_rss_kb(pid));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  Measure m;
  m.wall = std::chrono::duration<double>(Clock::now() - start).count();
  done = true;
  if (sampler.joinable()) sampler.join();
  m.cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  m.peak_mb = (sample_tree ? peak_kb.load() : ru.ru_maxrss) / 1024.0;
  m.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return m;
}

// Child mode: connect + `true` on the targets listed in `file` (first n),
// all at once, with the SSH transport. Exit 0 only if all succeeded.
int child_transport(const std::string& file, size_t n) {
  using namespace plugbox::transport;
  std::ifstream in(file);
  std::vector<Target> targets;
  Endpoint e;
  while (targets.size() < n && in >> e.name >> e.address >> e.port >> e.user >> e.identity >> e.known_hosts)
    targets.push_back(ssh_target(e));
  boost::asio::io_context io;
  SshTransport t(io.get_executor());
  std::vector<HostOutcome> outcomes;
  bool finished = false;
  boost::asio::co_spawn(io, fan_out(t, targets, Command::argv({"true"}), FanOutOptions{}),
                        [&](std::exception_ptr, std::vector<HostOutcome> r) {
                          outcomes = std::move(r);
                          finished = true;
                        });
  while (!finished && io.run_one() > 0) {
  }
  int failed = 0;
  for (const auto& o : outcomes)
    if (!o.ok()) {
      ++failed;
      std::cerr << o.name << ": " << o.describe() << "\n";
    }
  return failed == 0 && outcomes.size() == n ? 0 : 1;
}

std::string self_exe() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

void row(size_t n, const std::string& tool, const Measure& m, const Measure* base) {
  char line[256];
  std::snprintf(line, sizeof line, "%5zu  %-44s %8.2f %8.2f %9.1f", n, tool.c_str(), m.wall, m.cpu, m.peak_mb);
  std::cout << line;
  if (base && base->wall > 0) std::printf("   x%.1f", m.wall / base->wall);
  if (m.status != 0) std::cout << "   (exit " << m.status << ": some hosts failed)";
  std::cout << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--child-transport") return child_transport(argv[2], std::stoul(argv[3]));
  std::vector<size_t> sizes = {10, 50, 200};
  if (argc == 3 && std::string(argv[1]) == "--sizes") {
    sizes.clear();
    std::stringstream ss(argv[2]);
    std::string item;
    while (std::getline(ss, item, ',')) sizes.push_back(std::stoul(item));
  } else if (argc != 1) {
    std::cerr << "usage: bench_exec [--sizes 10,50,200]   (as root: it starts one sshd per host)\n";
    return 2;
  }
  size_t most = *std::max_element(sizes.begin(), sizes.end());

  plugbox::testing::FleetOptions fo;
  for (size_t i = 1; i <= most; ++i) {
    plugbox::testing::HostSpec h;
    h.name = "h" + std::to_string(i);
    for (size_t s : sizes)
      if (i <= s) h.groups.push_back("b" + std::to_string(s));
    fo.hosts.push_back(h);
  }
  std::string why;
  auto start = Clock::now();
  auto fleet = plugbox::testing::SshdFleet::start(fo, &why);
  if (!fleet) {
    std::cerr << "bench_exec: cannot start the fleet: " << why << "\n";
    return 1;
  }
  std::cout << "fleet: " << most << " sshd hosts up in "
            << std::chrono::duration<double>(Clock::now() - start).count() << " s; " << std::thread::hardware_concurrency()
            << " CPUs\n";

  const std::string dir = fleet->dir();
  const std::string targets = dir + "/bench-targets", list = dir + "/bench-hosts";
  {
    std::ofstream t(targets), l(list);
    for (const auto& h : fleet->hosts()) {
      t << h.name << " " << h.address << " " << h.port << " " << fleet->user() << " " << fleet->client_key_path() << " "
        << fleet->known_hosts_path() << "\n";
      l << h.name << "\n";
    }
  }
  // Warm up page caches and sshd's first-connection costs on a few hosts.
  measure({self_exe(), "--child-transport", targets, std::to_string(std::min<size_t>(5, most))});

  std::cout << "\nhosts  tool                                          wall s    cpu s   peak MB   vs plugbox\n";
  for (size_t n : sizes) {
    const std::string N = std::to_string(n);
    // xargs reads the first n host names.
    const std::string first_n = dir + "/bench-hosts-" + N;
    {
      std::ifstream l(list);
      std::ofstream o(first_n);
      std::string name;
      for (size_t i = 0; i < n && std::getline(l, name); ++i) o << name << "\n";
    }
    Measure ours = measure({self_exe(), "--child-transport", targets, N});
    row(n, "plugbox transport (libssh, one thread)", ours, nullptr);
    Measure cli = measure({PLUGBOX_BIN, "-i", fleet->inventory_path(), "fleet", "exec", "--group", "b" + N, "--", "true"});
    row(n, "plugbox fleet exec -- true", cli, &ours);
    const std::string ssh = "ssh -F " + fleet->ssh_config_path();
    Measure same = measure({"/bin/sh", "-c",
                            "xargs -P " + N + " -I{} " + ssh + " -o KexAlgorithms=curve25519-sha256 {} true"},
                           first_n, true);
    row(n, "xargs -P" + N + " ssh (kex curve25519-sha256)", same, &ours);
    Measure dflt = measure({"/bin/sh", "-c", "xargs -P " + N + " -I{} " + ssh + " {} true"}, first_n, true);
    row(n, "xargs -P" + N + " ssh (OpenSSH default kex)", dflt, &ours);
  }
  std::cout << "\nplugbox: curve25519-sha256, ssh-ed25519 host keys, aes128-gcm@openssh.com.\n"
               "OpenSSH 9.2 default kex: sntrup761x25519-sha512@openssh.com; cipher chacha20-poly1305.\n"
               "Peak MB: plugbox = the process's peak RSS; ssh rows = sampled peak of the summed RSS of\n"
               "xargs and every ssh process (sampled every 20 ms, so a lower bound).\n";
  return 0;
}
