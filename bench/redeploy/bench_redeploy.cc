// bench/redeploy: what one `plugbox fleet deploy` costs the hosts, against
// plugbox's own floor, in the same run (issue 11, item 4).
//
// N real sshd hosts (tests/harness), each host's service home on a tmpfs
// (bench/upload's HostData), every sshd in a cpuacct cgroup (so every
// session, every plugbox-server and every service line is counted). Rows:
//   floor     `plugbox fleet exec --group all -- true`: connect, authenticate
//             and run one command on every host: what any deploy must pay.
//   first     `plugbox fleet deploy` of the app (bench/upload's generator).
//   redeploy  the same with --changed-percent of its files changed.
//   same      the same tree again (nothing changed): a deploy's fixed cost.
//   same/exec the same with PLUGBOX_SESSION=off (one exec per step, as
//             before the session protocol).
//   rebuilt   the same contents with every file's mtime rewritten, as `cp -r`
//             or `npm ci` do (issue 13 item 2): hosts link by content.
//   rebuilt/exact  the same once more with `exact_mtimes = true`: each
//             rewritten file is a local copy, as before item 2 (the peer).
//   floor     once more, after, to see how much the machine drifted.
// Each row: wall time; the client's CPU (plugbox, from wait4) and peak RSS;
// the hosts' CPU in all and per host; bytes of upload stream sent (from the
// run's journal: the hosts' `wire_bytes`); what the row added to each host's
// disk (its versions' blocks, each inode once); the exit status.
//
// Usage (root): bench_redeploy [--hosts 50] [--files 2000] [--mib 50] [--changed-percent 5] [--keep]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/redeploy/plugbox_cli.h"
#include "bench/upload/app_tree.h"
#include "bench/upload/bench_args.h"
#include "bench/upload/bench_common.h"
#include "bench/upload/bench_fleet.h"
#include "bench/upload/cli_run.h"
#include "bench/upload/meters.h"
#include "bench/upload/work_dir.h"
#include "tests/harness/sshd_fleet.h"

namespace {

namespace fs = std::filesystem;
namespace pb = plugbox::bench;

constexpr const char* kUsage =
    "usage: bench_redeploy [--hosts 50] [--files 2000] [--mib 50] [--changed-percent 5] [--keep]\n";

struct Params {
  int hosts = 50;
  pb::AppFlags app;
  bool keep = false;
};

Params parse(int argc, char** argv) {
  Params p;
  pb::BenchArgs("bench_redeploy", kUsage)
      .number_flag("--hosts", &p.hosts, 1, 500)
      .app_flags(&p.app, 10)
      .switch_flag("--keep", &p.keep)
      .parse(argc, argv);
  return p;
}

struct Row {
  std::string name;
  double wall = 0, client_cpu = 0, client_peak_mb = 0, hosts_cpu = 0;
  std::uint64_t wire = 0;
  double disk_mb = -1;  // what the row added to a host's disk, on average (-1: not a deploy)
  int status = -1;
};

// The bytes of blocks under `dir`, each inode counted once (hard links are
// one copy on disk), as `du` counts.
std::uint64_t disk_bytes(const fs::path& dir) {
  std::set<std::pair<dev_t, ino_t>> seen;
  std::uint64_t sum = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && seen.emplace(st.st_dev, st.st_ino).second)
      sum += std::uint64_t(st.st_blocks) * 512;
  }
  return sum;
}

// Every host's disk use of its versions, on average, in MB.
double fleet_disk_mb(const pb::HostData& data, const std::vector<std::string>& names) {
  std::uint64_t sum = 0;
  for (const auto& n : names) sum += disk_bytes(fs::path(data.dir(n)) / "svc" / "deploy");
  return double(sum) / double(names.size()) / 1e6;
}

