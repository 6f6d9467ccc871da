// Issue 5's benchmark: plugbox's upload against rsync over OpenSSH, to 10 and
// 50 real sshd hosts (tests/harness) on this machine, in one run.
//
// An app of 2000 files / 50 MiB is generated (app_tree.h) with a second
// release that rewrites 5% of its files. For each host count, in order (the
// two tools alternate, so a change in the machine's load hits both):
//   plugbox, release 1: manifest + BlobStore built once (timed, counted in the
//     total), then `receive V1 --create --seal` (the upload) and upgrade-to
//     on every host at once (plugbox_run.h);
//   rsync, release 1: rsync -a --delete into an empty dir, under xargs -P N;
//   plugbox, release 2: the same as release 1 with V2 (the hosts link what V1 has);
//   rsync, release 2: rsync -a --delete --link-dest=../v1 into v2.
// Each host keeps the files it is sent under <work>/hostdata/<host>/ (on a
// tmpfs, or on this machine's disk with --hosts-on-disk).
// After each measured upload, untimed: `plugbox-server verify V` on every
// host, the `live` link on every host, and an independent byte-for-byte
// comparison with the source (plus the hard-link count of release 2) on a few
// hosts, for rsync too: neither tool can win by doing less.
//
// Needs root (the harness: sshd processes, network namespaces). Prints a table.
//   bench_upload [--hosts 10,50] [--files 2000] [--mib 50] [--changed-percent 5]
//                [--behind-bastion K] [--check-hosts K] [--zstd-level 3]
//                [--server PATH] [--openssh-defaults] [--hosts-on-disk] [--perf-dir DIR] [--keep]
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/upload/app_tree.h"
#include "bench/upload/bench_common.h"
#include "bench/upload/meters.h"
#include "bench/upload/perf_capture.h"
#include "bench/upload/plugbox_run.h"
#include "bench/upload/rsync_run.h"
#include "bench/upload/tree_check.h"
#include "bench/upload/work_dir.h"
#include "upload/client/blob_store.h"
#include "upload/client/manifest_builder.h"
#include "upload/common/sha256.h"
#include "tests/harness/sshd_fleet.h"

#ifndef PLUGBOX_SERVER_BINARY
#define PLUGBOX_SERVER_BINARY ""
#endif

namespace {

namespace fs = std::filesystem;
namespace pb = plugbox::bench;
using Clock = std::chrono::steady_clock;

constexpr const char* kUsage =
    "usage: bench_upload [--hosts 10,50] [--files 2000] [--mib 50] [--changed-percent 5]\n"
    "                    [--behind-bastion K] [--check-hosts K] [--zstd-level 3]\n"
    "                    [--server PATH] [--openssh-defaults] [--hosts-on-disk] [--perf-dir DIR] [--keep]\n"
    "  --behind-bastion K  K of the hosts (spread evenly) sit behind one bastion (default 0: all direct)\n"
    "  --check-hosts K     hosts compared byte for byte with the source after each upload (default 3)\n"
    "  --openssh-defaults  rsync's ssh keeps OpenSSH's default kex and cipher (default: curve25519 and\n"
    "                      aes128-gcm, what plugbox's libssh uses, so the crypto is the same on both sides)\n"
    "  --hosts-on-disk     the hosts' files (plugbox homes, rsync dirs) on this machine's disk instead of a\n"
    "                      tmpfs (the default: up to 2 x 55 MiB of RAM per host, freed after each host\n"
    "                      count): adds fsync (plugbox only) and this disk's file-creation cost, which\n"
    "                      here swings with what other processes deleted in the last minute (README.md)\n"
    "  --perf-dir DIR      a system-wide `perf record -g` of each measured run (not of the checks) into\n"
    "                      DIR/<hosts>-<tool>-<release>.data, for `perf report --sort comm,dso`\n"
    "  --keep              keep the work directory (app trees, logs) and print its path\n"
    "Needs root: it starts real sshd processes (tests/harness).\n";

struct Params {
  std::vector<int> host_counts{10, 50};
  int files = 2000;
  int mib = 50;
  int changed_percent = 5;
  int behind_bastion = 0;
  int check_hosts = 3;
  int zstd_level = 3;
  std::string server = PLUGBOX_SERVER_BINARY;
  bool openssh_defaults = false;
  bool hosts_on_disk = false;
  std::string perf_dir;
  bool keep = false;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::cerr << "bench_upload: " << why << "\n" << kUsage;
  std::exit(2);
}

int to_int(const std::string& flag, const std::string& v, int lo, int hi) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n < lo || n > hi)
    usage_error(fmt::format("{} wants a number in {}..{}, not '{}'", flag, lo, hi, v));
  return int(n);
}

