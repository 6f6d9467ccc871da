// Loads and checks a generated 10,000-host inventory with 50 bastions and
// prints wall time and peak memory (getrusage). Targets: under 1 s, 100 MB.
//
// Two shapes of the same fleet: every host its own [hosts.NAME] table (the
// worst case for the TOML reader), and the hosts as 50 ranges. Each run is a
// fresh process (fork), so peak RSS is that run's own.
//
//   bench_inventory [--runs N] [--hosts N] [--bastions N]
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "inventory/inventory.h"

namespace {

namespace inv = plugbox::inventory;
using Clock = std::chrono::steady_clock;

struct Params {
  int hosts = 10000;
  int bastions = 50;
  int runs = 3;
};

// Two edges; every bastion behind one of them (two-hop chains for every app
// host); a group per bastion, a region group per edge, a parent of everything
// with vars, and a few vars per host.
std::string generate(const Params& p, bool ranges) {
  std::string t = "[defaults]\nuser = \"shop\"\nidentity = \"/keys/id_ed25519\"\nhost_key_check = \"strict\"\n\n";
  for (int e = 0; e < 2; ++e) t += fmt::format("[hosts.edge{}]\naddress = \"203.0.113.{}\"\n\n", e, e + 1);
  for (int b = 0; b < p.bastions; ++b)
    t += fmt::format("[hosts.bastion{:02}]\naddress = \"10.{}.0.1\"\njump = \"edge{}\"\n\n", b, b, b % 2);
  const int per = p.hosts / p.bastions;
  for (int b = 0; b < p.bastions; ++b) {
    if (ranges) {
      t += fmt::format("[hosts.\"app{:02}-[0001:{:04}]\"]\naddress = \"app{{}}.dc{:02}.internal\"\njump = "
                       "\"bastion{:02}\"\nrack = \"r{}\"\n\n",
                       b, per, b, b, b % 8);
    } else {
      for (int i = 1; i <= per; ++i)
        t += fmt::format("[hosts.app{:02}-{:04}]\naddress = \"10.{}.{}.{}\"\njump = \"bastion{:02}\"\nrack = "
                         "\"r{}\"\n\n",
                         b, i, b, i / 250, i % 250 + 1, b, i % 8);
    }
  }
  for (int b = 0; b < p.bastions; ++b)
    t += fmt::format("[groups.dc{:02}]\nhosts = [\"app{:02}-[0001:{:04}]\"]\nvars = {{ datacenter = \"dc{:02}\" }}\n\n",
                     b, b, per, b);
  for (int e = 0; e < 2; ++e) {
    t += fmt::format("[groups.region{}]\nchildren = [", e);
    for (int b = e; b < p.bastions; b += 2) t += fmt::format("{}\"dc{:02}\"", b > 1 ? ", " : "", b);
    t += fmt::format("]\nvars = {{ home = \"/srv/shop-r{}\" }}\n\n", e);
  }
  t += "[groups.prod]\nchildren = [\"region0\", \"region1\"]\nvars = { home = \"/srv/shop\", tier = \"prod\" }\n";
  return t;
}

struct Result {
  double load_ms = 0, select_ms = 0;
  long rss_before_kib = 0, rss_peak_kib = 0;
  size_t hosts = 0, bastions = 0, groups = 0, roots = 0;
  bool ok = false;
};

long max_rss_kib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// In a child process: load + check the file, then select everything and build the session tree.
Result measure(const std::filesystem::path& file) {
  Result r;
  r.rss_before_kib = max_rss_kib();
  try {
    auto t0 = Clock::now();
    const inv::Inventory i = inv::Inventory::load(file);
    auto t1 = Clock::now();
    const auto tree = i.session_tree(i.select({{"prod"}, {}}));
    auto t2 = Clock::now();
    r.load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    r.select_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
    r.hosts = i.hosts().size();
    r.bastions = i.bastions().size();
    r.groups = i.groups().size();
    r.roots = tree.size();
    r.ok = true;
  } catch (const inv::InventoryError& e) {
    for (const auto& d : e.diagnostics()) std::fprintf(stderr, "%s\n", d.str().c_str());
  }
  r.rss_peak_kib = max_rss_kib();
  return r;
}

Result measure_in_child(const std::filesystem::path& file) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    close(fds[0]);
    Result r = measure(file);
    ssize_t n = write(fds[1], &r, sizeof r);
    _exit(n == static_cast<ssize_t>(sizeof r) ? 0 : 1);
  }
  close(fds[1]);
  Result r;
  ssize_t n = read(fds[0], &r, sizeof r);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n != static_cast<ssize_t>(sizeof r)) r.ok = false;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Params p;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--runs")) p.runs = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--hosts")) p.hosts = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--bastions")) p.bastions = std::atoi(argv[i + 1]);
  }
  if (p.runs < 1 || p.bastions < 2 || p.hosts < p.bastions) {
    std::fprintf(stderr, "usage: bench_inventory [--runs N] [--hosts N] [--bastions N>=2]\n");
    return 2;
  }
  char tmpl[] = "/tmp/plugbox-bench-inv-XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  const std::filesystem::path dir = tmpl;

  fmt::print("inventory: {} hosts behind {} bastions behind 2 edges; {} runs each, median shown\n",
             p.hosts / p.bastions * p.bastions, p.bastions, p.runs);
  fmt::print("{:<8} {:>9} {:>12} {:>13} {:>10} {:>13}  {}\n", "shape", "file", "load+check", "select+tree",
             "peak RSS", "RSS at start", "loaded");
  int status = 0;
  for (bool ranges : {false, true}) {
    const auto file = dir / (ranges ? "ranges.toml" : "tables.toml");
    const std::string text = generate(p, ranges);
    std::ofstream(file) << text;
    std::vector<Result> results;
    for (int i = 0; i < p.runs; ++i) results.push_back(measure_in_child(file));
    if (!std::all_of(results.begin(), results.end(), [](const Result& r) { return r.ok; })) {
      std::fprintf(stderr, "bench_inventory: the generated %s inventory did not load\n", ranges ? "ranges" : "tables");
      status = 1;
      continue;
    }
    std::sort(results.begin(), results.end(), [](const Result& a, const Result& b) { return a.load_ms < b.load_ms; });
    const Result& m = results[results.size() / 2];
    long peak = 0;
    for (const auto& r : results) peak = std::max(peak, r.rss_peak_kib);
    fmt::print("{:<8} {:>6} KiB {:>9.1f} ms {:>10.1f} ms {:>6.1f} MiB {:>9.1f} MiB  {} hosts, {} bastions, {} groups, "
               "{} root sessions\n",
               ranges ? "ranges" : "tables", text.size() / 1024, m.load_ms, m.select_ms, peak / 1024.0,
               m.rss_before_kib / 1024.0, m.hosts, m.bastions, m.groups, m.roots);
  }
  std::filesystem::remove_all(dir);
  return status;
}
