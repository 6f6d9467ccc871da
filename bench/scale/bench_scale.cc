// bench/scale: one `plugbox fleet deploy` to many sshd hosts behind a few
// bastions, every sshd at OpenSSH's default MaxStartups and MaxSessions
// (issue 14, item 4).
//
// N real sshd hosts (tests/harness) spread evenly behind B bastions, each
// host's service home on a tmpfs (bench/upload's HostData; --on-disk for
// fleets whose copies would not fit in RAM), every sshd in a cpuacct cgroup.
// Rows: `first` (a first deploy of bench/upload's app) and `redeploy` (the
// same with --changed-percent of its files changed). Each row: wall time; the
// client's CPU and peak RSS (wait4); plugbox's peak count of open file
// descriptors (sampled from /proc/PID/fd while it runs); the hosts' CPU; the
// sessions each bastion's sshd accepted during the row; the connections any
// sshd dropped or refused (its log); the exit status. Then each target of the
// issue, computed from those figures.
//
// Usage (root): bench_scale [--hosts 500] [--bastions 5] [--files 2000] [--mib 50] [--changed-percent 5] [--parallel N]
//                           [--sshd-line LINE]... [--wrap 'heaptrack -o FILE-%r'] [--plugbox PATH]
//                           [--on-disk] [--keep]
// --plugbox runs another build (the same protocol: the hosts run this
// build's server); --wrap runs plugbox under a profiler (its figures are then the profiler's
// too); --sshd-line replaces the OpenSSH defaults put back on every sshd.
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iostream>
#include <sstream>
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
    "usage: bench_scale [--hosts 500] [--bastions 5] [--files 2000] [--mib 50] [--changed-percent 5] [--parallel N]\n"
    "                   [--sshd-line LINE]... [--wrap 'heaptrack -o FILE-%r'] [--plugbox PATH]\n"
    "                   [--on-disk] [--keep]\n";

// The targets.
constexpr double kPeakMbAt500 = 200, kPeakMbAt50 = 50;
constexpr long kDefaultSoftFds = 1024;

// OpenSSH's own defaults, which the harness raises to 1000 for its tests:
// put first in every sshd_config (bastions and hosts), so they win.
const std::vector<std::string> kOpenSshDefaults = {"MaxStartups 10:30:100", "MaxSessions 10"};

// What an sshd logs when it turns a connection or a session away.
const std::vector<std::string> kRefusals = {"drop connection", "beginning MaxStartups throttling",
                                            "exceeded MaxStartups", "no more sessions"};

struct Params {
  int hosts = 500;
  int bastions = 5;
  int parallel = 0;                     // plugbox's --parallel; 0: its default
  std::vector<std::string> sshd_lines;  // replaces kOpenSshDefaults when given
  std::vector<std::string> wrap;        // a profiler plugbox runs under ("heaptrack -o F")
  std::string plugbox = PLUGBOX_BIN;    // another build, for before/after in one sitting
  bool on_disk = false;
  pb::AppFlags app;
  bool keep = false;
};

Params parse(int argc, char** argv) {
  Params p;
  pb::BenchArgs("bench_scale", kUsage)
      .number_flag("--hosts", &p.hosts, 1, 2000)
      .number_flag("--bastions", &p.bastions, 0, 60)
      .app_flags(&p.app, 10)
      .switch_flag("--keep", &p.keep)
      .number_flag("--parallel", &p.parallel, 1, 10000)
      .value_flag("--sshd-line", "--sshd-line wants an sshd_config line",
                  [&](const char* v) { p.sshd_lines.push_back(v); })
      .value_flag("--wrap", "--wrap wants a command line (\"heaptrack -o FILE\")",
                  [&](const char* v) {
                    std::istringstream words(v);
                    for (std::string w; words >> w;) p.wrap.push_back(w);
                  })
      .value_flag("--plugbox", "--plugbox wants a path", [&](const char* v) { p.plugbox = v; })
      .switch_flag("--on-disk", &p.on_disk)
      .parse(argc, argv);
  return p;
}

// Lines of the file containing any of `needles`, from byte `from` on.
int count_lines(const std::string& path, std::uint64_t from, const std::vector<std::string>& needles) {
  std::ifstream in(path);
  in.seekg(std::streamoff(from));
  int n = 0;
  for (std::string line; std::getline(in, line);)
    for (const auto& s : needles)
      if (line.find(s) != std::string::npos) {
        ++n;
        break;
      }
  return n;
}

std::uint64_t file_size(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : n;
}