Params parse(int argc, char** argv) {
  Params p;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--hosts") {
      p.host_counts.clear();
      std::string v = value();
      for (std::size_t at = 0; at <= v.size();) {
        auto comma = std::min(v.find(',', at), v.size());
        p.host_counts.push_back(to_int("--hosts", v.substr(at, comma - at), 1, 240));
        at = comma + 1;
      }
    } else if (a == "--files") {
      p.files = to_int(a, value(), 20, 1000000);
    } else if (a == "--mib") {
      p.mib = to_int(a, value(), 1, 100000);
    } else if (a == "--changed-percent") {
      p.changed_percent = to_int(a, value(), 0, 100);
    } else if (a == "--behind-bastion") {
      p.behind_bastion = to_int(a, value(), 0, 240);
    } else if (a == "--check-hosts") {
      p.check_hosts = to_int(a, value(), 0, 240);
    } else if (a == "--zstd-level") {
      p.zstd_level = to_int(a, value(), 1, 19);
    } else if (a == "--server") {
      p.server = value();
    } else if (a == "--openssh-defaults") {
      p.openssh_defaults = true;
    } else if (a == "--hosts-on-disk") {
      p.hosts_on_disk = true;
    } else if (a == "--perf-dir") {
      p.perf_dir = value();
    } else if (a == "--keep") {
      p.keep = true;
    } else {
      usage_error("unknown option '" + a + "'");
    }
  }
  std::sort(p.host_counts.begin(), p.host_counts.end());
  p.host_counts.erase(std::unique(p.host_counts.begin(), p.host_counts.end()), p.host_counts.end());
  if (p.behind_bastion > p.host_counts.back())
    usage_error("--behind-bastion is larger than the largest host count");
  if (p.server.empty()) usage_error("--server PATH: no plugbox-server was built alongside this benchmark");
  return p;
}

using pb::load_average;
using pb::note;
using pb::since;

std::string mib(double bytes) { return fmt::format("{:.1f} MiB", bytes / 1048576.0); }

// One measured upload, for the table.
struct Row {
  int hosts = 0;
  int release = 0;
  std::string tool;
  double wall_s = 0;     // everything: for plugbox, prepare + fleet
  double prepare_s = 0;  // plugbox: the manifest (SHA-256 of every file)
  double client_cpu = 0;
  double server_cpu = 0;        // all hosts' sshd sessions and what they ran
  std::uint64_t app_bytes = 0;  // plugbox: upload stream bytes; rsync: --stats "Total bytes sent"
  std::uint64_t tcp_bytes = 0;  // both directions
  std::string dedup;            // what release 2 reused
  std::vector<std::string> problems;
};

struct Fleet {
  // Declared first so that it goes last: the group can be removed only once
  // the fleet's processes are gone.
  std::unique_ptr<pb::CpuGroup> cpu;
  std::unique_ptr<plugbox::testing::SshdFleet> sshd;
  std::vector<std::string> leaves;  // hosts that get uploads, in order
  std::vector<int> sshd_pids;
  std::set<int> ports;
};

