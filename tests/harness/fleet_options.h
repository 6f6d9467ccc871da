// The sshd harness's value types: what a test asks for (FleetOptions: the
// hosts and who sits behind whom; plan_fleet() validates it) and what it gets
// back for each host (RunningHost).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace plugbox::testing {

// The login user every host accepts (created with useradd if missing; /bin/sh
// as its shell so no rc file slows each command down).
inline constexpr const char* kTestUser = "plugbox-test";

// The port hosts listen on unless FleetOptions::port says otherwise. A host in
// the root namespace moves to the next free port if something else holds it.
inline constexpr int kDefaultPort = 22022;

struct HostSpec {
  std::string name = {};    // "web01": [A-Za-z0-9_.-], not starting with '.' or '-'
  std::string behind = {};  // the jump host's name ("" = reachable directly)
  // Extra inventory groups this host belongs to. The harness makes "all"
  // (every host) and "leaves" (hosts no one jumps through) itself.
  std::vector<std::string> groups = {};
  // Jump hosts only: the rate, in Mbit/s, of the link into this host's
  // namespace (everything to and from the hosts behind it crosses it), in
  // each direction: tc htb on both veth ends (fleet_plan.h). 0 = unshaped.
  // tc's htb caps the rate only: no delay or loss (no netem here).
  int link_mbit = 0;
};

struct FleetOptions {
  // Jump hosts must be listed before the hosts behind them.
  std::vector<HostSpec> hosts = {};
  // Lines put at the top of every sshd_config. sshd keeps the first value it
  // reads for most keywords, so these override the harness's own settings
  // (no Match blocks); MaxStartups, whose last value wins, is left out of the
  // harness's own lines when one is given here (fleet_files.cc). SetEnv
  // lines are merged into the harness's own SetEnv (sshd reads only one),
  // before its HOME.
  std::vector<std::string> sshd_config_extra = {};
  // Raw TOML lines ("server = \"/path/plugbox-server\"") added to
  // inventory_toml()'s [defaults] table.
  std::vector<std::string> inventory_defaults_extra = {};
  int port = 0;  // 0 = kDefaultPort
  // How long every sshd gets to print "Server listening" (start or restart).
  std::chrono::milliseconds start_timeout{20000};
};

// One started host, as a client sees it.
struct RunningHost {
  std::string name;
  // What a client connects to: from the jump host's point of view when the
  // host is behind one (inside the jump host's namespace).
  std::string address;
  int port = 0;
  std::string netns;                    // where its sshd runs ("" = the root namespace)
  std::string home;                     // its own directory, writable by user(); $HOME of its sessions
  std::string behind;                   // the jump host's name ("" = direct)
  std::vector<std::string> jump_chain;  // outermost first
  std::vector<std::string> groups;      // HostSpec::groups
  bool is_jump = false;                 // has hosts behind it
  // Jump hosts: the veth end on the parent's side (in the root namespace for
  // an outermost jump host), whose /sys/class/net/<it>/statistics count
  // every byte to and from this host's namespace; and that link's rate.
  std::string uplink_if;
  int link_mbit = 0;                    // HostSpec::link_mbit
  std::string host_public_key;          // "ssh-ed25519 AAAA...": the key it serves now
  std::string known_hosts_line;         // "[address]:port <key>" as written to known_hosts at start
  std::string log_path;                 // its sshd's log (LogLevel VERBOSE), appended across restarts
  int sshd_pid = 0;                     // its listening sshd; 0 while stopped
};

}  // namespace plugbox::testing