int open_fds(pid_t pid) {
  DIR* d = ::opendir(fmt::format("/proc/{}/fd", pid).c_str());
  if (!d) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

struct Row {
  std::string name;
  double wall = 0, client_cpu = 0, client_peak_mb = 0, hosts_cpu = -1;
  int peak_fds = 0;
  std::vector<int> bastion_sessions;  // per bastion, accepted during the row
  int refused = 0;                    // log lines of any sshd turning one away
  int status = -1;
};

class Fleet {
 public:
  Fleet(const plugbox::testing::SshdFleet& f, std::vector<std::string> bastions)
      : f_(f), bastions_(std::move(bastions)) {}
  // Remembers where every log ends, so that a row counts only its own lines.
  void mark() {
    marks_.clear();
    for (const auto& h : f_.hosts()) marks_.push_back(file_size(h.log_path));
  }
  void count(Row* r) const {
    for (const auto& b : bastions_) {
      const auto& hosts = f_.hosts();
      auto it = std::find_if(hosts.begin(), hosts.end(), [&](const auto& h) { return h.name == b; });
      r->bastion_sessions.push_back(
          count_lines(it->log_path, marks_[size_t(it - hosts.begin())], {"Accepted publickey"}));
    }
    r->refused = 0;
    for (size_t i = 0; i < f_.hosts().size(); ++i) r->refused += count_lines(f_.hosts()[i].log_path, marks_[i], kRefusals);
  }

 private:
  const plugbox::testing::SshdFleet& f_;
  std::vector<std::string> bastions_;
  std::vector<std::uint64_t> marks_;
};

// Runs plugbox to its end (its output to `log`), sampling its descriptors.
Row run_plugbox(const std::string& name, const std::string& plugbox, const std::vector<std::string>& wrap,
                const std::vector<std::string>& args, const fs::path& log, const pb::CpuGroup* hosts,
                const std::vector<int>& sshd_pids, Fleet& fleet) {
  std::vector<std::string> argv = wrap;
  for (auto& w : argv)  // "%r": the row's name, so that each row's profile is a file of its own
    for (auto at = w.find("%r"); at != std::string::npos; at = w.find("%r", at)) w.replace(at, 2, name);
  argv.push_back(plugbox);
  argv.insert(argv.end(), args.begin(), args.end());
  fleet.mark();
  // Every 10 ms: a descriptor lives for a whole connection (seconds), so a
  // peak of them is not missed between samples.
  std::atomic<bool> done{false};
  std::atomic<int> peak{0};
  std::thread sampler;
  pb::CliOptions o;
  // plugbox starts with the soft limit most shells give (its hard limit
  // stays ours): whatever more it needs, it must raise itself.
  o.soft_nofile = kDefaultSoftFds;
  o.started = [&](pid_t pid) {
    sampler = std::thread([&, pid] {
      while (!done) {
        peak = std::max(peak.load(), open_fds(pid));
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  };
  o.ended = [&] {
    done = true;
    sampler.join();
  };
  const double hosts_before = hosts ? hosts->seconds() : 0;
  const pb::CliRun run = pb::run_cli(argv, log, o);
  Row r;
  r.name = name;
  r.wall = run.wall;
  r.peak_fds = peak;
  if (!pb::wait_sessions_reaped(sshd_pids, std::chrono::seconds(20)))
    std::cerr << "bench_scale: sessions still open 20 s after " << name << "; its hosts' CPU may be short\n";
  r.hosts_cpu = hosts ? hosts->seconds() - hosts_before : -1;
  r.client_cpu = run.cpu;
  r.client_peak_mb = run.peak_mb;
  r.status = run.status;
  fleet.count(&r);
  return r;
}

std::string join_ints(const std::vector<int>& v) {
  std::string s;
  for (int n : v) s += (s.empty() ? "" : ",") + std::to_string(n);
  return s.empty() ? "-" : s;
}

}  // namespace

int main(int argc, char** argv) {
  const Params p = parse(argc, argv);
  pb::need_root("bench_scale", "sshd hosts, tmpfs homes, a cgroup");
  for (const auto& l : pb::sweep_leftovers()) std::cerr << "bench_scale: removed a leftover: " << l << "\n";

  plugbox::testing::FleetOptions fo;
  fo.sshd_config_extra = p.sshd_lines.empty() ? kOpenSshDefaults : p.sshd_lines;
  // 500 sshds starting on 2 shared cores take longer than a test's fleet.
  fo.start_timeout = std::chrono::milliseconds(120000);
  std::vector<std::string> bastions, names;
  for (int b = 0; b < p.bastions; ++b) {
    bastions.push_back(fmt::format("bastion{}", b + 1));
    fo.hosts.push_back({bastions.back()});
  }
  for (int i = 0; i < p.hosts; ++i) {
    names.push_back(fmt::format("h{:03}", i + 1));
    fo.hosts.push_back({names.back(), bastions.empty() ? "" : bastions[size_t(i) % bastions.size()], {"app"}});
  }
  pb::WorkDir work(p.keep);
  std::string why;
  const auto fleet = pb::BenchFleet::start("bench_scale", fo, work.path(), PLUGBOX_SERVER_BINARY, &why);
  if (!fleet) {
    std::cerr << "bench_scale: cannot start the sshd fleet: " << why << "\n";
    return 1;
  }
  const double start_s = fleet->start_seconds();
  const std::vector<int>& sshd_pids = fleet->sshd_pids();
  pb::CpuGroup* const cpu = fleet->cpu();
  pb::HostData data(work.path(), names, fleet->fleet().user(), p.on_disk);

  const fs::path svc = work.path() / "service";
  fs::create_directories(svc);
  std::ofstream(svc / "inventory.toml") << fleet->inventory(data, "svc");
  std::ofstream(svc / "plugbox.toml") << pb::bench_service_toml("app", {}, {"connect_timeout = 120"});
  pb::plugbox_state_in(work.path());
  const fs::path log = work.path() / "plugbox.log";

  pb::AppSpec spec;
  spec.files = p.app.files;
  spec.bytes = std::uint64_t(p.app.mib) << 20;
  const pb::AppTree app1 = pb::plan_app(spec);
  std::vector<std::size_t> changed;
  const pb::AppTree app2 = pb::change_files(app1, p.app.files * p.app.changed_percent / 100, /*seed=*/2, &changed);
  // The same deploy as an operator's: plugbox's default --parallel unless asked.
  std::vector<std::string> args{"-i",    (svc / "inventory.toml").string(), "-f",      (svc / "plugbox.toml").string(),
                                "fleet", "deploy",                          "--group", "app"};
  if (p.parallel) args.insert(args.end(), {"--parallel", std::to_string(p.parallel)});
  Fleet meter(fleet->fleet(), bastions);
  std::vector<Row> rows;
  pb::write_app(app1, svc / "app");
  rows.push_back(run_plugbox("first", p.plugbox, p.wrap, args, log, cpu, sshd_pids, meter));
  fs::remove_all(svc / "app");
  pb::write_app(app2, svc / "app");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // version names are seconds
  rows.push_back(run_plugbox("redeploy", p.plugbox, p.wrap, args, log, cpu, sshd_pids, meter));

  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  rlimit nofile{};
  ::getrlimit(RLIMIT_NOFILE, &nofile);
  std::cout << fmt::format(
      "{} sshd hosts behind {} bastions (started in {:.1f} s), app {} files / {} MiB, redeploy {} files changed, {}; "
      "sshd: {}; load {:.1f} {:.1f} {:.1f}; plugbox's fd limits at start {}/{}; plugbox {}; its output: {}\n",
      p.hosts, p.bastions, start_s, p.app.files, p.app.mib, changed.size(),
      p.parallel ? fmt::format("--parallel {}", p.parallel) : std::string("default --parallel"),
      fmt::join(fo.sshd_config_extra, ", "), load[0], load[1], load[2], std::min<rlim_t>(nofile.rlim_cur, kDefaultSoftFds), nofile.rlim_max,
      p.plugbox, log.string());
  std::cout << fmt::format("{:<9} {:>8} {:>9} {:>10} {:>9} {:>9} {:>9} {:>18} {:>8} {:>5}\n", "run", "wall s",
                           "client s", "client MB", "peak fds", "hosts s", "ms/host", "bastion sessions", "refused",
                           "exit");
  for (const auto& r : rows)
    std::cout << fmt::format("{:<9} {:>8.2f} {:>9.2f} {:>10.1f} {:>9} {:>9.2f} {:>9.1f} {:>18} {:>8} {:>5}\n", r.name,
                             r.wall, r.client_cpu, r.client_peak_mb, r.peak_fds, r.hosts_cpu,
                             r.hosts_cpu * 1000 / p.hosts, join_ints(r.bastion_sessions), r.refused, r.status);

  // The targets, from the figures above.
  const double peak_mb = std::max(rows[0].client_peak_mb, rows[1].client_peak_mb);
  const double mb_target = p.hosts <= 50 ? kPeakMbAt50 : kPeakMbAt500;
  int max_sessions = 0, refused = 0, peak_fds = 0;
  for (const auto& r : rows) {
    for (int s : r.bastion_sessions) max_sessions = std::max(max_sessions, s);
    refused += r.refused;
    peak_fds = std::max(peak_fds, r.peak_fds);
  }
  auto verdict = [](bool ok) { return ok ? "met" : "NOT met"; };
  std::cout << fmt::format("peak memory: {:.1f} MB (target <= {:.0f} at {} hosts): {}\n", peak_mb, mb_target, p.hosts,
                           verdict(peak_mb <= mb_target));
  std::cout << fmt::format("sessions per bastion per run: at most {} (target <= 1): {}\n", max_sessions,
                           verdict(max_sessions <= 1));
  std::cout << fmt::format("connections dropped or refused by any sshd: {} (target 0): {}\n", refused,
                           verdict(refused == 0));
  // Above the soft limit plugbox started with, the run only worked because
  // plugbox raised its own (a failure to would be its exit status).
  std::cout << fmt::format("peak file descriptors: {}, plugbox started with a soft limit of {}: {}\n", peak_fds,
                           kDefaultSoftFds,
                           peak_fds <= kDefaultSoftFds ? "within it" : "above it, raised by plugbox itself");
  bool ok = max_sessions <= 1 && refused == 0;
  for (const auto& r : rows)
    if (r.status != 0) {
      std::cout << "PROBLEM: " << r.name << " exited " << r.status << " (see " << log.string() << ")\n";
      ok = false;
    }
  return ok ? 0 : 1;
}