Fleet start_fleet(const Params& p) {
  const int n = p.host_counts.back();
  plugbox::testing::FleetOptions fo;
  std::set<int> behind;
  if (p.behind_bastion > 0) {
    fo.hosts.push_back({"bastion"});
    // Spread evenly, so every host count gets its share.
    for (int k = 0; k < p.behind_bastion; ++k) behind.insert(int((std::int64_t(k) * n + n - 1) / p.behind_bastion) % n);
  }
  Fleet f;
  for (int i = 0; i < n; ++i) {
    const std::string name = fmt::format("h{:03}", i + 1);
    fo.hosts.push_back({name, behind.count(i) ? "bastion" : ""});
    f.leaves.push_back(name);
  }
  std::string why;
  f.sshd = plugbox::testing::SshdFleet::start(fo, &why);
  if (!f.sshd) {
    std::cerr << "bench_upload: cannot start the sshd fleet: " << why << "\n";
    std::exit(1);
  }
  for (const auto& h : f.sshd->hosts()) {
    f.sshd_pids.push_back(h.sshd_pid);
    f.ports.insert(h.port);
  }
  // The hosts' CPU: a cgroup holding every sshd, so every session and what
  // it runs. (What the listeners reap, cutime, misses processes their
  // parents do not wait for: it showed rsync's receiving side as nearly free.)
  std::string no_group;
  f.cpu = pb::CpuGroup::create(&no_group);
  for (int pid : f.sshd_pids)
    if (f.cpu && !f.cpu->add(pid)) {
      no_group = "cannot move sshd " + std::to_string(pid) + " into the cgroup";
      f.cpu.reset();
    }
  if (!f.cpu) std::cerr << "bench_upload: " << no_group << "; the hosts' CPU is not measured\n";
  return f;
}

plugbox::transport::Endpoint endpoint(const plugbox::testing::SshdFleet& fleet, const std::string& name) {
  const auto& h = fleet.host(name);
  plugbox::transport::Endpoint e;
  e.name = h.name;
  e.address = h.address;
  e.port = h.port;
  e.user = fleet.user();
  e.identity = fleet.client_key_path();
  e.known_hosts = fleet.known_hosts_path();
  e.host_key_check = plugbox::transport::HostKeyCheck::strict;
  return e;
}

std::vector<pb::PbHost> plugbox_hosts(const Fleet& f, const pb::HostData& data, int n, const std::string& server) {
  std::vector<pb::PbHost> out;
  for (int i = 0; i < n; ++i) {
    const auto& h = f.sshd->host(f.leaves[i]);
    std::vector<plugbox::transport::Endpoint> chain;
    for (const auto& hop : h.jump_chain) chain.push_back(endpoint(*f.sshd, hop));
    pb::PbHost ph;
    ph.target = plugbox::transport::ssh_target(endpoint(*f.sshd, h.name), std::move(chain));
    ph.ctx.host = h.name;
    ph.ctx.home = data.dir(h.name) + "/pb" + std::to_string(n);
    ph.ctx.server = server;
    ph.ctx.owner = "bench-upload";
    out.push_back(std::move(ph));
  }
  return out;
}

