// The end-to-end scenarios of issue 6, each written once against an
// E2eFleet and run by e2e_local_test.cc (local transport) and
// e2e_ssh_test.cc (real sshd: bastion, two-hop chain, direct host). Each
// asserts on the hosts' disks (links, inodes, records, the service's own
// log), not only on what plugbox prints.
#pragma once

#include <nlohmann/json.hpp>

#include "tests/orchestrator/e2e_fleet.h"

// An sshd fleet (E2eFleet::sshd) in `var`, or the test ends here saying why
// it was skipped (the harness needs root).
#define E2E_SSH_FLEET_OR_SKIP(var)       \
  std::string var##_why;                 \
  auto var = E2eFleet::sshd(&var##_why); \
  if (!var) {                            \
    WARN("SKIPPED: " << var##_why);      \
    return;                              \
  }

namespace plugbox::e2e {

// A `plugbox fleet deploy --group app --json` run and what it said.
struct Deployed {
  RunResult run;
  std::string version;           // from its plan event ("" if it printed none)
  nlohmann::json result;         // its result event (null if none)
  std::vector<nlohmann::json> events;
  // The result's entry for a host (throws if absent).
  const nlohmann::json& host(const std::string& name) const;
};
// The exec requests a host's sshd has served: with LogLevel VERBOSE, sshd
// logs "Starting session: command for ..." for each (OpenSSH session.c).
int commands_served(const E2eFleet& f, const std::string& host);
// Waits past the previous deploy's second first (version names are seconds).
Deployed deploy(E2eFleet& f, const std::vector<std::string>& extra = {});
// The same, but the release is written first and the exit status required.
std::string deploy_release(E2eFleet& f, const Release& r, const std::vector<std::string>& extra = {});

// Two deploys: live, previous and next links on every host; the second
// upload hard-links the unchanged files (same inode), sends the changed one,
// and mirrors the tree (a file left out is gone); stop/start ran in order.
void scenario_two_deploys(E2eFleet& f);
// Hosts with different histories; a later batch fails its health check:
// every switched host is back on ITS OWN previous version (exit 1).
void scenario_later_batch_health_failure(E2eFleet& f);
// post_upload fails on one host: no host switched, V gone everywhere (exit 1).
void scenario_staging_failure(E2eFleet& f);
// Someone holds one host's deploy lock: the deploy is refused naming the
// holder, nothing changes anywhere, the holder keeps its lock.
void scenario_concurrent_deploy_refused(E2eFleet& f);
// fleet lock on two hosts: a deploy, a rollback and a gc change no host and
// name the holder, the message and the age; fleet status shows it; another
// operator cannot unlock without --force; bad input changes nothing; once
// unlocked a deploy goes through.
void scenario_maintenance_lock(E2eFleet& f);
// fleet gc --keep 2 (and its --dry-run) on every host.
void scenario_gc(E2eFleet& f);
// fleet status: the table and --json, a held lock shown.
void scenario_status(E2eFleet& f);
// --dry-run of deploy, rollback and gc changes nothing (homes, journals,
// the source tree).
void scenario_dry_run_changes_nothing(E2eFleet& f);
// kill -9 of plugbox while a host's start runs (a second deploy meanwhile is
// refused naming the first's lock owner), then `fleet rollback` puts every
// host back.
void scenario_kill9_mid_switch(E2eFleet& f);
// A host whose start always fails: its rollback cannot complete: exit 3
// naming it.
void scenario_rollback_incomplete(E2eFleet& f);
// SIGINT while a host starts: that host is put back, exit 130.
void scenario_interrupted(E2eFleet& f);
// SIGINT while a host runs post_upload: staging stops, V is removed from
// every host, nothing was switched, exit 130.
void scenario_interrupted_while_staging(E2eFleet& f);
// --batches and --max-fail from the command line: one failed host in a batch
// is tolerated (it alone goes back), the deploy carries on and exits 0.
void scenario_tolerated_failure(E2eFleet& f);
// A health check that hangs past health_timeout, having started a child:
// the host kills both, the host goes back, the deploy fails (exit 1).
void scenario_hung_health_check(E2eFleet& f);
// A service with refresh commands: deploys refresh instead of stop/start;
// putting a host back (failed batch, fleet rollback) stops and starts.
void scenario_refresh(E2eFleet& f);
// (sshd fleets) The 2nd host loses power while it starts the new version:
// the batch fails, the canary goes back, the lost host cannot: exit 3 naming
// it. Back up, `fleet rollback --from V` puts it back too.
void scenario_host_lost_mid_switch(E2eFleet& f);
// Hosts nothing was ever deployed to: status shows them reachable with
// nothing live (exit 0), gc and rollback have nothing to do (exit 0), and
// none of it changes anything.
void scenario_fresh_hosts(E2eFleet& f);
// (sshd fleets) `down` loses power: a deploy stages nowhere for good (exit
// 1, V gone from the others), status shows it unreachable, a fleet rollback
// does the others and names it (exit 3); back up, `rollback --from` finishes
// the job. Then the bastion goes down: every host behind it is unreachable.
void scenario_unreachable_host(E2eFleet& f, const std::string& down, const std::string& bastion);

}  // namespace plugbox::e2e