// Gives every file of the tree a new mtime, contents unchanged: a rebuild.
void rewrite_mtimes(const fs::path& root, std::int64_t sec) {
  const timespec ts[2] = {{sec, 0}, {sec, 0}};
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && !e.is_symlink()) ::utimensat(AT_FDCWD, e.path().c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

// Runs plugbox to its end (its output to `log`), measuring it and the hosts.
Row run_plugbox(const std::string& name, const std::vector<std::string>& args, const fs::path& log,
                const pb::CpuGroup* hosts, const std::vector<int>& sshd_pids) {
  std::vector<std::string> argv{PLUGBOX_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  const double hosts_before = hosts ? hosts->seconds() : 0;
  const pb::CliRun run = pb::run_cli(argv, log);
  Row r;
  r.name = name;
  r.wall = run.wall;
  // Sessions still closing on the hosts are part of this run's cost.
  if (!pb::wait_sessions_reaped(sshd_pids, std::chrono::seconds(10)))
    std::cerr << "bench_redeploy: sessions still open 10 s after " << name << "; its hosts' CPU may be short\n";
  r.hosts_cpu = hosts ? hosts->seconds() - hosts_before : -1;
  r.client_cpu = run.cpu;
  r.client_peak_mb = run.peak_mb;
  r.status = run.status;
  return r;
}

void print_row(const Row& r, int hosts) {
  std::cout << fmt::format("{:<13} {:>8.2f} {:>10.2f} {:>10.1f} {:>9.2f} {:>10.1f} {:>12} {:>11} {:>5}\n", r.name,
                           r.wall, r.client_cpu, r.client_peak_mb, r.hosts_cpu, r.hosts_cpu * 1000 / hosts, r.wire,
                           r.disk_mb < 0 ? std::string("-") : fmt::format("{:.1f}", r.disk_mb), r.status);
}

}  // namespace

int main(int argc, char** argv) {
  const Params p = parse(argc, argv);
  pb::need_root("bench_redeploy", "sshd hosts, tmpfs homes, a cgroup");
  for (const auto& l : pb::sweep_leftovers()) std::cerr << "bench_redeploy: removed a leftover: " << l << "\n";

  plugbox::testing::FleetOptions fo;
  std::vector<std::string> names;
  for (int i = 0; i < p.hosts; ++i) {
    names.push_back(fmt::format("h{:03}", i + 1));
    fo.hosts.push_back({names.back()});
  }
  pb::WorkDir work(p.keep);
  std::string why;
  const auto fleet = pb::BenchFleet::start("bench_redeploy", fo, work.path(), PLUGBOX_SERVER_BINARY, &why);
  if (!fleet) {
    std::cerr << "bench_redeploy: cannot start the sshd fleet: " << why << "\n";
    return 1;
  }
  const std::vector<int>& sshd_pids = fleet->sshd_pids();
  pb::CpuGroup* const cpu = fleet->cpu();
  pb::HostData data(work.path(), names, fleet->fleet().user(), /*on_disk=*/false);

  const fs::path svc = work.path() / "service";
  fs::create_directories(svc);
  std::ofstream(svc / "inventory.toml") << fleet->inventory(data, "svc");
  auto write_service = [&](bool exact_mtimes) {
    std::ofstream(svc / "plugbox.toml") << pb::bench_service_toml(
        "all", exact_mtimes ? std::vector<std::string>{"exact_mtimes = true"} : std::vector<std::string>{});
  };
  write_service(false);
  pb::plugbox_state_in(work.path());
  const fs::path log = work.path() / "plugbox.log";

  pb::AppSpec spec;
  spec.files = p.app.files;
  spec.bytes = std::uint64_t(p.app.mib) << 20;
  const pb::AppTree app1 = pb::plan_app(spec);
  std::vector<std::size_t> changed;
  const pb::AppTree app2 =
      pb::change_files(app1, p.app.files * p.app.changed_percent / 100, /*seed=*/2, &changed);

  const std::vector<std::string> inv_args{"-i", (svc / "inventory.toml").string()};
  auto deploy_args = inv_args;
  deploy_args.insert(deploy_args.end(), {"-f", (svc / "plugbox.toml").string(), "fleet", "deploy", "--group", "all"});
  auto floor_args = inv_args;
  floor_args.insert(floor_args.end(), {"fleet", "exec", "--group", "all", "--", "true"});

  std::vector<Row> rows;
  double disk_before = 0;
  auto deploy_row = [&](const std::string& name) {
    // Version names are seconds: each deploy must be in a second of its own.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    rows.push_back(run_plugbox(name, deploy_args, log, cpu, sshd_pids));
    rows.back().wire = pb::journal_sum(work.path(), "wire_bytes");
    const double disk_now = fleet_disk_mb(data, names);
    rows.back().disk_mb = disk_now - disk_before;
    disk_before = disk_now;
  };
  rows.push_back(run_plugbox("floor", floor_args, log, cpu, sshd_pids));
  pb::write_app(app1, svc / "app");
  deploy_row("first");
  fs::remove_all(svc / "app");
  pb::write_app(app2, svc / "app");
  deploy_row("redeploy");
  // The fixed cost of a deploy, with and without the session protocol: the
  // same tree again (nothing to send but the manifest, every file linked),
  // over one session per host, then with one exec per step as before it.
  // Equal work for both, unlike two different 5% changes (which files a
  // change picks swings the bytes sent threefold).
  deploy_row("same");
  ::setenv("PLUGBOX_SESSION", "off", 1);
  deploy_row("same/exec");
  ::unsetenv("PLUGBOX_SESSION");
  // A rebuild: the same contents, every mtime new. Hosts link by content
  // (nothing added to their disks); the peer is plugbox with exact mtimes,
  // where each rewritten file is a local copy (as before issue 13 item 2).
  rewrite_mtimes(svc / "app", 1'800'000'000);
  deploy_row("rebuilt");
  rewrite_mtimes(svc / "app", 1'800'000'100);
  write_service(true);
  deploy_row("rebuilt/exact");
  write_service(false);
  rows.push_back(run_plugbox("floor", floor_args, log, cpu, sshd_pids));

  std::cout << fmt::format("{} sshd hosts, app {} files / {} MiB, redeploy with {} files changed; plugbox's output: {}\n",
                           p.hosts, p.app.files, p.app.mib, changed.size(), log.string());
  std::cout << fmt::format("{:<13} {:>8} {:>10} {:>10} {:>9} {:>10} {:>12} {:>11} {:>5}\n", "run", "wall s",
                           "client s", "client MB", "hosts s", "ms/host", "upload B", "+disk MB/h", "exit");
  for (const auto& r : rows) print_row(r, p.hosts);
  const Row& re = rows[2];
  const double floor_wall = std::min(rows[0].wall, rows.back().wall);
  const double floor_ms = std::min(rows[0].hosts_cpu, rows.back().hosts_cpu) * 1000 / p.hosts;
  auto ms = [&](const Row& r) { return r.hosts_cpu * 1000 / p.hosts; };
  std::cout << fmt::format("redeploy: {:.1f} ms of host CPU per host (target <= 40; the floor's {:.1f}), wall {:.2f}x the floor (target <= 2)\n",
                           ms(re), floor_ms, re.wall / floor_wall);
  std::cout << fmt::format("unchanged redeploy: {:.1f} ms per host over one session, {:.1f} ms with one exec per step; wall {:.2f}x and {:.2f}x the floor\n",
                           ms(rows[3]), ms(rows[4]), rows[3].wall / floor_wall, rows[4].wall / floor_wall);
  std::cout << fmt::format("rebuilt (every mtime new, contents the same): +{:.1f} MB per host linking by content, "
                           "+{:.1f} MB with exact mtimes; host CPU {:.1f} and {:.1f} ms per host\n",
                           rows[5].disk_mb, rows[6].disk_mb, ms(rows[5]), ms(rows[6]));
  bool ok = true;
  for (const auto& r : rows)
    if (r.status != 0) {
      std::cout << "PROBLEM: " << r.name << " exited " << r.status << " (see " << log.string() << ")\n";
      ok = false;
    }
  return ok ? 0 : 1;
}
