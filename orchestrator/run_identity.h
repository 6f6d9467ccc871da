// Who runs a command, and the names it leaves on hosts: the deployer
// (user@machine, recorded with each version), the lock owner id, and a new
// deploy's version name.
#pragma once

#include <string>

namespace plugbox::cli {

// $USER (else the passwd entry) @ this machine's host name.
std::string whoami();
// The lock owner id of one run: "plugbox-USER@MACHINE-PID-KIND-NAME"
// (kind "" for deploys): unique per process and run, so a host's lock and
// log say which run of whom held it.
std::string owner_id(const std::string& kind, const std::string& run_name);
// The name of a new run of `kind` ("deploy", "rollback", "gc"): the current
// UTC second, unless a run of that kind from here already used it (two in a
// row within one second), in which case the next second. A deploy's name is
// its version, which must be new on every host (the host refuses one that
// exists); every run's name is its journal's, which must not be shared.
std::string fresh_run_name(const std::string& kind);

}  // namespace plugbox::cli