// Which hosts get the byte-for-byte comparison: spread over the run, and a
// host behind the bastion when there is one.
std::vector<int> check_indices(const Fleet& f, int n, int k) {
  std::set<int> pick;
  if (k >= n)
    for (int i = 0; i < n; ++i) pick.insert(i);
  else
    for (int j = 0; j < k; ++j) pick.insert(k == 1 ? 0 : int(std::int64_t(j) * (n - 1) / (k - 1)));
  if (k > 0)
    for (int i = 0; i < n; ++i)
      if (!f.sshd->host(f.leaves[i]).behind.empty()) {
        pick.insert(i);
        break;
      }
  return {pick.begin(), pick.end()};
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The hosts' CPU over a measured step (after their sessions have ended).
class ServerCpu {
 public:
  explicit ServerCpu(const Fleet& f) : f_(f) {
    settle();
    start_ = now();
  }
  // -1 when there is no cgroup to read.
  double stop() {
    settle();
    return f_.cpu ? now() - start_ : -1;
  }

 private:
  void settle() {
    if (!pb::wait_sessions_reaped(f_.sshd_pids, std::chrono::seconds(10)))
      std::cerr << "bench_upload: warning: sshd sessions still running; the hosts' CPU figure may be short\n";
  }
  double now() const { return f_.cpu ? f_.cpu->seconds() : 0; }
  const Fleet& f_;
  double start_ = 0;
};

// Each measured run starts with no dirty pages: the previous run's writeback
// (rsync does not fsync; plugbox does) is not the next one's cost.
void flush_disk() {
  const auto t0 = Clock::now();
  ::sync();
  if (since(t0) > 1) note(fmt::format("  sync took {:.1f} s", since(t0)));
}

std::string version_name(int release) { return fmt::format("2026-01-0{}T00:00:00", release); }

// `unchanged`: how many files release 2 keeps from release 1, all of which
// must end up hard-linked (checked on the compared hosts).
Row run_plugbox(const Params& p, const Fleet& f, const pb::HostData& data, int n, int release, std::uint64_t unchanged,
                const fs::path& src_root,
                const plugbox::transport::SshOptions& ssh, std::string* steps_line) {
  Row row;
  row.hosts = n;
  row.release = release;
  row.tool = "plugbox";
  const std::string v = version_name(release);
  const auto hosts = plugbox_hosts(f, data, n, p.server);
  flush_disk();

  std::optional<pb::PerfCapture> perf;
  if (!p.perf_dir.empty()) perf.emplace(fmt::format("{}/{}-plugbox-{}.data", p.perf_dir, n, release));
  ServerCpu server(f);
  const pb::CpuTimes cpu0 = pb::self_cpu();
  const auto t0 = Clock::now();
  plugbox::upload::TreeSpec spec;
  spec.source_root = src_root;
  spec.upload_version = "v" + std::to_string(release);
  const plugbox::upload::LocalTree tree = plugbox::upload::build_manifest(spec);
  // As a deploy does: contents are compressed when a host first asks for them.
  const plugbox::upload::BlobStore blobs = plugbox::upload::BlobStore::lazy(tree, p.zstd_level);
  row.prepare_s = since(t0);
  const double prepare_cpu = (pb::self_cpu() - cpu0).total();

  pb::PbRelease rel{v, &tree.manifest, &blobs};
  const pb::PbRun run = pb::deploy_release(hosts, rel, ssh, f.ports);
  row.wall_s = row.prepare_s + run.wall_s;
  row.client_cpu = prepare_cpu + run.client.total();
  row.server_cpu = server.stop();
  perf.reset();
  row.tcp_bytes = run.tcp.sent + run.tcp.received;

  std::vector<double> open, up, upg;
  std::uint64_t files_sent = 0, linked = 0, copied = 0;
  std::size_t file_entries = 0;
  for (const auto& e : tree.manifest.entries) file_entries += e.type == plugbox::upload::EntryType::file;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const auto& h = run.hosts[i];
    if (!h.error.empty()) row.problems.push_back(hosts[i].ctx.host + ": " + h.error);
    row.app_bytes += h.upload.wire_bytes;
    files_sent += h.upload.stats.files_sent;
    linked += h.upload.stats.files_linked;
    copied += h.upload.stats.files_copied;
    if (h.error.empty() && h.upload.stats.files != file_entries)
      row.problems.push_back(fmt::format("{}: the host reports {} files, the release has {}", hosts[i].ctx.host,
                                         h.upload.stats.files, file_entries));
    open.push_back(h.steps.open);
    up.push_back(h.steps.upload);
    upg.push_back(h.steps.upgrade);
  }
  auto mm = [](const std::vector<double>& v) {
    return fmt::format("{:.2f}/{:.2f}", median(v), v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()));
  };
  *steps_line = fmt::format(
      "    plugbox steps, median/max s: open {}  receive --create --seal {}  upgrade-to {}; "
      "prepare (manifest) {:.2f} s ({:.2f} s CPU); compressed on demand: {} of {} contents, {} zstd-{}; "
      "{} SSH connections",
      mm(open), mm(up), mm(upg), row.prepare_s, prepare_cpu, blobs.compressed_count(), blobs.size(),
      mib(double(blobs.compressed_bytes())), p.zstd_level, run.connections);
  row.dedup = fmt::format("per host: {:.0f} sent, {:.0f} linked, {:.0f} copied", double(files_sent) / n,
                          double(linked) / n, double(copied) / n);

  // Untimed checks: plugbox's own verify everywhere, live everywhere, and
  // our own comparison on a few hosts.
  note(fmt::format("  measured {:.1f} s; checking", row.wall_s));
  for (auto& problem : pb::verify_release(hosts, v, ssh)) row.problems.push_back("verify: " + problem);
  for (const auto& h : hosts) {
    std::error_code ec;
    auto live = fs::read_symlink(fs::path(h.ctx.home) / "deploy" / "live", ec);
    if (ec || live != v) row.problems.push_back(h.ctx.host + ": live is '" + live.string() + "', not " + v);
  }
  for (int i : check_indices(f, n, p.check_hosts)) {
    const fs::path dir = fs::path(hosts[i].ctx.home) / "deploy" / v;
    if (auto d = pb::compare_trees(src_root / spec.upload_version.value(), dir, {"previous", "next"}); !d.empty())
      row.problems.push_back("compare: " + d);
    if (release == 2) {
      const auto shared = pb::shared_inodes(fs::path(hosts[i].ctx.home) / "deploy" / version_name(1), dir);
      row.dedup += fmt::format("; {} shares {} inodes with V1", hosts[i].ctx.host, shared);
      if (shared != unchanged)
        row.problems.push_back(fmt::format("{}: {} files share their inode with V1, {} are unchanged",
                                           hosts[i].ctx.host, shared, unchanged));
    }
  }
  return row;
}

