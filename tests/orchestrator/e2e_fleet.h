// The world an end-to-end test deploys into: a fleet of hosts (directories
// served by the local transport, or real sshd processes from tests/harness
// behind a bastion and a two-hop chain), an inventory for it, a service
// source tree (plugbox.toml and the release it prepares), a private journal
// directory, and the real `plugbox` binary run against all of that.
//
// The service's scripts ship inside each release and log to the host's home
// (service.log: "start <live> <PLUGBOX_VERSION>", "stop ..."), so a test reads
// what ran where from the disk. Marker files in a home steer them:
//   FAIL_HEALTH        the health check fails
//   HANG_HEALTH        the health check hangs, with a child in the background
//                      (their pids in health.pid and health-child.pid)
//   FAIL_START         start fails
//   FAIL_POST_UPLOAD   post_upload fails (staging)
//   SLOW_POST_UPLOAD   post_upload waits for RELEASE_POST_UPLOAD (at most 60 s)
//   SLOW_START         start waits for RELEASE_START (at most 60 s)
//   RELEASE_START      lets a slow start (SLOW_START, Release::slow_start) finish
// After hook_server(), plugbox-server itself is steered too:
//   SLOW_SERVER_<cmd>  plugbox-server <cmd> (gc, upgrade-to, ...) first says so
//                      with WAITING_SERVER_<cmd>, then waits for RELEASE_SERVER
//                      (at most 60 s)
//   NO_SESSION         plugbox-server answers `session` as a release without
//                      the session protocol does (unknown command, exit 2)
//   RELAY_FAULT        its content is put in PLUGBOX_RELAY_FAULT: a fan-out
//                      relay started there dies or damages what it serves
//                      (server-tools/relay.cc)
//   TAKE_RELAY_PORT    the next relay started there finds its port taken on
//                      its address: a relay started just before it, with the
//                      same arguments, holds it (for 120 s); the marker is
//                      used up by that one start
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/orchestrator/e2e_support.h"

namespace plugbox::testing {
class SshdFleet;
}

namespace plugbox::e2e {

struct E2eHost {
  std::string name;
  fs::path home;
  std::vector<std::string> via;  // jump hosts, outermost first
};

// What the next prepared release contains.
struct Release {
  std::string tag = "r1";        // written into changing.txt: each tag is a new file content
  bool slow_start = false;       // start waits for RELEASE_START in the home (at most 60 s)
  bool with_dropped = true;      // ships dropped.txt (a later release may leave it out)
  std::string extra_file = {};   // one more file at this path, if set
};

class E2eFleet {
 public:
  // Four local-transport hosts h1..h4 (group "app").
  static std::unique_ptr<E2eFleet> local() { return local(4); }
  // `count` local-transport hosts h1..hN (group "app").
  static std::unique_ptr<E2eFleet> local(int count);
  // Real sshd: web1 and web2 behind bastion, deep behind b2 behind bastion
  // (two hops), solo direct; group "app" = web1, web2, deep, solo. nullptr
  // and *skip_reason when this machine cannot run sshd fleets (not root).
  static std::unique_ptr<E2eFleet> sshd(std::string* skip_reason);
  // Real sshd: the named hosts, all behind one bastion; group "app" = them,
  // in this order. nullptr and *skip_reason as sshd().
  static std::unique_ptr<E2eFleet> sshd_behind_bastion(const std::vector<std::string>& names,
                                                       std::string* skip_reason);
  // Both kinds in one group "app", interleaved in inventory order: l1
  // (local), web1 (sshd, behind bastion), solo (sshd, direct), l2 (local).
  // nullptr and *skip_reason as sshd().
  static std::unique_ptr<E2eFleet> mixed(std::string* skip_reason);
  ~E2eFleet();

  bool is_ssh() const { return sshd_ != nullptr; }  // an sshd fleet runs (mixed() too)
  testing::SshdFleet& sshd() const;
  const std::vector<E2eHost>& hosts() const { return hosts_; }
  const E2eHost& host(const std::string& name) const;
  std::vector<std::string> names() const;

  const fs::path& dir() const { return dir_->path(); }       // the test's own files
  fs::path inventory() const { return inventory_; }
  fs::path service_dir() const { return dir() / "src"; }
  fs::path service_file() const { return service_dir() / "plugbox.toml"; }
  fs::path state_dir() const { return dir() / "state"; }      // XDG_STATE_HOME: run journals
  fs::path runs_dir() const { return state_dir() / "plugbox" / "runs"; }
  fs::path cache_dir() const { return dir() / "cache"; }  // XDG_CACHE_HOME: the content cache
  const std::string& server_bin() const { return server_bin_; }

  // plugbox.toml: [service] as described above plus `service_extra` lines,
  // then `deploy_table` as the [deploy] table's body (default: group "app",
  // batches [1, 1, "100%"], short health settings).
  void write_service(const std::string& deploy_table = "", const std::string& service_extra = "");
  static std::string default_deploy_table();
  // The source tree's release (dist/ is built from it by the prepare step).
  void write_release(const Release& r);

  // The environment every plugbox run gets (journal and content cache
  // directories, no inherited PLUGBOX_INVENTORY).
  RunOptions options() const;
  // `plugbox -i INVENTORY -f SERVICE ARGS...`.
  RunResult plugbox(const std::vector<std::string>& args, RunOptions o) const;
  RunResult plugbox(const std::vector<std::string>& args) const { return plugbox(args, options()); }
  Background spawn_plugbox(const std::vector<std::string>& args) const;

  // Every home plus the test's own files (state, source): for "nothing changed".
  Snapshot snapshot_all() const;
  HomeOnDisk home_of(const std::string& name) const { return read_home(host(name).home); }
  std::string service_log(const std::string& name) const { return slurp(host(name).home / "service.log"); }
  void mark(const std::string& name, const std::string& marker) const;    // creates the marker in its home
  void unmark(const std::string& name, const std::string& marker) const;

  // From now on every host runs plugbox-server through a wrapper script (the
  // inventory's `server`) that honours the SLOW_SERVER_<cmd> markers: a way
  // to hold a fleet command while a host's server tool works (a gc on a slow
  // disk), which the service's own scripts cannot.
  void hook_server();

  // From now on the inventory pins no `server` (`instead`, if given, takes
  // its line in [defaults]): plugbox installs its own on every host.
  void unpin_server(const std::string& instead = "");
  // Adds `line` to a host's own table (`server = "/opt/x"`).
  void set_host_line(const std::string& name, const std::string& line);
  // The plugbox the tests run: $PLUGBOX_CLIENT (an installed one, CI's
  // package stage), else the build's.
  static std::string plugbox_bin();

  // The journal file of the newest run of `kind` (deploy, rollback, gc);
  // "" if there is none yet.
  fs::path newest_journal(const std::string& kind) const;

 private:
  E2eFleet();
  std::string server_for_sshd();
  void finish_setup(const std::string& inventory_text);

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<testing::SshdFleet> sshd_;
  std::vector<E2eHost> hosts_;
  fs::path inventory_;
  std::string server_bin_;
};

}  // namespace plugbox::e2e
