// A fleet of REAL OpenSSH servers for tests and benchmarks: each host is an
// `sshd -D -e -f <config>` of its own, with its own ed25519 host key, one
// client key for all, `UsePAM no`, and the login user kTestUser. Hosts listed
// with `behind` are reachable only through their jump host (network
// namespaces; fleet_plan.h has the layout), including chains of several hops.
//
//   plugbox::testing::FleetOptions opt;
//   opt.hosts = {{"bastion"}, {"web01", "bastion"}, {"db", ""}};
//   std::string why;
//   auto fleet = plugbox::testing::SshdFleet::start(opt, &why);
//   if (!fleet) { WARN("SKIPPED: " << why); return; }   // or PLUGBOX_FLEET_OR_SKIP (fleet_or_skip.h)
//   const auto& web = fleet->host("web01");   // address/port as the bastion sees them
//
// Everything (sshd processes with their sessions, namespaces, veths, the temp
// dir) is removed by the destructor, also when a test throws; leftovers of
// killed test processes are swept when a later fleet starts. Fleets in
// concurrent processes (ctest -j) never share an address, port, namespace or
// interface.
//
// Costs: ~5 ms of ssh-keygen per host (run in parallel) and ~10-25 ms per
// sshd start-up (in parallel); a host key is never shared between hosts.
//
// Not thread-safe: use a fleet from one thread at a time, and start it (and
// call start_host/replace_host_key) from a thread that outlives it, since
// each sshd is killed when the thread that started it exits (see
// process.h: spawn_daemon).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/harness/fleet_options.h"

namespace plugbox::testing {

struct FleetPlan;
class FleetImpl;

class SshdFleet {
 public:
  // Starts every host and waits until each sshd listens. Returns nullptr and
  // sets *skip_reason when this machine cannot run a fleet (not root, no
  // sshd/ssh-keygen/ip, network namespaces not permitted); the test must then
  // skip saying so. Throws std::invalid_argument for bad options (naming the
  // entry) and std::runtime_error when start-up fails on a capable machine
  // (with the failing command's output or sshd's log).
  static std::unique_ptr<SshdFleet> start(const FleetOptions& options, std::string* skip_reason);
  ~SshdFleet();
  SshdFleet(const SshdFleet&) = delete;
  SshdFleet& operator=(const SshdFleet&) = delete;

  const RunningHost& host(const std::string& name) const;  // throws std::out_of_range
  const std::vector<RunningHost>& hosts() const;           // in FleetOptions order

  std::string user() const;              // kTestUser
  std::string client_key_path() const;   // private ed25519 key, no passphrase (public: + ".pub")
  std::string known_hosts_path() const;  // every host's key as of start(); never rewritten by replace_host_key
  std::string ssh_config_path() const;   // for `ssh -F`: Host blocks named after the hosts (ProxyJump set)
  std::string inventory_path() const;    // inventory_toml() written to a file
  std::string dir() const;               // the fleet's temp dir (keys, configs, logs, homes)

  // An inventory.toml (docs/DESIGN.md §4) for the fleet: [defaults] user, identity,
  // known_hosts, host_key_check = "strict" and FleetOptions::inventory_defaults_extra;
  // each host's address, port, home and jump; groups "all", "leaves" and the
  // HostSpec groups.
  std::string inventory_toml() const;

  // Kills the host's sshd AND every process below it (open sessions, the
  // commands they run): the host drops off the network. No-op if stopped.
  void stop_host(const std::string& name);
  // Starts it again with the same address, port and key (its address may
  // move to another port only if something else took it; files follow). No-op
  // if running.
  void start_host(const std::string& name);
  bool running(const std::string& name) const;
  // A new host key and a restart: clients holding known_hosts_path() now see
  // a changed host key. host(name).host_public_key is updated.
  void replace_host_key(const std::string& name);
  // SIGSTOPs the host's sshd and all its sessions: TCP connects still
  // complete (the kernel's backlog) but nothing answers; open sessions hang.
  // For deadline and keepalive tests. thaw_host resumes everything.
  void freeze_host(const std::string& name);
  void thaw_host(const std::string& name);

  // TCP connections this host's sshd accepted since the fleet started
  // ("Connection from" lines in its log, across restarts): a jump host
  // carrying 50 tunnels over one session counts 1.
  int accepted_connections(const std::string& name) const;
  // Of those, how many authenticated ("Accepted publickey" lines).
  int authenticated_connections(const std::string& name) const;
  // The host's sshd log so far (for failure messages).
  std::string log(const std::string& name) const;

 private:
  explicit SshdFleet(std::unique_ptr<FleetImpl> impl);
  std::unique_ptr<FleetImpl> impl_;
};

}  // namespace plugbox::testing