Row run_rsync(const Params& p, const Fleet& f, const pb::HostData& data, int n, int release, std::uint64_t unchanged,
              const fs::path& src_root, const fs::path& work, const fs::path& ssh_config) {
  Row row;
  row.hosts = n;
  row.release = release;
  row.tool = "rsync";
  std::vector<pb::RsyncTarget> targets;
  auto dest = [&](int i, int r) {
    return data.dir(f.leaves[i]) + "/rs" + std::to_string(n) + "/v" + std::to_string(r);
  };
  for (int i = 0; i < n; ++i) targets.push_back({f.leaves[i], dest(i, release)});
  pb::RsyncOptions o;
  o.source = src_root / ("v" + std::to_string(release));
  o.link_dest = release == 2 ? "../v1" : "";
  o.ssh_config = ssh_config;
  o.work = work;
  o.tag = fmt::format("rsync-n{}-r{}", n, release);
  flush_disk();

  std::optional<pb::PerfCapture> perf;
  if (!p.perf_dir.empty()) perf.emplace(fmt::format("{}/{}-rsync-{}.data", p.perf_dir, n, release));
  ServerCpu server(f);
  const pb::RsyncRun run = pb::run_rsync(targets, o);
  row.server_cpu = server.stop();
  perf.reset();
  row.wall_s = run.wall_s;
  row.client_cpu = run.client.total();
  row.app_bytes = run.stats_sent;
  row.tcp_bytes = run.tcp_sent + run.tcp_received;
  row.problems = run.failures;
  note(fmt::format("  measured {:.1f} s; checking", row.wall_s));
  for (int i : check_indices(f, n, p.check_hosts)) {
    if (auto d = pb::compare_trees(o.source, dest(i, release)); !d.empty()) row.problems.push_back("compare: " + d);
    if (release == 2) {
      const auto shared = pb::shared_inodes(dest(i, 1), dest(i, 2));
      row.dedup += fmt::format("{}{} shares {} inodes with v1", row.dedup.empty() ? "" : "; ", f.leaves[i], shared);
      if (shared != unchanged)
        row.problems.push_back(fmt::format("{}: {} files share their inode with v1, {} are unchanged", f.leaves[i],
                                           shared, unchanged));
    }
  }
  return row;
}

// What any first upload of the app costs here before the app is even
// decompressed or written (see plugbox_run.h: transport_floor), and what
// SHA-256 of every byte on every host adds (the check on arrival).
struct Floor {
  int hosts = 0;
  double wall_s = 0, client_cpu = 0, server_cpu = 0;
  std::uint64_t bytes_per_host = 0;
  double sha_cpu = 0;  // all hosts together
  std::vector<std::string> problems;
};

// CPU seconds of one thread hashing every file of the tree once (files read
// into memory first, untimed), as `receive` does on each host.
double sha_seconds(const plugbox::upload::LocalTree& tree) {
  std::vector<std::string> contents;
  for (std::size_t i = 0; i < tree.manifest.entries.size(); ++i)
    if (tree.manifest.entries[i].type == plugbox::upload::EntryType::file) {
      std::ifstream in(tree.local_paths[i], std::ios::binary);
      contents.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {  // the least disturbed of three
    const pb::CpuTimes c0 = pb::self_cpu();
    for (const auto& c : contents) {
      plugbox::upload::Sha256 h;
      h.update(c.data(), c.size());
      (void)h.finish();
    }
    best = std::min(best, (pb::self_cpu() - c0).total());
  }
  return best;
}

Floor run_floor(const Params& p, const Fleet& f, const pb::HostData& data, int n, const fs::path& src_root,
                const plugbox::transport::SshOptions& ssh) {
  Floor fl;
  fl.hosts = n;
  plugbox::upload::TreeSpec spec;
  spec.source_root = src_root;
  spec.upload_version = "v1";
  const plugbox::upload::LocalTree tree = plugbox::upload::build_manifest(spec);
  const plugbox::upload::BlobStore blobs = plugbox::upload::BlobStore::build(tree, p.zstd_level);  // untimed
  const auto hosts = plugbox_hosts(f, data, n, p.server);
  ServerCpu server(f);
  const pb::FloorRun run = pb::transport_floor(hosts, tree.manifest, blobs, ssh);
  fl.server_cpu = server.stop();
  fl.wall_s = run.wall_s;
  fl.client_cpu = run.client.total();
  fl.bytes_per_host = run.bytes_per_host;
  fl.problems = run.problems;
  fl.sha_cpu = n * sha_seconds(tree);
  return fl;
}

void print_row(const Row& r, const Row* baseline) {
  std::string speed = "";
  if (baseline && r.wall_s > 0) speed = fmt::format("{:.1f}x", baseline->wall_s / r.wall_s);
  std::cout << fmt::format("{:>5}  {:>7}  {:<7}  {:>8.2f}  {:>7}  {:>9.2f}  {:>9}  {:>12}  {:>12}  {:>7}\n", r.hosts,
                           r.release == 1 ? "first" : "second", r.tool, r.wall_s,
                           r.tool == "plugbox" ? fmt::format("{:.2f}", r.prepare_s) : std::string("-"), r.client_cpu,
                           r.server_cpu < 0 ? std::string("-") : fmt::format("{:.2f}", r.server_cpu),
                           mib(double(r.app_bytes)), mib(double(r.tcp_bytes)), speed);
}

}  // namespace

int main(int argc, char** argv) {
  const Params p = parse(argc, argv);
  try {
    const std::string load_at_start = load_average();
    for (const auto& gone : pb::sweep_leftovers()) note("removed the leftover of a killed run: " + gone);
    pb::WorkDir work(p.keep);
    const fs::path src = work.path() / "src";
    fs::create_directories(src);
    fs::permissions(src, fs::perms(0755));

    // The app and its second release.
    auto tg = Clock::now();
    const pb::AppTree v1 = pb::plan_app({p.files, std::uint64_t(p.mib) << 20, 1});
    std::vector<std::size_t> changed;
    const int nchanged = int(std::lround(double(p.files) * p.changed_percent / 100.0));
    const pb::AppTree v2 = pb::change_files(v1, nchanged, 2, &changed);
    pb::write_app(v1, src / "v1");
    pb::write_app(v2, src / "v2");
    std::uint64_t changed_bytes = 0;
    for (auto i : changed) changed_bytes += v2.files[i].size;
    std::cout << fmt::format(
        "app: {} files, {} directories ({} empty), {} symlinks, {}; release 2 rewrites {} files ({}); generated in "
        "{:.1f} s\n",
        v1.files.size(), v1.dirs.size(), 3, v1.symlinks.size(), mib(double(v1.total_bytes())), changed.size(),
        mib(double(changed_bytes)), since(tg));

    // The server tool where the hosts' user can run it.
    const fs::path bin = work.path() / "bin";
    fs::create_directories(bin);
    fs::permissions(bin, fs::perms(0755));
    fs::copy_file(p.server, bin / "plugbox-server", fs::copy_options::overwrite_existing);
    fs::permissions(bin / "plugbox-server", fs::perms(0755));
    Params run_params = p;
    run_params.server = (bin / "plugbox-server").string();

    auto tf = Clock::now();
    const Fleet fleet = start_fleet(p);
    const pb::HostData data(work.path(), fleet.leaves, fleet.sshd->user(), p.hosts_on_disk);
    std::cout << fmt::format("fleet: {} sshd hosts{} started in {:.1f} s; plugbox-server {}; hosts' files on {}\n",
                             fleet.leaves.size(),
                             p.behind_bastion ? fmt::format(" ({} behind a bastion)", p.behind_bastion) : "",
                             since(tf), run_params.server,
                             data.on_tmpfs() ? "a tmpfs" : "this machine's disk (" + data.root().string() + ")");

    // rsync's ssh: the harness's config (key, known_hosts, BatchMode,
    // ProxyJump), with plugbox's kex and cipher unless --openssh-defaults.
    // ssh -F hands the same file to the jump connections.
    const fs::path ssh_config = work.path() / "rsync_ssh_config";
    {
      std::ofstream c(ssh_config);
      if (!p.openssh_defaults) c << "Host *\n  KexAlgorithms curve25519-sha256\n  Ciphers aes128-gcm@openssh.com\n";
      c << "Include " << fleet.sshd->ssh_config_path() << "\n";
    }
    pb::RsyncOptions shown;
    shown.source = src / "v2";
    shown.link_dest = "../v1";
    shown.ssh_config = ssh_config;
    std::cout << "rsync per host, under xargs -P N -L 1: " << pb::rsync_command(shown, "HOST:DEST/v2/") << "\n";

    plugbox::transport::SshOptions ssh;
    std::vector<std::string> warnings;
    ssh.warn = [&warnings](const std::string& m) { warnings.push_back(m); };

    const std::uint64_t unchanged = v1.files.size() - changed.size();
    std::vector<Row> rows;
    std::vector<Floor> floors;
    std::vector<std::string> details;
    for (int n : p.host_counts) {
      note(fmt::format("{} hosts: the transport floor of a first upload", n));
      floors.push_back(run_floor(run_params, fleet, data, n, src, ssh));
      for (int release : {1, 2}) {
        std::string steps;
        note(fmt::format("{} hosts, release {}: plugbox", n, release));
        rows.push_back(run_plugbox(run_params, fleet, data, n, release, unchanged, src, ssh, &steps));
        details.push_back(fmt::format("  {} hosts, {} upload:\n{}\n    plugbox {}", n,
                                      release == 1 ? "first" : "second", steps, rows.back().dedup));
        note(fmt::format("{} hosts, release {}: rsync", n, release));
        rows.push_back(run_rsync(run_params, fleet, data, n, release, unchanged, src, work.path(), ssh_config));
        if (release == 2) details.back() += "\n    rsync: " + rows.back().dedup;
        // All of it runs on this machine's cores, so the CPU spent is the
        // figure the machine's other load disturbs least.
        const Row& pr = rows[rows.size() - 2];
        const Row& rr = rows.back();
        if (pr.server_cpu >= 0 && rr.server_cpu >= 0) {
          const double pc = pr.client_cpu + pr.server_cpu, rc = rr.client_cpu + rr.server_cpu;
          details.back() += fmt::format(
              "\n    CPU, client + hosts: plugbox {:.2f} s, rsync {:.2f} s (rsync / plugbox = {:.1f})", pc, rc, rc / pc);
        }
      }
      // On a disk, deleting now would slow the next runs' file creation
      // (see the README): everything goes at the end instead.
      if (data.on_tmpfs()) {
        data.drop(fleet.leaves, "pb" + std::to_string(n));
        data.drop(fleet.leaves, "rs" + std::to_string(n));
      }
    }

    std::cout << "\n"
              << fmt::format("{:>5}  {:>7}  {:<7}  {:>8}  {:>7}  {:>9}  {:>9}  {:>12}  {:>12}  {:>7}\n", "hosts",
                             "upload", "tool", "wall s", "prep s", "client s", "hosts s", "app bytes", "TCP bytes",
                             "speedup");
    for (std::size_t i = 0; i < rows.size(); i += 2) {
      print_row(rows[i], &rows[i + 1]);
      print_row(rows[i + 1], nullptr);
    }
    std::cout << "\nwall s: plugbox = prepare (the manifest, once; zstd runs on demand during the upload) + every host from connect to "
                 "upgrade-to; rsync = xargs start to end.\n"
                 "client s: CPU of this process (plugbox) or of xargs+rsync+ssh (rsync); hosts s: CPU of every host's "
                 "sshd sessions and what they ran.\n"
                 "app bytes: plugbox upload stream (client to host); rsync --stats \"Total bytes sent\". TCP bytes: "
                 "both directions, plugbox from TCP_INFO of its sockets, rsync from ssh's \"Transferred:\" line.\n"
                 "speedup: rsync wall / plugbox wall, same hosts and upload.\n\n";
    for (const auto& d : details) std::cout << d << "\n";

    // The floor: how fast a first upload could possibly be on this machine.
    std::cout << "\nfirst-upload floor (the same compressed bytes over plugbox's SSH transport into `cat > /dev/null` on\n"
                 "every host, nothing decompressed, hashed or written; plus SHA-256 of every file on every host, the\n"
                 "check the issue asks for on arrival; all of it on this machine's cores):\n";
    for (const auto& fl : floors) {
      const Row* rs = nullptr;
      for (const auto& r : rows)
        if (r.hosts == fl.hosts && r.release == 1 && r.tool == "rsync") rs = &r;
      const double cores = std::max(1u, std::thread::hardware_concurrency());
      const double best = fl.wall_s + fl.sha_cpu / cores;
      std::cout << fmt::format(
          "  {:>3} hosts: SSH alone {:.2f} s wall ({:.2f} s CPU client + {} hosts, {} per host); SHA-256 {:.2f} s CPU "
          "= {:.2f} s on {:.0f} cores;\n             best possible first upload >= {:.2f} s{}\n",
          fl.hosts, fl.wall_s, fl.client_cpu, fl.server_cpu < 0 ? std::string("-") : fmt::format("{:.2f} s", fl.server_cpu),
          mib(double(fl.bytes_per_host)), fl.sha_cpu, fl.sha_cpu / cores, cores, best,
          rs ? fmt::format(": at most {:.1f}x rsync's {:.2f} s (4x needs <= {:.2f} s)", rs->wall_s / best, rs->wall_s,
                           rs->wall_s / 4)
             : std::string());
      for (const auto& pr : fl.problems) std::cout << "PROBLEM (floor): " << pr << "\n";
    }

    int failures = 0;
    for (const auto& r : rows)
      for (const auto& pr : r.problems) {
        std::cout << fmt::format("PROBLEM ({} hosts, {} {}): {}\n", r.hosts, r.tool, r.release, pr);
        ++failures;
      }
    for (const auto& w : warnings) std::cout << "transport warning: " << w << "\n";
    const int top = p.host_counts.back();
    std::string verdict;
    for (std::size_t i = 0; i < rows.size(); i += 2)
      if (rows[i].hosts == top)
        verdict += fmt::format("{}{} upload {:.1f}x: {}", verdict.empty() ? "" : "; ",
                               rows[i].release == 1 ? "first" : "second", rows[i + 1].wall_s / rows[i].wall_s,
                               rows[i + 1].wall_s >= 4 * rows[i].wall_s ? "met" : "MISSED");
    std::cout << fmt::format("\nload average (1 min) at the start {}, at the end {}; {} cores\n", load_at_start,
                             load_average(), std::thread::hardware_concurrency());
    std::cout << fmt::format("correctness: {}\ntarget (>= 4x rsync at {} hosts, both uploads): {}\n",
                             failures ? fmt::format("{} problem(s), see above", failures)
                                      : std::string("every check passed"),
                             top, verdict);
    note("tearing the fleet down");
    return failures ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_upload: " << e.what() << "\n";
    return 1;
  }
}
